//! Changing and moving container filesystems: `diff` (the container's
//! changes against its image), `commit` (those changes as a new image),
//! `export` (the flattened filesystem as a tar) and the archive API behind
//! `cp` (stat, read and extract a path inside the container).
//!
//! Layout:
//! - [`sys`]: fd-relative syscall wrappers;
//! - [`root`]: container paths resolved inside a root descriptor
//!   (`openat2(RESOLVE_IN_ROOT)`), safe against hostile symlinks;
//! - [`view`]: the root a container is seen through — `/proc/<pid>/root`
//!   when it runs, else its overlay mounted in the private mount namespace
//!   of a helper thread (never in the host's);
//! - [`tarwrite`] and [`extract`]: tar out of and into such a root;
//! - [`changes`]: the upper directory compared with the image's layers,
//!   as `diff` lines and as an OCI layer;
//! - [`archive`], [`export`], [`commit`] (with `diff`): the daemon
//!   operations and their events.

pub mod archive;
pub mod changes;
pub mod commit;
pub mod export;
pub mod extract;
pub mod root;
pub mod sys;
pub mod tarwrite;
pub mod view;

use crate::error::{Error, Kind};
use std::io;

/// Failures of the filesystem operations, with the API's wording.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The path does not exist in the container (404).
    #[error("Could not find the file {path} in container {container}")]
    NotFound { path: String, container: String },
    /// The request cannot be done as asked (400).
    #[error("{0}")]
    Invalid(String),
    /// The container's state forbids it (409).
    #[error("{0}")]
    Conflict(String),
    /// Anything else, with what was being done (500).
    #[error("{context}: {}", go_text(.source))]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

/// An OS error as Go prints it: `no such file or directory`.
pub fn go_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}

impl FsError {
    pub fn io(context: impl Into<String>, source: io::Error) -> FsError {
        FsError::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<FsError> for Error {
    fn from(e: FsError) -> Error {
        let kind = match &e {
            FsError::NotFound { .. } => Kind::NotFound,
            FsError::Invalid(_) => Kind::InvalidArgument,
            FsError::Conflict(_) => Kind::Conflict,
            FsError::Io { .. } => Kind::Internal,
        };
        Error::new(kind, e.to_string())
    }
}

/// Runs blocking filesystem work off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(e.to_string()))?
}
