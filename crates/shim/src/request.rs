//! The control socket's request line (one per connection), see
//! "Daemon ↔ shim contract" in docs/ARCHITECTURE.md.

use thiserror::Error;

/// Longest request line accepted, newline included.
pub const MAX_LINE: usize = 256;

/// Highest signal number Linux knows (`SIGRTMAX`).
const MAX_SIGNAL: i32 = 64;

/// Which streams an attach connection carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attach {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Attach {
    /// Whether output stream `s` was asked for.
    pub fn wants(self, s: crate::frame::Stream) -> bool {
        match s {
            crate::frame::Stream::Stdout => self.stdout,
            crate::frame::Stream::Stderr => self.stderr,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Let the created container's init `execve`.
    Start,
    /// Send a signal to the init.
    Kill(i32),
    /// Answer `exit <code> <oom>` once the init has exited.
    Wait,
    /// Turn the connection into a stdio stream.
    Attach(Attach),
    /// Set the tty's window size.
    Resize { rows: u16, cols: u16 },
    /// Start the process of `<bundle>/exec-<id>.json` in the container;
    /// with any stream asked for, the connection becomes its stdio stream.
    Exec { id: String, attach: Attach },
    /// Answer `exit <code>` once that exec'd process has ended.
    ExecWait(String),
    /// Set the window size of an exec'd process's tty.
    ExecResize { id: String, rows: u16, cols: u16 },
}

/// Longest exec ID accepted (Docker's are 64 hex digits).
const MAX_EXEC_ID: usize = 128;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RequestError {
    #[error("empty request")]
    Empty,
    #[error("unknown request {0:?}")]
    Unknown(String),
    #[error("{0}: wrong number of arguments")]
    Arity(&'static str),
    #[error("invalid signal {0:?}")]
    Signal(String),
    #[error("invalid attach flag {0:?} (want 0 or 1)")]
    Flag(String),
    #[error("invalid terminal size {0:?}")]
    Size(String),
    #[error("invalid exec id {0:?}")]
    ExecId(String),
}

/// Parses one request line (without or with its trailing `\n` / `\r\n`).
pub fn parse(line: &str) -> Result<Request, RequestError> {
    let mut words = line.split_ascii_whitespace();
    let verb = words.next().ok_or(RequestError::Empty)?;
    let args: Vec<&str> = words.collect();
    let want = |name: &'static str, n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(RequestError::Arity(name))
        }
    };
    match verb {
        "start" => want("start", 0).map(|()| Request::Start),
        "wait" => want("wait", 0).map(|()| Request::Wait),
        "kill" => {
            want("kill", 1)?;
            match args[0].parse::<i32>() {
                Ok(n) if (1..=MAX_SIGNAL).contains(&n) => Ok(Request::Kill(n)),
                _ => Err(RequestError::Signal(args[0].to_string())),
            }
        }
        "attach" => {
            want("attach", 3)?;
            Ok(Request::Attach(Attach {
                stdin: flag(args[0])?,
                stdout: flag(args[1])?,
                stderr: flag(args[2])?,
            }))
        }
        "resize" => {
            want("resize", 2)?;
            Ok(Request::Resize {
                rows: size(args[0])?,
                cols: size(args[1])?,
            })
        }
        "exec" => {
            want("exec", 4)?;
            Ok(Request::Exec {
                id: exec_id(args[0])?,
                attach: Attach {
                    stdin: flag(args[1])?,
                    stdout: flag(args[2])?,
                    stderr: flag(args[3])?,
                },
            })
        }
        "exec-wait" => {
            want("exec-wait", 1)?;
            Ok(Request::ExecWait(exec_id(args[0])?))
        }
        "exec-resize" => {
            want("exec-resize", 3)?;
            Ok(Request::ExecResize {
                id: exec_id(args[0])?,
                rows: size(args[1])?,
                cols: size(args[2])?,
            })
        }
        other => Err(RequestError::Unknown(other.to_string())),
    }
}

/// An exec ID names a file in the bundle: letters, digits, `-` and `_` only.
fn exec_id(s: &str) -> Result<String, RequestError> {
    let ok = !s.is_empty()
        && s.len() <= MAX_EXEC_ID
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(s.to_string())
    } else {
        Err(RequestError::ExecId(s.to_string()))
    }
}

fn flag(s: &str) -> Result<bool, RequestError> {
    match s {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(RequestError::Flag(s.to_string())),
    }
}

fn size(s: &str) -> Result<u16, RequestError> {
    s.parse().map_err(|_| RequestError::Size(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_request() {
        assert_eq!(parse("start\n"), Ok(Request::Start));
        assert_eq!(parse("wait\r\n"), Ok(Request::Wait));
        assert_eq!(parse("kill 9"), Ok(Request::Kill(9)));
        assert_eq!(
            parse("attach 1 0 1\n"),
            Ok(Request::Attach(Attach {
                stdin: true,
                stdout: false,
                stderr: true
            }))
        );
        assert_eq!(
            parse("resize 24 80\n"),
            Ok(Request::Resize { rows: 24, cols: 80 })
        );
    }

    #[test]
    fn parses_exec_requests() {
        assert_eq!(
            parse("exec ab12 1 1 0\n"),
            Ok(Request::Exec {
                id: "ab12".into(),
                attach: Attach {
                    stdin: true,
                    stdout: true,
                    stderr: false
                }
            })
        );
        assert_eq!(
            parse("exec-wait ab12"),
            Ok(Request::ExecWait("ab12".into()))
        );
        assert_eq!(
            parse("exec-resize ab12 30 100"),
            Ok(Request::ExecResize {
                id: "ab12".into(),
                rows: 30,
                cols: 100
            })
        );
        assert_eq!(
            parse("exec ../x 0 0 0"),
            Err(RequestError::ExecId("../x".into()))
        );
        assert_eq!(parse("exec-wait"), Err(RequestError::Arity("exec-wait")));
        assert_eq!(parse("exec a 0 0"), Err(RequestError::Arity("exec")));
    }

    #[test]
    fn rejects_malformed_requests() {
        assert_eq!(parse("\n"), Err(RequestError::Empty));
        assert_eq!(parse("stop"), Err(RequestError::Unknown("stop".into())));
        assert_eq!(parse("start now"), Err(RequestError::Arity("start")));
        assert_eq!(parse("kill"), Err(RequestError::Arity("kill")));
        assert_eq!(parse("kill 0"), Err(RequestError::Signal("0".into())));
        assert_eq!(parse("kill 65"), Err(RequestError::Signal("65".into())));
        assert_eq!(parse("kill TERM"), Err(RequestError::Signal("TERM".into())));
        assert_eq!(parse("attach 1 1"), Err(RequestError::Arity("attach")));
        assert_eq!(parse("attach 1 2 0"), Err(RequestError::Flag("2".into())));
        assert_eq!(parse("resize 24 -1"), Err(RequestError::Size("-1".into())));
        assert_eq!(
            parse("resize 70000 1"),
            Err(RequestError::Size("70000".into()))
        );
    }

    #[test]
    fn errors_read_as_lowercase_messages() {
        assert_eq!(
            parse("kill x").unwrap_err().to_string(),
            "invalid signal \"x\""
        );
    }
}
