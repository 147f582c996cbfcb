//! The volume store: one record per volume in `<root>/<name>/volume.json`
//! next to its content `<root>/<name>/_data`, an index rebuilt from those
//! records at start, the references that keep a volume from being removed
//! while a container create that uses it is in progress, and the host mounts
//! of volumes with mount options while running containers use them.
//!
//! A volume appears atomically: it is assembled in `.creating-<random>` and
//! renamed to its name; it disappears by a rename to `.removing-<random>`
//! before its content is deleted. Dot entries are leftovers of a crash and
//! are swept at start (volume names never begin with a dot).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::local::{self, LocalError, LocalMount};
use super::name;

/// Marks volumes created for a container without a name (Docker 23+); only
/// those are pruned unless `all` is asked for.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

const RECORD: &str = "volume.json";
const DATA: &str = "_data";

/// The persisted record of one volume.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    pub name: String,
    pub driver: String,
    /// RFC 3339, seconds.
    pub created_at: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl Volume {
    pub fn is_anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }

    /// What must be mounted on `_data` before a container uses the volume.
    pub fn local_mount(&self) -> Option<LocalMount> {
        LocalMount::of(&self.options)
    }

    /// The Engine API's `Volume` object.
    pub fn to_json(&self, mountpoint: &Path) -> Value {
        let map_or_null = |m: &BTreeMap<String, String>| {
            if m.is_empty() {
                Value::Null
            } else {
                json!(m)
            }
        };
        json!({
            "CreatedAt": self.created_at,
            "Driver": self.driver,
            "Labels": map_or_null(&self.labels),
            "Mountpoint": mountpoint,
            "Name": self.name,
            "Options": map_or_null(&self.options),
            "Scope": "local",
        })
    }
}

/// What `volume create` (or a container create) asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateRequest {
    /// Empty for a generated name.
    pub name: String,
    /// Empty means `local`.
    pub driver: String,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("create {name}: {reason}")]
    Invalid { name: String, reason: String },
    #[error(
        "create {name}: error looking up volume plugin {driver}: plugin \"{driver}\" not found"
    )]
    NoDriver { name: String, driver: String },
    #[error("get {0}: no such volume")]
    NotFound(String),
    #[error("remove {name}: volume is in use - [{}]", users.join(" "))]
    InUse { name: String, users: Vec<String> },
    #[error("error while mounting volume '{path}': {source}")]
    Mount { path: String, source: LocalError },
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> VolumeError {
    let context = context.into();
    move |source| VolumeError::Io { context, source }
}

#[derive(Default)]
struct Inner {
    volumes: BTreeMap<String, Volume>,
    /// Volume → containers whose create is using it right now.
    pending: BTreeMap<String, BTreeSet<String>>,
    /// Volume with mount options → containers that hold its host mount.
    active: BTreeMap<String, BTreeSet<String>>,
}

pub struct Volumes {
    root: PathBuf,
    inner: Mutex<Inner>,
}

impl Volumes {
    /// Opens `<data-root>/volumes`, sweeping crash leftovers and reading
    /// every record.
    pub fn open(data_root: &Path) -> io::Result<Volumes> {
        let root = data_root.join("volumes");
        std::fs::create_dir_all(&root)?;
        let mut volumes = BTreeMap::new();
        for dirent in std::fs::read_dir(&root)? {
            let dirent = dirent?;
            let file_name = dirent.file_name().to_string_lossy().into_owned();
            let path = dirent.path();
            if file_name.starts_with(".copyup-") {
                let _ = std::fs::remove_dir(&path);
                continue;
            }
            if file_name.starts_with('.') {
                let _ = std::fs::remove_dir_all(&path);
                continue;
            }
            match read_record(&path, &file_name) {
                Ok(Some(v)) => {
                    volumes.insert(file_name, v);
                }
                Ok(None) => {}
                Err(e) => eprintln!("berthd: skipping volume {}: {e}", path.display()),
            }
        }
        Ok(Volumes {
            root,
            inner: Mutex::new(Inner {
                volumes,
                ..Inner::default()
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `<data-root>/volumes`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host directory containers see: `<data-root>/volumes/<name>/_data`.
    pub fn data_path(&self, name: &str) -> PathBuf {
        self.root.join(name).join(DATA)
    }

    /// Creates a volume, or returns the existing one of that name; `true`
    /// when it was created. With `reference`, the volume is also held for
    /// that container until [`Volumes::release`].
    pub fn create(
        &self,
        req: &CreateRequest,
        reference: Option<&str>,
    ) -> Result<(Volume, bool), VolumeError> {
        let name = if req.name.is_empty() {
            name::generate()
        } else {
            req.name.clone()
        };
        if !matches!(req.driver.as_str(), "" | "local") {
            return Err(VolumeError::NoDriver {
                name,
                driver: req.driver.clone(),
            });
        }
        let mut inner = self.lock();
        let (volume, created) = match inner.volumes.get(&name) {
            Some(v) => (v.clone(), false),
            None => {
                let invalid = |reason: String| VolumeError::Invalid {
                    name: name.clone(),
                    reason,
                };
                name::check(&name).map_err(invalid)?;
                local::validate(&req.options).map_err(|e| invalid(e.to_string()))?;
                let volume = Volume {
                    name: name.clone(),
                    driver: "local".into(),
                    created_at: berth_util::time::format_rfc3339(
                        berth_util::time::now_nanos() / 1_000_000_000 * 1_000_000_000,
                    ),
                    labels: req.labels.clone(),
                    options: req.options.clone(),
                };
                self.write_new(&volume)?;
                inner.volumes.insert(name.clone(), volume.clone());
                (volume, true)
            }
        };
        if let Some(id) = reference {
            inner
                .pending
                .entry(name)
                .or_default()
                .insert(id.to_string());
        }
        Ok((volume, created))
    }

    /// Assembles the volume's directory under a temporary name, then renames it.
    fn write_new(&self, v: &Volume) -> Result<(), VolumeError> {
        let tmp = self
            .root
            .join(format!(".creating-{}", berth_util::id::random_hex(8)));
        let bytes = serde_json::to_vec_pretty(v).map_err(|e| VolumeError::Io {
            context: format!("create {}", v.name),
            source: io::Error::other(e),
        })?;
        let built = (|| {
            std::fs::create_dir(&tmp)?;
            std::fs::create_dir(tmp.join(DATA))?;
            berth_util::fs::write_atomic(&tmp.join(RECORD), &bytes)?;
            std::fs::rename(&tmp, self.root.join(&v.name))?;
            std::fs::File::open(&self.root)?.sync_all()
        })();
        if built.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        built.map_err(io_err(format!("create {}", v.name)))
    }

    /// A volume by name; with `reference`, held for that container until
    /// [`Volumes::release`].
    pub fn get(&self, name: &str, reference: Option<&str>) -> Result<Volume, VolumeError> {
        let mut inner = self.lock();
        let v = inner
            .volumes
            .get(name)
            .cloned()
            .ok_or_else(|| VolumeError::NotFound(name.to_string()))?;
        if let Some(id) = reference {
            inner
                .pending
                .entry(name.to_string())
                .or_default()
                .insert(id.to_string());
        }
        Ok(v)
    }

    /// Drops the create-time reference of `container` on `name`.
    pub fn release(&self, name: &str, container: &str) {
        let mut inner = self.lock();
        if let Some(set) = inner.pending.get_mut(name) {
            set.remove(container);
            if set.is_empty() {
                inner.pending.remove(name);
            }
        }
    }

    /// Every volume, by name.
    pub fn list(&self) -> Vec<Volume> {
        self.lock().volumes.values().cloned().collect()
    }

    /// Removes a volume unless a container uses it. `users` lists the
    /// containers whose records use the volume; it runs under the store's
    /// lock so that no create can take the volume in between. `Ok(None)`
    /// when the volume does not exist and `missing_ok`.
    pub fn remove(
        &self,
        name: &str,
        missing_ok: bool,
        users: impl FnOnce(&str) -> Vec<String>,
    ) -> Result<Option<Volume>, VolumeError> {
        let (trash, volume) = {
            let mut inner = self.lock();
            let Some(volume) = inner.volumes.get(name).cloned() else {
                if missing_ok {
                    return Ok(None);
                }
                return Err(VolumeError::NotFound(name.to_string()));
            };
            let mut using = users(name);
            for id in inner.pending.get(name).into_iter().flatten() {
                if !using.contains(id) {
                    using.push(id.clone());
                }
            }
            if !using.is_empty() {
                return Err(VolumeError::InUse {
                    name: name.to_string(),
                    users: using,
                });
            }
            let dir = self.root.join(name);
            // Never delete through a mount: that would empty a bind device.
            local::unmount_all(&dir.join(DATA)).map_err(|source| VolumeError::Mount {
                path: dir.join(DATA).display().to_string(),
                source,
            })?;
            let trash = self
                .root
                .join(format!(".removing-{}", berth_util::id::random_hex(8)));
            std::fs::rename(&dir, &trash).map_err(io_err(format!("remove {name}")))?;
            inner.volumes.remove(name);
            inner.active.remove(name);
            (trash, volume)
        };
        std::fs::remove_dir_all(&trash).map_err(io_err(format!("remove {name}")))?;
        Ok(Some(volume))
    }

    /// Records that `container` (being started) uses the volume, mounting it
    /// first when it has mount options and nobody holds it yet.
    pub fn acquire_mount(&self, name: &str, container: &str) -> Result<(), VolumeError> {
        let mut inner = self.lock();
        let mount = inner.volumes.get(name).and_then(Volume::local_mount);
        let holders = inner.active.entry(name.to_string()).or_default();
        if let Some(m) = mount {
            let target = self.data_path(name);
            if holders.is_empty() && !local::is_mounted(&target) {
                m.mount(&target).map_err(|source| VolumeError::Mount {
                    path: target.display().to_string(),
                    source,
                })?;
            }
        }
        holders.insert(container.to_string());
        Ok(())
    }

    /// Gives up `container`'s hold on a volume; the last one out unmounts a
    /// volume with mount options. False when `container` held nothing.
    pub fn release_mount(&self, name: &str, container: &str) -> bool {
        let mut inner = self.lock();
        let Some(holders) = inner.active.get_mut(name) else {
            return false;
        };
        let held = holders.remove(container);
        if holders.is_empty() {
            inner.active.remove(name);
            if inner
                .volumes
                .get(name)
                .and_then(Volume::local_mount)
                .is_some()
            {
                let _ = local::unmount_all(&self.data_path(name));
            }
        }
        held
    }

    /// After a daemon restart: `running` containers still hold the mounts of
    /// their volumes; mounts that nobody holds are taken down.
    pub fn restore_mounts(&self, running: &[(String, Vec<String>)]) {
        let mut inner = self.lock();
        for (container, names) in running {
            for n in names {
                inner
                    .active
                    .entry(n.clone())
                    .or_default()
                    .insert(container.clone());
            }
        }
        let idle: Vec<String> = inner
            .volumes
            .values()
            .filter(|v| v.local_mount().is_some() && !inner.active.contains_key(&v.name))
            .map(|v| v.name.clone())
            .collect();
        drop(inner);
        for n in idle {
            let _ = local::unmount_all(&self.data_path(&n));
        }
    }
}

/// Reads `<dir>/volume.json`; a directory with `_data` but no record (copied
/// in from elsewhere) is adopted with defaults.
fn read_record(dir: &Path, name: &str) -> io::Result<Option<Volume>> {
    match std::fs::read(dir.join(RECORD)) {
        Ok(bytes) => {
            let mut v: Volume = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
            v.name = name.to_string();
            Ok(Some(v))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let Ok(meta) = std::fs::metadata(dir.join(DATA)) else {
                return Ok(None);
            };
            let secs = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i128)
                .unwrap_or(0);
            let v = Volume {
                name: name.to_string(),
                driver: "local".into(),
                created_at: berth_util::time::format_rfc3339(secs * 1_000_000_000),
                labels: BTreeMap::new(),
                options: BTreeMap::new(),
            };
            let bytes = serde_json::to_vec_pretty(&v).map_err(io::Error::other)?;
            berth_util::fs::write_atomic(&dir.join(RECORD), &bytes)?;
            Ok(Some(v))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(name: &str) -> CreateRequest {
        CreateRequest {
            name: name.into(),
            ..CreateRequest::default()
        }
    }

    #[test]
    fn create_get_list_remove_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Volumes::open(dir.path()).unwrap();
        let (v, created) = store
            .create(
                &CreateRequest {
                    name: "data".into(),
                    labels: BTreeMap::from([("a".into(), "b".into())]),
                    ..CreateRequest::default()
                },
                None,
            )
            .unwrap();
        assert!(created);
        assert_eq!(v.driver, "local");
        assert!(store.data_path("data").is_dir());
        let (again, created) = store.create(&req("data"), None).unwrap();
        assert!(!created);
        assert_eq!(again.labels["a"], "b");
        let (anon, _) = store.create(&req(""), None).unwrap();
        assert_eq!(anon.name.len(), 64);

        let j = v.to_json(&store.data_path("data"));
        assert_eq!(j["Scope"], "local");
        assert_eq!(j["Options"], Value::Null);
        assert_eq!(j["Labels"]["a"], "b");
        assert!(j["CreatedAt"].as_str().unwrap().ends_with('Z'));

        // Leftovers of a crash are swept; records survive a reopen.
        std::fs::create_dir(dir.path().join("volumes/.creating-x")).unwrap();
        std::fs::create_dir_all(dir.path().join("volumes/adopted/_data")).unwrap();
        std::fs::create_dir(dir.path().join("volumes/no-data")).unwrap();
        let store = Volumes::open(dir.path()).unwrap();
        let names: Vec<String> = store.list().into_iter().map(|v| v.name).collect();
        assert_eq!(names.len(), 3);
        assert!(names.contains(&"adopted".to_string()));
        assert!(!dir.path().join("volumes/.creating-x").exists());

        let e = store.remove("data", false, |_| vec!["c1".into(), "c2".into()]);
        assert_eq!(
            e.unwrap_err().to_string(),
            "remove data: volume is in use - [c1 c2]"
        );
        store.get("data", Some("c3")).unwrap();
        assert!(store.remove("data", false, |_| vec![]).is_err());
        store.release("data", "c3");
        assert!(store.remove("data", false, |_| vec![]).unwrap().is_some());
        assert!(!dir.path().join("volumes/data").exists());
        assert_eq!(
            store
                .remove("data", false, |_| vec![])
                .unwrap_err()
                .to_string(),
            "get data: no such volume"
        );
        assert!(store.remove("data", true, |_| vec![]).unwrap().is_none());
    }

    #[test]
    fn create_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = Volumes::open(dir.path()).unwrap();
        let e = |r: CreateRequest| store.create(&r, None).unwrap_err().to_string();
        assert_eq!(
            e(req("x")),
            "create x: volume name is too short, names should be at least two alphanumeric characters"
        );
        assert_eq!(
            e(CreateRequest {
                name: "vv".into(),
                driver: "foo".into(),
                ..CreateRequest::default()
            }),
            "create vv: error looking up volume plugin foo: plugin \"foo\" not found"
        );
        assert_eq!(
            e(CreateRequest {
                name: "vv".into(),
                options: BTreeMap::from([("bad".into(), "1".into())]),
                ..CreateRequest::default()
            }),
            "create vv: invalid option: \"bad\""
        );
        assert!(store.list().is_empty());
        assert_eq!(std::fs::read_dir(store.root()).unwrap().count(), 0);
    }

    /// Needs root: a tmpfs volume is mounted by its first user and
    /// unmounted by its last.
    #[test]
    fn mounts_are_shared_and_released() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let store = Volumes::open(dir.path()).unwrap();
        let opts = BTreeMap::from([
            ("type".to_string(), "tmpfs".to_string()),
            ("device".to_string(), "tmpfs".to_string()),
        ]);
        store
            .create(
                &CreateRequest {
                    name: "tv".into(),
                    options: opts,
                    ..CreateRequest::default()
                },
                None,
            )
            .unwrap();
        let target = store.data_path("tv");
        store.acquire_mount("tv", "a").unwrap();
        store.acquire_mount("tv", "b").unwrap();
        let after_two = local::is_mounted(&target);
        assert!(store.release_mount("tv", "a"));
        let after_one = local::is_mounted(&target);
        assert!(store.release_mount("tv", "b"));
        let after_none = local::is_mounted(&target);
        let _ = local::unmount_all(&target);
        assert!(after_two && after_one && !after_none);
        assert!(!store.release_mount("tv", "b"));
        // A plain volume needs no mount.
        store.create(&req("plain"), None).unwrap();
        store.acquire_mount("plain", "a").unwrap();
        assert!(!local::is_mounted(&store.data_path("plain")));
    }
}
