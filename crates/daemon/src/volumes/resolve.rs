//! A container's mounts resolved at create, in Docker's order: the mounts
//! of `--volumes-from` containers first, then `Binds` (`-v`), then
//! `HostConfig.Mounts` (`--mount`), each replacing an earlier mount at the
//! same destination, and last an anonymous volume for every `Config.Volumes`
//! entry (the image's `VOLUME`s and `-v /path`) not mounted otherwise.
//! Named and anonymous volumes are created on the way.

use std::collections::HashSet;

use serde_json::Value;

use super::mountpoint::{MountKind, MountPoint};
use super::spec::{declare, parse_volumes_from, Declared, MountSpec};
use super::store::{CreateRequest, ANONYMOUS_LABEL};
use crate::error::{Error, Kind, Result};
use crate::model::{Config, HostConfig};
use crate::oci::{clean_path, parse_bind};

/// What resolution asks of the daemon.
pub trait Env {
    /// The recorded mounts of another container (`--volumes-from`).
    fn container_mounts(&mut self, key: &str) -> Result<Vec<MountPoint>>;
    /// Creates or finds a volume, held for the container being created:
    /// (name, host path).
    fn volume(&mut self, req: &CreateRequest) -> Result<(String, String)>;
    /// The host path of an existing volume, held for the container.
    fn existing_volume(&mut self, name: &str) -> Result<String>;
}

/// The outcome: mounts sorted by destination, the destinations of volumes
/// to fill from the image, and bind sources to create.
#[derive(Debug, Default, PartialEq)]
pub struct Resolved {
    pub points: Vec<MountPoint>,
    pub copy_up: Vec<String>,
    pub create_dirs: Vec<String>,
}

/// A typed field of `HostConfig` that the model keeps verbatim in `extra`.
fn extra_field<T: serde::de::DeserializeOwned + Default>(
    hc: &HostConfig,
    field: &str,
) -> Result<T> {
    match hc.extra.get(field) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| Error::invalid(format!("invalid {field}: {e}"))),
    }
}

fn duplicate(dest: &str) -> Error {
    Error::invalid(format!("Duplicate mount point: {dest}"))
}

struct Builder<'e, E: Env> {
    env: &'e mut E,
    /// (mount, fill from the image)
    points: Vec<(MountPoint, bool)>,
    create_dirs: Vec<String>,
}

impl<E: Env> Builder<'_, E> {
    fn put(&mut self, point: MountPoint, copy: bool) {
        self.points
            .retain(|(p, _)| p.destination != point.destination);
        self.points.push((point, copy));
    }

    fn has(&self, dest: &str) -> bool {
        self.points.iter().any(|(p, _)| p.destination == dest)
    }

    /// Gives a declared mount its volume (Docker's `setBindModeIfNull` too)
    /// or notes the bind source to create.
    fn materialize(&mut self, d: Declared) -> Result<()> {
        let mut point = d.point;
        if point.kind == MountKind::Volume {
            let (name, source) = self.env.volume(&d.volume)?;
            point.name = name;
            point.source = source;
            point.driver = "local".into();
            if point.mode.is_empty() {
                point.mode = "z".into();
            }
        } else if point.kind == MountKind::Bind && d.create_source {
            self.create_dirs.push(point.source.clone());
        }
        self.put(point, d.copy_data);
        Ok(())
    }

    fn volumes_from(&mut self, specs: &[String]) -> Result<()> {
        for spec in specs {
            let (key, read_only) = parse_volumes_from(spec).map_err(Error::invalid)?;
            let theirs = self.env.container_mounts(key).map_err(|e| match e.kind {
                Kind::NotFound => Error::invalid(e.message),
                _ => e,
            })?;
            for mut point in theirs {
                point.rw = point.rw && !read_only;
                point.mode = String::new();
                if point.kind == MountKind::Volume {
                    point.source = self.env.existing_volume(&point.name)?;
                }
                self.put(point, false);
            }
        }
        Ok(())
    }
}

/// Resolves the mounts of a container being created.
pub fn resolve(env: &mut impl Env, config: &Config, hc: &HostConfig) -> Result<Resolved> {
    let volumes_from: Vec<String> = extra_field(hc, "VolumesFrom")?;
    let mounts: Vec<MountSpec> = extra_field(hc, "Mounts")?;
    let volume_driver: String = extra_field(hc, "VolumeDriver")?;
    let tmpfs: HashSet<String> = hc
        .tmpfs
        .iter()
        .flatten()
        .map(|(d, _)| clean_path(d))
        .collect();

    let mut b = Builder {
        env,
        points: Vec::new(),
        create_dirs: Vec::new(),
    };
    b.volumes_from(&volumes_from)?;

    let mut bound: HashSet<String> = HashSet::new();
    for raw in hc.binds.iter().flatten() {
        let d = parse_bind(raw, &volume_driver).map_err(|e| Error::invalid(e.to_string()))?;
        let dest = d.point.destination.clone();
        if bound.contains(&dest) || tmpfs.contains(&dest) {
            return Err(duplicate(&dest));
        }
        bound.insert(dest);
        b.materialize(d)?;
    }
    for spec in &mounts {
        let d = declare(spec, true).map_err(Error::invalid)?;
        if bound.contains(&d.point.destination) {
            return Err(duplicate(&spec.target));
        }
        bound.insert(d.point.destination.clone());
        b.materialize(d)?;
    }
    for raw in config.volumes.iter().flatten().map(|(d, _)| d) {
        if !raw.starts_with('/') {
            return Err(Error::invalid(format!(
                "invalid mount path: '{raw}' mount path must be absolute"
            )));
        }
        let dest = clean_path(raw);
        if dest == "/" {
            return Err(Error::invalid(
                "invalid specification: destination can't be '/'",
            ));
        }
        if b.has(&dest) || tmpfs.contains(&dest) {
            continue;
        }
        let req = CreateRequest {
            labels: [(ANONYMOUS_LABEL.to_string(), String::new())].into(),
            driver: volume_driver.clone(),
            ..CreateRequest::default()
        };
        let (name, source) = b.env.volume(&req)?;
        let point = MountPoint {
            kind: MountKind::Volume,
            name,
            source,
            destination: dest,
            driver: "local".into(),
            mode: String::new(),
            rw: true,
            propagation: String::new(),
            non_recursive: false,
            tmpfs_options: String::new(),
            anonymous: true,
        };
        b.put(point, true);
    }

    let mut points = b.points;
    points.sort_by(|a, b| a.0.destination.cmp(&b.0.destination));
    Ok(Resolved {
        copy_up: points
            .iter()
            .filter(|(p, copy)| *copy && p.kind == MountKind::Volume)
            .map(|(p, _)| p.destination.clone())
            .collect(),
        points: points.into_iter().map(|(p, _)| p).collect(),
        create_dirs: b.create_dirs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Volumes are paths under `/v/`; container `data` has two mounts.
    #[derive(Default)]
    struct Fake {
        created: Vec<CreateRequest>,
        held: Vec<String>,
        counter: usize,
    }

    impl Env for Fake {
        fn container_mounts(&mut self, key: &str) -> Result<Vec<MountPoint>> {
            if key != "data" {
                return Err(Error::no_such_container(key));
            }
            let vol = MountPoint {
                kind: MountKind::Volume,
                name: "anon1".into(),
                source: "/v/anon1".into(),
                destination: "/data".into(),
                driver: "local".into(),
                mode: String::new(),
                rw: true,
                propagation: String::new(),
                non_recursive: false,
                tmpfs_options: String::new(),
                anonymous: true,
            };
            let bind = MountPoint {
                kind: MountKind::Bind,
                name: String::new(),
                source: "/srv".into(),
                destination: "/srv".into(),
                driver: String::new(),
                mode: "ro".into(),
                rw: false,
                propagation: "rprivate".into(),
                anonymous: false,
                ..vol.clone()
            };
            Ok(vec![vol, bind])
        }
        fn volume(&mut self, req: &CreateRequest) -> Result<(String, String)> {
            self.created.push(req.clone());
            let name = if req.name.is_empty() {
                self.counter += 1;
                format!("gen{}", self.counter)
            } else {
                req.name.clone()
            };
            self.held.push(name.clone());
            Ok((name.clone(), format!("/v/{name}")))
        }
        fn existing_volume(&mut self, name: &str) -> Result<String> {
            self.held.push(name.to_string());
            Ok(format!("/v/{name}"))
        }
    }

    fn host(binds: &[&str], extra: serde_json::Value) -> HostConfig {
        let mut hc = HostConfig {
            binds: Some(binds.iter().map(|s| s.to_string()).collect()),
            ..HostConfig::default()
        };
        if let Value::Object(m) = extra {
            hc.extra = m;
        }
        hc
    }

    fn find<'a>(r: &'a Resolved, dest: &str) -> &'a MountPoint {
        r.points.iter().find(|p| p.destination == dest).unwrap()
    }

    /// The mounts Docker 20.10 recorded for
    /// `-v named:/n -v named2:/n2:ro -v n3:/n3:nocopy -v /tmp/h:/h:ro
    ///  --mount type=volume,dst=/anonm --volumes-from data:ro` and an image
    /// `VOLUME /img`.
    #[test]
    fn docker_order_and_modes() {
        let mut env = Fake::default();
        let hc = host(
            &["named:/n", "named2:/n2:ro", "n3:/n3:nocopy", "/tmp/h:/h:ro"],
            serde_json::json!({
                "Mounts": [{"Type": "volume", "Target": "/anonm"}],
                "VolumesFrom": ["data:ro"],
            }),
        );
        let config = Config {
            volumes: Some(BTreeMap::from([
                ("/img".to_string(), serde_json::json!({})),
                ("/n/".to_string(), serde_json::json!({})),
            ])),
            ..Config::default()
        };
        let r = resolve(&mut env, &config, &hc).unwrap();
        let dests: Vec<&str> = r.points.iter().map(|p| p.destination.as_str()).collect();
        assert_eq!(
            dests,
            ["/anonm", "/data", "/h", "/img", "/n", "/n2", "/n3", "/srv"]
        );
        let n = find(&r, "/n");
        assert_eq!(
            (n.mode.as_str(), n.rw, n.source.as_str()),
            ("z", true, "/v/named")
        );
        assert_eq!(n.driver, "local");
        assert!(!n.anonymous);
        assert_eq!(
            (find(&r, "/n2").mode.as_str(), find(&r, "/n2").rw),
            ("ro", false)
        );
        assert_eq!(find(&r, "/n3").mode, "nocopy");
        let h = find(&r, "/h");
        assert_eq!(
            (h.kind, h.mode.as_str(), h.propagation.as_str()),
            (MountKind::Bind, "ro", "rprivate")
        );
        let data = find(&r, "/data");
        assert_eq!(
            (data.rw, data.mode.as_str(), data.anonymous),
            (false, "", true)
        );
        assert!(!find(&r, "/srv").rw);
        let anonm = find(&r, "/anonm");
        assert!(anonm.anonymous && anonm.rw);
        assert_eq!(anonm.mode, "z");
        let img = find(&r, "/img");
        assert!(img.anonymous);
        assert_eq!(img.mode, "");
        // Copy-up for new-style volumes, not for nocopy nor volumes-from.
        assert_eq!(r.copy_up, ["/anonm", "/img", "/n", "/n2"]);
        assert_eq!(r.create_dirs, ["/tmp/h"]);
        // The image's /n was mounted by -v already: one volume per mount.
        assert_eq!(env.created.len(), 5);
        assert!(env
            .created
            .iter()
            .filter(|c| c.name.is_empty())
            .all(|c| c.labels.contains_key(ANONYMOUS_LABEL)));
        assert!(env.held.contains(&"anon1".to_string()));
    }

    #[test]
    fn later_sources_replace_earlier_ones() {
        let mut env = Fake::default();
        let hc = host(
            &["mine:/data"],
            serde_json::json!({"VolumesFrom": ["data"]}),
        );
        let r = resolve(&mut env, &Config::default(), &hc).unwrap();
        assert_eq!(find(&r, "/data").name, "mine");
        assert_eq!(r.points.len(), 2);
    }

    #[test]
    fn errors() {
        let err =
            |hc: HostConfig| resolve(&mut Fake::default(), &Config::default(), &hc).unwrap_err();
        let e = err(host(&["/a:/x", "b:/x"], Value::Null));
        assert_eq!(e.message, "Duplicate mount point: /x");
        let e = err(host(
            &["/a:/x"],
            serde_json::json!({"Mounts": [{"Type": "tmpfs", "Target": "/x/"}]}),
        ));
        assert_eq!(e.message, "Duplicate mount point: /x/");
        let mut hc = host(&["/a:/t"], Value::Null);
        hc.tmpfs = Some(BTreeMap::from([("/t".to_string(), String::new())]));
        assert_eq!(err(hc).message, "Duplicate mount point: /t");
        let e = err(host(&[], serde_json::json!({"VolumesFrom": ["nosuch"]})));
        assert_eq!(
            (e.kind, e.message.as_str()),
            (Kind::InvalidArgument, "No such container: nosuch")
        );
        let e = err(host(&[], serde_json::json!({"VolumesFrom": ["data:xx"]})));
        assert_eq!(e.message, "invalid mode: xx");
        let e = err(host(&[], serde_json::json!({"Mounts": "nope"})));
        assert!(e.message.starts_with("invalid Mounts: "));
        let e = resolve(
            &mut Fake::default(),
            &Config {
                volumes: Some(BTreeMap::from([("rel".to_string(), Value::Null)])),
                ..Config::default()
            },
            &HostConfig::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "invalid mount path: 'rel' mount path must be absolute"
        );
    }

    #[test]
    fn tmpfs_wins_over_image_volume() {
        let hc = HostConfig {
            tmpfs: Some(BTreeMap::from([("/data".to_string(), String::new())])),
            ..HostConfig::default()
        };
        let config = Config {
            volumes: Some(BTreeMap::from([("/data".to_string(), Value::Null)])),
            ..Config::default()
        };
        let r = resolve(&mut Fake::default(), &config, &hc).unwrap();
        assert!(r.points.is_empty());
    }
}
