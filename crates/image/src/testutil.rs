//! Test helpers: build layer tars, image configs and archives in memory.

use crate::digest::sha256;
use serde_json::{json, Value};

/// A tar with regular files (`"a/b"`), directories (`"a/"`) and symlinks (`"l -> t"`).
pub fn layer_tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        if let Some((p, t)) = path.split_once(" -> ") {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            h.set_mode(0o777);
            b.append_link(&mut h, p, t).unwrap();
        } else if path.ends_with('/') {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            h.set_mode(0o755);
            b.append_data(&mut h, path, &[][..]).unwrap();
        } else {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, path, *data).unwrap();
        }
    }
    b.into_inner().unwrap()
}

/// An image config for `layers` (uncompressed tars) with `config` as its `config`.
pub fn config_for(layers: &[Vec<u8>], config: Value, created: &str) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let history: Vec<Value> = layers
        .iter()
        .enumerate()
        .map(|(i, _)| json!({"created": created, "created_by": format!("step {i}")}))
        .collect();
    serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "created": created,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }))
    .unwrap()
}

/// One image for [`docker_archive`].
pub struct TestImage {
    pub config: Vec<u8>,
    pub layers: Vec<Vec<u8>>,
    pub tags: Vec<String>,
}

impl TestImage {
    pub fn new(files: &[(&str, &[u8])], tags: &[&str], created: &str) -> TestImage {
        let layers = vec![layer_tar(files)];
        let config = config_for(&layers, json!({"Cmd": ["sh"]}), created);
        TestImage {
            config,
            layers,
            tags: tags.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn id(&self) -> String {
        sha256(&self.config)
    }
}

fn append(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, data).unwrap();
}

/// A Docker 20.10-style archive (`<hex>.json`, `<n>/layer.tar`, `manifest.json`).
pub fn docker_archive(images: &[&TestImage]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut manifest = Vec::new();
    for img in images {
        let hex = img.id()[7..].to_string();
        let mut layers = Vec::new();
        for l in &img.layers {
            let p = format!("{}/layer.tar", &sha256(l)[7..]);
            append(&mut b, &p, l);
            layers.push(p);
        }
        append(&mut b, &format!("{hex}.json"), &img.config);
        manifest
            .push(json!({"Config": format!("{hex}.json"), "RepoTags": img.tags, "Layers": layers}));
    }
    append(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    b.into_inner().unwrap()
}

/// A tar with arbitrary members (for malformed archives).
pub fn raw_archive(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, d) in members {
        append(&mut b, p, d);
    }
    b.into_inner().unwrap()
}
