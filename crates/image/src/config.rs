//! The image configuration blob (OCI `application/vnd.oci.image.config.v1+json`
//! with Docker's extensions) as typed structs: [`ImageFile`] is the whole blob,
//! [`ImageConfig`] its `config` object with Docker's PascalCase field names.

use crate::error::Error;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Defaults for containers started from the image. Empty strings read as `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageConfig {
    #[serde(
        rename = "User",
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub user: Option<String>,
    #[serde(rename = "ExposedPorts", skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "Env", skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(rename = "Cmd", skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "Healthcheck", skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    #[serde(rename = "ArgsEscaped", skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    #[serde(rename = "Volumes", skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(
        rename = "WorkingDir",
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub working_dir: Option<String>,
    #[serde(rename = "Entrypoint", skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "OnBuild", skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    #[serde(rename = "Labels", skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(
        rename = "StopSignal",
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_signal: Option<String>,
    #[serde(rename = "StopTimeout", skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(rename = "Shell", skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// `HEALTHCHECK` settings; durations in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthConfig {
    #[serde(rename = "Test", skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<String>>,
    #[serde(rename = "Interval", skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    #[serde(rename = "Timeout", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    #[serde(rename = "StartPeriod", skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i64>,
    #[serde(rename = "StartInterval", skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<i64>,
    #[serde(rename = "Retries", skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
}

fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// The parts of the config blob berth reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ImageFile {
    pub created: Option<String>,
    pub author: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub os: Option<String>,
    #[serde(rename = "os.version")]
    pub os_version: Option<String>,
    pub comment: Option<String>,
    pub docker_version: Option<String>,
    pub config: Option<ImageConfig>,
    pub rootfs: RootFs,
    pub history: Option<Vec<History>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    pub diff_ids: Vec<String>,
}

/// One `history` entry of the config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct History {
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub author: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

impl ImageFile {
    /// Parses and checks a config blob; `what` names it in error messages.
    pub fn parse(bytes: &[u8], what: &str) -> Result<ImageFile, Error> {
        let f: ImageFile = serde_json::from_slice(bytes)
            .map_err(|e| Error::invalid(format!("invalid image config {what}: {e}")))?;
        if f.rootfs.kind != "layers" {
            return Err(Error::invalid(format!(
                "invalid image config {what}: rootfs type {:?} is not \"layers\"",
                f.rootfs.kind
            )));
        }
        if let Some(d) = f
            .rootfs
            .diff_ids
            .iter()
            .find(|d| crate::digest::hex_of(d).is_none())
        {
            return Err(Error::invalid(format!(
                "invalid image config {what}: bad diff id {d:?}"
            )));
        }
        match f.os.as_deref() {
            None | Some("") | Some("linux") => Ok(f),
            Some(os) => Err(Error::invalid(format!(
                "image operating system {os:?} cannot be used on this platform"
            ))),
        }
    }

    /// Creation time in nanoseconds since the epoch, if the config has one.
    pub fn created_nanos(&self) -> Option<i128> {
        self.created
            .as_deref()
            .and_then(berth_util::time::parse_rfc3339)
    }

    /// Creation time in seconds, Docker's zero time when absent.
    pub fn created_unix(&self) -> i64 {
        match self.created_nanos() {
            Some(n) => n.div_euclid(1_000_000_000) as i64,
            None => -62_135_596_800,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_config_and_rejects_bad_ones() {
        let raw = br#"{"architecture":"amd64","os":"linux","created":"2026-11-23T16:28:47.356669263Z",
            "config":{"User":"","Env":["A=1"],"Cmd":["sh"],"Entrypoint":null,"Labels":null,"WorkingDir":""},
            "rootfs":{"type":"layers","diff_ids":["sha256:8fe42b015fcfbfd00bda668235c33b66ed1a164d528990dffb2f1212ca42db92"]},
            "history":[{"created":"2026-11-23T16:28:47Z","comment":"x"}]}"#;
        let f = ImageFile::parse(raw, "x").unwrap();
        let c = f.config.clone().unwrap();
        assert_eq!(c.user, None);
        assert_eq!(c.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(f.created_unix(), 1_795_451_327);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"Env":["A=1"],"Cmd":["sh"]}"#
        );
        assert!(ImageFile::parse(b"{not json", "x").is_err());
        assert!(
            ImageFile::parse(br#"{"rootfs":{"type":"layers","diff_ids":["x"]}}"#, "x").is_err()
        );
        assert!(ImageFile::parse(
            br#"{"os":"windows","rootfs":{"type":"layers","diff_ids":[]}}"#,
            "x"
        )
        .is_err());
        assert!(
            ImageFile::parse(br#"{"config":{"Env":"A"},"rootfs":{"type":"layers"}}"#, "x").is_err()
        );
    }
}
