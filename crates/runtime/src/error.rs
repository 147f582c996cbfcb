//! The error a caller of [`crate::create`] sees, and errno texts in Go's
//! spelling (`no such file or directory`), which is what Docker users read.

use std::io;
use std::path::PathBuf;

use crate::cgroups::CgroupError;
use crate::process::failure::{InitError, Stage};
use crate::process::plan::PlanError;
use crate::process::sync::SyncError;

/// Why a container could not be created or started.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The executable could not be found (127) or run (126); the message is
    /// runc's (`exec: "foo": executable file not found in $PATH`).
    #[error("{message}")]
    Exec { message: String, exit_code: i32 },
    #[error("read {path}: {source}")]
    ReadBundle {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("parse {path}: {source}")]
    ParseBundle {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("namespaces: {0}")]
    Namespaces(#[from] PlanError),
    #[error("cgroup: {0}")]
    Cgroup(#[from] CgroupError),
    #[error("sync with container init: {0}")]
    Sync(#[from] SyncError),
    #[error("join pid namespace {path}: {source}")]
    JoinPidNamespace {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The errno in Go's spelling: the container's init may just be gone.
    #[error("open namespace {path}: {reason}")]
    OpenNamespace { path: PathBuf, reason: String },
    /// Compiling the seccomp profile (in the parent, before the clone).
    #[error("seccomp: {0}")]
    Seccomp(#[from] crate::seccomp::SeccompError),
    #[error("clone container init: {0}")]
    Clone(#[source] io::Error),
    #[error("clone exec process: {0}")]
    CloneExec(#[source] io::Error),
    #[error("exec'd process exited before it ran (exit code {exit_code})")]
    ExecExited { exit_code: i32 },
    /// A step inside the container failed; the message names it and the errno.
    #[error("{message}")]
    Init { stage: Stage, message: String },
    #[error("container init exited before it was ready (exit code {exit_code})")]
    InitExited { exit_code: i32 },
    #[error("unexpected message from container init at {0}")]
    Protocol(&'static str),
}

impl From<InitError> for CreateError {
    fn from(e: InitError) -> Self {
        match e.exit_code {
            Some(exit_code) => CreateError::Exec {
                message: e.message,
                exit_code,
            },
            None => CreateError::Init {
                stage: e.stage,
                message: e.message,
            },
        }
    }
}

/// The errno's text as Go prints it: lowercase, no `(os error N)`.
pub(crate) fn errno_text(errno: i32) -> String {
    let desc = nix::errno::Errno::from_raw(errno).desc();
    let mut chars = desc.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => format!("errno {errno}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_text_is_go_spelling() {
        assert_eq!(errno_text(libc::ENOENT), "no such file or directory");
        assert_eq!(errno_text(libc::EACCES), "permission denied");
        assert_eq!(errno_text(libc::ENOEXEC), "exec format error");
    }

    #[test]
    fn init_error_with_exit_code_becomes_exec() {
        let e = InitError::exec("exec: \"x\": executable file not found in $PATH", 127);
        match CreateError::from(e) {
            CreateError::Exec { message, exit_code } => {
                assert_eq!(exit_code, 127);
                assert!(message.contains("not found"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
