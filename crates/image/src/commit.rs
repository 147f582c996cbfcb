//! `docker commit`: a new image made of the container's image plus one layer
//! (the container's changes as an OCI layer tar), with the container's
//! `Config` (after `--change` instructions) as its config and one more
//! `history` entry. A layer without changes (an empty tar) is recorded as an
//! empty history entry and adds no layer, as Docker does.

use crate::archive::oci::host_arch;
use crate::config::ImageConfig;
use crate::digest::{chain_ids, sha256};
use crate::error::Error;
use crate::import::{new_tag, ContainerConfig};
use crate::store::Store;
use serde_json::{json, Map, Value};
use std::io::Read;

/// What `POST /commit` says about the new image.
#[derive(Debug, Clone, Copy)]
pub struct CommitRequest<'a> {
    /// The container's image ID: the new image's parent and base.
    pub parent: &'a str,
    /// The container's full ID.
    pub container_id: &'a str,
    /// The container's `Config` as the Engine API shows it.
    pub container_config: &'a Value,
    /// Dockerfile instructions (`--change`) applied to the config.
    pub changes: &'a [String],
    pub author: &'a str,
    pub comment: &'a str,
    /// `repo[:tag]` to point at the new image.
    pub reference: Option<&'a str>,
}

/// sha256 of a tar with no entries (two zero blocks), Docker's empty layer.
fn empty_tar_digest() -> String {
    sha256(&[0u8; 1024])
}

/// The `config` object: the container's config with `changes` applied.
fn image_config(req: &CommitRequest<'_>) -> Result<Value, Error> {
    let c = req.container_config;
    let mut cfg: ImageConfig = serde_json::from_value(c.clone())
        .map_err(|e| Error::invalid(format!("invalid container config: {e}")))?;
    crate::changes::apply(&mut cfg, req.changes)?;
    let mut cc = ContainerConfig::from(cfg);
    let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
    let b = |k: &str| c[k].as_bool().unwrap_or(false);
    cc.hostname = s("Hostname");
    cc.domainname = s("Domainname");
    cc.attach_stdin = b("AttachStdin");
    cc.attach_stdout = b("AttachStdout");
    cc.attach_stderr = b("AttachStderr");
    cc.tty = b("Tty");
    cc.open_stdin = b("OpenStdin");
    cc.stdin_once = b("StdinOnce");
    cc.image = s("Image");
    serde_json::to_value(cc).map_err(|e| Error::Corrupt(e.to_string()))
}

/// Docker's `created_by` of a commit: the container's `Cmd` joined by spaces.
fn created_by(container_config: &Value) -> String {
    container_config["Cmd"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

impl Store {
    /// Creates the image `req` describes from the container's changes `layer`
    /// (an uncompressed tar); returns its ID (`sha256:<hex>`).
    pub fn commit(&self, req: &CommitRequest<'_>, layer: impl Read) -> Result<String, Error> {
        let tag = new_tag(req.reference, "commit to")?;
        let config = image_config(req)?;
        let parent_id = self.state().resolve_for_use(req.parent)?;
        let parent_blob: Value = serde_json::from_slice(&self.blobs.read(&parent_id)?)
            .map_err(|e| Error::Corrupt(format!("{parent_id}: {e}")))?;
        let staged = self.stage_layer(layer)?;
        let empty = staged.diff_id == empty_tar_digest();

        let now = berth_util::time::now_rfc3339();
        let mut diff_ids: Vec<Value> = parent_blob["rootfs"]["diff_ids"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !empty {
            diff_ids.push(json!(staged.diff_id));
        }
        let mut entry = Map::new();
        entry.insert("created".into(), json!(now));
        if !req.author.is_empty() {
            entry.insert("author".into(), json!(req.author));
        }
        entry.insert("created_by".into(), json!(created_by(req.container_config)));
        if !req.comment.is_empty() {
            entry.insert("comment".into(), json!(req.comment));
        }
        if empty {
            entry.insert("empty_layer".into(), json!(true));
        }
        let mut history = parent_blob["history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        history.push(Value::Object(entry));

        // Keys in sorted order, as Docker writes them.
        let mut m = Map::new();
        let inherited = |k: &str| parent_blob.get(k).filter(|v| !v.is_null()).cloned();
        m.insert(
            "architecture".into(),
            inherited("architecture").unwrap_or_else(|| json!(host_arch())),
        );
        if !req.author.is_empty() {
            m.insert("author".into(), json!(req.author));
        }
        if !req.comment.is_empty() {
            m.insert("comment".into(), json!(req.comment));
        }
        m.insert("config".into(), config);
        m.insert("container".into(), json!(req.container_id));
        m.insert("container_config".into(), req.container_config.clone());
        m.insert("created".into(), json!(now));
        m.insert("docker_version".into(), json!(env!("CARGO_PKG_VERSION")));
        m.insert("history".into(), Value::Array(history));
        m.insert(
            "os".into(),
            inherited("os").unwrap_or_else(|| json!("linux")),
        );
        if let Some(v) = inherited("os.version") {
            m.insert("os.version".into(), v);
        }
        m.insert(
            "rootfs".into(),
            json!({"type": "layers", "diff_ids": diff_ids}),
        );
        if let Some(v) = inherited("variant") {
            m.insert("variant".into(), v);
        }
        let blob =
            serde_json::to_vec(&Value::Object(m)).map_err(|e| Error::Corrupt(e.to_string()))?;
        let id = sha256(&blob);

        let diff_strs: Vec<String> = diff_ids
            .iter()
            .filter_map(|d| d.as_str().map(str::to_string))
            .collect();
        let chain = chain_ids(&diff_strs);
        let _w = self.writer();
        if !empty {
            let parent_chain = chain.len().checked_sub(2).map_or("", |i| chain[i].as_str());
            let top = chain.last().map(String::as_str).unwrap_or_default();
            self.add_layer(&staged, top, parent_chain)?;
        }
        self.add_image(&id, &blob, &parent_id, chain, tag)?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn loaded_base(s: &Store) -> String {
        let base = TestImage::new(
            &[
                ("bin/", b""),
                ("bin/sh", b"#!"),
                ("etc/", b""),
                ("etc/x", b"x"),
            ],
            &["base:1"],
            "2024-01-01T00:00:00Z",
        );
        s.load(&docker_archive(&[&base])[..]).unwrap();
        s.resolve("base:1").unwrap()
    }

    #[test]
    fn commit_adds_a_layer_config_and_history() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let base = loaded_base(&s);
        let container_config = json!({
            "Hostname": "abc", "Domainname": "", "User": "", "AttachStdin": false,
            "AttachStdout": true, "AttachStderr": true, "Tty": false, "OpenStdin": false,
            "StdinOnce": false, "Env": ["PATH=/bin"], "Cmd": ["sh", "-c", "echo hi > /f"],
            "Image": "base:1", "Volumes": null, "WorkingDir": "/tmp", "Entrypoint": null,
            "OnBuild": null, "Labels": {"k": "v"}
        });
        let layer = layer_tar(&[("f", b"hi\n"), (".wh.etc", b"")]);
        let changes = vec!["ENV X=1".to_string(), "CMD [\"cat\",\"/f\"]".to_string()];
        let req = CommitRequest {
            parent: &base,
            container_id: "c0ffee",
            container_config: &container_config,
            changes: &changes,
            author: "Me <me@x>",
            comment: "my msg",
            reference: Some("committed:t1"),
        };
        let id = s.commit(&req, &layer[..]).unwrap();
        assert_eq!(s.resolve("committed:t1").unwrap(), id);
        let c = s.config(&id).unwrap();
        assert_eq!(c.cmd.unwrap(), ["cat", "/f"]);
        assert_eq!(c.env.unwrap(), ["PATH=/bin", "X=1"]);
        assert_eq!(c.working_dir.as_deref(), Some("/tmp"));
        let blob: Value = serde_json::from_slice(&s.blobs.read(&id).unwrap()).unwrap();
        assert_eq!(blob["config"]["Hostname"], "abc");
        assert_eq!(blob["config"]["AttachStdout"], true);
        assert_eq!(blob["container"], "c0ffee");
        assert_eq!(blob["container_config"]["Cmd"][0], "sh");
        assert_eq!(blob["author"], "Me <me@x>");
        assert_eq!(blob["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
        let h = s.history(&id).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[0]["Id"], id);
        assert_eq!(h[0]["CreatedBy"], "sh -c echo hi > /f");
        assert_eq!(h[0]["Comment"], "my msg");
        assert_eq!(h[0]["Size"], 3);
        assert_eq!(h[1]["Id"], base);
        assert_eq!(s.inspect(&id).unwrap()["Parent"], base);
        // The new layer sits on the base: the whiteout hides /etc in the merged view.
        let dirs = s.layer_dirs(&id).unwrap();
        assert_eq!(dirs.len(), 2);
        assert_eq!(std::fs::read(dirs[0].join("f")).unwrap(), b"hi\n");
        assert!(dirs[1].join("etc/x").exists());
        use std::os::unix::fs::FileTypeExt;
        let wh = std::fs::symlink_metadata(dirs[0].join("etc")).unwrap();
        assert!(wh.file_type().is_char_device());
    }

    #[test]
    fn commit_without_changes_adds_an_empty_history_entry() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let base = loaded_base(&s);
        let cfg = json!({"Cmd": ["sh"], "Image": "base:1"});
        let empty = tar::Builder::new(Vec::new()).into_inner().unwrap();
        let req = CommitRequest {
            parent: &base,
            container_id: "c0ffee",
            container_config: &cfg,
            changes: &[],
            author: "",
            comment: "",
            reference: None,
        };
        let id = s.commit(&req, &empty[..]).unwrap();
        assert_eq!(s.layer_dirs(&id).unwrap(), s.layer_dirs(&base).unwrap());
        let blob: Value = serde_json::from_slice(&s.blobs.read(&id).unwrap()).unwrap();
        assert_eq!(blob["history"][1]["empty_layer"], true);
        assert!(blob.get("author").is_none());
        let h = s.history(&id).unwrap();
        assert_eq!(
            (h[0]["Size"].as_u64(), h[0]["CreatedBy"].as_str()),
            (Some(0), Some("sh"))
        );
        // Bad input is refused before anything is stored.
        let bad = CommitRequest {
            changes: &["RUN x".to_string()],
            ..req
        };
        assert!(s.commit(&bad, &empty[..]).is_err());
        let digest = CommitRequest {
            reference: Some(
                "x@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            ),
            ..req
        };
        assert!(s.commit(&digest, &empty[..]).is_err());
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
