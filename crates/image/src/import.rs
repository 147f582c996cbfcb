//! `docker import`: a one-layer image from a rootfs tar (plain or gzip'd),
//! with `--change` instructions, a message and an optional tag.

use crate::archive::oci::host_arch;
use crate::config::{HealthConfig, ImageConfig, ImageFile};
use crate::digest::{sha256, HashingWriter};
use crate::error::{Error, IoContext};
use crate::records::ImageRecord;
use crate::reference::Reference;
use crate::store::{Image, Store};
use crate::tmp::TempDir;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};

/// The `config` object as Docker writes it for imported images (Go's
/// `container.Config` field order, nulls included).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerConfig {
    hostname: String,
    domainname: String,
    user: String,
    attach_stdin: bool,
    attach_stdout: bool,
    attach_stderr: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    exposed_ports: Option<BTreeMap<String, Value>>,
    tty: bool,
    open_stdin: bool,
    stdin_once: bool,
    env: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    healthcheck: Option<HealthConfig>,
    image: String,
    volumes: Option<BTreeMap<String, Value>>,
    working_dir: String,
    entrypoint: Option<Vec<String>>,
    on_build: Option<Vec<String>>,
    labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shell: Option<Vec<String>>,
}

impl From<ImageConfig> for ContainerConfig {
    fn from(c: ImageConfig) -> Self {
        ContainerConfig {
            hostname: String::new(),
            domainname: String::new(),
            user: c.user.unwrap_or_default(),
            attach_stdin: false,
            attach_stdout: false,
            attach_stderr: false,
            exposed_ports: c.exposed_ports,
            tty: false,
            open_stdin: false,
            stdin_once: false,
            env: c.env,
            cmd: c.cmd,
            healthcheck: c.healthcheck,
            image: String::new(),
            volumes: c.volumes,
            working_dir: c.working_dir.unwrap_or_default(),
            entrypoint: c.entrypoint,
            on_build: c.on_build,
            labels: c.labels,
            stop_signal: c.stop_signal,
            shell: c.shell,
        }
    }
}

/// The config blob of an imported image (keys in sorted order, as Docker writes them).
fn config_blob(cfg: ImageConfig, diff_id: &str, message: &str) -> Result<Vec<u8>, Error> {
    let now = berth_util::time::now_rfc3339();
    let mut history = Map::new();
    if !message.is_empty() {
        history.insert("comment".into(), json!(message));
    }
    history.insert("created".into(), json!(now));
    let mut m = Map::new();
    m.insert("architecture".into(), json!(host_arch()));
    if !message.is_empty() {
        m.insert("comment".into(), json!(message));
    }
    let cc = serde_json::to_value(ContainerConfig::from(cfg))
        .map_err(|e| Error::Corrupt(e.to_string()))?;
    m.insert("config".into(), cc);
    m.insert("created".into(), json!(now));
    m.insert("docker_version".into(), json!(env!("CARGO_PKG_VERSION")));
    m.insert("history".into(), json!([history]));
    m.insert("os".into(), json!("linux"));
    m.insert(
        "rootfs".into(),
        json!({"type": "layers", "diff_ids": [diff_id]}),
    );
    // serde_json's map may keep insertion order; keys were inserted sorted.
    serde_json::to_vec(&Value::Object(m)).map_err(|e| Error::Corrupt(e.to_string()))
}

impl Store {
    /// `docker import`: returns the new image's ID (`sha256:<hex>`).
    pub fn import(
        &self,
        r: impl Read,
        reference: Option<&str>,
        changes: &[String],
        message: &str,
    ) -> Result<String, Error> {
        let tag = match reference.filter(|s| !s.is_empty()) {
            Some(s) => {
                let r = Reference::parse(s)?;
                if r.digest().is_some() {
                    return Err(Error::invalid("cannot import digest reference"));
                }
                Some(r.with_default_tag())
            }
            None => None,
        };
        let mut cfg = ImageConfig::default();
        crate::changes::apply(&mut cfg, changes)?;

        // Stage the uncompressed tar: its digest is the DiffID and the blob's.
        let stage = TempDir::new(&self.tmp, "import")?;
        let file = stage.path().join("layer.tar");
        let f = File::create(&file).ctx(|| format!("create {}", file.display()))?;
        let mut w = HashingWriter::new(f);
        io::copy(&mut crate::compress::decompressed(r)?, &mut w)
            .map_err(|e| Error::invalid(format!("invalid rootfs archive: {e}")))?;
        let (diff_id, _) = w.hasher.finish();

        let blob = config_blob(cfg, &diff_id, message)?;
        let id = sha256(&blob);
        let file_cfg = ImageFile::parse(&blob, &id)?;

        let _w = self.writer();
        if !self.state().layers.contains_key(&diff_id) {
            let meta = self
                .layers
                .create(&diff_id, "", &diff_id, &file, &diff_id)?;
            if let Err(e) = self.blobs.adopt(&file, &diff_id) {
                let _ = self.layers.remove(&diff_id);
                return Err(e);
            }
            self.state().layers.insert(diff_id.clone(), meta);
        }
        self.blobs.put_bytes(&id, &blob)?;
        let rec = ImageRecord {
            id: id.clone(),
            parent: String::new(),
            last_tag_time: tag.as_ref().map(|_| berth_util::time::now_rfc3339()),
            hidden: false,
        };
        self.records.write(&rec)?;
        let mut st = self.state();
        st.images.insert(
            id.clone(),
            Image {
                rec,
                file: file_cfg,
                chain: vec![diff_id],
            },
        );
        if let Some(t) = tag {
            st.refs.set(t, &id)?;
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    #[test]
    fn import_applies_changes_message_and_tag() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let rootfs = layer_tar(&[("bin/", b""), ("bin/sh", b"#!"), ("etc/", b"")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &rootfs).unwrap();
        let changes = vec![
            "CMD [\"/bin/sh\"]".to_string(),
            "ENV PATH=/bin".to_string(),
            "EXPOSE 8080".to_string(),
            "WORKDIR /srv".to_string(),
        ];
        let id = s
            .import(
                &gz.finish().unwrap()[..],
                Some("imported:v1"),
                &changes,
                "from a tarball",
            )
            .unwrap();
        assert_eq!(s.resolve("imported:v1").unwrap(), id);
        let c = s.config(&id).unwrap();
        assert_eq!(c.cmd.unwrap(), ["/bin/sh"]);
        assert_eq!(c.env.unwrap(), ["PATH=/bin"]);
        assert!(c.exposed_ports.unwrap().contains_key("8080/tcp"));
        assert_eq!(c.working_dir.as_deref(), Some("/srv"));
        let blob = s.blobs.read(&id).unwrap();
        assert_eq!(sha256(&blob), id);
        let v: Value = serde_json::from_slice(&blob).unwrap();
        assert_eq!(v["rootfs"]["diff_ids"][0], sha256(&rootfs));
        assert_eq!(v["config"]["Entrypoint"], Value::Null);
        let insp = s.inspect("imported:v1").unwrap();
        assert_eq!(insp["Comment"], "from a tarball");
        assert_ne!(insp["Metadata"]["LastTagTime"], berth_util::time::ZERO);
        let h = s.history(&id).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0]["Id"], id);
        assert_eq!(h[0]["CreatedBy"], "");
        assert_eq!(h[0]["Comment"], "from a tarball");
        assert_eq!(h[0]["Tags"], json!(["imported:v1"]));
        assert_eq!(h[0]["Size"], 2);
        assert!(s.layer_dirs(&id).unwrap()[0].join("bin/sh").exists());

        // Untagged import, and bad input leaves nothing behind.
        let id2 = s.import(&rootfs[..], None, &[], "").unwrap();
        assert_eq!(s.layer_dirs(&id2).unwrap(), s.layer_dirs(&id).unwrap());
        assert!(s.import(&b"garbage"[..], None, &[], "").is_err());
        assert!(s.import(&rootfs[..], None, &["RUN x".into()], "").is_err());
        assert!(s.import(&rootfs[..], Some("Bad"), &[], "").is_err());
        assert_eq!(
            std::fs::read_dir(dir.path().join("layers"))
                .unwrap()
                .count(),
            1
        );
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
