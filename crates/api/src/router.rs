//! One table from (method, path) to handler. Paths may carry a `/v1.NN`
//! prefix; versions outside what berthd serves are refused as Docker does.

use crate::http::{self, error, Query, Resp};
use crate::{attach, containers, events, exec, fsops, images, manage, networks, observe, volumes};
use berth_daemon::system::{API_VERSION, MIN_API_VERSION};
use berth_daemon::{Daemon, Error};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use std::sync::Arc;

/// Splits `/v1.41/containers/json` into (Some("1.41"), "/containers/json").
pub fn split_version(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        if let Some(i) = rest.find('/') {
            let v = &rest[..i];
            if v.split('.').count() == 2
                && v.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            {
                return (Some(v), &rest[i..]);
            }
        }
    }
    (None, path)
}

pub(crate) fn version_tuple(v: &str) -> (u32, u32) {
    let mut it = v.split('.').map(|p| p.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

pub async fn route(d: Arc<Daemon>, req: Request<Incoming>) -> Resp {
    let full = req.uri().path().to_string();
    let (version, path) = split_version(&full);
    if let Some(v) = version {
        if version_tuple(v) < version_tuple(MIN_API_VERSION) {
            return error(&Error::invalid(format!(
                "client version {v} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
            )));
        }
        if version_tuple(v) > version_tuple(API_VERSION) {
            return error(&Error::invalid(format!(
                "client version {v} is too new. Maximum supported API version is {API_VERSION}"
            )));
        }
    }
    let path = path.to_string();
    let q = Query::parse(req.uri().query());
    let method = req.method().clone();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let r = match (&method, segs.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => {
            let mut r = http::bytes(StatusCode::OK, "text/plain; charset=utf-8", "OK");
            r.headers_mut()
                .insert("Builder-Version", "1".parse().expect("static header"));
            r.headers_mut()
                .insert("Swarm", "inactive".parse().expect("static header"));
            r.headers_mut().insert(
                "Cache-Control",
                "no-cache, no-store, must-revalidate"
                    .parse()
                    .expect("static header"),
            );
            Ok(r)
        }
        (&Method::GET, ["version"]) => Ok(http::json(StatusCode::OK, &d.version())),
        (&Method::GET, ["info"]) => Ok(http::json(StatusCode::OK, &d.info())),
        (&Method::GET, ["system", "df"]) => observe::df(&d, &q).await,
        (&Method::GET, ["events"]) => events::events(&d, &q).await,
        (&Method::GET, ["containers", "json"]) => containers::list(&d, &q).await,
        (&Method::POST, ["containers", "create"]) => {
            containers::create(&d, &q, req.into_body()).await
        }
        (&Method::POST, ["containers", "prune"]) => manage::container_prune(&d, &q).await,
        (&Method::POST, ["networks", "prune"]) => networks::prune(&d, &q).await,
        (&Method::POST, ["build", "prune"]) => manage::build_prune().await,
        (&Method::GET, ["containers", id, "json"]) => containers::inspect(&d, id, &q).await,
        (&Method::GET, ["containers", id, "logs"]) => containers::logs(&d, id, &q).await,
        (&Method::GET, ["containers", id, "stats"]) => observe::stats(&d, id, &q).await,
        (&Method::GET, ["containers", id, "top"]) => observe::top(&d, id, &q).await,
        (&Method::GET, ["containers", id, "changes"]) => fsops::changes(&d, id).await,
        (&Method::GET, ["containers", id, "export"]) => fsops::export(&d, id).await,
        (&Method::HEAD, ["containers", id, "archive"]) => fsops::stat(&d, id, &q).await,
        (&Method::GET, ["containers", id, "archive"]) => fsops::get(&d, id, &q).await,
        (&Method::PUT, ["containers", id, "archive"]) => {
            fsops::put(&d, id, &q, req.into_body()).await
        }
        (&Method::POST, ["commit"]) => fsops::commit(&d, &q, req.into_body()).await,
        (&Method::POST, ["containers", id, "start"]) => containers::start(&d, id).await,
        (&Method::POST, ["containers", id, "stop"]) => containers::stop(&d, id, &q).await,
        (&Method::POST, ["containers", id, "restart"]) => containers::restart(&d, id, &q).await,
        (&Method::POST, ["containers", id, "kill"]) => containers::kill(&d, id, &q).await,
        (&Method::POST, ["containers", id, "wait"]) => containers::wait(&d, id, &q).await,
        (&Method::POST, ["containers", id, "resize"]) => containers::resize(&d, id, &q).await,
        (&Method::POST, ["containers", id, "pause"]) => manage::pause(&d, id).await,
        (&Method::POST, ["containers", id, "unpause"]) => manage::unpause(&d, id).await,
        (&Method::POST, ["containers", id, "rename"]) => manage::rename(&d, id, &q).await,
        (&Method::POST, ["containers", id, "update"]) => {
            manage::update(&d, id, req.into_body()).await
        }
        (&Method::POST, ["containers", id, "attach"]) => {
            let id = id.to_string();
            attach::attach(&d, &id, &q, req).await
        }
        (&Method::POST, ["containers", id, "exec"]) => exec::create(&d, id, req.into_body()).await,
        (&Method::POST, ["exec", id, "start"]) => {
            let id = id.to_string();
            exec::start(&d, &id, req).await
        }
        (&Method::POST, ["exec", id, "resize"]) => exec::resize(&d, id, &q).await,
        (&Method::GET, ["exec", id, "json"]) => exec::inspect(&d, id).await,
        (&Method::DELETE, ["containers", id]) => containers::remove(&d, id, &q).await,
        (&Method::GET, ["images", "json"]) => images::list(&d, &q).await,
        (&Method::POST, ["images", "load"]) => images::load(&d, req.into_body()).await,
        (&Method::POST, ["images", "create"]) => images::create(&d, &q, req.into_body()).await,
        (&Method::POST, ["images", "prune"]) => images::prune(&d, &q).await,
        (&Method::GET, ["images", "get"]) => images::save(&d, q.all("names").to_vec()).await,
        (&Method::GET | &Method::POST | &Method::DELETE, ["images", ..]) => {
            image_route(&d, &method, &path, &q).await
        }
        (&Method::GET, ["networks"]) => networks::list(&d, &q).await,
        (&Method::POST, ["networks", "create"]) => networks::create(&d, req.into_body()).await,
        (&Method::GET, ["networks", id]) => networks::inspect(&d, id).await,
        (&Method::DELETE, ["networks", id]) => networks::remove(&d, id).await,
        (&Method::POST, ["networks", id, "connect"]) => {
            networks::connect(&d, id, req.into_body()).await
        }
        (&Method::POST, ["networks", id, "disconnect"]) => {
            networks::disconnect(&d, id, req.into_body()).await
        }
        (&Method::GET, ["volumes"]) => volumes::list(&d, &q).await,
        (&Method::POST, ["volumes", "create"]) => volumes::create(&d, req.into_body()).await,
        (&Method::POST, ["volumes", "prune"]) => volumes::prune(&d, &q, version).await,
        (&Method::GET, ["volumes", name]) => volumes::inspect(&d, name).await,
        (&Method::DELETE, ["volumes", name]) => volumes::remove(&d, name, &q).await,
        _ => Err(Error::not_found(format!("page not found: {method} {path}"))),
    };
    containers::respond(r)
}

/// Image names contain `/` and `:`, so `/images/{name}/{op}` is split from the right.
async fn image_route(
    d: &Arc<Daemon>,
    method: &Method,
    path: &str,
    q: &Query,
) -> Result<Resp, Error> {
    let rest = path.trim_start_matches("/images/");
    let (name, op) = match rest.rsplit_once('/') {
        Some((n, op)) if matches!(op, "json" | "history" | "tag" | "get" | "push") => (n, op),
        _ => (rest, ""),
    };
    let name = http::decode(name);
    match (method, op) {
        (&Method::GET, "json") => images::inspect(d, &name).await,
        (&Method::GET, "history") => images::history(d, &name).await,
        (&Method::GET, "get") => images::save(d, vec![name]).await,
        (&Method::POST, "tag") => images::tag(d, &name, q).await,
        (&Method::DELETE, "") => images::remove(d, &name, q).await,
        _ => Err(Error::not_found(format!("page not found: {method} {path}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_version_prefix() {
        assert_eq!(
            split_version("/v1.41/containers/json"),
            (Some("1.41"), "/containers/json")
        );
        assert_eq!(
            split_version("/containers/json"),
            (None, "/containers/json")
        );
        assert_eq!(split_version("/volumes/x"), (None, "/volumes/x"));
        assert!(version_tuple("1.9") < version_tuple("1.24"));
    }
}
