//! `POST /containers/{id}/attach`: Docker's hijack. The client asks to
//! upgrade the connection (`Upgrade: tcp`); after `101` the socket carries
//! the container's output (framed for non-tty containers) and takes its input.
//! An attach before `start` is parked until the shim exists. On a tty, the
//! detach sequence (`detachKeys`, default ctrl-p,ctrl-q) typed by the client
//! ends the session and leaves the container running.

use crate::hijack::{self, Escape};
use crate::http::{Query, Resp};
use berth_daemon::{Daemon, Error};
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::sync::Arc;

pub async fn attach(
    d: &Arc<Daemon>,
    id: &str,
    q: &Query,
    req: Request<Incoming>,
) -> Result<Resp, Error> {
    let entry = d.containers.get(id)?;
    let streams = (
        q.flag("stdin", false),
        q.flag("stdout", false),
        q.flag("stderr", false),
    );
    let (running, tty, status) = {
        let rec = entry.lock();
        d.emit_container(&rec, "attach", &[]);
        (rec.state.running, rec.config.tty, rec.state.status.clone())
    };
    let shim_stream = if running {
        Some(Source::Now(d.attach_running(&entry.id, streams).await?))
    } else if status == "created" || status == "exited" {
        Some(Source::Later(d.attach_when_started(&entry, streams)))
    } else {
        None
    };
    let escape = Escape::new(q.str("detachKeys")).filter(|_| tty && streams.0);
    let resp = hijack::response(hijack::wants_upgrade(&req), tty);
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let client = TokioIo::new(upgraded);
        let shim = match shim_stream {
            Some(Source::Now(s)) => s,
            Some(Source::Later(rx)) => match rx.await {
                Ok(s) => s,
                Err(_) => return,
            },
            None => return,
        };
        hijack::pump(client, shim, escape, async {}).await;
    });
    Ok(resp)
}

enum Source {
    Now(tokio::net::UnixStream),
    Later(tokio::sync::oneshot::Receiver<tokio::net::UnixStream>),
}
