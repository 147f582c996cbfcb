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

/// The `config` object as Docker writes it for imported and committed images
/// (Go's `container.Config` field order, nulls included).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ContainerConfig {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    pub image: String,
    pub volumes: Option<BTreeMap<String, Value>>,
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    pub on_build: Option<Vec<String>>,
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
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
            stop_timeout: c.stop_timeout,
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
        let tag = new_tag(reference, "import")?;
        let mut cfg = ImageConfig::default();
        crate::changes::apply(&mut cfg, changes)?;
        let staged = self.stage_layer(r)?;
        let blob = config_blob(cfg, &staged.diff_id, message)?;
        let id = sha256(&blob);
        let _w = self.writer();
        self.add_layer(&staged, &staged.diff_id, "")?;
        self.add_image(&id, &blob, "", vec![staged.diff_id.clone()], tag)?;
        Ok(id)
    }

    /// Copies a layer tar (plain or compressed) into the staging area,
    /// uncompressed; its digest is the layer's DiffID and blob digest.
    pub(crate) fn stage_layer(&self, r: impl Read) -> Result<StagedLayer, Error> {
        let dir = TempDir::new(&self.tmp, "import")?;
        let file = dir.path().join("layer.tar");
        let f = File::create(&file).ctx(|| format!("create {}", file.display()))?;
        let mut w = HashingWriter::new(f);
        io::copy(&mut crate::compress::decompressed(r)?, &mut w)
            .map_err(|e| Error::invalid(format!("invalid rootfs archive: {e}")))?;
        let (diff_id, _) = w.hasher.finish();
        Ok(StagedLayer {
            _dir: dir,
            file,
            diff_id,
        })
    }

    /// Unpacks a staged layer as layer `chain` on top of `parent` (a chain ID,
    /// `""` for none) unless it exists. The caller holds the writer lock.
    pub(crate) fn add_layer(
        &self,
        staged: &StagedLayer,
        chain: &str,
        parent: &str,
    ) -> Result<(), Error> {
        if self.state().layers.contains_key(chain) {
            return Ok(());
        }
        let diff_id = &staged.diff_id;
        let meta = self
            .layers
            .create(chain, parent, diff_id, &staged.file, diff_id)?;
        if let Err(e) = self.blobs.adopt(&staged.file, diff_id) {
            let _ = self.layers.remove(chain);
            return Err(e);
        }
        self.state().layers.insert(chain.to_string(), meta);
        Ok(())
    }

    /// Records image `id` (config `blob`, layers `chain`, parent image ID or
    /// `""`) and points `tag` at it. The caller holds the writer lock.
    pub(crate) fn add_image(
        &self,
        id: &str,
        blob: &[u8],
        parent: &str,
        chain: Vec<String>,
        tag: Option<Reference>,
    ) -> Result<(), Error> {
        let file = ImageFile::parse(blob, id)?;
        self.blobs.put_bytes(id, blob)?;
        let rec = ImageRecord {
            id: id.to_string(),
            parent: parent.to_string(),
            last_tag_time: tag.as_ref().map(|_| berth_util::time::now_rfc3339()),
            hidden: false,
        };
        self.records.write(&rec)?;
        let mut st = self.state();
        st.images.insert(id.to_string(), Image { rec, file, chain });
        if let Some(t) = tag {
            st.refs.set(t, id)?;
        }
        Ok(())
    }
}

/// A layer tar in the staging area (removed with it).
pub(crate) struct StagedLayer {
    _dir: TempDir,
    pub file: std::path::PathBuf,
    pub diff_id: String,
}

/// `repo[:tag]` for a new image, `latest` by default; digests refused.
pub(crate) fn new_tag(reference: Option<&str>, what: &str) -> Result<Option<Reference>, Error> {
    match reference.filter(|s| !s.is_empty()) {
        Some(s) => {
            let r = Reference::parse(s)?;
            if r.digest().is_some() {
                return Err(Error::invalid(format!("cannot {what} digest reference")));
            }
            Ok(Some(r.with_default_tag()))
        }
        None => Ok(None),
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
