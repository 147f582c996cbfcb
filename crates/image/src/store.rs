//! The [`Store`]: opens the on-disk layout, keeps the in-memory index (images,
//! layers, references) and answers lookups: `resolve`, `config`, `layer_dirs`,
//! `size`, `tag`. Loading, saving, importing, removal and the JSON views live
//! in their own modules as further `impl Store` blocks.

use crate::blobs::Blobs;
use crate::config::{ImageConfig, ImageFile};
use crate::digest::{chain_ids, is_hex64};
use crate::error::{Error, IoContext};
use crate::layers::{LayerMeta, Layers};
use crate::records::{ImageRecord, Records};
use crate::reference::Reference;
use crate::refstore::RefStore;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The image store rooted at a data root. `Send + Sync`; share it with `Arc`.
pub struct Store {
    pub(crate) tmp: PathBuf,
    pub(crate) blobs: Blobs,
    pub(crate) layers: Layers,
    pub(crate) records: Records,
    pub(crate) state: Mutex<State>,
    /// Serialises mutations (load commit, import, tag, remove, prune) so that a
    /// layer is never deleted while another operation is about to use it.
    pub(crate) write: Mutex<()>,
}

pub(crate) struct State {
    /// By ID `sha256:<hex>`.
    pub images: BTreeMap<String, Image>,
    /// By chain ID `sha256:<hex>`.
    pub layers: HashMap<String, LayerMeta>,
    pub refs: RefStore,
}

#[derive(Clone)]
pub(crate) struct Image {
    pub rec: ImageRecord,
    pub file: ImageFile,
    /// Chain IDs, bottom layer first.
    pub chain: Vec<String>,
}

impl State {
    /// The visible image `id` (`sha256:<hex>`).
    pub fn visible(&self, id: &str) -> Option<&Image> {
        self.images.get(id).filter(|i| !i.rec.hidden)
    }

    pub fn size_of(&self, img: &Image) -> u64 {
        img.chain
            .iter()
            .filter_map(|c| self.layers.get(c))
            .map(|l| l.size)
            .sum()
    }

    /// Docker's image lookup: full ID, reference, then unique ID prefix.
    pub fn resolve(&self, name: &str) -> Result<String, Error> {
        if let Some(id) = full_id(name) {
            return match self.visible(&id) {
                Some(_) => Ok(id),
                None => Err(Error::NotFound(id)),
            };
        }
        let parsed = Reference::parse(name);
        let shown = match &parsed {
            Ok(r) => {
                let r = match r.digest() {
                    Some(d) => r.with_digest(d),
                    None => r.clone().with_default_tag(),
                };
                if let Some(id) = self.refs.get(&r) {
                    if self.visible(id).is_some() {
                        return Ok(id.clone());
                    }
                }
                r.familiar()
            }
            Err(_) => name.to_string(),
        };
        let prefix = name.strip_prefix("sha256:").unwrap_or(name);
        if !prefix.is_empty()
            && prefix
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            let want = format!("sha256:{prefix}");
            let mut hits = self
                .images
                .range(want.clone()..)
                .take_while(|(k, _)| k.starts_with(&want))
                .filter(|(_, i)| !i.rec.hidden)
                .map(|(k, _)| k);
            if let Some(first) = hits.next() {
                if hits.next().is_some() {
                    return Err(Error::Ambiguous(name.to_string()));
                }
                return Ok(first.clone());
            }
        }
        parsed?;
        Err(Error::NotFound(shown))
    }

    /// Like `resolve`, but a full ID also finds hidden images (kept for containers).
    pub fn resolve_for_use(&self, name: &str) -> Result<String, Error> {
        match full_id(name) {
            Some(id) if self.images.contains_key(&id) => Ok(id),
            _ => self.resolve(name),
        }
    }
}

/// `sha256:<hex>` when `name` is a full image ID with or without the prefix.
pub(crate) fn full_id(name: &str) -> Option<String> {
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    is_hex64(hex).then(|| format!("sha256:{hex}"))
}

impl Store {
    /// Opens (creating if needed) the store under `data_root`, removing
    /// leftovers of interrupted operations.
    pub fn open(data_root: &Path) -> Result<Store, Error> {
        let tmp = data_root.join("tmp");
        fs::create_dir_all(&tmp).ctx(|| format!("create {}", tmp.display()))?;
        crate::tmp::sweep(&tmp);
        let blobs = Blobs::open(data_root)?;
        let layers = Layers::open(data_root)?;
        let records = Records::open(data_root)?;
        let refs = RefStore::open(data_root)?;
        let mut layer_map = layers.load_all();
        let mut images = BTreeMap::new();
        for rec in records.load_all() {
            let Ok(bytes) = blobs.read(&rec.id) else {
                continue;
            };
            let Ok(file) = ImageFile::parse(&bytes, &rec.id) else {
                continue;
            };
            let chain = chain_ids(&file.rootfs.diff_ids);
            if chain.iter().all(|c| layer_map.contains_key(c)) {
                images.insert(rec.id.clone(), Image { rec, file, chain });
            }
        }
        // Layers no image uses (left by a crash between unpacking and
        // recording an image) are deleted, with their blobs.
        let used: std::collections::HashSet<&String> =
            images.values().flat_map(|i: &Image| &i.chain).collect();
        let orphans: Vec<String> = layer_map
            .keys()
            .filter(|c| !used.contains(c))
            .cloned()
            .collect();
        for c in orphans {
            if layers.remove(&c).is_ok() {
                if let Some(meta) = layer_map.remove(&c) {
                    if !layer_map.values().any(|l| l.blob == meta.blob) {
                        blobs.remove(&meta.blob);
                    }
                }
            }
        }
        Ok(Store {
            tmp,
            blobs,
            layers,
            records,
            state: Mutex::new(State {
                images,
                layers: layer_map,
                refs,
            }),
            write: Mutex::new(()),
        })
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn writer(&self) -> MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The image ID (`sha256:<hex>`) `name` refers to: `busybox`, `busybox:latest`,
    /// `docker.io/library/busybox:latest`, `repo@sha256:…`, a full ID or a unique
    /// ID prefix (with or without `sha256:`).
    pub fn resolve(&self, name: &str) -> Result<String, Error> {
        self.state().resolve(name)
    }

    /// The image's `config` object (defaults for containers).
    pub fn config(&self, id: &str) -> Result<ImageConfig, Error> {
        let st = self.state();
        let id = st.resolve_for_use(id)?;
        Ok(st
            .images
            .get(&id)
            .and_then(|i| i.file.config.clone())
            .unwrap_or_default())
    }

    /// Unpacked layer directories, top layer first (overlay `lowerdir` order).
    pub fn layer_dirs(&self, id: &str) -> Result<Vec<PathBuf>, Error> {
        let st = self.state();
        let id = st.resolve_for_use(id)?;
        let img = st
            .images
            .get(&id)
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        img.chain
            .iter()
            .rev()
            .map(|c| self.layers.diff_dir(c))
            .collect()
    }

    /// Unpacked size of the image (sum of its layers).
    pub fn size(&self, id: &str) -> Result<u64, Error> {
        let st = self.state();
        let id = st.resolve_for_use(id)?;
        let img = st
            .images
            .get(&id)
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        Ok(st.size_of(img))
    }

    /// Points the tag `target` (default tag `latest`) at the image `source` names.
    pub fn tag(&self, source: &str, target: &str) -> Result<(), Error> {
        let r = Reference::parse(target)?;
        if r.digest().is_some() {
            return Err(Error::invalid(
                "refusing to create a tag with a digest reference",
            ));
        }
        let r = r.with_default_tag();
        let _w = self.writer();
        let mut st = self.state();
        let id = st.resolve(source)?;
        st.refs.set(r, &id)?;
        self.touch_tag_time(&mut st, &id)
    }

    /// Sets `Metadata.LastTagTime` of `id` to now.
    pub(crate) fn touch_tag_time(&self, st: &mut State, id: &str) -> Result<(), Error> {
        if let Some(img) = st.images.get_mut(id) {
            img.rec.last_tag_time = Some(berth_util::time::now_rfc3339());
            self.records.write(&img.rec)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_send_and_sync_and_sweeps_orphans() {
        fn check<T: Send + Sync>() {}
        check::<Store>();
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let layer = crate::testutil::layer_tar(&[("f", b"x")]);
        let diff = crate::digest::sha256(&layer);
        let p = dir.path().join("tmp").join("l.tar");
        fs::write(&p, &layer).unwrap();
        s.layers.create(&diff, "", &diff, &p, &diff).unwrap();
        fs::create_dir(dir.path().join("layers/.tmp-leftover")).unwrap();
        drop(s);
        Store::open(dir.path()).unwrap();
        assert_eq!(fs::read_dir(dir.path().join("layers")).unwrap().count(), 0);
    }
}
