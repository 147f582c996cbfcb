//! `GET /version` and `GET /info`: what the engine announces about itself.

use crate::daemon::Daemon;
use serde_json::{json, Value};

/// The newest and oldest API versions berthd serves.
pub const API_VERSION: &str = "1.50";
pub const MIN_API_VERSION: &str = "1.24";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn uname() -> (String, String, String) {
    match nix::sys::utsname::uname() {
        Ok(u) => (
            u.release().to_string_lossy().into_owned(),
            u.machine().to_string_lossy().into_owned(),
            u.nodename().to_string_lossy().into_owned(),
        ),
        Err(_) => Default::default(),
    }
}

/// GOARCH-style name of the machine (`amd64`, `arm64`).
pub fn go_arch(machine: &str) -> &str {
    match machine {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn os_name() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|s| s.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into())
}

fn mem_total() -> u64 {
    crate::observe::host::mem_total(&std::fs::read_to_string("/proc/meminfo").unwrap_or_default())
}

/// `cgroup2` when /sys/fs/cgroup is the unified hierarchy, else `1`.
pub fn cgroup_version() -> &'static str {
    match nix::sys::statfs::statfs("/sys/fs/cgroup") {
        Ok(s) if s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC => "2",
        _ => "1",
    }
}

impl Daemon {
    /// `RegistryConfig` of `info`: loopback is always insecure, as in Docker.
    fn registry_config(&self) -> Value {
        let (cidrs, names): (Vec<&String>, Vec<&String>) = self
            .config
            .insecure_registries
            .iter()
            .partition(|r| r.contains('/'));
        let mut all_cidrs: Vec<String> = cidrs.into_iter().cloned().collect();
        all_cidrs.push("127.0.0.0/8".into());
        let mut index = serde_json::Map::new();
        for n in names {
            index.insert(
                n.clone(),
                json!({"Name": n, "Mirrors": [], "Secure": false, "Official": false}),
            );
        }
        index.insert(
            "docker.io".into(),
            json!({"Name": "docker.io", "Mirrors": self.config.registry_mirrors, "Secure": true, "Official": true}),
        );
        json!({
            "AllowNondistributableArtifactsCIDRs": null,
            "AllowNondistributableArtifactsHostnames": null,
            "InsecureRegistryCIDRs": all_cidrs,
            "IndexConfigs": index,
            "Mirrors": self.config.registry_mirrors,
        })
    }

    pub fn version(&self) -> Value {
        let (kernel, machine, _) = uname();
        json!({
            "Platform": {"Name": "berth Engine"},
            "Components": [{
                "Name": "Engine",
                "Version": VERSION,
                "Details": {
                    "ApiVersion": API_VERSION,
                    "Arch": go_arch(&machine),
                    "BuildTime": "",
                    "Experimental": "false",
                    "GitCommit": option_env!("BERTH_GIT_COMMIT").unwrap_or("unknown"),
                    "GoVersion": "n/a (rust)",
                    "KernelVersion": kernel,
                    "MinAPIVersion": MIN_API_VERSION,
                    "Os": "linux",
                },
            }],
            "Version": VERSION,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": option_env!("BERTH_GIT_COMMIT").unwrap_or("unknown"),
            "GoVersion": "n/a (rust)",
            "Os": "linux",
            "Arch": go_arch(&machine),
            "KernelVersion": kernel,
            "BuildTime": "",
        })
    }

    pub fn info(&self) -> Value {
        let (kernel, machine, hostname) = uname();
        let (total, running, paused, stopped) = self.container_counts();
        let images = self.images.list().len();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        json!({
            "ID": self.engine_id,
            "Containers": total,
            "ContainersRunning": running,
            "ContainersPaused": paused,
            "ContainersStopped": stopped,
            "Images": images,
            "Driver": "overlay2",
            "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"], ["Using metacopy", "false"], ["Native Overlay Diff", "true"], ["userxattr", "false"]],
            "Plugins": {"Volume": ["local"], "Network": ["host", "null"], "Authorization": null, "Log": ["json-file"]},
            "MemoryLimit": true,
            "SwapLimit": std::path::Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists(),
            "CpuCfsPeriod": true,
            "CpuCfsQuota": true,
            "CPUShares": true,
            "CPUSet": true,
            "PidsLimit": true,
            "IPv4Forwarding": std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").map(|s| s.trim() == "1").unwrap_or(false),
            "Debug": false,
            "NFd": std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0),
            "OomKillDisable": false,
            "NGoroutines": 0,
            "SystemTime": berth_util::time::now_rfc3339(),
            "LoggingDriver": "json-file",
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": cgroup_version(),
            "NEventsListener": 0,
            "KernelVersion": kernel,
            "OperatingSystem": os_name(),
            "OSVersion": "",
            "OSType": "linux",
            "Architecture": machine,
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": self.registry_config(),
            "NCPU": cpus,
            "MemTotal": mem_total(),
            "GenericResources": null,
            "DockerRootDir": self.config.data_root,
            "HttpProxy": "",
            "HttpsProxy": "",
            "NoProxy": "",
            "Name": hostname,
            "Labels": [],
            "ExperimentalBuild": false,
            "ServerVersion": VERSION,
            "Runtimes": {"berth": {"path": self.config.shim_path}},
            "DefaultRuntime": "berth",
            "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false, "Error": "", "RemoteManagers": null},
            "LiveRestoreEnabled": true,
            "Isolation": "",
            "InitBinary": "docker-init",
            "ContainerdCommit": {"ID": ""},
            "RuncCommit": {"ID": ""},
            "InitCommit": {"ID": ""},
            "SecurityOptions": ["name=seccomp,profile=builtin"],
            "Warnings": null,
        })
    }
}
