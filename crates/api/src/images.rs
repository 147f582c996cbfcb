//! `/images/...` routes.

use crate::http::{self, body_reader, json, ChannelWriter, Query, Resp};
use berth_daemon::{Daemon, Error};
use berth_image::{Deleted, Loaded};
use hyper::body::Incoming;
use hyper::StatusCode;
use serde_json::{json as j, Value};
use std::sync::Arc;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(e.to_string()))?
}

fn json_lines(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        out.extend(serde_json::to_vec(v).unwrap_or_default());
        out.push(b'\n');
    }
    out
}

fn deleted_json(items: &[Deleted]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|d| match d {
                Deleted::Untagged(t) => j!({"Untagged": t}),
                Deleted::Deleted(id) => j!({"Deleted": id}),
            })
            .collect(),
    )
}

fn emit_deleted(d: &Daemon, items: &[Deleted]) {
    for i in items {
        match i {
            Deleted::Untagged(t) => d.emit_image("untag", t),
            Deleted::Deleted(id) => d.emit_image("delete", id),
        }
    }
}

pub async fn list(d: &Arc<Daemon>, q: &Query) -> Result<Resp, Error> {
    let list = d.list_images(q.flag("all", false), q.str("filters"))?;
    Ok(json(StatusCode::OK, &Value::Array(list)))
}

pub async fn inspect(d: &Arc<Daemon>, name: &str) -> Result<Resp, Error> {
    Ok(json(StatusCode::OK, &d.images.inspect(name)?))
}

pub async fn history(d: &Arc<Daemon>, name: &str) -> Result<Resp, Error> {
    Ok(json(StatusCode::OK, &Value::Array(d.images.history(name)?)))
}

pub async fn tag(d: &Arc<Daemon>, name: &str, q: &Query) -> Result<Resp, Error> {
    let repo = q.str("repo");
    if repo.is_empty() {
        return Err(Error::invalid(
            "repository name must have at least one component",
        ));
    }
    let target = match q.get("tag").filter(|t| !t.is_empty()) {
        Some(t) => format!("{repo}:{t}"),
        None => repo.to_string(),
    };
    d.images.tag(name, &target)?;
    d.emit_image("tag", &target);
    Ok(http::empty(StatusCode::CREATED))
}

pub async fn remove(d: &Arc<Daemon>, name: &str, q: &Query) -> Result<Resp, Error> {
    let items = d.remove_image(name, q.flag("force", false), !q.flag("noprune", false))?;
    emit_deleted(d, &items);
    Ok(json(StatusCode::OK, &deleted_json(&items)))
}

pub async fn prune(d: &Arc<Daemon>, q: &Query) -> Result<Resp, Error> {
    let (items, space) = d.prune_images(q.str("filters"))?;
    emit_deleted(d, &items);
    Ok(json(
        StatusCode::OK,
        &j!({"ImagesDeleted": deleted_json(&items), "SpaceReclaimed": space}),
    ))
}

pub async fn load(d: &Arc<Daemon>, body: Incoming) -> Result<Resp, Error> {
    let reader = body_reader(body);
    let images = d.images.clone();
    let loaded = blocking(move || Ok(images.load(reader)?)).await?;
    for l in &loaded {
        match l {
            Loaded::Tag(t) => d.emit_image("load", t),
            Loaded::Id(id) => d.emit_image("load", id),
            Loaded::Renamed { .. } => {}
        }
    }
    let lines: Vec<Value> = loaded
        .iter()
        .map(|l: &Loaded| j!({"stream": format!("{l}\n")}))
        .collect();
    Ok(http::bytes(
        StatusCode::OK,
        "application/json",
        json_lines(&lines),
    ))
}

pub async fn save(d: &Arc<Daemon>, names: Vec<String>) -> Result<Resp, Error> {
    for n in &names {
        d.images.resolve(n)?;
        d.emit_image("save", n);
    }
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let images = d.images.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = images.save(&names, ChannelWriter(tx)) {
            eprintln!("berthd: save failed: {e}");
        }
    });
    Ok(http::stream("application/x-tar", rx))
}

/// `POST /images/create`: `fromSrc=-` imports the body; `fromImage` would pull.
pub async fn create(d: &Arc<Daemon>, q: &Query, body: Incoming) -> Result<Resp, Error> {
    if let Some(image) = q.get("fromImage") {
        let tag = q.get("tag").filter(|t| !t.is_empty()).unwrap_or("latest");
        return Err(Error::not_found(format!(
            "pull access denied for {image}:{tag}: berth has no registry client yet; load the image with `berth load`"
        )));
    }
    if q.str("fromSrc") != "-" {
        return Err(Error::invalid(
            "import from a URL is not supported yet; use a file or -",
        ));
    }
    let reference = match (
        q.get("repo").filter(|r| !r.is_empty()),
        q.get("tag").filter(|t| !t.is_empty()),
    ) {
        (Some(r), Some(t)) => Some(format!("{r}:{t}")),
        (Some(r), None) => Some(r.to_string()),
        _ => None,
    };
    let changes: Vec<String> = q.all("changes").to_vec();
    let message = q.str("message").to_string();
    let reader = body_reader(body);
    let images = d.images.clone();
    let id =
        blocking(move || Ok(images.import(reader, reference.as_deref(), &changes, &message)?))
            .await?;
    Ok(http::bytes(
        StatusCode::OK,
        "application/json",
        json_lines(&[j!({"status": id})]),
    ))
}
