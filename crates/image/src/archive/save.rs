//! `docker save`: writes the chosen images as one tar that is both a
//! docker-archive (`manifest.json`, `repositories`) and an OCI image layout
//! (`oci-layout`, `index.json`, `blobs/sha256/…`), as Docker 25+ does. Layers
//! are written uncompressed, so each layer blob's digest is its DiffID.

use super::oci::{self, Descriptor, Index, Manifest};
use crate::compress;
use crate::digest::sha256;
use crate::error::{Error, IoContext};
use crate::reference::Reference;
use crate::store::{State, Store};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};

/// One image to write: config bytes, tags, and its layers' open blobs.
struct Item {
    id: String,
    config: Vec<u8>,
    tags: Vec<Reference>,
    layers: Vec<SavedLayer>,
}

struct SavedLayer {
    diff_id: String,
    tar_size: u64,
    file: File,
}

impl State {
    /// Images and tags `names` select, Docker's way: a bare repository name
    /// means all its tags, `repo:tag` that tag, an ID or digest no tag.
    fn select(&self, names: &[String]) -> Result<Vec<(String, Vec<Reference>)>, Error> {
        let mut out: Vec<(String, Vec<Reference>)> = Vec::new();
        let mut add =
            |id: String, r: Option<Reference>| match out.iter_mut().find(|(i, _)| *i == id) {
                Some((_, tags)) => tags.extend(r.filter(|r| !tags.contains(r))),
                None => out.push((id, r.into_iter().collect())),
            };
        for name in names {
            let parsed = Reference::parse(name)
                .ok()
                .filter(|_| crate::store::full_id(name).is_none());
            match parsed {
                Some(r) if r.is_name_only() && !self.refs.by_name(&r.name()).is_empty() => {
                    for (tr, id) in self.refs.by_name(&r.name()) {
                        if tr.tag().is_some() && self.visible(&id).is_some() {
                            add(id, Some(tr));
                        }
                    }
                }
                Some(r) if r.tag().is_some() && r.digest().is_none() => {
                    let id = self.resolve(name)?;
                    let tagged = self.refs.get(&r).is_some_and(|i| *i == id);
                    add(id, tagged.then_some(r));
                }
                _ => add(self.resolve(name)?, None),
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Writes the images `names` select as one archive to `w`.
    pub fn save(&self, names: &[String], w: impl Write) -> Result<(), Error> {
        let items = self.collect(names)?;
        write_archive(items, w).ctx(|| "write image archive".to_string())
    }

    /// Reads configs and opens layer blobs under the lock; open files stay
    /// readable even if the images are removed while the archive is written.
    fn collect(&self, names: &[String]) -> Result<Vec<Item>, Error> {
        let st = self.state();
        let mut items = Vec::new();
        for (id, tags) in st.select(names)? {
            let img = st
                .images
                .get(&id)
                .ok_or_else(|| Error::NotFound(id.clone()))?;
            let config = self.blobs.read(&id)?;
            let mut layers = Vec::new();
            for c in &img.chain {
                let meta = st
                    .layers
                    .get(c)
                    .ok_or_else(|| Error::Corrupt(format!("layer {c} of {id} is missing")))?;
                layers.push(SavedLayer {
                    diff_id: meta.diff_id.clone(),
                    tar_size: meta.tar_size,
                    file: self.blobs.open_blob(&meta.blob)?,
                });
            }
            items.push(Item {
                id,
                config,
                tags,
                layers,
            });
        }
        Ok(items)
    }
}

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn add_bytes<W: Write>(b: &mut tar::Builder<W>, path: &str, data: &[u8]) -> io::Result<()> {
    let mut h = header(tar::EntryType::Regular, data.len() as u64);
    b.append_data(&mut h, path, data)
}

fn blob_name(digest: &str) -> String {
    oci::blob_path(digest)
}

/// Fails instead of writing a short or long tar member.
struct Exact<R> {
    inner: io::Take<R>,
    want: u64,
    got: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.got += n as u64;
        if n == 0 && !buf.is_empty() && self.got != self.want {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("layer blob is {} bytes, expected {}", self.got, self.want),
            ));
        }
        Ok(n)
    }
}

fn write_archive(items: Vec<Item>, w: impl Write) -> io::Result<()> {
    let mut b = tar::Builder::new(w);
    b.mode(tar::HeaderMode::Deterministic);
    for dir in ["blobs/", "blobs/sha256/"] {
        b.append_data(&mut header(tar::EntryType::Directory, 0), dir, io::empty())?;
    }
    let mut written: HashSet<String> = HashSet::new();
    let mut manifest_json = Vec::new();
    let mut index = Index {
        schema_version: 2,
        media_type: Some(oci::MT_OCI_INDEX.into()),
        manifests: Vec::new(),
    };
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for item in items {
        if written.insert(item.id.clone()) {
            add_bytes(&mut b, &blob_name(&item.id), &item.config)?;
        }
        let mut layer_descs = Vec::new();
        for l in item.layers {
            if written.insert(l.diff_id.clone()) {
                let mut h = header(tar::EntryType::Regular, l.tar_size);
                let path = blob_name(&l.diff_id);
                let reader = compress::decompressed(BufReader::new(l.file))
                    .map_err(|e| io::Error::other(e.to_string()))?;
                let exact = Exact {
                    inner: reader.take(l.tar_size),
                    want: l.tar_size,
                    got: 0,
                };
                b.append_data(&mut h, &path, exact)?;
            }
            layer_descs.push(Descriptor {
                media_type: oci::MT_OCI_LAYER_TAR.into(),
                digest: l.diff_id.clone(),
                size: l.tar_size as i64,
                annotations: None,
                platform: None,
            });
        }
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(oci::MT_OCI_MANIFEST.into()),
            config: Descriptor {
                media_type: oci::MT_OCI_CONFIG.into(),
                digest: item.id.clone(),
                size: item.config.len() as i64,
                annotations: None,
                platform: None,
            },
            layers: layer_descs.clone(),
        };
        let mbytes = serde_json::to_vec(&manifest).map_err(io::Error::other)?;
        let mdigest = sha256(&mbytes);
        if written.insert(mdigest.clone()) {
            add_bytes(&mut b, &blob_name(&mdigest), &mbytes)?;
        }
        let desc = |ann: Option<BTreeMap<String, String>>| Descriptor {
            media_type: oci::MT_OCI_MANIFEST.into(),
            digest: mdigest.clone(),
            size: mbytes.len() as i64,
            annotations: ann,
            platform: None,
        };
        if item.tags.is_empty() {
            index.manifests.push(desc(None));
        }
        for t in &item.tags {
            let tag = t.tag().unwrap_or(crate::reference::DEFAULT_TAG).to_string();
            let ann = BTreeMap::from([
                (oci::ANN_CONTAINERD_NAME.to_string(), t.to_string()),
                (oci::ANN_REF_NAME.to_string(), tag.clone()),
            ]);
            index.manifests.push(desc(Some(ann)));
            if let Some(top) = layer_descs.last() {
                repositories
                    .entry(t.familiar_name())
                    .or_default()
                    .insert(tag, top.digest.trim_start_matches("sha256:").to_string());
            }
        }
        manifest_json.push(json!({
            "Config": blob_name(&item.id),
            "RepoTags": item.tags.iter().map(Reference::familiar).collect::<Vec<_>>(),
            "Layers": layer_descs.iter().map(|d| blob_name(&d.digest)).collect::<Vec<_>>(),
        }));
    }
    add_bytes(
        &mut b,
        "index.json",
        &serde_json::to_vec(&index).map_err(io::Error::other)?,
    )?;
    add_bytes(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest_json).map_err(io::Error::other)?,
    )?;
    add_bytes(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    if !repositories.is_empty() {
        add_bytes(
            &mut b,
            "repositories",
            &serde_json::to_vec(&repositories).map_err(io::Error::other)?,
        )?;
    }
    b.into_inner()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::load::Loaded;
    use crate::testutil::*;

    #[test]
    fn save_then_load_round_trips_ids_and_tags() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let a = TestImage::new(
            &[("bin/", b""), ("bin/a", b"aaa")],
            &["app:1", "app:2"],
            "2024-01-01T00:00:00Z",
        );
        let c = TestImage::new(&[("c", b"c")], &[], "2024-01-02T00:00:00Z");
        s.load(&docker_archive(&[&a, &c])[..]).unwrap();
        let mut out = Vec::new();
        s.save(&["app".into(), c.id()[7..19].to_string()], &mut out)
            .unwrap();

        let dir2 = tempfile::tempdir().unwrap();
        let s2 = Store::open(dir2.path()).unwrap();
        let loaded = s2.load(&out[..]).unwrap();
        assert_eq!(
            loaded,
            vec![
                Loaded::Tag("app:1".into()),
                Loaded::Tag("app:2".into()),
                Loaded::Id(c.id())
            ]
        );
        assert_eq!(s2.resolve("app:2").unwrap(), a.id());
        assert_eq!(
            s2.inspect("app:1").unwrap()["RootFS"],
            s.inspect("app:1").unwrap()["RootFS"]
        );
        let d = &s2.layer_dirs("app:1").unwrap()[0];
        assert_eq!(std::fs::read(d.join("bin/a")).unwrap(), b"aaa");

        // The same archive read as a pure OCI layout (without manifest.json).
        let staged = crate::archive::stage::Staged::read(&out[..], dir2.path()).unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut members = vec!["index.json".to_string(), "oci-layout".to_string()];
        let index: Index = staged.read_json("index.json").unwrap();
        for m in &index.manifests {
            let man: Manifest = staged.read_json(&oci::blob_path(&m.digest)).unwrap();
            members.push(oci::blob_path(&m.digest));
            members.push(oci::blob_path(&man.config.digest));
            members.extend(man.layers.iter().map(|l| oci::blob_path(&l.digest)));
        }
        members.dedup();
        for m in &members {
            add_bytes(
                &mut b,
                m,
                &std::fs::read(&staged.get(m).unwrap().path).unwrap(),
            )
            .unwrap();
        }
        let oci_only = b.into_inner().unwrap();
        let dir3 = tempfile::tempdir().unwrap();
        let s3 = Store::open(dir3.path()).unwrap();
        let loaded = s3.load(&oci_only[..]).unwrap();
        assert!(loaded.contains(&Loaded::Tag("app:1".into())), "{loaded:?}");
        assert!(loaded.contains(&Loaded::Id(c.id())), "{loaded:?}");
        assert_eq!(s3.resolve("app:1").unwrap(), a.id());
    }

    #[test]
    fn saves_gzip_loaded_layers_uncompressed() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let img = TestImage::new(&[("f", b"data")], &["gz:1"], "2024-01-01T00:00:00Z");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&img.layers[0]).unwrap();
        let gz = TestImage {
            layers: vec![enc.finish().unwrap()],
            ..TestImage::new(&[], &["gz:1"], "")
        };
        let gz = TestImage {
            config: img.config.clone(),
            ..gz
        };
        // The archive is gzip'd as a whole, too.
        let mut whole = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        whole.write_all(&docker_archive(&[&gz])).unwrap();
        s.load(&whole.finish().unwrap()[..]).unwrap();
        let mut out = Vec::new();
        s.save(&["gz:1".into()], &mut out).unwrap();
        let staged = crate::archive::stage::Staged::read(&out[..], dir.path()).unwrap();
        let diff = sha256(&img.layers[0]);
        assert_eq!(staged.get(&oci::blob_path(&diff)).unwrap().digest, diff);
        assert!(s.save(&["nope:1".into()], &mut Vec::new()).is_err());
    }

    /// Manual check against the local Docker engine: `cargo test -p berth-image
    /// docker_loads_our_archive -- --ignored`. Saves the busybox anchor under a
    /// new tag and an imported image with a layer Docker has never seen (gzip'd
    /// on the way in), has `docker load` read the archive and compares the IDs.
    #[test]
    #[ignore]
    fn docker_loads_our_archive() {
        use std::process::Command;
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let f = File::open("/tmp/anchors/images/busybox.tar").unwrap();
        s.load(f).unwrap();
        s.tag("busybox", "berth-save-check:1").unwrap();
        let unique = berth_util::id::random_hex(16);
        let rootfs = layer_tar(&[
            ("unique", unique.as_bytes()),
            ("d/", b""),
            ("l -> unique", b""),
        ]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &rootfs).unwrap();
        let imported = s
            .import(
                &gz.finish().unwrap()[..],
                Some("berth-save-check:2"),
                &["CMD [\"x\"]".into()],
                "m",
            )
            .unwrap();
        let path = dir.path().join("out.tar");
        let names = [
            "berth-save-check:1".to_string(),
            "berth-save-check:2".to_string(),
        ];
        s.save(&names, File::create(&path).unwrap()).unwrap();
        let out = Command::new("docker")
            .arg("load")
            .arg("-i")
            .arg(&path)
            .output()
            .unwrap();
        let inspect = |n: &str| {
            let o = Command::new("docker")
                .args(["image", "inspect", n, "--format", "{{.Id}} {{.Size}}"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        };
        let (one, two) = (inspect("berth-save-check:1"), inspect("berth-save-check:2"));
        let _ = Command::new("docker")
            .args(["rmi", "berth-save-check:1", "berth-save-check:2"])
            .output();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let busybox = s.resolve("busybox").unwrap();
        assert_eq!(one, format!("{busybox} {}", s.size(&busybox).unwrap()));
        assert_eq!(two, format!("{imported} {}", s.size(&imported).unwrap()));
    }
}
