//! Routes that change containers in place or clean up: pause, unpause,
//! rename, update, and the prunes (`/containers/prune`, plus the
//! build-cache prune that `docker system prune` calls: berth has no build
//! cache, so it reports nothing removed).

use crate::http::{self, json, read_json, Query, Resp};
use berth_daemon::update::UpdateConfig;
use berth_daemon::{Daemon, Error};
use hyper::body::Incoming;
use hyper::StatusCode;
use serde_json::{json as j, Value};
use std::sync::Arc;

pub async fn pause(d: &Arc<Daemon>, id: &str) -> Result<Resp, Error> {
    d.pause(id).await?;
    Ok(http::empty(StatusCode::NO_CONTENT))
}

pub async fn unpause(d: &Arc<Daemon>, id: &str) -> Result<Resp, Error> {
    d.unpause(id).await?;
    Ok(http::empty(StatusCode::NO_CONTENT))
}

pub async fn rename(d: &Arc<Daemon>, id: &str, q: &Query) -> Result<Resp, Error> {
    d.rename(id, q.str("name")).await?;
    Ok(http::empty(StatusCode::NO_CONTENT))
}

pub async fn update(d: &Arc<Daemon>, id: &str, body: Incoming) -> Result<Resp, Error> {
    let u = UpdateConfig::from_json(&read_json(body).await?)?;
    let warnings = d.update(id, &u).await?;
    Ok(json(StatusCode::OK, &j!({ "Warnings": warnings })))
}

/// A list as Docker's reports encode it: `null` when empty.
fn list_or_null(items: Vec<String>) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        Value::from(items)
    }
}

pub async fn container_prune(d: &Arc<Daemon>, q: &Query) -> Result<Resp, Error> {
    let report = d.prune_containers(q.str("filters")).await?;
    Ok(json(
        StatusCode::OK,
        &j!({
            "ContainersDeleted": list_or_null(report.deleted),
            "SpaceReclaimed": report.reclaimed,
        }),
    ))
}

pub async fn build_prune() -> Result<Resp, Error> {
    Ok(json(
        StatusCode::OK,
        &j!({ "CachesDeleted": null, "SpaceReclaimed": 0 }),
    ))
}
