//! `GET /events`: replays history from `since`, streams live events as
//! JSON lines until `until` (or forever), filtered like Docker.

use crate::http::{self, Query, Resp};
use berth_daemon::events::Event;
use berth_daemon::filters::Filters;
use berth_daemon::{Daemon, Error};
use std::sync::Arc;
use std::time::Duration;

const EVENT_FILTERS: &[&str] = &[
    "container",
    "event",
    "image",
    "label",
    "type",
    "volume",
    "network",
    "daemon",
    "scope",
    "node",
    "config",
    "secret",
    "service",
    "plugin",
];

fn matches(f: &Filters, e: &Event) -> bool {
    let attr = |k: &str| e.attributes.get(k).map(String::as_str).unwrap_or("");
    let actor_is = |v: &str| e.actor_id == v || e.actor_id.starts_with(v) || attr("name") == v;
    f.any("type", |v| v == e.kind)
        && f.any("event", |v| {
            v == e.action || e.action.starts_with(&format!("{v}:"))
        })
        && (!f.has("container")
            || (e.kind == "container" && f.get("container").iter().any(|v| actor_is(v))))
        && (!f.has("image")
            || f.get("image")
                .iter()
                .any(|v| attr("image") == v || (e.kind == "image" && actor_is(v))))
        && (!f.has("network")
            || (e.kind == "network" && f.get("network").iter().any(|v| actor_is(v))))
        && (!f.has("volume") || (e.kind == "volume" && f.get("volume").iter().any(|v| actor_is(v))))
        && f.get("label").iter().all(|l| match l.split_once('=') {
            Some((k, v)) => attr(k) == v,
            None => e.attributes.contains_key(l.as_str()),
        })
}

pub async fn events(d: &Arc<Daemon>, q: &Query) -> Result<Resp, Error> {
    let now = berth_util::time::now_nanos();
    let ts = |k: &str| -> Result<Option<i128>, Error> {
        match q.get(k) {
            None | Some("") => Ok(None),
            Some(v) => berth_util::time::parse_timestamp(v, now)
                .map(Some)
                .ok_or_else(|| Error::invalid(format!("invalid value for {k}: {v:?}"))),
        }
    };
    let since = ts("since")?;
    let until = ts("until")?;
    let f = Filters::parse(q.str("filters"), EVENT_FILTERS)?;
    let (past, mut live) = d.events.subscribe(since.or(until.map(|_| 0)));
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let line = |e: &Event| {
            let mut b = serde_json::to_vec(&e.to_json()).unwrap_or_default();
            b.push(b'\n');
            b
        };
        for e in past
            .iter()
            .filter(|e| until.is_none_or(|u| e.time_nanos <= u))
        {
            if matches(&f, e) && tx.send(line(e)).await.is_err() {
                return;
            }
        }
        loop {
            let wait = match until {
                Some(u) => {
                    let left = u - berth_util::time::now_nanos();
                    if left <= 0 {
                        return;
                    }
                    Duration::from_nanos(left as u64)
                }
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                got = live.recv() => match got {
                    Ok(e) => {
                        if until.is_some_and(|u| e.time_nanos > u) {
                            return;
                        }
                        if matches(&f, &e) && tx.send(line(&e)).await.is_err() {
                            return;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                },
                _ = tokio::time::sleep(wait) => if until.is_some() { return },
                _ = tx.closed() => return,
            }
        }
    });
    Ok(http::stream("application/json", rx))
}
