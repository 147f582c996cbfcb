//! `/networks/...` routes: list, create, inspect, remove, prune, and
//! connecting and disconnecting containers.

use crate::http::{self, json, read_json, Query, Resp};
use berth_daemon::network::{ConnectRequest, CreateRequest};
use berth_daemon::{Daemon, Error};
use hyper::body::Incoming;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{json as j, Value};
use std::sync::Arc;

/// A JSON body as `T`; an empty body is `T::default()`.
async fn body<T: for<'de> Deserialize<'de> + Default>(b: Incoming, what: &str) -> Result<T, Error> {
    let v = read_json(b).await?;
    if v.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(v).map_err(|e| Error::invalid(format!("invalid {what}: {e}")))
}

pub async fn list(d: &Arc<Daemon>, q: &Query) -> Result<Resp, Error> {
    Ok(json(
        StatusCode::OK,
        &Value::Array(d.list_networks(q.str("filters"))?),
    ))
}

pub async fn create(d: &Arc<Daemon>, b: Incoming) -> Result<Resp, Error> {
    let req: CreateRequest = body(b, "network config").await?;
    let id = d.create_network(req).await?;
    Ok(json(StatusCode::CREATED, &j!({"Id": id, "Warning": ""})))
}

pub async fn inspect(d: &Arc<Daemon>, id: &str) -> Result<Resp, Error> {
    Ok(json(StatusCode::OK, &d.inspect_network(&http::decode(id))?))
}

pub async fn remove(d: &Arc<Daemon>, id: &str) -> Result<Resp, Error> {
    d.remove_network(&http::decode(id)).await?;
    Ok(http::empty(StatusCode::NO_CONTENT))
}

pub async fn prune(d: &Arc<Daemon>, q: &Query) -> Result<Resp, Error> {
    let removed = d.prune_networks(q.str("filters")).await?;
    let names = if removed.is_empty() {
        Value::Null
    } else {
        Value::from(removed)
    };
    Ok(json(StatusCode::OK, &j!({ "NetworksDeleted": names })))
}

pub async fn connect(d: &Arc<Daemon>, id: &str, b: Incoming) -> Result<Resp, Error> {
    let req: ConnectRequest = body(b, "connect request").await?;
    d.connect_network(&http::decode(id), req).await?;
    Ok(http::empty(StatusCode::OK))
}

/// The body of `POST /networks/{id}/disconnect`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DisconnectBody {
    container: String,
    force: bool,
}

pub async fn disconnect(d: &Arc<Daemon>, id: &str, b: Incoming) -> Result<Resp, Error> {
    let req: DisconnectBody = body(b, "disconnect request").await?;
    d.disconnect_network(&http::decode(id), &req.container, req.force)
        .await?;
    Ok(http::empty(StatusCode::OK))
}
