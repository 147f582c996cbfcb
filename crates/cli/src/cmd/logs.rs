//! `logs`: fetches a container's log (following with `-f`), demultiplexing
//! frames to stdout/stderr unless the container has a tty.

use super::common::Ctx;
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::http::Body;
use crate::stream;

const FLAGS: &[Flag] = &[
    Flag::bool("details", None, "Show extra details provided to logs"),
    Flag::bool("follow", Some('f'), "Follow log output"),
    Flag::str("since", None, "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)"),
    Flag::str("tail", Some('n'), "Number of lines to show from the end of the logs").default("\"all\""),
    Flag::bool("timestamps", Some('t'), "Show timestamps"),
    Flag::str("until", None, "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)"),
];

pub const SPEC: Spec = Spec {
    path: "logs",
    usage: "[OPTIONS] CONTAINER",
    about: "Fetch the logs of a container",
    aliases: "docker container logs, docker logs",
    flags: &[FLAGS],
    interspersed: true,
    arity: Arity::Exact(1),
};

/// docker's `GetTimestamp`: `seconds.nanoseconds` for the API.
fn timestamp(flag: &str, v: &str) -> Result<String> {
    let now = berth_util::time::now_nanos();
    let n = berth_util::time::parse_timestamp(v, now).ok_or_else(|| {
        CliError::msg(format!(
            "invalid value for \"{flag}\": failed to parse value as time or duration: \"{v}\""
        ))
    })?;
    Ok(format!(
        "{}.{:09}",
        n.div_euclid(1_000_000_000),
        n.rem_euclid(1_000_000_000)
    ))
}

pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let c = ctx
        .client
        .get_json(&format!("/containers/{}/json", enc(&p.args[0])))?;
    let id = c["Id"].as_str().unwrap_or("");
    let tty = c["Config"]["Tty"].as_bool().unwrap_or(false);
    let mut q = vec!["stdout=1".to_string(), "stderr=1".to_string()];
    if let Some(s) = p.str("since").filter(|s| !s.is_empty()) {
        q.push(format!("since={}", timestamp("since", s)?));
    }
    if let Some(s) = p.str("until").filter(|s| !s.is_empty()) {
        q.push(format!("until={}", timestamp("until", s)?));
    }
    if p.bool("timestamps") {
        q.push("timestamps=1".into());
    }
    if p.bool("details") {
        q.push("details=1".into());
    }
    if p.bool("follow") {
        q.push("follow=1".into());
    }
    q.push(format!("tail={}", enc(p.str("tail").unwrap_or("all"))));
    let mut resp = ctx.client.request(
        "GET",
        &format!("/containers/{}/logs?{}", enc(id), q.join("&")),
        Body::Empty,
        &[],
    )?;
    let mut out = std::io::stdout().lock();
    if tty {
        stream::copy_raw(&mut resp, &mut out).map_err(|e| CliError::msg(e.to_string()))
    } else {
        let mut err = std::io::stderr().lock();
        stream::demux(&mut resp, &mut out, &mut err).map_err(|e| CliError::msg(e.to_string()))
    }
}
