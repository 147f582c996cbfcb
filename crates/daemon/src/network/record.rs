//! Network records: what `network create` (or the daemon, for `bridge`,
//! `host` and `none`) decided, stored as `<data-root>/networks/<id>.json`.
//! Address allocations are not stored: they are rebuilt from the running
//! containers at start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_net::NetworkConfig;
use serde::{Deserialize, Serialize};

/// Names of the networks every daemon has.
pub const BRIDGE: &str = "bridge";
pub const HOST: &str = "host";
pub const NONE: &str = "none";

/// One network as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkRecord {
    pub id: String,
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Driver options as given (`com.docker.network.bridge.name`, …).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub attachable: bool,
    /// The subnet was given by the user (`--ip` is only allowed then).
    #[serde(default)]
    pub user_subnet: bool,
    /// The kernel side of `bridge`-driver networks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<NetworkConfig>,
}

impl NetworkRecord {
    /// A network record with a new random ID.
    #[cfg(test)]
    pub fn new(name: &str, driver: &str) -> Self {
        Self::with_id(berth_util::id::new_id(), name, driver)
    }

    /// One of the three networks Docker always lists (`bridge` without its
    /// kernel configuration, which the daemon plans separately). Its ID
    /// derives from `seed` (the engine ID): a record lost before it reached
    /// the disk comes back with the same ID, so it is written without fsync.
    pub fn predefined(seed: &str, name: &str, driver: &str) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("berth-network/{seed}/{name}"));
        Self::with_id(berth_util::id::to_hex(&digest), name, driver)
    }

    /// A record with defaults for everything but the ID, name and driver.
    pub fn with_id(id: String, name: &str, driver: &str) -> Self {
        NetworkRecord {
            id,
            name: name.to_string(),
            driver: driver.to_string(),
            created: berth_util::time::now_rfc3339(),
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            attachable: false,
            user_subnet: false,
            bridge: None,
        }
    }

    /// `bridge`, `host` and `none` cannot be removed or connected to by
    /// `network connect` with options.
    pub fn is_predefined(&self) -> bool {
        matches!(self.name.as_str(), BRIDGE | HOST | NONE)
    }

    /// A network of the user (created with `network create`).
    pub fn is_user(&self) -> bool {
        !self.is_predefined()
    }

    pub fn internal(&self) -> bool {
        self.bridge.as_ref().is_some_and(|b| b.internal)
    }
}

/// The directory of network records.
#[derive(Debug, Clone)]
pub struct RecordDir(PathBuf);

impl RecordDir {
    pub fn open(data_root: &Path) -> std::io::Result<Self> {
        let dir = data_root.join("networks");
        std::fs::create_dir_all(&dir)?;
        Ok(RecordDir(dir))
    }

    fn path(&self, id: &str) -> PathBuf {
        self.0.join(format!("{id}.json"))
    }

    /// Every readable record; unreadable ones are reported and skipped.
    pub fn load_all(&self) -> std::io::Result<Vec<NetworkRecord>> {
        let mut out = Vec::new();
        for dirent in std::fs::read_dir(&self.0)? {
            let path = dirent?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            {
                Ok(r) => out.push(r),
                Err(e) => eprintln!("berthd: skipping network record {}: {e}", path.display()),
            }
        }
        Ok(out)
    }

    /// Writes a record: atomically, and durably unless it is predefined
    /// (see `NetworkRecord::predefined`).
    pub fn save(&self, rec: &NetworkRecord) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(rec).map_err(std::io::Error::other)?;
        let path = self.path(&rec.id);
        if rec.is_user() {
            return berth_util::fs::write_atomic(&path, &bytes);
        }
        let tmp = self.0.join(format!(".{}.tmp", rec.id));
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path)
    }

    pub fn delete(&self, id: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_roundtrip() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RecordDir::open(tmp.path()).unwrap();
        let mut r = NetworkRecord::new("mynet", "bridge");
        r.bridge = Some(NetworkConfig {
            name: "mynet".into(),
            id: r.id.clone(),
            bridge: "br-x".into(),
            subnet: "10.9.0.0/24".parse().unwrap(),
            gateway: "10.9.0.1".parse().unwrap(),
            ip_range: None,
            internal: true,
        });
        dir.save(&r).unwrap();
        std::fs::write(tmp.path().join("networks/bad.json"), b"{").unwrap();
        assert_eq!(dir.load_all().unwrap(), vec![r.clone()]);
        assert!(r.is_user() && r.internal());
        dir.delete(&r.id).unwrap();
        dir.delete(&r.id).unwrap();
        let none = NetworkRecord::predefined("engine", "none", "null");
        assert!(none.is_predefined());
        assert_eq!(none.id.len(), 64);
        assert_eq!(
            none.id,
            NetworkRecord::predefined("engine", "none", "null").id
        );
        assert_ne!(
            none.id,
            NetworkRecord::predefined("other", "none", "null").id
        );
    }
}
