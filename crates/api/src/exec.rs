//! Exec endpoints: `POST /containers/{id}/exec` (201 `{"Id"}`),
//! `POST /exec/{id}/start` (Docker's hijack as for attach, or `Detach`),
//! `POST /exec/{id}/resize`, `GET /exec/{id}/json`.
//!
//! An attached start answers `101` (or `200` without `Upgrade: tcp`, the
//! output then streamed as the body) and copies between the client and the
//! shim; the connection closes only once the exit code is recorded, so a
//! client that inspects the exec right after its stream ends (the docker
//! CLI does) reads it. A process that cannot run has its error written into
//! the stream, as Docker does, and exit code 126 or 127.

use crate::hijack::{self, Escape};
use crate::http::{self, Query, Resp};
use berth_daemon::exec::{ExecOptions, ExecStarted};
use berth_daemon::{Daemon, Error};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// The body of `POST /exec/{id}/start`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct StartOptions {
    detach: bool,
    /// `[height, width]`; overrides the one given at create.
    console_size: Option<[u16; 2]>,
}

/// `POST /containers/{id}/exec`.
pub async fn create(d: &Arc<Daemon>, id: &str, body: Incoming) -> Result<Resp, Error> {
    let value = http::read_json(body).await?;
    let options: ExecOptions = if value.is_null() {
        ExecOptions::default()
    } else {
        serde_json::from_value(value).map_err(|e| Error::invalid(format!("invalid JSON: {e}")))?
    };
    if !options.detach_keys.is_empty() {
        hijack::parse_detach_keys(&options.detach_keys).map_err(Error::invalid)?;
    }
    let exec_id = d.exec_create(id, options).await?;
    Ok(http::json(
        StatusCode::CREATED,
        &serde_json::json!({ "Id": exec_id }),
    ))
}

/// Reads the start body without consuming the request (it is upgraded).
async fn start_options(req: &mut Request<Incoming>) -> Result<StartOptions, Error> {
    let mut bytes = Vec::new();
    while let Some(frame) = req.body_mut().frame().await {
        let frame =
            frame.map_err(|e| Error::invalid(format!("failed to read request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(StartOptions::default());
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::invalid(format!("invalid JSON: {e}")))
}

/// `POST /exec/{id}/start`. Attached, the process starts only once the
/// answer is sent, as Docker's: a client that reads the answer through a
/// buffer (docker-py) would otherwise swallow the first output with it.
pub async fn start(d: &Arc<Daemon>, id: &str, mut req: Request<Incoming>) -> Result<Resp, Error> {
    let options = start_options(&mut req).await?;
    if options.detach {
        return match d.exec_start(id, true, options.console_size).await? {
            ExecStarted::Failed { message, .. } => Err(Error::internal(message)),
            _ => Ok(http::empty(StatusCode::OK)),
        };
    }
    let (entry, _) = d.exec_startable(id)?;
    let tty = entry.tty();
    let escape = Escape::new(entry.detach_keys()).filter(|_| tty);
    let upgrade = hijack::wants_upgrade(&req);
    let d = d.clone();
    let id = id.to_string();
    let starting = async move {
        let source = match d.exec_start(&id, false, options.console_size).await {
            Ok(ExecStarted::Attached { stream, .. }) => Source::Shim(stream),
            Ok(ExecStarted::Failed { message, .. }) => Source::Error(failure_bytes(&message, tty)),
            Ok(ExecStarted::Detached) => Source::Error(Bytes::new()),
            Err(e) => return (Source::Error(failure_bytes(&e.message, tty)), None),
        };
        (source, Some((d, id)))
    };
    if !upgrade {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            let (source, exec) = starting.await;
            match source {
                Source::Shim(mut shim) => {
                    let mut buf = vec![0u8; 32 * 1024];
                    while let Ok(n) = shim.read(&mut buf).await {
                        if n == 0 || tx.send(buf[..n].to_vec()).await.is_err() {
                            break;
                        }
                    }
                }
                Source::Error(bytes) => {
                    let _ = tx.send(bytes.to_vec()).await;
                }
            }
            if let Some((d, id)) = exec {
                let _ = d.exec_wait(&id).await;
            }
        });
        return Ok(http::stream(hijack::content_type(tty), rx));
    }
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let mut client = TokioIo::new(upgraded);
        let (source, exec) = starting.await;
        let done = async {
            if let Some((d, id)) = &exec {
                let _ = d.exec_wait(id).await;
            }
        };
        match source {
            Source::Shim(shim) => hijack::pump(client, shim, escape, done).await,
            Source::Error(bytes) => {
                use tokio::io::AsyncWriteExt;
                let _ = client.write_all(&bytes).await;
                done.await;
                let _ = client.shutdown().await;
            }
        }
    });
    Ok(hijack::response(true, tty))
}

/// Where the stream's bytes come from.
enum Source {
    Shim(tokio::net::UnixStream),
    /// A start failure's message, ready to send.
    Error(Bytes),
}

/// Docker writes a start failure into the stdout stream, with `\r\n`.
fn failure_bytes(message: &str, tty: bool) -> Bytes {
    let text = format!("{message}\r\n");
    let mut out = Vec::with_capacity(text.len() + 8);
    if !tty {
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX).to_be_bytes();
        out.extend_from_slice(&[1, 0, 0, 0]);
        out.extend_from_slice(&len);
    }
    out.extend_from_slice(text.as_bytes());
    Bytes::from(out)
}

/// `POST /exec/{id}/resize?h=&w=`.
pub async fn resize(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    let h = q.int("h")?.unwrap_or(0).clamp(0, u16::MAX as i64) as u16;
    let w = q.int("w")?.unwrap_or(0).clamp(0, u16::MAX as i64) as u16;
    d.exec_resize(id, h, w).await?;
    Ok(http::empty(StatusCode::OK))
}

/// `GET /exec/{id}/json`.
pub async fn inspect(d: &Arc<Daemon>, id: &str) -> Result<Resp, Error> {
    Ok(http::json(StatusCode::OK, &d.exec_inspect(id)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_framed_as_stdout_unless_tty() {
        let raw = failure_bytes("boom", true);
        assert_eq!(&raw[..], b"boom\r\n");
        let framed = failure_bytes("boom", false);
        assert_eq!(&framed[..8], &[1, 0, 0, 0, 0, 0, 0, 6]);
        assert_eq!(&framed[8..], b"boom\r\n");
    }
}
