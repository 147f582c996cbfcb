//! Where the daemon keeps its state and finds its helpers.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Persistent state (`--data-root`, default `/var/lib/berth`).
    pub data_root: PathBuf,
    /// Runtime state that dies with the machine (`--exec-root`, default
    /// `/run/berth`): shim sockets.
    pub exec_root: PathBuf,
    /// The `berth-shim` binary.
    pub shim_path: PathBuf,
    /// `--registry-mirror` / `registry-mirrors` (reported by `info`).
    pub registry_mirrors: Vec<String>,
    /// `--insecure-registry` / `insecure-registries` (reported by `info`).
    pub insecure_registries: Vec<String>,
    /// `--bip`, `--fixed-cidr`, `--default-address-pool`.
    pub network: crate::network::NetworkOptions,
}

impl DaemonConfig {
    pub fn containers_dir(&self) -> PathBuf {
        self.data_root.join("containers")
    }
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.containers_dir().join(id)
    }
    pub fn shim_socket(&self, id: &str) -> PathBuf {
        self.exec_root.join(format!("{id}.sock"))
    }
}
