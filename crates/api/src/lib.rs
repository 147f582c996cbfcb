//! berth-api: the Docker Engine API over HTTP/1.1 (UNIX socket or TCP).
//! Handlers only translate between HTTP and `berth_daemon` calls.

mod attach;
mod containers;
mod events;
mod exec;
mod fsops;
mod hijack;
pub mod http;
mod images;
mod manage;
mod networks;
mod observe;
pub mod router;
mod volumes;

use berth_daemon::Daemon;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// Serves one accepted connection until the client closes it.
pub fn serve_connection<S>(daemon: Arc<Daemon>, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let service = service_fn(move |req| {
            let d = daemon.clone();
            async move { Ok::<_, std::convert::Infallible>(router::route(d, req).await) }
        });
        let _ = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades()
            .await;
    });
}
