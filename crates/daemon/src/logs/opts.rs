//! Docker's json-file log options (`--log-opt`, `HostConfig.LogConfig.Config`):
//! the keys the driver accepts, `max-size` (go-units' `FromHumanSize`:
//! decimal k/m/g/t/p multipliers, an optional `i` and `b`) and `max-file`
//! parsed as dockerd does, and the bundle annotations that carry them to the
//! shim, which rotates the log. dockerd rejects unknown keys at create and
//! bad values when it starts the container ("failed to initialize logging
//! driver: …"); berth checks both at create, with the same texts.
//! `compress` is validated but rotated files are kept uncompressed.

use crate::error::Error;
use crate::model::LogConfig;
use thiserror::Error as ThisError;

/// Annotation read by the shim: rotate when the log reaches this many bytes.
pub const ANNOTATION_MAX_SIZE: &str = "berth.log-max-size";
/// Annotation read by the shim: files kept, the live one included.
pub const ANNOTATION_MAX_FILE: &str = "berth.log-max-file";

/// Keys dockerd's json-file driver (and its generic log options) accept.
const KNOWN: &[&str] = &[
    "max-file",
    "max-size",
    "compress",
    "labels",
    "labels-regex",
    "env",
    "env-regex",
    "tag",
    "mode",
    "max-buffer-size",
];

#[derive(Debug, ThisError, PartialEq, Eq)]
pub enum LogOptError {
    #[error("unknown log opt '{0}' for json-file log driver")]
    Unknown(String),
    #[error("failed to initialize logging driver: invalid size: '{0}'")]
    InvalidSize(String),
    #[error("failed to initialize logging driver: max-size must be a positive number")]
    NonPositiveSize,
    #[error("failed to initialize logging driver: strconv.Atoi: parsing {0:?}: invalid syntax")]
    InvalidNumber(String),
    #[error(
        "failed to initialize logging driver: strconv.Atoi: parsing {0:?}: value out of range"
    )]
    NumberOutOfRange(String),
    #[error("failed to initialize logging driver: max-file cannot be less than 1")]
    TooFewFiles,
    #[error(
        "failed to initialize logging driver: strconv.ParseBool: parsing {0:?}: invalid syntax"
    )]
    InvalidBool(String),
    #[error("failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set")]
    Compress,
}

impl From<LogOptError> for Error {
    fn from(e: LogOptError) -> Error {
        Error::invalid(e.to_string())
    }
}

/// Validates a container's log options and returns the annotations for its
/// bundle (none for other drivers, or when the log never rotates).
pub fn annotations(log: &LogConfig) -> Result<Vec<(String, String)>, LogOptError> {
    if !matches!(log.kind.as_str(), "" | "json-file") {
        return Ok(Vec::new());
    }
    if let Some(key) = log.config.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(LogOptError::Unknown(key.clone()));
    }
    let max_size = log
        .config
        .get("max-size")
        .map(|s| parse_size(s))
        .transpose()?;
    if max_size.is_some_and(|n| n <= 0) {
        return Err(LogOptError::NonPositiveSize);
    }
    let max_files = match log.config.get("max-file") {
        Some(s) => parse_count(s)?,
        None => 1,
    };
    if max_files < 1 {
        return Err(LogOptError::TooFewFiles);
    }
    if let Some(s) = log.config.get("compress") {
        if parse_bool(s)? && (max_files == 1 || max_size.is_none()) {
            return Err(LogOptError::Compress);
        }
    }
    Ok(match max_size {
        Some(size) => vec![
            (ANNOTATION_MAX_SIZE.to_string(), size.to_string()),
            (ANNOTATION_MAX_FILE.to_string(), max_files.to_string()),
        ],
        None => Vec::new(),
    })
}

/// A size as go-units' `FromHumanSize`: `<digits>[.<digits>…][ ][kmgtp][i][b]`,
/// case-insensitive, decimal multipliers (`10k` = 10000).
pub fn parse_size(s: &str) -> Result<i64, LogOptError> {
    let invalid = || LogOptError::InvalidSize(s.to_string());
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(num_end);
    if num.split('.').any(str::is_empty) {
        return Err(invalid());
    }
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let (mul, rest) = match unit.chars().next() {
        Some(c @ ('k' | 'm' | 'g' | 't' | 'p')) => {
            let power = "kmgtp".find(c).map_or(0, |i| i as i32 + 1);
            (10f64.powi(3 * power), &unit[1..])
        }
        _ => (1.0, unit.as_str()),
    };
    let rest = rest.strip_prefix('i').unwrap_or(rest);
    let rest = rest.strip_prefix('b').unwrap_or(rest);
    if !rest.is_empty() {
        return Err(invalid());
    }
    let value: f64 = num.parse().map_err(|_| invalid())?;
    Ok((value * mul) as i64)
}

/// `max-file` as Go's `strconv.Atoi`.
fn parse_count(s: &str) -> Result<i64, LogOptError> {
    s.parse::<i64>().map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
            LogOptError::NumberOutOfRange(s.to_string())
        }
        _ => LogOptError::InvalidNumber(s.to_string()),
    })
}

/// `compress` as Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Result<bool, LogOptError> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(LogOptError::InvalidBool(s.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn cfg(kind: &str, opts: &[(&str, &str)]) -> LogConfig {
        LogConfig {
            kind: kind.into(),
            config: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn parses_human_sizes_like_go_units() {
        for (s, want) in [
            ("10", 10),
            ("10k", 10_000),
            ("10K", 10_000),
            ("10kb", 10_000),
            ("10KiB", 10_000),
            ("10 MB", 10_000_000),
            ("1.5k", 1500),
            ("3g", 3_000_000_000),
            ("2t", 2_000_000_000_000),
            ("0", 0),
            ("7b", 7),
        ] {
            assert_eq!(parse_size(s), Ok(want), "{s}");
        }
        for s in [
            "", "abc", "-1", "10x", "k", "10kk", "1..5k", ".5k", "10  k", "10kbb",
        ] {
            assert_eq!(
                parse_size(s),
                Err(LogOptError::InvalidSize(s.into())),
                "{s}"
            );
        }
    }

    #[test]
    fn builds_annotations_for_rotation() {
        let a = annotations(&cfg("json-file", &[("max-size", "10k"), ("max-file", "3")])).unwrap();
        assert_eq!(
            a,
            vec![
                (ANNOTATION_MAX_SIZE.to_string(), "10000".to_string()),
                (ANNOTATION_MAX_FILE.to_string(), "3".to_string()),
            ]
        );
        let a = annotations(&cfg("", &[("max-size", "1m")])).unwrap();
        assert_eq!(a[1].1, "1");
        // max-file alone is accepted by dockerd and rotates nothing.
        assert!(annotations(&cfg("json-file", &[("max-file", "3")]))
            .unwrap()
            .is_empty());
        assert!(
            annotations(&cfg("json-file", &[("tag", "x"), ("mode", "non-blocking")]))
                .unwrap()
                .is_empty()
        );
        // Other drivers are not ours to check.
        assert!(annotations(&cfg("syslog", &[("foo", "1")]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn rejects_options_with_dockers_texts() {
        let err = |opts: &[(&str, &str)]| {
            annotations(&cfg("json-file", opts))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&[("foo", "1")]),
            "unknown log opt 'foo' for json-file log driver"
        );
        assert_eq!(
            err(&[("max-size", "abc")]),
            "failed to initialize logging driver: invalid size: 'abc'"
        );
        assert_eq!(
            err(&[("max-size", "0")]),
            "failed to initialize logging driver: max-size must be a positive number"
        );
        assert_eq!(
            err(&[("max-file", "0")]),
            "failed to initialize logging driver: max-file cannot be less than 1"
        );
        assert_eq!(
            err(&[("max-size", "10k"), ("max-file", "x")]),
            "failed to initialize logging driver: strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            err(&[("compress", "true")]),
            "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set"
        );
        assert!(annotations(&cfg(
            "json-file",
            &[("compress", "true"), ("max-size", "1k"), ("max-file", "2")]
        ))
        .is_ok());
    }
}
