//! The crate's error type and the HTTP-ish class of each error, so the daemon
//! can map it to 404 / 409 / 400 / 500 without matching on messages.

use std::io;

/// Everything that can go wrong in the image store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The image or reference does not exist ("No such image: busybox:latest").
    #[error("No such image: {0}")]
    NotFound(String),
    /// A short ID prefix matches more than one image.
    #[error("ambiguous image ID prefix {0}: it matches more than one image")]
    Ambiguous(String),
    /// The operation conflicts with the current state (rmi of an image in use, …).
    #[error("{0}")]
    Conflict(String),
    /// The caller's input is wrong: bad reference, malformed archive or JSON, hostile layer.
    #[error("{0}")]
    InvalidArgument(String),
    /// Stored state is inconsistent (missing layer, unreadable record).
    #[error("corrupt image store: {0}")]
    Corrupt(String),
    /// An I/O error with what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

/// The class of an error, for status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 404
    NotFound,
    /// 409
    Conflict,
    /// 400
    InvalidArgument,
    /// 500
    Internal,
}

impl Error {
    /// The class of this error (404 / 409 / 400 / 500).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::Ambiguous(_) | Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Corrupt(_) | Error::Io { .. } => ErrorKind::Internal,
        }
    }

    /// HTTP status code the Engine API uses for this error.
    pub fn status(&self) -> u16 {
        match self.kind() {
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::InvalidArgument => 400,
            ErrorKind::Internal => 500,
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Error {
        Error::InvalidArgument(msg.into())
    }
}

/// Adds context to I/O results: `fs::read(p).ctx(|| format!("read {}", p.display()))`.
pub(crate) trait IoContext<T> {
    fn ctx<S: Into<String>>(self, f: impl FnOnce() -> S) -> Result<T, Error>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx<S: Into<String>>(self, f: impl FnOnce() -> S) -> Result<T, Error> {
        self.map_err(|source| Error::Io {
            context: f().into(),
            source,
        })
    }
}

impl From<crate::reference::ParseError> for Error {
    fn from(e: crate::reference::ParseError) -> Error {
        Error::InvalidArgument(e.to_string())
    }
}
