//! `docker rmi` and `docker image prune` with Docker's rules: untag first,
//! delete when no reference is left; conflicts for images used by containers,
//! referenced by several repositories or with child images; layers no image
//! uses any more are deleted from disk.
//!
//! Berth only learns *whether* a container uses an image (and which), not
//! whether it runs, so use by a container is a soft conflict (overridden by
//! `force`). A forced removal of an image still in use hides it instead of
//! deleting its config and layers; hidden images are collected by a later
//! `remove`/`prune` once no container uses them.

use crate::error::Error;
use crate::reference::Reference;
use crate::store::{State, Store};
use serde::Serialize;

/// One line of `docker rmi` output (`{"Untagged": …}` or `{"Deleted": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Deleted {
    Untagged(String),
    Deleted(String),
}

impl std::fmt::Display for Deleted {
    /// `Untagged: busybox:latest` / `Deleted: sha256:…`, as `docker rmi` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Deleted::Untagged(r) => write!(f, "Untagged: {r}"),
            Deleted::Deleted(id) => write!(f, "Deleted: {id}"),
        }
    }
}

/// Which conflicts to check.
const CHILD: u8 = 1;
const REFERENCED: u8 = 2;
const USED: u8 = 4;

struct Conflict {
    hard: bool,
    used: bool,
    message: String,
}

fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

fn is_id_prefix(id: &str, name: &str) -> bool {
    id.starts_with(name)
        || id
            .strip_prefix("sha256:")
            .is_some_and(|h| h.starts_with(name))
}

/// Docker's `isSingleReference`: at most one tag, and digests only of that repository.
fn is_single_reference(refs: &[Reference]) -> bool {
    if refs.len() <= 1 {
        return refs.len() == 1;
    }
    let mut tags = refs.iter().filter(|r| r.digest().is_none());
    let single = match (tags.next(), tags.next()) {
        (_, Some(_)) => return false,
        (Some(t), None) => t,
        (None, None) => &refs[0],
    };
    let mut names: Vec<String> = refs
        .iter()
        .filter(|r| r.digest().is_some())
        .map(|r| r.name())
        .collect();
    names.dedup();
    names.len() == 1 && names[0] == single.name()
}

type InUse<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Store {
    /// `docker rmi name` (with `--force`, and `--no-prune` = `!prune`).
    pub fn remove(
        &self,
        name: &str,
        force: bool,
        prune: bool,
        in_use: InUse<'_>,
    ) -> Result<Vec<Deleted>, Error> {
        let _w = self.writer();
        let mut st = self.state();
        self.collect_hidden(&mut st, in_use)?;
        let mut reclaimed = 0;
        self.remove_locked(&mut st, name, force, prune, in_use, &mut reclaimed)
    }

    /// `docker image prune` (`-a` = `all`): returns what was deleted and the
    /// bytes reclaimed (sizes of the deleted layers).
    pub fn prune(&self, all: bool, in_use: InUse<'_>) -> Result<(Vec<Deleted>, u64), Error> {
        let _w = self.writer();
        let mut st = self.state();
        self.collect_hidden(&mut st, in_use)?;
        let tops: Vec<String> = st
            .images
            .iter()
            .filter(|(id, img)| {
                !img.rec.hidden
                    && !st
                        .images
                        .values()
                        .any(|o| !o.rec.hidden && &o.rec.parent == *id)
            })
            .map(|(id, _)| id.clone())
            .collect();
        let mut out = Vec::new();
        let mut reclaimed = 0;
        for id in tops {
            if !st.images.contains_key(&id) || in_use(&id).is_some() {
                continue;
            }
            let refs = st.refs.refs_of(&id);
            let names: Vec<String> = if refs.is_empty() {
                vec![id.clone()]
            } else if all || !refs.iter().any(|r| r.tag().is_some()) {
                refs.iter().map(|r| r.to_string()).collect()
            } else {
                continue;
            };
            for n in names {
                match self.remove_locked(&mut st, &n, false, true, in_use, &mut reclaimed) {
                    Ok(recs) => out.extend(recs),
                    Err(Error::Conflict(_)) | Err(Error::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok((out, reclaimed))
    }

    fn remove_locked(
        &self,
        st: &mut State,
        name: &str,
        force: bool,
        prune: bool,
        in_use: InUse<'_>,
        reclaimed: &mut u64,
    ) -> Result<Vec<Deleted>, Error> {
        let id = st.resolve(name)?;
        let mut out = Vec::new();
        let refs = st.refs.refs_of(&id);
        let mut quiet = false;
        if !is_id_prefix(&id, name) {
            if !force && is_single_reference(&refs) {
                if let Some(c) = in_use(&id) {
                    return Err(Error::Conflict(format!(
                        "conflict: unable to remove repository reference {name:?} (must force) - container {} is using its referenced image {}",
                        short(&c),
                        short(&id)
                    )));
                }
            }
            let r = Reference::parse(name)?;
            let r = match r.digest() {
                Some(d) => r.with_digest(d),
                None => r.with_default_tag(),
            };
            st.refs.remove(&r)?;
            out.push(Deleted::Untagged(r.familiar()));
            if r.tag().is_some() {
                let left = st.refs.refs_of(&id);
                if !left
                    .iter()
                    .any(|x| x.name() == r.name() && x.tag().is_some())
                {
                    for x in left
                        .iter()
                        .filter(|x| x.name() == r.name() && x.digest().is_some())
                    {
                        st.refs.remove(x)?;
                        out.push(Deleted::Untagged(x.familiar()));
                    }
                }
            }
            if !st.refs.refs_of(&id).is_empty() {
                return Ok(out);
            }
            quiet = true;
        } else if is_single_reference(&refs) {
            let mask = if force { CHILD } else { CHILD | USED };
            if let Some(c) = conflict(st, &id, mask, in_use) {
                return Err(delete_error(&id, &c));
            }
            for r in refs {
                st.refs.remove(&r)?;
                out.push(Deleted::Untagged(r.familiar()));
            }
        }
        self.delete_image(st, &id, &mut out, force, prune, quiet, in_use, reclaimed)?;
        Ok(out)
    }

    /// Docker's `imageDeleteHelper`.
    #[allow(clippy::too_many_arguments)]
    fn delete_image(
        &self,
        st: &mut State,
        id: &str,
        out: &mut Vec<Deleted>,
        force: bool,
        prune: bool,
        quiet: bool,
        in_use: InUse<'_>,
        reclaimed: &mut u64,
    ) -> Result<(), Error> {
        let mask = if force {
            CHILD
        } else {
            CHILD | REFERENCED | USED
        };
        if let Some(c) = conflict(st, id, mask, in_use) {
            let dangling = st.refs.refs_of(id).is_empty()
                && !st
                    .images
                    .values()
                    .any(|i| !i.rec.hidden && i.rec.parent == id);
            if quiet && (!dangling || c.used) {
                return Ok(());
            }
            return Err(delete_error(id, &c));
        }
        let parent = st
            .images
            .get(id)
            .map(|i| i.rec.parent.clone())
            .unwrap_or_default();
        for r in st.refs.refs_of(id) {
            st.refs.remove(&r)?;
            out.push(Deleted::Untagged(r.familiar()));
        }
        if in_use(id).is_some() {
            if let Some(img) = st.images.get_mut(id) {
                img.rec.hidden = true;
                self.records.write(&img.rec)?;
            }
            out.push(Deleted::Deleted(id.to_string()));
        } else {
            out.push(Deleted::Deleted(id.to_string()));
            for (chain, size) in self.drop_image(st, id)? {
                out.push(Deleted::Deleted(chain));
                *reclaimed += size;
            }
        }
        if prune && !parent.is_empty() && st.visible(&parent).is_some() {
            return self.delete_image(st, &parent, out, false, true, true, in_use, reclaimed);
        }
        Ok(())
    }

    /// Deletes the record, config and now-unused layers of `id`; returns the
    /// chain IDs and sizes of the deleted layers, top first.
    fn drop_image(&self, st: &mut State, id: &str) -> Result<Vec<(String, u64)>, Error> {
        let Some(img) = st.images.remove(id) else {
            return Ok(Vec::new());
        };
        self.records.remove(id)?;
        self.blobs.remove(id);
        let mut gone = Vec::new();
        for chain in img.chain.iter().rev() {
            if st.images.values().any(|o| o.chain.contains(chain)) {
                continue;
            }
            self.layers.remove(chain)?;
            let mut size = 0;
            if let Some(meta) = st.layers.remove(chain) {
                if !st.layers.values().any(|l| l.blob == meta.blob) {
                    self.blobs.remove(&meta.blob);
                }
                size = meta.size;
            }
            gone.push((chain.clone(), size));
        }
        Ok(gone)
    }

    /// Deletes hidden images no container uses any more.
    fn collect_hidden(&self, st: &mut State, in_use: InUse<'_>) -> Result<(), Error> {
        let hidden: Vec<String> = st
            .images
            .iter()
            .filter(|(_, i)| i.rec.hidden)
            .map(|(id, _)| id.clone())
            .collect();
        for id in hidden {
            if in_use(&id).is_none() {
                self.drop_image(st, &id)?;
            }
        }
        Ok(())
    }
}

fn conflict(st: &State, id: &str, mask: u8, in_use: InUse<'_>) -> Option<Conflict> {
    if mask & CHILD != 0
        && st
            .images
            .values()
            .any(|i| !i.rec.hidden && i.rec.parent == id)
    {
        return Some(Conflict {
            hard: true,
            used: false,
            message: "image has dependent child images".into(),
        });
    }
    if mask & REFERENCED != 0 && !st.refs.refs_of(id).is_empty() {
        return Some(Conflict {
            hard: false,
            used: false,
            message: "image is referenced in multiple repositories".into(),
        });
    }
    if mask & USED != 0 {
        if let Some(c) = in_use(id) {
            return Some(Conflict {
                hard: false,
                used: true,
                message: format!("image is being used by stopped container {}", short(&c)),
            });
        }
    }
    None
}

fn delete_error(id: &str, c: &Conflict) -> Error {
    let how = if c.hard {
        "cannot be forced"
    } else {
        "must be forced"
    };
    Error::Conflict(format!(
        "conflict: unable to delete {} ({how}) - {}",
        short(id),
        c.message
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    fn setup() -> (tempfile::TempDir, Store, TestImage, TestImage) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let a = TestImage::new(&[("a", b"aaaa")], &["app:1"], "2024-01-01T00:00:00Z");
        let b = TestImage::new(&[("b", b"bb")], &[], "2024-01-02T00:00:00Z");
        s.load(&docker_archive(&[&a, &b])[..]).unwrap();
        (dir, s, a, b)
    }

    fn layers(dir: &tempfile::TempDir) -> usize {
        std::fs::read_dir(dir.path().join("layers"))
            .unwrap()
            .count()
    }

    #[test]
    fn rmi_untags_then_deletes_and_reports_layers() {
        let (dir, s, a, _) = setup();
        s.tag("app:1", "other:2").unwrap();
        // A name with other tags left only untags.
        assert_eq!(
            s.remove("other:2", false, true, &none).unwrap(),
            vec![Deleted::Untagged("other:2".into())]
        );
        // By ID with several tags: conflict unless forced.
        s.tag("app:1", "other:2").unwrap();
        let e = s.remove(&a.id()[7..19], false, true, &none).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories", &a.id()[7..19])
        );
        assert_eq!(e.kind(), crate::ErrorKind::Conflict);
        let out = s.remove(&a.id()[7..19], true, true, &none).unwrap();
        let layer = crate::digest::sha256(&a.layers[0]);
        assert_eq!(
            out,
            vec![
                Deleted::Untagged("app:1".into()),
                Deleted::Untagged("other:2".into()),
                Deleted::Deleted(a.id()),
                Deleted::Deleted(layer),
            ]
        );
        assert_eq!(layers(&dir), 1);
        assert!(matches!(s.resolve("app:1"), Err(Error::NotFound(m)) if m == "app:1"));
        assert!(!dir.path().join("blobs/sha256").join(&a.id()[7..]).exists());
        assert!(matches!(
            s.remove("app:1", false, true, &none),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn rmi_of_an_image_in_use() {
        let (dir, s, a, _) = setup();
        let used = |id: &str| (id == a.id()).then(|| "1a2b3c4d5e6f7a8b9c0d".to_string());
        let e = s.remove("app:1", false, true, &used).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "conflict: unable to remove repository reference \"app:1\" (must force) - container 1a2b3c4d5e6f is using its referenced image {}",
                &a.id()[7..19]
            )
        );
        let e = s.remove(&a.id(), false, true, &used).unwrap_err();
        assert!(
            e.to_string().contains(
                "(must be forced) - image is being used by stopped container 1a2b3c4d5e6f"
            ),
            "{e}"
        );
        // Forced: untagged and gone from listings, but its layers stay for the container.
        let out = s.remove("app:1", true, true, &used).unwrap();
        assert_eq!(
            out,
            vec![Deleted::Untagged("app:1".into()), Deleted::Deleted(a.id())]
        );
        assert!(s.resolve(&a.id()).is_err());
        assert_eq!(s.list().len(), 1);
        assert!(s.layer_dirs(&a.id()).unwrap()[0].join("a").exists());
        // Reopen keeps it hidden; once unused, the next prune collects it.
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert!(s.config(&a.id()).is_ok());
        assert_eq!(layers(&dir), 2);
        s.prune(false, &used).unwrap(); // deletes the dangling other image only
        assert_eq!(layers(&dir), 1);
        assert!(s.layer_dirs(&a.id()).unwrap()[0].join("a").exists());
        s.prune(false, &none).unwrap();
        assert_eq!(layers(&dir), 0);
        assert!(s.layer_dirs(&a.id()).is_err());
    }

    #[test]
    fn prune_dangling_then_all() {
        let (dir, s, a, b) = setup();
        let (out, bytes) = s.prune(false, &none).unwrap();
        let lb = crate::digest::sha256(&b.layers[0]);
        assert_eq!(out, vec![Deleted::Deleted(b.id()), Deleted::Deleted(lb)]);
        assert_eq!(bytes, 2);
        assert_eq!(s.list().len(), 1);
        let used = |id: &str| (id == a.id()).then(|| "c".repeat(64));
        assert!(s.prune(true, &used).unwrap().0.is_empty());
        let (out, bytes) = s.prune(true, &none).unwrap();
        assert_eq!(out[0], Deleted::Untagged("app:1".into()));
        assert_eq!(out[1], Deleted::Deleted(a.id()));
        assert_eq!(bytes, 4);
        assert!(s.list().is_empty());
        assert_eq!(layers(&dir), 0);
        assert_eq!(
            std::fs::read_dir(dir.path().join("blobs/sha256"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn deleted_prints_and_serialises_like_docker() {
        let u = Deleted::Untagged("busybox:latest".into());
        assert_eq!(u.to_string(), "Untagged: busybox:latest");
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            r#"{"Untagged":"busybox:latest"}"#
        );
        assert_eq!(
            serde_json::to_string(&Deleted::Deleted("sha256:x".into())).unwrap(),
            r#"{"Deleted":"sha256:x"}"#
        );
    }

    #[test]
    fn single_reference_rule() {
        let r = |s: &str| Reference::parse(s).unwrap();
        let d = "@sha256:4b8765de035b3c7e2d851d3d2de0324027e94fcf780919eafb2c466e2553408b";
        assert!(!is_single_reference(&[]));
        assert!(is_single_reference(&[r("a:1")]));
        assert!(!is_single_reference(&[r("a:1"), r("a:2")]));
        assert!(is_single_reference(&[r("a:1"), r(&format!("a{d}"))]));
        assert!(!is_single_reference(&[r("a:1"), r(&format!("b{d}"))]));
    }
}
