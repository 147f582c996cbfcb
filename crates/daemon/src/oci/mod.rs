//! Docker container config → OCI runtime spec.
//!
//! [`build_spec`] turns what a client sent to `POST /containers/create`
//! (`Config` + `HostConfig`) and the image's defaults into the
//! [`berth_runtime::spec::Spec`] that the runtime executes, applying Docker's
//! defaults and validation rules. Everything here is a pure translation except
//! [`Host::probe`], which reads the few host facts Docker also consults
//! (kernel version, capabilities, CPUs, init binary, `/dev`).

mod binds;
mod caps;
mod command;
mod devices;
mod env;
mod host;
mod init;
mod mounts;
mod namespaces;
mod paths;
mod resources;
mod rlimits;
mod seccomp;
mod security_opt;
mod sysctl;
mod tmpfs;
mod user;

use std::collections::BTreeMap;
use std::path::Path;

use berth_image::ImageConfig;
use berth_runtime::spec::{Capabilities, Linux, Process, Root, Spec};

use crate::model::{Config, HostConfig};
use crate::volumes::MountPoint;

pub use binds::parse_bind;
pub use command::{merged_argv, merged_command};
pub use env::merged_env;
pub use host::Host;
pub use paths::apply_create_defaults;
pub(crate) use paths::clean as clean_path;
pub(crate) use resources::build as build_resources;
pub use user::ANNOTATION_GROUP_ADD;

/// OCI runtime spec version written to `config.json`.
const OCI_VERSION: &str = "1.0.2";

/// A container config that cannot be turned into a spec; the message is
/// Docker's, and the caller maps it to HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

impl SpecError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        SpecError(msg.into())
    }
}

/// Everything [`build_spec`] needs to know about one container.
pub struct SpecInput<'a> {
    pub id: &'a str,
    pub config: &'a Config,
    pub host_config: &'a HostConfig,
    /// The image's defaults (`User`, `Env`, `Cmd`, `Entrypoint`, `WorkingDir`).
    pub image_config: &'a ImageConfig,
    /// Where the runtime mounts the container's root filesystem (`root.path`).
    pub rootfs: &'a Path,
    pub hostname_path: &'a Path,
    pub hosts_path: &'a Path,
    pub resolv_conf_path: &'a Path,
    /// The container's mounts as resolved at create (volumes, binds, tmpfs
    /// of `HostConfig.Mounts`); `HostConfig.Tmpfs` is read from `host_config`.
    pub mounts: &'a [MountPoint],
    /// Relative cgroup path, e.g. `berth/<id>`.
    pub cgroups_path: String,
}

/// Builds the OCI spec of a container, with the facts of this host.
pub fn build_spec(input: &SpecInput) -> Result<Spec, SpecError> {
    build_spec_on(input, &Host::probe())
}

/// Builds the OCI spec of a container for the given host facts (tests pass
/// their own).
pub fn build_spec_on(input: &SpecInput, host: &Host) -> Result<Spec, SpecError> {
    let hc = input.host_config;
    let cfg = input.config;
    let security = security_opt::parse(hc.security_opt.as_deref().unwrap_or(&[]))?;
    let ns = namespaces::Plan::new(hc)?;

    let mut args = merged_argv(cfg, input.image_config);
    if args.is_empty() {
        return Err(SpecError::new("No command specified"));
    }
    let init_path = if init::wanted(hc) && ns.pid_private() {
        let path = host.init_path.as_deref().ok_or_else(|| {
            SpecError::new("--init requires docker-init or tini-static on the host")
        })?;
        args.splice(
            0..0,
            [init::IN_CONTAINER_PATH.to_string(), "--".to_string()],
        );
        Some(path_str(path)?)
    } else {
        None
    };
    let cwd = command::working_dir(cfg, input.image_config)?;
    let hostname = ns.hostname(cfg, input.id, host);
    let env = env::merge(cfg, input.image_config, &hostname);
    let user = user::resolve(cfg, hc, input.image_config)?;

    let cap_set = caps::container_caps(hc, host)?;
    let caps = Capabilities {
        bounding: cap_set.clone(),
        effective: cap_set.clone(),
        permitted: cap_set.clone(),
        inheritable: Vec::new(),
        ambient: Vec::new(),
    };

    let mount_files = mounts::NetworkFiles {
        resolv_conf: path_str(input.resolv_conf_path)?,
        hostname: path_str(input.hostname_path)?,
        hosts: path_str(input.hosts_path)?,
    };
    let spec_mounts = mounts::build(hc, input.mounts, &ns, &mount_files, init_path)?;

    let mut resources = resources::build(hc, host)?;
    let (devices, rules) = devices::for_container(hc.privileged, &host.dev_root)?;
    resources.devices = rules;

    let (masked_paths, readonly_paths) = paths::masked_and_readonly(hc)?;
    let seccomp = seccomp::for_container(&security.seccomp, hc.privileged, &cap_set, host)?;

    let annotations: BTreeMap<String, String> = user.annotations.into_iter().collect();

    Ok(Spec {
        oci_version: OCI_VERSION.to_string(),
        process: Process {
            terminal: cfg.tty,
            user: user.user,
            args,
            env,
            cwd,
            capabilities: Some(caps),
            rlimits: rlimits::build(hc.ulimits.as_deref().unwrap_or(&[]))?,
            no_new_privileges: security.no_new_privileges,
            oom_score_adj: Some(user::oom_score_adj(hc)?),
        },
        root: Root {
            path: path_str(input.rootfs)?,
            readonly: hc.readonly_rootfs,
        },
        hostname: if ns.uts_private() {
            hostname
        } else {
            String::new()
        },
        mounts: spec_mounts,
        linux: Linux {
            namespaces: ns.namespaces(),
            resources: Some(resources),
            cgroups_path: input.cgroups_path.clone(),
            seccomp,
            masked_paths,
            readonly_paths,
            devices,
            sysctl: sysctl::build(cfg, hc, &ns, host)?,
        },
        annotations,
    })
}

/// A path as the UTF-8 string the spec needs.
fn path_str(p: &Path) -> Result<String, SpecError> {
    p.to_str()
        .map(str::to_string)
        .ok_or_else(|| SpecError(format!("path {} is not valid UTF-8", p.display())))
}

#[cfg(test)]
mod tests;
