//! Container filesystem routes: `GET /containers/{id}/changes`,
//! `GET /containers/{id}/export`, `HEAD|GET|PUT /containers/{id}/archive`
//! and `POST /commit`.

use crate::http::{self, body_reader, json, read_json, ChannelWriter, Query, Resp};
use berth_daemon::fsops::archive::{PathStat, PutOptions};
use berth_daemon::fsops::commit::CommitOptions;
use berth_daemon::{Daemon, Error};
use hyper::body::Incoming;
use hyper::StatusCode;
use serde_json::{json as j, Value};
use std::sync::Arc;

const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

/// Standard base64 with padding (the stat header's encoding).
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn with_stat(mut r: Resp, stat: &PathStat) -> Resp {
    let v = base64(stat.to_json().to_string().as_bytes());
    if let Ok(h) = v.parse() {
        r.headers_mut().insert(STAT_HEADER, h);
    }
    r
}

pub async fn changes(d: &Arc<Daemon>, id: &str) -> Result<Resp, Error> {
    let list = d.container_changes(id).await?;
    if list.is_empty() {
        return Ok(json(StatusCode::OK, &Value::Null));
    }
    let items: Vec<Value> = list
        .iter()
        .map(|c| j!({"Path": c.path, "Kind": c.kind as i32}))
        .collect();
    Ok(json(StatusCode::OK, &Value::Array(items)))
}

pub async fn export(d: &Arc<Daemon>, id: &str) -> Result<Resp, Error> {
    let job = d.export(id).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = job.write_to(ChannelWriter(tx)) {
            eprintln!("berthd: export failed: {e}");
        }
    });
    Ok(http::stream("application/octet-stream", rx))
}

pub async fn stat(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    let stat = d.stat_path(id, q.str("path")).await?;
    Ok(with_stat(http::empty(StatusCode::OK), &stat))
}

pub async fn get(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    let (stat, job) = d.archive_path(id, q.str("path")).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = job.write_to(ChannelWriter(tx)) {
            eprintln!("berthd: archive failed: {e}");
        }
    });
    Ok(with_stat(http::stream("application/x-tar", rx), &stat))
}

pub async fn put(d: &Arc<Daemon>, id: &str, q: &Query, body: Incoming) -> Result<Resp, Error> {
    let opts = PutOptions {
        no_overwrite_dir_non_dir: q.flag("noOverwriteDirNonDir", false),
        copy_uid_gid: q.flag("copyUIDGID", false),
    };
    d.extract_to_dir(id, q.str("path"), opts, body_reader(body))
        .await?;
    Ok(http::empty(StatusCode::OK))
}

/// `POST /commit?container=&repo=&tag=&comment=&author=&changes=&pause=`.
pub async fn commit(d: &Arc<Daemon>, q: &Query, body: Incoming) -> Result<Resp, Error> {
    let config = read_json(body).await?;
    let reference = match (
        q.get("repo").filter(|r| !r.is_empty()),
        q.get("tag").filter(|t| !t.is_empty()),
    ) {
        (Some(r), Some(t)) => Some(format!("{r}:{t}")),
        (Some(r), None) => Some(r.to_string()),
        (None, Some(_)) => {
            return Err(Error::invalid(
                "invalid reference format: repository name must have at least one component",
            ))
        }
        (None, None) => None,
    };
    let opts = CommitOptions {
        reference,
        comment: q.str("comment").to_string(),
        author: q.str("author").to_string(),
        changes: q.all("changes").to_vec(),
        pause: q.flag("pause", true),
        config: config.is_object().then_some(config),
    };
    let id = d.commit(q.str("container"), opts).await?;
    Ok(json(StatusCode::CREATED, &j!({ "Id": id })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(
            base64(br#"{"name":"f","size":5,"mode":8389065,"mtime":"2026-11-23T17:05:09Z","linkTarget":""}"#),
            "eyJuYW1lIjoiZiIsInNpemUiOjUsIm1vZGUiOjgzODkwNjUsIm10aW1lIjoiMjAyNi0xMS0yM1QxNzowNTowOVoiLCJsaW5rVGFyZ2V0IjoiIn0="
        );
    }
}
