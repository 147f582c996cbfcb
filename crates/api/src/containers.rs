//! `/containers/...` routes: translate HTTP into daemon calls and back.

use crate::http::{self, error, json, read_json, Query, Resp};
use berth_daemon::lifecycle::WaitCondition;
use berth_daemon::logs::{parse_tail, LogOptions};
use berth_daemon::model::{Config, HostConfig};
use berth_daemon::{Daemon, Error};
use hyper::body::Incoming;
use hyper::StatusCode;
use serde_json::json as j;
use std::sync::Arc;

pub async fn create(d: &Arc<Daemon>, q: &Query, body: Incoming) -> Result<Resp, Error> {
    let v = read_json(body).await?;
    if v.is_null() {
        return Err(Error::invalid(
            "config cannot be empty in order to create a container",
        ));
    }
    let config: Config = serde_json::from_value(v.clone())
        .map_err(|e| Error::invalid(format!("invalid container config: {e}")))?;
    let host: HostConfig = match v.get("HostConfig") {
        Some(h) if !h.is_null() => serde_json::from_value(h.clone())
            .map_err(|e| Error::invalid(format!("invalid HostConfig: {e}")))?,
        _ => HostConfig::default(),
    };
    let mut config = config;
    // HostConfig arrives in the same object; keep it out of Config (the
    // daemon takes NetworkingConfig out itself).
    config.extra.remove("HostConfig");
    let id = d.create(q.get("name"), config, host).await?;
    Ok(json(StatusCode::CREATED, &j!({"Id": id, "Warnings": []})))
}

pub async fn list(d: &Arc<Daemon>, q: &Query) -> Result<Resp, Error> {
    let limit = q.int("limit")?.filter(|n| *n > 0).map(|n| n as usize);
    let list = d.list_containers(q.flag("all", false), limit, q.str("filters"))?;
    let list = crate::observe::list_sizes(d, q, list).await?;
    Ok(json(StatusCode::OK, &serde_json::Value::Array(list)))
}

pub async fn start(d: &Arc<Daemon>, id: &str) -> Result<Resp, Error> {
    d.start(id).await?;
    Ok(http::empty(StatusCode::NO_CONTENT))
}

pub async fn stop(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    d.stop(id, q.int("t")?, q.get("signal")).await?;
    Ok(http::empty(StatusCode::NO_CONTENT))
}

pub async fn restart(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    d.restart(id, q.int("t")?, q.get("signal")).await?;
    Ok(http::empty(StatusCode::NO_CONTENT))
}

pub async fn kill(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    d.kill(id, q.get("signal")).await?;
    Ok(http::empty(StatusCode::NO_CONTENT))
}

/// Answers with the headers at once and the body when the condition holds,
/// as Docker does (clients send this request before `start`).
pub async fn wait(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    let cond = WaitCondition::parse(q.str("condition"))?;
    d.containers.get(id)?;
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let d = d.clone();
    let id = id.to_string();
    tokio::spawn(async move {
        let body = match d.wait(&id, cond).await {
            Ok(code) => j!({"StatusCode": code, "Error": null}),
            Err(e) => j!({"StatusCode": -1, "Error": {"Message": e.message}}),
        };
        let mut bytes = serde_json::to_vec(&body).unwrap_or_default();
        bytes.push(b'\n');
        let _ = tx.send(bytes).await;
    });
    Ok(http::stream("application/json", rx))
}

pub async fn remove(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    d.remove_container(id, q.flag("force", false), q.flag("v", false))
        .await?;
    Ok(http::empty(StatusCode::NO_CONTENT))
}

pub async fn inspect(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    let v = crate::observe::inspect_sizes(d, q, d.inspect_container(id)?).await?;
    Ok(json(StatusCode::OK, &v))
}

pub async fn logs(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    let now = berth_util::time::now_nanos();
    let ts = |k: &str| -> Result<i128, Error> {
        match q.get(k) {
            None | Some("") | Some("0") => Ok(0),
            Some(v) => berth_util::time::parse_timestamp(v, now)
                .ok_or_else(|| Error::invalid(format!("invalid value for {k}: {v:?}"))),
        }
    };
    let opts = LogOptions {
        follow: q.flag("follow", false),
        stdout: q.flag("stdout", false),
        stderr: q.flag("stderr", false),
        since: ts("since")?,
        until: ts("until")?,
        timestamps: q.flag("timestamps", false),
        tail: parse_tail(q.str("tail"))?,
        details: q.flag("details", false),
    };
    if !opts.stdout && !opts.stderr {
        return Err(Error::invalid(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let (rx, tty) = d.logs(id, opts)?;
    let ct = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    Ok(http::stream(ct, rx))
}

pub async fn resize(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    let h = q.int("h")?.unwrap_or(0).clamp(0, u16::MAX as i64) as u16;
    let w = q.int("w")?.unwrap_or(0).clamp(0, u16::MAX as i64) as u16;
    d.resize(id, h, w).await?;
    Ok(http::empty(StatusCode::OK))
}

/// Maps any handler error to its response.
pub fn respond(r: Result<Resp, Error>) -> Resp {
    r.unwrap_or_else(|e| error(&e))
}
