//! `/volumes/...` routes: create, list, inspect, remove and prune volumes.

use crate::http::{self, json, read_json, Query, Resp};
use crate::router::version_tuple;
use berth_daemon::volumes::CreateRequest;
use berth_daemon::{Daemon, Error};
use hyper::body::Incoming;
use hyper::StatusCode;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The `VolumeCreateOptions` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CreateBody {
    name: Option<String>,
    driver: Option<String>,
    driver_opts: Option<BTreeMap<String, String>>,
    labels: Option<BTreeMap<String, String>>,
}

pub async fn create(d: &Arc<Daemon>, body: Incoming) -> Result<Resp, Error> {
    let v = read_json(body).await?;
    let b: CreateBody = if v.is_null() {
        CreateBody::default()
    } else {
        serde_json::from_value(v)
            .map_err(|e| Error::invalid(format!("invalid volume config: {e}")))?
    };
    let req = CreateRequest {
        name: b.name.unwrap_or_default(),
        driver: b.driver.unwrap_or_default(),
        options: b.driver_opts.unwrap_or_default(),
        labels: b.labels.unwrap_or_default(),
    };
    Ok(json(StatusCode::CREATED, &d.create_volume(&req)?))
}

pub async fn list(d: &Arc<Daemon>, q: &Query) -> Result<Resp, Error> {
    Ok(json(StatusCode::OK, &d.list_volumes(q.str("filters"))?))
}

pub async fn inspect(d: &Arc<Daemon>, name: &str) -> Result<Resp, Error> {
    Ok(json(
        StatusCode::OK,
        &d.inspect_volume(&http::decode(name))?,
    ))
}

pub async fn remove(d: &Arc<Daemon>, name: &str, q: &Query) -> Result<Resp, Error> {
    d.remove_volume(&http::decode(name), q.flag("force", false))?;
    Ok(http::empty(StatusCode::NO_CONTENT))
}

/// Clients older than API 1.42 expect every unused volume to be pruned.
pub async fn prune(d: &Arc<Daemon>, q: &Query, version: Option<&str>) -> Result<Resp, Error> {
    let old_client = version.is_some_and(|v| version_tuple(v) < (1, 42));
    let report = d.prune_volumes(q.str("filters"), old_client)?;
    Ok(json(StatusCode::OK, &report))
}
