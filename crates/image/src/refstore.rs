//! The reference map (`repositories.json`): tag or digest reference → image ID,
//! kept in memory and rewritten atomically on every change.

use crate::error::{Error, IoContext};
use crate::reference::Reference;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// On disk: `{"Repositories": {"docker.io/library/busybox": {"docker.io/library/busybox:latest": "sha256:…"}}}`.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct OnDisk {
    #[serde(rename = "Repositories", default)]
    repositories: BTreeMap<String, BTreeMap<String, String>>,
}

pub struct RefStore {
    path: PathBuf,
    map: BTreeMap<Reference, String>,
}

impl RefStore {
    /// Reads `<root>/repositories.json`; unparsable entries are dropped.
    pub fn open(root: &Path) -> Result<RefStore, Error> {
        let path = root.join("repositories.json");
        let mut map = BTreeMap::new();
        match fs::read(&path) {
            Ok(b) => {
                let disk: OnDisk = serde_json::from_slice(&b)
                    .map_err(|e| Error::Corrupt(format!("{}: {e}", path.display())))?;
                for refs in disk.repositories.into_values() {
                    for (r, id) in refs {
                        if let Ok(r) = Reference::parse(&r) {
                            map.insert(r, id);
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::Io {
                    context: format!("read {}", path.display()),
                    source: e,
                })
            }
        }
        Ok(RefStore { path, map })
    }

    fn save(&self) -> Result<(), Error> {
        let mut disk = OnDisk::default();
        for (r, id) in &self.map {
            disk.repositories
                .entry(r.name())
                .or_default()
                .insert(r.to_string(), id.clone());
        }
        let data = serde_json::to_vec(&disk).map_err(|e| Error::Corrupt(e.to_string()))?;
        berth_util::fs::write_atomic(&self.path, &data)
            .ctx(|| format!("write {}", self.path.display()))
    }

    pub fn get(&self, r: &Reference) -> Option<&String> {
        self.map.get(r)
    }

    /// Points `r` at `id`; returns the image it pointed to before, if another.
    pub fn set(&mut self, r: Reference, id: &str) -> Result<Option<String>, Error> {
        let old = self.map.insert(r, id.to_string());
        self.save()?;
        Ok(old.filter(|o| o != id))
    }

    pub fn remove(&mut self, r: &Reference) -> Result<Option<String>, Error> {
        let old = self.map.remove(r);
        if old.is_some() {
            self.save()?;
        }
        Ok(old)
    }

    /// References to image `id`, sorted.
    pub fn refs_of(&self, id: &str) -> Vec<Reference> {
        self.map
            .iter()
            .filter(|(_, v)| *v == id)
            .map(|(r, _)| r.clone())
            .collect()
    }

    /// Every reference of repository `name` (full name) with its image.
    pub fn by_name(&self, name: &str) -> Vec<(Reference, String)> {
        self.map
            .iter()
            .filter(|(r, _)| r.name() == name)
            .map(|(r, id)| (r.clone(), id.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persists_and_moves_tags() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = RefStore::open(dir.path()).unwrap();
        let r = Reference::parse("busybox:latest").unwrap();
        assert_eq!(s.set(r.clone(), "sha256:a").unwrap(), None);
        assert_eq!(
            s.set(r.clone(), "sha256:b").unwrap(),
            Some("sha256:a".into())
        );
        let s2 = RefStore::open(dir.path()).unwrap();
        assert_eq!(s2.get(&r).map(String::as_str), Some("sha256:b"));
        assert_eq!(s2.refs_of("sha256:b"), vec![r.clone()]);
        assert_eq!(s2.by_name("docker.io/library/busybox").len(), 1);
    }
}
