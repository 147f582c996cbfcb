//! `attach`: connect the terminal to a running container's stdio, as
//! docker's `RunAttach`: the container must be running (checked again once
//! attached, the wait being registered in between), stdin is attached
//! unless `--no-stdin` (and only when the container keeps it open), signals
//! are proxied for non-tty containers
//! (`--sig-proxy`), the tty follows our terminal's size, the detach keys
//! end the session with "read escape sequence", and the exit status is the
//! container's once its output ends.

use super::common::Ctx;
use crate::api::{enc, Client};
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::attach::{self, Streams};
use crate::error::{CliError, Result};
use serde_json::Value;

const ATTACH_FLAGS: &[Flag] = &[
    Flag::str(
        "detach-keys",
        None,
        "Override the key sequence for detaching a container",
    ),
    Flag::bool("no-stdin", None, "Do not attach STDIN"),
    Flag::bool(
        "sig-proxy",
        None,
        "Proxy all received signals to the process",
    )
    .default("true"),
];

pub const SPEC: Spec = Spec {
    path: "attach",
    usage: "[OPTIONS] CONTAINER",
    about: "Attach local standard input, output, and error streams to a running container",
    aliases: "docker container attach, docker attach",
    flags: &[ATTACH_FLAGS],
    interspersed: true,
    arity: Arity::Exact(1),
};

/// Inspects the container and refuses what cannot be attached to, with
/// docker's messages.
fn running_container(client: &Client, name: &str) -> Result<Value> {
    let c = client.get_json(&format!("/containers/{}/json", enc(name)))?;
    let state = &c["State"];
    let flag = |k: &str| state[k].as_bool().unwrap_or(false);
    if !flag("Running") {
        return Err(CliError::msg(
            "You cannot attach to a stopped container, start it first",
        ));
    }
    if flag("Paused") {
        return Err(CliError::msg(
            "You cannot attach to a paused container, unpause it first",
        ));
    }
    if flag("Restarting") {
        return Err(CliError::msg(
            "You cannot attach to a restarting container, wait until it is running",
        ));
    }
    Ok(c)
}

/// `attach`.
pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let client = &ctx.client;
    let name = &p.args[0];
    let c = running_container(client, name)?;
    let id = c["Id"].as_str().unwrap_or(name).to_string();
    let tty = c["Config"]["Tty"].as_bool().unwrap_or(false);
    let no_stdin = p.bool("no-stdin");
    if tty && !no_stdin && !crate::term::is_tty(0) {
        return Err(CliError::msg("the input device is not a TTY"));
    }
    let keys = attach::parse_detach_keys(&p.string("detach-keys"))
        .map_err(|e| CliError::msg(e.to_string()))?;
    let stdin = !no_stdin && c["Config"]["OpenStdin"].as_bool().unwrap_or(false);
    let resize = tty && crate::term::is_tty(1);
    // Before any thread exists: the signals are blocked in every thread.
    crate::signals::start(client, &id, p.bool_or("sig-proxy", true) && !tty, resize);
    let status = super::run::wait_exit(client, &id, false)?;
    let mut q = String::from("stream=1&stdout=1&stderr=1");
    if stdin {
        q.push_str("&stdin=1");
    }
    if p.changed("detach-keys") {
        q.push_str(&format!("&detachKeys={}", enc(&p.string("detach-keys"))));
    }
    let h = client.hijack(&format!("/containers/{}/attach?{q}", enc(&id)))?;
    // It may have stopped meanwhile: then the attach would never end.
    running_container(client, &id)?;
    if resize {
        crate::signals::resize(client, &id);
    }
    let streams = Streams {
        tty,
        stdin,
        stdout: true,
        stderr: true,
        detach_keys: keys,
    };
    match attach::run(h, &streams) {
        Ok(attach::End::Detached) => return Err(CliError::msg("read escape sequence")),
        Ok(attach::End::Eof) => {}
        Err(e) => return Err(CliError::msg(e.to_string())),
    }
    match status.join().unwrap_or(125) {
        0 => Ok(()),
        code => Err(CliError::status(code)),
    }
}
