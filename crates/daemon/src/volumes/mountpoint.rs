//! A container's resolved mount, as recorded at create in the container
//! record (`MountPoints`) and shown by inspect and `ps` (`Mounts`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Volume,
    Bind,
    Tmpfs,
}

impl MountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Volume => "volume",
            MountKind::Bind => "bind",
            MountKind::Tmpfs => "tmpfs",
        }
    }
}

/// One mount of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    #[serde(rename = "Type")]
    pub kind: MountKind,
    /// The volume's name (volumes only).
    #[serde(default)]
    pub name: String,
    /// Host path: the volume's `_data` or the bind source; empty for tmpfs.
    #[serde(default)]
    pub source: String,
    /// Absolute, cleaned path in the container.
    pub destination: String,
    #[serde(default)]
    pub driver: String,
    /// The mode as Docker shows it (`ro`, `z`, `nocopy`, … or empty).
    #[serde(default)]
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    /// Bind propagation (`rprivate` by default); empty for volumes.
    #[serde(default)]
    pub propagation: String,
    /// `bind` instead of `rbind`.
    #[serde(default)]
    pub non_recursive: bool,
    /// tmpfs data options (`size=1m,mode=700`).
    #[serde(default)]
    pub tmpfs_options: String,
    /// Declared without a volume name: `rm -v` and `run --rm` remove it.
    #[serde(default)]
    pub anonymous: bool,
}

impl MountPoint {
    /// The Engine API's `MountPoint` object.
    pub fn to_json(&self) -> Value {
        let mut v = json!({"Type": self.kind.as_str()});
        if !self.name.is_empty() {
            v["Name"] = json!(self.name);
        }
        v["Source"] = json!(self.source);
        v["Destination"] = json!(self.destination);
        if !self.driver.is_empty() {
            v["Driver"] = json!(self.driver);
        }
        v["Mode"] = json!(self.mode);
        v["RW"] = json!(self.rw);
        v["Propagation"] = json!(self.propagation);
        v
    }

    pub fn is_volume(&self) -> bool {
        self.kind == MountKind::Volume
    }
}

/// `Mounts` of inspect and of the `ps` summary.
pub fn mounts_json(points: &[MountPoint]) -> Value {
    Value::Array(points.iter().map(MountPoint::to_json).collect())
}

/// `ps --filter volume=…`: a mount's volume name (a bind's source) or its
/// destination.
pub fn mounts_match(points: &[MountPoint], value: &str) -> bool {
    points.iter().any(|m| {
        let key = if m.name.is_empty() {
            &m.source
        } else {
            &m.name
        };
        m.destination == value || key == value
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_as_docker_shows_it() {
        let v = MountPoint {
            kind: MountKind::Volume,
            name: "data".into(),
            source: "/var/lib/berth/volumes/data/_data".into(),
            destination: "/data".into(),
            driver: "local".into(),
            mode: "z".into(),
            rw: true,
            propagation: String::new(),
            non_recursive: false,
            tmpfs_options: String::new(),
            anonymous: false,
        };
        assert_eq!(
            serde_json::to_string(&v.to_json()).unwrap(),
            r#"{"Type":"volume","Name":"data","Source":"/var/lib/berth/volumes/data/_data","Destination":"/data","Driver":"local","Mode":"z","RW":true,"Propagation":""}"#
        );
        let b = MountPoint {
            kind: MountKind::Bind,
            name: String::new(),
            source: "/tmp".into(),
            driver: String::new(),
            mode: "ro".into(),
            rw: false,
            propagation: "rprivate".into(),
            ..v.clone()
        };
        assert_eq!(
            serde_json::to_string(&b.to_json()).unwrap(),
            r#"{"Type":"bind","Source":"/tmp","Destination":"/data","Mode":"ro","RW":false,"Propagation":"rprivate"}"#
        );
        let back: MountPoint = serde_json::from_value(serde_json::to_value(&v).unwrap()).unwrap();
        assert_eq!(back, v);
    }
}
