//! The Engine API's JSON views of images: `ImageSummary` (list), `ImageInspect`
//! and `HistoryResponseItem`, built from the in-memory index.

use crate::error::Error;
use crate::store::{Image, State, Store};
use berth_util::time::{format_rfc3339, ZERO};
use serde_json::{json, Map, Value};

impl State {
    /// Familiar `repo:tag` and `repo@digest` references of image `id`.
    pub(crate) fn tags_and_digests(&self, id: &str) -> (Vec<String>, Vec<String>) {
        let mut tags = Vec::new();
        let mut digests = Vec::new();
        for r in self.refs.refs_of(id) {
            match r.digest() {
                Some(d) => digests.push(format!("{}@{d}", r.familiar_name())),
                None => tags.push(r.familiar()),
            }
        }
        (tags, digests)
    }

    fn summary(&self, img: &Image) -> Value {
        let (tags, digests) = self.tags_and_digests(&img.rec.id);
        let labels = img.file.config.as_ref().and_then(|c| c.labels.clone());
        json!({
            "Containers": -1,
            "Created": img.file.created_unix(),
            "Id": img.rec.id,
            "Labels": labels,
            "ParentId": img.rec.parent,
            "RepoDigests": digests,
            "RepoTags": tags,
            "SharedSize": -1,
            "Size": self.size_of(img),
        })
    }
}

fn created_rfc3339(img: &Image) -> String {
    img.file
        .created_nanos()
        .map(format_rfc3339)
        .unwrap_or_else(|| ZERO.to_string())
}

impl Store {
    /// Every image as Docker's `ImageSummary`, newest first.
    pub fn list(&self) -> Vec<Value> {
        let st = self.state();
        let mut imgs: Vec<&Image> = st.images.values().filter(|i| !i.rec.hidden).collect();
        imgs.sort_by_key(|i| std::cmp::Reverse(i.file.created_nanos().unwrap_or(i128::MIN)));
        imgs.into_iter().map(|i| st.summary(i)).collect()
    }

    /// Docker's `ImageInspect` for the image `name` refers to.
    pub fn inspect(&self, name: &str) -> Result<Value, Error> {
        let st = self.state();
        let id = st.resolve(name)?;
        let img = st
            .images
            .get(&id)
            .ok_or_else(|| Error::NotFound(name.to_string()))?;
        let (tags, digests) = st.tags_and_digests(&id);
        let f = &img.file;
        let mut v = Map::new();
        v.insert("Id".into(), json!(id));
        v.insert("RepoTags".into(), json!(tags));
        v.insert("RepoDigests".into(), json!(digests));
        v.insert("Parent".into(), json!(img.rec.parent));
        v.insert(
            "Comment".into(),
            json!(f.comment.clone().unwrap_or_default()),
        );
        v.insert("Created".into(), json!(created_rfc3339(img)));
        v.insert(
            "DockerVersion".into(),
            json!(f.docker_version.clone().unwrap_or_default()),
        );
        v.insert("Author".into(), json!(f.author.clone().unwrap_or_default()));
        v.insert("Config".into(), json!(f.config.clone().unwrap_or_default()));
        v.insert(
            "Architecture".into(),
            json!(f.architecture.clone().unwrap_or_default()),
        );
        if let Some(var) = f.variant.as_ref().filter(|s| !s.is_empty()) {
            v.insert("Variant".into(), json!(var));
        }
        v.insert(
            "Os".into(),
            json!(f.os.clone().unwrap_or_else(|| "linux".into())),
        );
        if let Some(osv) = f.os_version.as_ref().filter(|s| !s.is_empty()) {
            v.insert("OsVersion".into(), json!(osv));
        }
        v.insert("Size".into(), json!(st.size_of(img)));
        v.insert("GraphDriver".into(), self.graph_driver(img)?);
        v.insert(
            "RootFS".into(),
            json!({"Type": "layers", "Layers": f.rootfs.diff_ids}),
        );
        v.insert(
            "Metadata".into(),
            json!({"LastTagTime": img.rec.last_tag_time.clone().unwrap_or_else(|| ZERO.to_string())}),
        );
        Ok(Value::Object(v))
    }

    fn graph_driver(&self, img: &Image) -> Result<Value, Error> {
        let mut data = Map::new();
        if let Some(top) = img.chain.last() {
            let dir = self.layers.layer_dir(top)?;
            let lower: Vec<String> = img.chain[..img.chain.len() - 1]
                .iter()
                .rev()
                .map(|c| self.layers.diff_dir(c).map(|p| p.display().to_string()))
                .collect::<Result<_, _>>()?;
            if !lower.is_empty() {
                data.insert("LowerDir".into(), json!(lower.join(":")));
            }
            data.insert(
                "MergedDir".into(),
                json!(dir.join("merged").display().to_string()),
            );
            data.insert(
                "UpperDir".into(),
                json!(dir.join("diff").display().to_string()),
            );
            data.insert(
                "WorkDir".into(),
                json!(dir.join("work").display().to_string()),
            );
        }
        Ok(json!({"Data": data, "Name": "overlay2"}))
    }

    /// Docker's `HistoryResponseItem`s for `name`, newest first.
    pub fn history(&self, name: &str) -> Result<Vec<Value>, Error> {
        let st = self.state();
        let id = st.resolve(name)?;
        let img = st
            .images
            .get(&id)
            .ok_or_else(|| Error::NotFound(name.to_string()))?;
        let mut layer = 0usize;
        let mut items = Vec::new();
        for h in img.file.history.clone().unwrap_or_default() {
            let mut size = 0u64;
            if !h.empty_layer {
                let chain = img.chain.get(layer).ok_or_else(|| {
                    Error::Corrupt(format!("{id}: too many non-empty layers in history"))
                })?;
                size = st.layers.get(chain).map(|l| l.size).unwrap_or(0);
                layer += 1;
            }
            let created = h
                .created
                .as_deref()
                .and_then(berth_util::time::parse_rfc3339)
                .map(|n| n.div_euclid(1_000_000_000) as i64)
                .unwrap_or(-62_135_596_800);
            items.push(json!({
                "Id": "<missing>",
                "Created": created,
                "CreatedBy": h.created_by.unwrap_or_default(),
                "Tags": Value::Null,
                "Size": size,
                "Comment": h.comment.unwrap_or_default(),
            }));
        }
        items.reverse();
        // The top entry is the image itself; further entries follow the parent chain.
        let mut cur = Some(img);
        for item in items.iter_mut() {
            let Some(i) = cur else { break };
            let (tags, _) = st.tags_and_digests(&i.rec.id);
            item["Id"] = json!(i.rec.id);
            item["Tags"] = if tags.is_empty() {
                Value::Null
            } else {
                json!(tags)
            };
            cur = st.images.get(&i.rec.parent);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use crate::digest::sha256;
    use crate::testutil::*;
    use crate::Store;
    use serde_json::json;

    /// A base image and a child (one more layer, `Parent` set in the manifest).
    fn parent_and_child(s: &Store) -> (TestImage, TestImage) {
        let base = TestImage::new(
            &[("etc/", b""), ("etc/os", b"base")],
            &["base:1"],
            "2024-01-01T00:00:00Z",
        );
        let top = layer_tar(&[("app", b"app!!")]);
        let layers = vec![base.layers[0].clone(), top];
        let mut cfg: serde_json::Value = serde_json::from_slice(&config_for(
            &layers,
            json!({"Labels": {"a": "b"}}),
            "2024-02-01T00:00:00Z",
        ))
        .unwrap();
        cfg["history"] = json!([
            {"created": "2024-01-01T00:00:00Z", "created_by": "ADD base"},
            {"created": "2024-02-01T00:00:00Z", "created_by": "ENV X=1", "empty_layer": true},
            {"created": "2024-02-01T00:00:00Z", "created_by": "COPY app", "comment": "c"}
        ]);
        let child = TestImage {
            config: serde_json::to_vec(&cfg).unwrap(),
            layers,
            tags: vec!["child:1".into()],
        };
        let mut archive = tar::Builder::new(Vec::new());
        let mut add = |p: &str, d: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_size(d.len() as u64);
            h.set_mode(0o644);
            archive.append_data(&mut h, p, d).unwrap();
        };
        let mut manifest = Vec::new();
        for (img, parent) in [(&base, None), (&child, Some(base.id()))] {
            let mut paths = Vec::new();
            for l in &img.layers {
                let p = format!("{}/layer.tar", &sha256(l)[7..]);
                add(&p, l);
                paths.push(p);
            }
            add(&format!("{}.json", &img.id()[7..]), &img.config);
            manifest.push(json!({"Config": format!("{}.json", &img.id()[7..]), "RepoTags": img.tags, "Layers": paths, "Parent": parent}));
        }
        add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
        s.load(&archive.into_inner().unwrap()[..]).unwrap();
        (base, child)
    }

    #[test]
    fn list_inspect_and_history_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let (base, child) = parent_and_child(&s);
        let list = s.list();
        assert_eq!(list.len(), 2);
        assert_eq!(
            list[0],
            json!({"Containers": -1, "Created": 1706745600, "Id": child.id(), "Labels": {"a": "b"},
                   "ParentId": base.id(), "RepoDigests": [], "RepoTags": ["child:1"], "SharedSize": -1, "Size": 9})
        );
        assert_eq!(list[1]["Labels"], serde_json::Value::Null);

        let i = s.inspect("child:1").unwrap();
        assert_eq!(i["Id"], child.id());
        assert_eq!(i["Parent"], base.id());
        assert_eq!(i["Created"], "2024-02-01T00:00:00Z");
        assert_eq!(i["Config"], json!({"Labels": {"a": "b"}}));
        assert_eq!(i["Os"], "linux");
        assert_eq!(i["Size"], 9);
        assert_eq!(
            i["RootFS"]["Layers"],
            json!([sha256(&child.layers[0]), sha256(&child.layers[1])])
        );
        assert_eq!(i["Metadata"]["LastTagTime"], berth_util::time::ZERO);
        let dirs = s.layer_dirs("child:1").unwrap();
        let gd = &i["GraphDriver"];
        assert_eq!(gd["Name"], "overlay2");
        assert_eq!(gd["Data"]["UpperDir"], dirs[0].display().to_string());
        assert_eq!(gd["Data"]["LowerDir"], dirs[1].display().to_string());
        assert!(gd["Data"]["WorkDir"].as_str().unwrap().ends_with("/work"));

        let h = s.history("child:1").unwrap();
        let ids: Vec<_> = h
            .iter()
            .map(|x| x["Id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, [child.id(), base.id(), "<missing>".to_string()]);
        let sizes: Vec<_> = h.iter().map(|x| x["Size"].as_u64().unwrap()).collect();
        assert_eq!(sizes, [5, 0, 4]);
        assert_eq!(h[0]["CreatedBy"], "COPY app");
        assert_eq!(h[0]["Comment"], "c");
        assert_eq!(h[0]["Tags"], json!(["child:1"]));
        assert_eq!(h[1]["Tags"], json!(["base:1"]));
        assert_eq!(h[2]["Tags"], serde_json::Value::Null);
        assert_eq!(h[0]["Created"], 1706745600);

        // rmi of the base: a hard conflict while the child exists.
        let e = s.remove(&base.id(), true, true, &|_| None).unwrap_err();
        assert!(
            e.to_string()
                .contains("(cannot be forced) - image has dependent child images"),
            "{e}"
        );
        // Untagging the base leaves it (it has a child); rmi of the child then prunes it.
        assert_eq!(
            s.remove("base:1", false, true, &|_| None).unwrap(),
            vec![crate::Deleted::Untagged("base:1".into())]
        );
        let out = s.remove("child:1", false, true, &|_| None).unwrap();
        assert!(out.contains(&crate::Deleted::Deleted(base.id())), "{out:?}");
        assert!(s.list().is_empty());
    }

    #[test]
    fn resolve_names_ids_digests_and_prefixes() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let mut ids = Vec::new();
        // Enough images that two share a first hex digit.
        for i in 0..17 {
            let name = format!("f{i}");
            let img = TestImage::new(&[(name.as_str(), b"x")], &[], "2024-01-01T00:00:00Z");
            s.load(&docker_archive(&[&img])[..]).unwrap();
            ids.push(img.id());
        }
        let first = &ids[0];
        s.tag(first, "localhost:5000/x/y:t").unwrap();
        assert_eq!(s.resolve("localhost:5000/x/y:t").unwrap(), *first);
        assert_eq!(s.resolve(first).unwrap(), *first);
        assert_eq!(s.resolve(&first[7..]).unwrap(), *first);
        assert_eq!(s.resolve(&first[..20]).unwrap(), *first);
        let d = format!("localhost:5000/x/y@{}", sha256(b"manifest"));
        s.state()
            .refs
            .set(crate::Reference::parse(&d).unwrap(), first)
            .unwrap();
        assert_eq!(s.resolve(&d).unwrap(), *first);
        let (a, b) = ids
            .iter()
            .enumerate()
            .flat_map(|(i, a)| ids[i + 1..].iter().map(move |b| (a, b)))
            .find(|(a, b)| a[7..8] == b[7..8])
            .unwrap();
        let common = a[7..]
            .chars()
            .zip(b[7..].chars())
            .take_while(|(x, y)| x == y)
            .count();
        assert!(matches!(
            s.resolve(&a[7..7 + common]),
            Err(crate::Error::Ambiguous(_))
        ));
        assert_eq!(s.resolve(&a[7..8 + common]).unwrap(), *a);
        assert_eq!(
            s.resolve("nope").unwrap_err().to_string(),
            "No such image: nope:latest"
        );
        assert_eq!(
            s.resolve("Nope").unwrap_err().to_string(),
            "invalid reference format: repository name (library/Nope) must be lowercase"
        );
        let missing = format!("sha256:{}", "0".repeat(64));
        assert_eq!(
            s.resolve(&missing).unwrap_err().to_string(),
            format!("No such image: {missing}")
        );
        assert!(s.tag(first, "x@sha256:0").is_err());
    }

    #[test]
    fn hostile_layer_in_archive_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let mut evil = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        h.set_uid(0);
        h.set_gid(0);
        evil.append_link(&mut h, "escape", dir.path()).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(4);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        evil.append_data(&mut h, "escape/pwned", &b"evil"[..])
            .unwrap();
        let layers = vec![evil.into_inner().unwrap()];
        let img = TestImage {
            config: config_for(&layers, json!({}), "2024-01-01T00:00:00Z"),
            layers,
            tags: vec!["evil:1".into()],
        };
        let e = s.load(&docker_archive(&[&img])[..]).unwrap_err();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        assert!(!dir.path().join("pwned").exists());
        for sub in ["layers", "images", "tmp", "blobs/sha256"] {
            assert_eq!(
                std::fs::read_dir(dir.path().join(sub)).unwrap().count(),
                0,
                "{sub}"
            );
        }
    }
}
