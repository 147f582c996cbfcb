//! Command line: `berth-shim --id <id> --bundle <dir> --socket <path>`
//! (also `--flag=value`). Hand-written: three options do not earn a parser
//! crate in a binary that runs once per container.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub id: String,
    pub bundle: PathBuf,
    pub socket: PathBuf,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ArgsError {
    #[error("unknown argument {0:?}")]
    Unknown(String),
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    #[error("{0} is required")]
    Required(&'static str),
    #[error("--id must be a non-empty name without '/'")]
    BadId,
    #[error("current directory: {0}")]
    Cwd(String),
}

/// The options, in the order of the values [`parse`] collects.
const OPTIONS: [&str; 3] = ["--id", "--bundle", "--socket"];

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Args, ArgsError> {
    let mut values: [Option<OsString>; 3] = [None, None, None];
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let bytes = arg.as_bytes();
        let (name, inline) = match bytes.iter().position(|&b| b == b'=') {
            Some(eq) if bytes.starts_with(b"--") => (
                &bytes[..eq],
                Some(OsString::from_vec(bytes[eq + 1..].to_vec())),
            ),
            _ => (bytes, None),
        };
        let idx = OPTIONS
            .iter()
            .position(|o| o.as_bytes() == name)
            .ok_or_else(|| ArgsError::Unknown(arg.to_string_lossy().into_owned()))?;
        let value = match inline {
            Some(v) => v,
            None => it.next().ok_or(ArgsError::MissingValue(OPTIONS[idx]))?,
        };
        values[idx] = Some(value);
    }
    let [id, bundle, socket] = values;
    let id = id
        .ok_or(ArgsError::Required("--id"))?
        .into_string()
        .map_err(|_| ArgsError::BadId)?;
    if id.is_empty() || id.contains('/') || id == "." || id == ".." {
        return Err(ArgsError::BadId);
    }
    Ok(Args {
        id,
        bundle: bundle.ok_or(ArgsError::Required("--bundle"))?.into(),
        socket: socket.ok_or(ArgsError::Required("--socket"))?.into(),
    })
}

impl Args {
    /// Makes relative paths absolute against `cwd` (the shim moves to `/`).
    pub fn absolute(mut self, cwd: &Path) -> Args {
        for p in [&mut self.bundle, &mut self.socket] {
            if p.is_relative() {
                *p = cwd.join(&*p);
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, ArgsError> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn parses_both_spellings() {
        let want = Args {
            id: "abc".into(),
            bundle: "/b".into(),
            socket: "/run/berth/abc.sock".into(),
        };
        assert_eq!(
            p(&[
                "--id",
                "abc",
                "--bundle",
                "/b",
                "--socket",
                "/run/berth/abc.sock"
            ]),
            Ok(want.clone())
        );
        assert_eq!(
            p(&["--socket=/run/berth/abc.sock", "--id=abc", "--bundle=/b"]),
            Ok(want)
        );
    }

    #[test]
    fn relative_paths_become_absolute() {
        let a = p(&["--id", "a", "--bundle", "c/a", "--socket", "/run/a.sock"]).unwrap();
        let a = a.absolute(Path::new("/data"));
        assert_eq!(a.bundle, Path::new("/data/c/a"));
        assert_eq!(a.socket, Path::new("/run/a.sock"));
    }

    #[test]
    fn rejects_bad_command_lines() {
        assert_eq!(
            p(&["--id", "a", "--bundle", "/b"]),
            Err(ArgsError::Required("--socket"))
        );
        assert_eq!(p(&["--id"]), Err(ArgsError::MissingValue("--id")));
        assert_eq!(p(&["-v"]), Err(ArgsError::Unknown("-v".into())));
        assert_eq!(
            p(&["--id", "../x", "--bundle", "/b", "--socket", "/s"]),
            Err(ArgsError::BadId)
        );
    }
}
