//! The Engine API's `Mount` objects (`HostConfig.Mounts`, what `--mount`
//! sends, and what each `-v` entry amounts to), checked as Docker's Linux
//! parser checks them and turned into a declared mount: a [`MountPoint`]
//! still missing its volume, plus what creating that volume takes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::mountpoint::{MountKind, MountPoint};
use super::store::{CreateRequest, ANONYMOUS_LABEL};
use crate::oci::clean_path;

pub const PROPAGATIONS: &[&str] = &[
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];
pub const DEFAULT_PROPAGATION: &str = "rprivate";

/// An API `Mount`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountSpec {
    #[serde(rename = "Type")]
    pub kind: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub consistency: String,
    pub bind_options: Option<BindOptions>,
    pub volume_options: Option<VolumeOptions>,
    pub tmpfs_options: Option<TmpfsOptions>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BindOptions {
    pub propagation: String,
    pub non_recursive: bool,
    pub create_mountpoint: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    pub no_copy: bool,
    pub labels: Option<BTreeMap<String, String>>,
    pub driver_config: Option<DriverConfig>,
    pub subpath: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DriverConfig {
    pub name: String,
    pub options: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    pub size_bytes: i64,
    pub mode: u32,
}

/// A mount as the container config declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// For volumes, `name` is empty when anonymous and `source` is unset.
    pub point: MountPoint,
    /// Fill an empty volume with the image's content.
    pub copy_data: bool,
    /// Create a missing bind source as a directory.
    pub create_source: bool,
    /// How to create the volume (volumes only).
    pub volume: CreateRequest,
}

/// Docker's `errMountConfig`.
fn config_error(kind: &str, why: impl std::fmt::Display) -> String {
    format!("invalid mount config for type \"{kind}\": {why}")
}

/// Checks an API mount (Docker's `validateMountConfig`); bind sources must
/// exist when `check_source` unless `CreateMountpoint` is set.
fn validate(m: &MountSpec, check_source: bool) -> Result<(), String> {
    let err = |why: String| Err(config_error(&m.kind, why));
    if m.target.is_empty() {
        return err("field Target must not be empty".into());
    }
    if clean_path(&m.target) == "/" {
        return err("invalid specification: destination can't be '/'".into());
    }
    if !m.target.starts_with('/') {
        return err(format!(
            "invalid mount path: '{}' mount path must be absolute",
            m.target
        ));
    }
    match m.kind.as_str() {
        "bind" => {
            if m.source.is_empty() {
                return err("field Source must not be empty".into());
            }
            if let Some(p) = m.bind_options.as_ref().map(|b| b.propagation.as_str()) {
                if !p.is_empty() && !PROPAGATIONS.contains(&p) {
                    return err(format!("invalid propagation mode: {p}"));
                }
            }
            if m.volume_options.is_some() {
                return err("field VolumeOptions must not be specified".into());
            }
            if m.tmpfs_options.is_some() {
                return err("field TmpfsOptions must not be specified".into());
            }
            if !m.source.starts_with('/') {
                return err(format!(
                    "invalid mount path: '{}' mount path must be absolute",
                    m.source
                ));
            }
            let create = m.bind_options.as_ref().is_some_and(|b| b.create_mountpoint);
            if check_source && !create && std::fs::symlink_metadata(&m.source).is_err() {
                return err(format!("bind source path does not exist: {}", m.source));
            }
        }
        "volume" => {
            if m.bind_options.is_some() {
                return err("field BindOptions must not be specified".into());
            }
            if m.tmpfs_options.is_some() {
                return err("field TmpfsOptions must not be specified".into());
            }
            if m.source.is_empty() && m.read_only {
                return err("must not set ReadOnly mode when using anonymous volumes".into());
            }
            if m.volume_options
                .as_ref()
                .is_some_and(|v| !v.subpath.is_empty())
            {
                return err("volume subpaths are not supported".into());
            }
        }
        "tmpfs" => {
            if m.bind_options.is_some() {
                return err("field BindOptions must not be specified".into());
            }
            if m.volume_options.is_some() {
                return err("field VolumeOptions must not be specified".into());
            }
            if !m.source.is_empty() {
                return err("field Source must not be specified".into());
            }
        }
        _ => return err("mount type unknown".into()),
    }
    Ok(())
}

/// Docker's `ConvertTmpfsOptions`: `ro`, `mode=<octal>`, `size=<n>[kmg]`.
fn tmpfs_data(opts: Option<&TmpfsOptions>, read_only: bool) -> String {
    let mut out = Vec::new();
    if read_only {
        out.push("ro".to_string());
    }
    let Some(o) = opts else {
        return out.join(",");
    };
    if o.mode != 0 {
        out.push(format!("mode={:o}", o.mode));
    }
    if o.size_bytes != 0 {
        let (mut size, mut suffix) = (o.size_bytes, "");
        for (s, div) in [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
            if size % div == 0 {
                size /= div;
                suffix = s;
                break;
            }
        }
        out.push(format!("size={size}{suffix}"));
    }
    out.join(",")
}

/// Checks an API mount and declares it (Docker's `ParseMountSpec`).
pub fn declare(m: &MountSpec, check_source: bool) -> Result<Declared, String> {
    validate(m, check_source)?;
    let mut point = MountPoint {
        kind: MountKind::Volume,
        name: String::new(),
        source: String::new(),
        destination: clean_path(&m.target),
        driver: String::new(),
        mode: String::new(),
        rw: !m.read_only,
        propagation: String::new(),
        non_recursive: false,
        tmpfs_options: String::new(),
        anonymous: false,
    };
    let mut declared = Declared {
        point: point.clone(),
        copy_data: false,
        create_source: false,
        volume: CreateRequest::default(),
    };
    match m.kind.as_str() {
        "bind" => {
            let opts = m.bind_options.clone().unwrap_or_default();
            point.kind = MountKind::Bind;
            point.source = clean_path(&m.source);
            point.propagation = if opts.propagation.is_empty() {
                DEFAULT_PROPAGATION.to_string()
            } else {
                opts.propagation
            };
            point.non_recursive = opts.non_recursive;
            declared.create_source = opts.create_mountpoint;
        }
        "tmpfs" => {
            point.kind = MountKind::Tmpfs;
            point.tmpfs_options = tmpfs_data(m.tmpfs_options.as_ref(), m.read_only);
        }
        _ => {
            let opts = m.volume_options.clone().unwrap_or_default();
            let driver = opts.driver_config.clone().unwrap_or_default();
            point.name = m.source.clone();
            point.anonymous = m.source.is_empty();
            declared.copy_data = !opts.no_copy;
            let mut labels = opts.labels.unwrap_or_default();
            if point.anonymous {
                labels.insert(ANONYMOUS_LABEL.to_string(), String::new());
            }
            declared.volume = CreateRequest {
                name: m.source.clone(),
                driver: driver.name,
                options: driver.options.unwrap_or_default(),
                labels,
            };
        }
    }
    declared.point = point;
    Ok(declared)
}

/// Docker's Linux mount modes: at most one each of `rw`/`ro`, `z`/`Z`, a
/// propagation, `nocopy` and a consistency (ignored on Linux).
pub fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let groups: [&[&str]; 5] = [
        &["rw", "ro"],
        &["z", "Z"],
        PROPAGATIONS,
        &["nocopy"],
        &["consistent", "cached", "delegated"],
    ];
    let mut counts = [0usize; 5];
    for option in mode.split(',') {
        match groups.iter().position(|g| g.contains(&option)) {
            Some(i) => counts[i] += 1,
            None => return false,
        }
    }
    counts.iter().all(|c| *c <= 1)
}

/// Parses one `HostConfig.VolumesFrom` entry: (container, read-only).
pub fn parse_volumes_from(spec: &str) -> Result<(&str, bool), String> {
    if spec.is_empty() {
        return Err("volumes-from specification cannot be an empty string".into());
    }
    let Some((id, mode)) = spec.split_once(':') else {
        return Ok((spec, false));
    };
    let modes: Vec<&str> = mode.split(',').collect();
    let forbidden = modes
        .iter()
        .any(|m| PROPAGATIONS.contains(m) || *m == "nocopy");
    if !valid_mode(mode) || forbidden {
        return Err(format!("invalid mode: {mode}"));
    }
    Ok((id, modes.contains(&"ro")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> MountSpec {
        serde_json::from_str(json).unwrap()
    }

    fn err(json: &str) -> String {
        declare(&spec(json), true).unwrap_err()
    }

    /// Messages as Docker 20.10 answers `POST /containers/create`.
    #[test]
    fn validation_messages() {
        let cases = [
            (
                r#"{"Type":"bind","Source":"/nonexistent-berth","Target":"/x"}"#,
                "invalid mount config for type \"bind\": bind source path does not exist: /nonexistent-berth",
            ),
            (
                r#"{"Type":"bind","Target":"/x"}"#,
                "invalid mount config for type \"bind\": field Source must not be empty",
            ),
            (
                r#"{"Type":"bind","Source":"rel","Target":"/x"}"#,
                "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute",
            ),
            (
                r#"{"Type":"volume","Source":"vv","Target":"x"}"#,
                "invalid mount config for type \"volume\": invalid mount path: 'x' mount path must be absolute",
            ),
            (
                r#"{"Type":"tmpfs","Source":"vv","Target":"/x"}"#,
                "invalid mount config for type \"tmpfs\": field Source must not be specified",
            ),
            (
                r#"{"Type":"volume","Target":"/x","BindOptions":{"Propagation":"shared"}}"#,
                "invalid mount config for type \"volume\": field BindOptions must not be specified",
            ),
            (
                r#"{"Type":"bind","Source":"/tmp","Target":"/x","VolumeOptions":{}}"#,
                "invalid mount config for type \"bind\": field VolumeOptions must not be specified",
            ),
            (
                r#"{"Type":"volume","Target":"/"}"#,
                "invalid mount config for type \"volume\": invalid specification: destination can't be '/'",
            ),
            (
                r#"{"Type":"foo","Target":"/x"}"#,
                "invalid mount config for type \"foo\": mount type unknown",
            ),
            (
                r#"{"Type":"volume","Target":"/x","ReadOnly":true}"#,
                "invalid mount config for type \"volume\": must not set ReadOnly mode when using anonymous volumes",
            ),
        ];
        for (json, want) in cases {
            assert_eq!(err(json), want, "{json}");
        }
    }

    #[test]
    fn declares_each_type() {
        let d = declare(
            &spec(r#"{"Type":"bind","Source":"/tmp/","Target":"/x/","BindOptions":{"Propagation":"rshared","NonRecursive":true}}"#),
            true,
        )
        .unwrap();
        assert_eq!(d.point.kind, MountKind::Bind);
        assert_eq!(
            (d.point.source.as_str(), d.point.destination.as_str()),
            ("/tmp", "/x")
        );
        assert_eq!(d.point.propagation, "rshared");
        assert!(d.point.non_recursive && d.point.rw && !d.create_source);
        let d = declare(
            &spec(r#"{"Type":"bind","Source":"/nonexistent-berth","Target":"/x","BindOptions":{"CreateMountpoint":true}}"#),
            true,
        )
        .unwrap();
        assert!(d.create_source);
        assert_eq!(d.point.propagation, "rprivate");

        let d = declare(
            &spec(r#"{"Type":"volume","Source":"vtq","Target":"/x","ReadOnly":true,"VolumeOptions":{"NoCopy":true,"Labels":{"l":"v"},"DriverConfig":{"Name":"local","Options":{"type":"tmpfs","device":"tmpfs"}}}}"#),
            true,
        )
        .unwrap();
        assert_eq!(d.point.name, "vtq");
        assert!(!d.point.rw && !d.copy_data && !d.point.anonymous);
        assert_eq!(d.volume.options["type"], "tmpfs");
        assert_eq!(d.volume.labels["l"], "v");
        assert_eq!(d.volume.driver, "local");

        let d = declare(&spec(r#"{"Type":"volume","Target":"/anon"}"#), true).unwrap();
        assert!(d.point.anonymous && d.copy_data);
        assert!(d.volume.name.is_empty());
        assert!(d.volume.labels.contains_key(ANONYMOUS_LABEL));

        let d = declare(
            &spec(
                r#"{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1048576,"Mode":448}}"#,
            ),
            true,
        )
        .unwrap();
        assert_eq!(d.point.kind, MountKind::Tmpfs);
        assert_eq!(d.point.tmpfs_options, "mode=700,size=1m");
    }

    #[test]
    fn tmpfs_sizes_like_docker() {
        let o = |size| TmpfsOptions {
            size_bytes: size,
            mode: 0,
        };
        assert_eq!(tmpfs_data(Some(&o(1000)), false), "size=1000");
        assert_eq!(tmpfs_data(Some(&o(2048)), true), "ro,size=2k");
        assert_eq!(tmpfs_data(Some(&o(3 << 30)), false), "size=3g");
        assert_eq!(tmpfs_data(None, false), "");
    }

    #[test]
    fn volumes_from_specs() {
        assert_eq!(parse_volumes_from("data").unwrap(), ("data", false));
        assert_eq!(parse_volumes_from("data:ro").unwrap(), ("data", true));
        assert_eq!(parse_volumes_from("data:rw").unwrap(), ("data", false));
        assert_eq!(parse_volumes_from("data:z").unwrap(), ("data", false));
        assert_eq!(
            parse_volumes_from("data:xx").unwrap_err(),
            "invalid mode: xx"
        );
        assert_eq!(
            parse_volumes_from("data:shared").unwrap_err(),
            "invalid mode: shared"
        );
        assert_eq!(
            parse_volumes_from("data:nocopy").unwrap_err(),
            "invalid mode: nocopy"
        );
        assert_eq!(
            parse_volumes_from("").unwrap_err(),
            "volumes-from specification cannot be an empty string"
        );
    }
}
