//! The error of the container init: which step failed and why. It crosses
//! the sync socket so the parent reports the real cause.

use std::fmt::Display;
use std::io;

use serde::{Deserialize, Serialize};

use crate::error::errno_text;

/// The step of the init that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    Cgroup,
    Stdio,
    Namespaces,
    Rootfs,
    Devices,
    PivotRoot,
    Hostname,
    Network,
    Sysctl,
    Paths,
    Rlimits,
    User,
    Cwd,
    Capabilities,
    Seccomp,
    Exec,
}

/// A failure inside the container init, before or at `execve`.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct InitError {
    pub stage: Stage,
    pub errno: i32,
    pub message: String,
    /// Set when the failure is about the executable: 126 or 127.
    pub exit_code: Option<i32>,
}

impl InitError {
    /// `context: errno text`.
    pub fn new(stage: Stage, context: impl Display, errno: i32) -> Self {
        InitError {
            stage,
            errno,
            message: format!("{context}: {}", errno_text(errno)),
            exit_code: None,
        }
    }

    /// A failure with a complete message and no errno.
    pub fn plain(stage: Stage, message: impl Into<String>) -> Self {
        InitError {
            stage,
            errno: 0,
            message: message.into(),
            exit_code: None,
        }
    }

    /// The executable cannot be found or run.
    pub fn exec(message: impl Into<String>, exit_code: i32) -> Self {
        InitError {
            stage: Stage::Exec,
            errno: 0,
            message: message.into(),
            exit_code: Some(exit_code),
        }
    }
}

/// Anything that carries an errno.
pub trait Errno {
    fn errno(&self) -> i32;
}

impl Errno for nix::errno::Errno {
    fn errno(&self) -> i32 {
        *self as i32
    }
}

impl Errno for io::Error {
    fn errno(&self) -> i32 {
        self.raw_os_error().unwrap_or(libc::EIO)
    }
}

/// Adds the stage and a context line to a failed call.
pub trait Context<T> {
    fn at<C: Display>(self, stage: Stage, context: impl FnOnce() -> C) -> Result<T, InitError>;
}

impl<T, E: Errno> Context<T> for Result<T, E> {
    fn at<C: Display>(self, stage: Stage, context: impl FnOnce() -> C) -> Result<T, InitError> {
        self.map_err(|e| InitError::new(stage, context(), e.errno()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_formats_errno_text() {
        let r: Result<(), nix::errno::Errno> = Err(nix::errno::Errno::EPERM);
        let e = r.at(Stage::Rootfs, || "mount proc on /proc").unwrap_err();
        assert_eq!(e.message, "mount proc on /proc: operation not permitted");
        assert_eq!(e.errno, libc::EPERM);
        assert_eq!(e.exit_code, None);
    }
}
