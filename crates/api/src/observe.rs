//! Routes that observe containers: `GET /containers/{id}/stats`,
//! `GET /containers/{id}/top`, `GET /system/df`, and the `size=1` extras of
//! the container list and inspect.

use crate::http::{self, json, Query, Resp};
use berth_daemon::observe::df::DfTypes;
use berth_daemon::{Daemon, Error};
use hyper::StatusCode;
use serde_json::Value;
use std::sync::Arc;

/// Runs a blocking daemon call (directory walks) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(e.to_string()))?
}

pub async fn stats(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    let stream = q.flag("stream", true);
    let one_shot = q.flag("one-shot", false);
    if one_shot && stream {
        return Err(Error::invalid("cannot have stream=true and one-shot=true"));
    }
    let rx = d.container_stats(id, stream, one_shot)?;
    Ok(http::stream("application/json", rx))
}

pub async fn top(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    let v = d.top(id, q.str("ps_args")).await?;
    Ok(json(StatusCode::OK, &v))
}

pub async fn df(d: &Arc<Daemon>, q: &Query) -> Result<Resp, Error> {
    let types = DfTypes::parse(q.all("type"))?;
    let d = d.clone();
    let v = blocking(move || d.disk_usage(types)).await?;
    Ok(json(StatusCode::OK, &v))
}

/// Adds `SizeRw`/`SizeRootFs` to a container list when `size=1` asked for them.
pub async fn list_sizes(d: &Arc<Daemon>, q: &Query, list: Vec<Value>) -> Result<Vec<Value>, Error> {
    if !q.flag("size", false) {
        return Ok(list);
    }
    let d = d.clone();
    blocking(move || {
        let mut list = list;
        d.add_summary_sizes(&mut list);
        Ok(list)
    })
    .await
}

/// Adds `SizeRw`/`SizeRootFs` to an inspect object when `size=1` asked for them.
pub async fn inspect_sizes(d: &Arc<Daemon>, q: &Query, v: Value) -> Result<Value, Error> {
    if !q.flag("size", false) {
        return Ok(v);
    }
    let d = d.clone();
    blocking(move || {
        let mut v = v;
        d.add_inspect_sizes(&mut v);
        Ok(v)
    })
    .await
}
