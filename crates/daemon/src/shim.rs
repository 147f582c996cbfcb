//! The daemon's side of the shim protocol (see docs/ARCHITECTURE.md):
//! spawning a shim and sending it one-line requests over its socket.

use crate::error::{Error, Result};
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Starts `berth-shim` for a bundle and waits for its ready line. Returns the
/// container's host PID; the error text is the runtime's, verbatim.
pub async fn spawn(shim: &Path, id: &str, bundle: &Path, socket: &Path) -> Result<i32> {
    let mut child = tokio::process::Command::new(shim)
        .arg("--id")
        .arg(id)
        .arg("--bundle")
        .arg(bundle)
        .arg("--socket")
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::internal(format!("failed to start shim {}: {e}", shim.display())))?;
    let mut out = child
        .stdout
        .take()
        .ok_or_else(|| Error::internal("shim has no stdout"))?;
    // Exactly one line: other holders of the pipe may keep it open.
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while out.read(&mut byte).await? == 1 && byte[0] != b'\n' {
        bytes.push(byte[0]);
    }
    drop(out);
    let _ = child.wait().await;
    let line = String::from_utf8_lossy(&bytes);
    let line = line.trim_end();
    if let Some(pid) = line.strip_prefix("ok ") {
        return pid
            .trim()
            .parse()
            .map_err(|_| Error::internal(format!("shim sent a bad ready line: {line}")));
    }
    let msg = line.strip_prefix("error ").unwrap_or(line);
    if msg.is_empty() {
        return Err(Error::internal("shim exited without reporting"));
    }
    Err(Error::internal(msg.to_string()))
}

/// Sends one request and returns the first answer line, with the stream
/// (positioned after that line) for streaming requests.
pub async fn request(socket: &Path, line: &str) -> Result<(String, UnixStream)> {
    let mut stream = UnixStream::connect(socket)
        .await
        .map_err(|e| Error::internal(format!("cannot reach shim at {}: {e}", socket.display())))?;
    stream.write_all(format!("{line}\n").as_bytes()).await?;
    // Read the answer a byte at a time: whatever follows it (attach output)
    // must stay in the socket for the caller.
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if stream.read(&mut byte).await? == 0 {
            if answer.is_empty() {
                return Err(Error::internal("shim closed the connection"));
            }
            break;
        }
        if byte[0] == b'\n' || answer.len() > 64 * 1024 {
            break;
        }
        answer.push(byte[0]);
    }
    Ok((String::from_utf8_lossy(&answer).into_owned(), stream))
}

/// A request whose answer is `ok` or `error <msg>`.
pub async fn call(socket: &Path, line: &str) -> Result<()> {
    let (answer, _) = request(socket, line).await?;
    check_ok(&answer)
}

fn check_ok(answer: &str) -> Result<()> {
    if answer == "ok" {
        Ok(())
    } else {
        Err(Error::internal(
            answer.strip_prefix("error ").unwrap_or(answer).to_string(),
        ))
    }
}

/// The end of a container, as the shim reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exit {
    pub code: i32,
    pub oom_killed: bool,
}

/// Blocks until the container's init exits.
pub async fn wait(socket: &Path) -> Result<Exit> {
    let (answer, _) = request(socket, "wait").await?;
    parse_exit(&answer)
        .ok_or_else(|| Error::internal(format!("shim sent a bad exit line: {answer}")))
}

fn parse_exit(line: &str) -> Option<Exit> {
    let mut it = line.strip_prefix("exit ")?.split_whitespace();
    let code = it.next()?.parse().ok()?;
    let oom_killed = it.next() == Some("1");
    Some(Exit { code, oom_killed })
}

/// Opens an attach stream; after `ok` the socket carries the container's output
/// and takes its input.
pub async fn attach(socket: &Path, stdin: bool, stdout: bool, stderr: bool) -> Result<UnixStream> {
    let line = format!("attach {} {} {}", stdin as u8, stdout as u8, stderr as u8);
    let (answer, stream) = request(socket, &line).await?;
    check_ok(&answer)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exit_lines() {
        assert_eq!(
            parse_exit("exit 3 0"),
            Some(Exit {
                code: 3,
                oom_killed: false
            })
        );
        assert_eq!(
            parse_exit("exit 137 1"),
            Some(Exit {
                code: 137,
                oom_killed: true
            })
        );
        assert_eq!(parse_exit("exit x"), None);
        assert!(check_ok("error boom").is_err());
    }
}
