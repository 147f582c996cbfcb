//! berth-runtime: from an OCI runtime spec to a running container process.
//!
//! Owns namespaces, the container's mounts and `pivot_root`, `/dev`, cgroups
//! (v1 and v2), capabilities, seccomp, rlimits and the user. Knows nothing of
//! images, HTTP or the daemon: its input is a bundle directory.
//!
//! The caller must be single-threaded when it calls [`create`]: the container
//! init is a raw `clone3` of the caller that runs Rust code until `execve`.

/// Capability names and the calls that set capability sets.
pub mod caps;
/// cgroups v1 and v2 behind one trait.
pub mod cgroups;
/// Bundle loading and the container lifecycle: create, start, kill, wait.
pub mod container;
/// The error a caller of [`create`] sees.
pub mod error;
/// Another process in a running container (`docker exec`).
pub mod exec;
/// Bringing up the loopback interface of a new network namespace.
mod net;
/// The container init and its conversation with the parent.
mod process;
/// Resource limits of the init process.
mod rlimit;
/// The container's root filesystem: mounts, `/dev`, `pivot_root`.
mod rootfs;
/// Seccomp profile → libseccomp filter.
pub mod seccomp;
/// Seccomp filters as BPF programs: compiled in the parent, loaded raw.
pub mod seccomp_bpf;
/// Compiled seccomp programs cached by checksum of their profile.
pub mod seccomp_cache;
/// The OCI runtime spec subset.
pub mod spec;
/// `-u user[:group]` resolution against the container's passwd and group files.
pub mod user;

pub use container::{create, Bundle, Created, Running, Stdio};
pub use error::CreateError;
pub use exec::{exec, ExecConfig, ExecProcess};
pub use process::failure::{InitError, Stage};

/// Mount options (`ro`, `nosuid`, `rbind`, `rprivate`, `size=…`) decoded into
/// flags, propagation and filesystem data, for callers that mount outside a
/// container (local volumes with `-o`).
pub use rootfs::options::{parse as parse_mount_options, MountOptions};
