//! `docker load`: reads a docker-archive or an OCI image layout, checks every
//! document and blob, unpacks new layers, then stores configs, layer blobs,
//! records and tags. Nothing is stored unless the whole archive is good.

use super::oci::{self, Descriptor, Index, Manifest};
use super::stage::{Staged, StagedFile};
use crate::config::ImageFile;
use crate::digest::chain_ids;
use crate::error::Error;
use crate::records::ImageRecord;
use crate::reference::Reference;
use crate::store::{Image, Store};
use serde::Deserialize;
use std::fmt;
use std::io::Read;

/// One line of `docker load` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// `Loaded image: busybox:latest`
    Tag(String),
    /// `Loaded image ID: sha256:…` (no tag in the archive)
    Id(String),
    /// `The image busybox:latest already exists, renaming the old one with ID sha256:… to empty string`
    Renamed { tag: String, old_id: String },
}

impl fmt::Display for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loaded::Tag(t) => write!(f, "Loaded image: {t}"),
            Loaded::Id(id) => write!(f, "Loaded image ID: {id}"),
            Loaded::Renamed { tag, old_id } => write!(
                f,
                "The image {tag} already exists, renaming the old one with ID {old_id} to empty string"
            ),
        }
    }
}

/// An image found in the archive, checked but not yet stored.
struct Planned {
    id: String,
    file: ImageFile,
    config: StagedFile,
    layers: Vec<StagedFile>,
    tags: Vec<Reference>,
    parent: Option<String>,
}

/// An entry of docker-archive's `manifest.json`.
#[derive(Deserialize)]
struct ArchiveEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
    #[serde(rename = "Parent", default)]
    parent: Option<String>,
}

fn bad(msg: impl fmt::Display) -> Error {
    Error::invalid(format!("invalid archive: {msg}"))
}

fn parse_tag(t: &str) -> Result<Reference, Error> {
    let r = Reference::parse(t)?;
    if r.tag().is_none() || r.digest().is_some() {
        return Err(bad(format!("invalid tag {t:?}")));
    }
    Ok(r)
}

fn plan(staged: &Staged) -> Result<Vec<Planned>, Error> {
    let mut out: Vec<Planned> = Vec::new();
    if staged.has("manifest.json") {
        let entries: Vec<ArchiveEntry> = staged.read_json("manifest.json")?;
        for e in entries {
            let layers = e
                .layers
                .iter()
                .map(|l| staged.get(l).cloned())
                .collect::<Result<Vec<_>, _>>()?;
            let tags = e
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|t| parse_tag(t))
                .collect::<Result<Vec<_>, _>>()?;
            let config = staged.get(&e.config)?.clone();
            add(
                &mut out,
                planned(&e.config, config, layers, tags, e.parent)?,
            );
        }
    } else if staged.has("index.json") {
        let index: Index = staged.read_json("index.json")?;
        for d in &index.manifests {
            let tags = names_of(d);
            oci_image(staged, d, tags, 0, &mut out)?;
        }
    } else if staged.has("repositories") {
        return Err(bad(
            "legacy archives without manifest.json are not supported",
        ));
    } else {
        return Err(bad("no manifest.json or index.json found"));
    }
    Ok(out)
}

fn add(out: &mut Vec<Planned>, p: Planned) {
    match out.iter_mut().find(|o| o.id == p.id) {
        Some(o) => {
            for t in p.tags {
                if !o.tags.contains(&t) {
                    o.tags.push(t);
                }
            }
        }
        None => out.push(p),
    }
}

fn planned(
    what: &str,
    config: StagedFile,
    layers: Vec<StagedFile>,
    tags: Vec<Reference>,
    parent: Option<String>,
) -> Result<Planned, Error> {
    let bytes = std::fs::read(&config.path).map_err(|e| bad(format!("{what}: {e}")))?;
    let file = ImageFile::parse(&bytes, what)?;
    if file.rootfs.diff_ids.len() != layers.len() {
        return Err(bad(format!(
            "layers length mismatch: the config of {what} has {} diff ids, the manifest {} layers",
            file.rootfs.diff_ids.len(),
            layers.len()
        )));
    }
    Ok(Planned {
        id: config.digest.clone(),
        file,
        config,
        layers,
        tags,
        parent: parent.filter(|p| !p.is_empty()),
    })
}

/// Names an index descriptor carries (containerd's full name, or a full
/// reference in the OCI ref-name annotation; a bare tag names nothing).
fn names_of(d: &Descriptor) -> Vec<Reference> {
    let Some(ann) = &d.annotations else {
        return Vec::new();
    };
    [oci::ANN_CONTAINERD_NAME, oci::ANN_REF_NAME]
        .iter()
        .filter_map(|k| ann.get(*k))
        .filter(|v| v.contains(':') || v.contains('/'))
        .filter_map(|v| Reference::parse(v).ok())
        .filter(|r| r.tag().is_some() && r.digest().is_none())
        .take(1)
        .collect()
}

/// The staged blob for `d`, checked against its digest.
fn blob<'a>(staged: &'a Staged, d: &Descriptor) -> Result<&'a StagedFile, Error> {
    if crate::digest::hex_of(&d.digest).is_none() {
        return Err(bad(format!("unsupported digest {:?}", d.digest)));
    }
    let f = staged.get(&oci::blob_path(&d.digest))?;
    if f.digest != d.digest {
        return Err(bad(format!(
            "blob {} does not match its digest ({})",
            d.digest, f.digest
        )));
    }
    Ok(f)
}

fn blob_json<T: serde::de::DeserializeOwned>(staged: &Staged, d: &Descriptor) -> Result<T, Error> {
    blob(staged, d)?;
    staged.read_json(&oci::blob_path(&d.digest))
}

fn oci_image(
    staged: &Staged,
    d: &Descriptor,
    tags: Vec<Reference>,
    depth: usize,
    out: &mut Vec<Planned>,
) -> Result<(), Error> {
    if depth > 4 {
        return Err(bad("indexes nested too deeply"));
    }
    match d.media_type.as_str() {
        oci::MT_OCI_INDEX | oci::MT_DOCKER_LIST => {
            let idx: Index = blob_json(staged, d)?;
            let arch = oci::host_arch();
            let pick = idx
                .manifests
                .iter()
                .find(|m| {
                    m.platform
                        .as_ref()
                        .is_some_and(|p| p.os == "linux" && p.architecture == arch)
                })
                .or_else(|| idx.manifests.iter().find(|m| m.platform.is_none()))
                .ok_or_else(|| bad(format!("no image for linux/{arch} in {}", d.digest)))?;
            oci_image(staged, pick, tags, depth + 1, out)
        }
        oci::MT_OCI_MANIFEST | oci::MT_DOCKER_MANIFEST | "" => {
            let m: Manifest = blob_json(staged, d)?;
            let config = blob(staged, &m.config)?.clone();
            let layers = m
                .layers
                .iter()
                .map(|l| blob(staged, l).cloned())
                .collect::<Result<Vec<_>, _>>()?;
            add(out, planned(&m.config.digest, config, layers, tags, None)?);
            Ok(())
        }
        other => Err(bad(format!("unsupported media type {other:?} in index"))),
    }
}

impl Store {
    /// `docker load`: a docker-archive (`manifest.json`, also Docker 25+ ones
    /// with an OCI layout inside) or an OCI image layout, plain or gzip'd.
    pub fn load(&self, r: impl Read) -> Result<Vec<Loaded>, Error> {
        let staged = Staged::read(r, &self.tmp)?;
        let plan = plan(&staged)?;
        let _w = self.writer();
        self.ensure_layers(&plan)?;
        let mut out = Vec::new();
        let mut st = self.state();
        for p in plan {
            self.blobs.adopt(&p.config.path, &p.id)?;
            let rec = match st.images.get(&p.id) {
                Some(img) => ImageRecord {
                    hidden: false,
                    ..img.rec.clone()
                },
                None => ImageRecord {
                    id: p.id.clone(),
                    parent: p
                        .parent
                        .filter(|x| st.images.contains_key(x))
                        .unwrap_or_default(),
                    last_tag_time: None,
                    hidden: false,
                },
            };
            self.records.write(&rec)?;
            let chain = chain_ids(&p.file.rootfs.diff_ids);
            st.images.insert(
                p.id.clone(),
                Image {
                    rec,
                    file: p.file,
                    chain,
                },
            );
            for t in &p.tags {
                if let Some(old) = st.refs.set(t.clone(), &p.id)? {
                    out.push(Loaded::Renamed {
                        tag: t.familiar(),
                        old_id: old,
                    });
                }
                out.push(Loaded::Tag(t.familiar()));
            }
            if p.tags.is_empty() {
                out.push(Loaded::Id(p.id.clone()));
            }
        }
        Ok(out)
    }

    /// Unpacks every layer of `plan` that is not on disk yet; on error removes
    /// the layers this call created. Stores the layers' blobs on success.
    fn ensure_layers(&self, plan: &[Planned]) -> Result<(), Error> {
        let mut created: Vec<(String, crate::layers::LayerMeta, StagedFile)> = Vec::new();
        let result = (|| {
            for p in plan {
                let chain = chain_ids(&p.file.rootfs.diff_ids);
                for (i, c) in chain.iter().enumerate() {
                    if self.state().layers.contains_key(c) || created.iter().any(|x| &x.0 == c) {
                        continue;
                    }
                    let parent = if i == 0 { "" } else { chain[i - 1].as_str() };
                    let f = &p.layers[i];
                    let meta = self.layers.create(
                        c,
                        parent,
                        &p.file.rootfs.diff_ids[i],
                        &f.path,
                        &f.digest,
                    )?;
                    created.push((c.clone(), meta, f.clone()));
                }
            }
            for (_, meta, f) in &created {
                self.blobs.adopt(&f.path, &meta.blob)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            for (c, meta, _) in &created {
                let _ = self.layers.remove(c);
                if !self.state().layers.values().any(|l| l.blob == meta.blob) {
                    self.blobs.remove(&meta.blob);
                }
            }
            return Err(e);
        }
        let mut st = self.state();
        for (c, meta, _) in created {
            st.layers.insert(c, meta);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use std::path::Path;

    fn count_files(dir: &Path) -> usize {
        std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
    }

    #[test]
    fn loads_anchor_busybox_if_present() {
        let p = Path::new("/tmp/anchors/images/busybox.tar");
        if !p.exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let out = s.load(std::fs::File::open(p).unwrap()).unwrap();
        assert_eq!(out, vec![Loaded::Tag("busybox:latest".into())]);
        let id = s.resolve("busybox").unwrap();
        // The ID is the sha256 of the config member, exactly as archived.
        let staged = Staged::read(std::fs::File::open(p).unwrap(), dir.path()).unwrap();
        let entries: Vec<serde_json::Value> = staged.read_json("manifest.json").unwrap();
        let cfg = entries[0]["Config"].as_str().unwrap();
        assert_eq!(id, staged.get(cfg).unwrap().digest);
        eprintln!("busybox id {id} size {}", s.size(&id).unwrap());
        let dirs = s.layer_dirs("busybox:latest").unwrap();
        assert!(dirs[0].join("bin/busybox").exists());
        assert_eq!(s.config(&id).unwrap().cmd, Some(vec!["sh".to_string()]));
    }

    /// Manual check against the local Docker engine: `cargo test -p berth-image
    /// anchors_match_docker -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn anchors_match_docker() {
        for (file, name) in [
            ("busybox.tar", "busybox:latest"),
            ("debian-bookworm.tar", "debian:bookworm"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let s = Store::open(dir.path()).unwrap();
            let t = std::time::Instant::now();
            s.load(std::fs::File::open(Path::new("/tmp/anchors/images").join(file)).unwrap())
                .unwrap();
            let elapsed = t.elapsed();
            let out = std::process::Command::new("docker")
                .args(["image", "inspect", name, "--format", "{{.Id}} {{.Size}}"])
                .output()
                .unwrap();
            let id = s.resolve(name).unwrap();
            let ours = format!("{id} {}", s.size(&id).unwrap());
            eprintln!("{name}: loaded in {elapsed:?}: {ours}");
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), ours);
            let api = |path: &str| -> serde_json::Value {
                let o = std::process::Command::new("curl")
                    .args(["-s", "--unix-socket", "/var/run/docker.sock"])
                    .arg(format!("http://localhost/v1.41{path}"))
                    .output()
                    .unwrap();
                serde_json::from_slice(&o.stdout).unwrap()
            };
            let strip = |mut v: serde_json::Value, keys: &[&str]| {
                for k in keys {
                    v.as_object_mut().unwrap().remove(*k);
                }
                v
            };
            let theirs: Vec<_> = api(&format!("/images/{name}/history"))
                .as_array()
                .unwrap()
                .iter()
                .map(|h| strip(h.clone(), &["Tags"]))
                .collect();
            let mine: Vec<_> = s
                .history(name)
                .unwrap()
                .into_iter()
                .map(|h| strip(h, &["Tags"]))
                .collect();
            assert_eq!(theirs, mine);
            let theirs = api("/images/json")
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["Id"] == id.as_str())
                .cloned()
                .unwrap();
            let keys = ["RepoTags", "RepoDigests", "VirtualSize"];
            assert_eq!(strip(theirs, &keys), strip(s.list()[0].clone(), &keys));
            let theirs = api(&format!("/images/{name}/json"));
            let mine = s.inspect(name).unwrap();
            for k in [
                "Id",
                "Parent",
                "Comment",
                "Created",
                "DockerVersion",
                "Author",
                "Architecture",
                "Os",
                "Size",
                "RootFS",
            ] {
                assert_eq!(theirs[k], mine[k], "{k}");
            }
        }
    }

    #[test]
    fn loads_tags_moves_them_and_shares_layers() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let a = TestImage::new(
            &[("etc/", b""), ("etc/a", b"one")],
            &["app:1", "localhost:5000/app:1"],
            "2024-01-01T00:00:00Z",
        );
        let out = s.load(&docker_archive(&[&a])[..]).unwrap();
        assert_eq!(
            out,
            vec![
                Loaded::Tag("app:1".into()),
                Loaded::Tag("localhost:5000/app:1".into())
            ]
        );
        assert_eq!(s.resolve("docker.io/library/app:1").unwrap(), a.id());
        assert_eq!(s.resolve(&a.id()[7..19]).unwrap(), a.id());
        // Same layer, other config: the layer is shared; the tag moves.
        let mut b = TestImage::new(
            &[("etc/", b""), ("etc/a", b"one")],
            &["app:1"],
            "2024-02-01T00:00:00Z",
        );
        b.config = config_for(
            &b.layers,
            serde_json::json!({"Cmd": ["other"]}),
            "2024-02-01T00:00:00Z",
        );
        let out = s.load(&docker_archive(&[&b])[..]).unwrap();
        assert_eq!(
            out,
            vec![
                Loaded::Renamed {
                    tag: "app:1".into(),
                    old_id: a.id()
                },
                Loaded::Tag("app:1".into())
            ]
        );
        assert_eq!(s.resolve("app:1").unwrap(), b.id());
        assert_eq!(count_files(&dir.path().join("layers")), 1);
        // Untagged image.
        let c = TestImage::new(&[("c", b"c")], &[], "2024-03-01T00:00:00Z");
        assert_eq!(
            s.load(&docker_archive(&[&c])[..]).unwrap(),
            vec![Loaded::Id(c.id())]
        );
        // State survives a reopen.
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.resolve("app:1").unwrap(), b.id());
        assert_eq!(s.resolve("localhost:5000/app:1").unwrap(), a.id());
        assert_eq!(s.list().len(), 3);
        assert_eq!(count_files(&dir.path().join("tmp")), 0);
    }

    #[test]
    fn malformed_archives_store_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let good = TestImage::new(&[("f", b"x")], &["x:1"], "2024-01-01T00:00:00Z");
        let mut bad_cfg = TestImage::new(&[("g", b"y")], &["y:1"], "2024-01-01T00:00:00Z");
        bad_cfg.config = b"{\"rootfs\": nope".to_vec();
        let cases: Vec<Vec<u8>> = vec![
            raw_archive(&[("manifest.json", b"[{\"Config\": ")]),
            raw_archive(&[("index.json", b"{}")]),
            raw_archive(&[("something", b"x")]),
            docker_archive(&[&good, &bad_cfg]),
            b"not a tar at all".to_vec(),
        ];
        for (i, c) in cases.iter().enumerate() {
            let e = s.load(&c[..]).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "case {i}: {e}");
        }
        // A layer whose content does not match the config's diff id.
        let mut wrong = TestImage::new(&[("h", b"x")], &["w:1"], "2024-01-01T00:00:00Z");
        wrong.layers = vec![layer_tar(&[("f", b"other")])];
        let e = s.load(&docker_archive(&[&good, &wrong])[..]).unwrap_err();
        assert!(e.to_string().contains("diff id mismatch"), "{e}");
        assert!(s.list().is_empty());
        for sub in ["layers", "images", "tmp", "blobs/sha256"] {
            assert_eq!(count_files(&dir.path().join(sub)), 0, "{sub}");
        }
    }
}
