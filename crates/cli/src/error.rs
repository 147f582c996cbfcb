//! The error every command returns: the text for stderr (possibly empty, for
//! a bare exit status such as a container's) and the process exit code.

use crate::api::ApiError;

/// A command's failure.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    pub message: String,
    pub code: i32,
}

impl CliError {
    pub fn new(message: impl Into<String>, code: i32) -> CliError {
        CliError {
            message: message.into(),
            code,
        }
    }

    /// An exit status with nothing to print.
    pub fn status(code: i32) -> CliError {
        CliError {
            message: String::new(),
            code,
        }
    }

    /// A plain error, exit status 1.
    pub fn msg(message: impl Into<String>) -> CliError {
        CliError::new(message, 1)
    }
}

impl From<ApiError> for CliError {
    fn from(e: ApiError) -> CliError {
        CliError::msg(e.to_string())
    }
}

impl From<crate::fmt::table::TableError> for CliError {
    fn from(e: crate::fmt::table::TableError) -> CliError {
        CliError::msg(e.to_string())
    }
}

/// Shorthand for command results.
pub type Result<T> = std::result::Result<T, CliError>;
