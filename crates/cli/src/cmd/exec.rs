//! `exec`: run a command in a running container, as docker's `RunExec`:
//! inspect the container first (so "no such container" wins), check the
//! terminal, create the exec instance, then either start it detached or
//! attach to it (hijacked stream, raw terminal, resize on `SIGWINCH`,
//! detach keys) and exit with the process's exit code, read from the exec
//! instance once its stream has ended (126/127 when it could not run).

use super::common::Ctx;
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::attach::{self, Streams};
use crate::error::{CliError, Result};
use crate::opts::kv;
use serde_json::{json, Value};

fn check_env(v: &str) -> std::result::Result<(), String> {
    kv::env_value(v).map(drop)
}

const EXEC_FLAGS: &[Flag] = &[
    Flag::bool(
        "detach",
        Some('d'),
        "Detached mode: run command in the background",
    ),
    Flag::str(
        "detach-keys",
        None,
        "Override the key sequence for detaching a container",
    ),
    Flag::list("env", Some('e'), "Set environment variables").check(check_env),
    Flag::list("env-file", None, "Read in a file of environment variables"),
    Flag::bool(
        "interactive",
        Some('i'),
        "Keep STDIN open even if not attached",
    ),
    Flag::bool(
        "privileged",
        None,
        "Give extended privileges to the command",
    ),
    Flag::bool("tty", Some('t'), "Allocate a pseudo-TTY"),
    Flag::str(
        "user",
        Some('u'),
        "Username or UID (format: \"<name|uid>[:<group|gid>]\")",
    ),
    Flag::str(
        "workdir",
        Some('w'),
        "Working directory inside the container",
    ),
];

pub const SPEC: Spec = Spec {
    path: "exec",
    usage: "[OPTIONS] CONTAINER COMMAND [ARG...]",
    about: "Execute a command in a running container",
    aliases: "docker container exec, docker exec",
    flags: &[EXEC_FLAGS],
    interspersed: false,
    arity: Arity::Min(2),
};

/// The body of `POST /containers/{id}/exec`, as docker's `parseExec`.
fn exec_options(p: &Parsed) -> Result<Value> {
    let mut env = Vec::new();
    for f in p.list("env-file") {
        env.extend(kv::parse_kv_file(&f, true).map_err(CliError::msg)?);
    }
    for e in p.list("env") {
        env.push(kv::env_value(&e).map_err(CliError::msg)?);
    }
    let detach = p.bool("detach");
    let tty = p.bool("tty");
    let mut body = json!({
        "User": p.string("user"),
        "Privileged": p.bool("privileged"),
        "Tty": tty,
        "AttachStdin": !detach && p.bool("interactive"),
        "AttachStdout": !detach,
        "AttachStderr": !detach,
        "DetachKeys": p.string("detach-keys"),
        "Env": env,
        "WorkingDir": p.string("workdir"),
        "Cmd": p.args[1..],
    });
    if let Some((h, w)) = crate::term::size(1).filter(|_| tty) {
        body["ConsoleSize"] = json!([h, w]);
    }
    Ok(body)
}

/// `exec`.
pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let client = &ctx.client;
    let container = &p.args[0];
    client.get_json(&format!("/containers/{}/json", enc(container)))?;
    let detach = p.bool("detach");
    let (tty, interactive) = (p.bool("tty"), p.bool("interactive"));
    if !detach && tty && interactive && !crate::term::is_tty(0) {
        return Err(CliError::msg("the input device is not a TTY"));
    }
    let keys = attach::parse_detach_keys(&p.string("detach-keys"))
        .map_err(|e| CliError::msg(e.to_string()))?;
    let body = exec_options(p)?;
    let created = client.post_json(&format!("/containers/{}/exec", enc(container)), &body)?;
    let id = created["Id"].as_str().unwrap_or("").to_string();
    if id.is_empty() {
        return Err(CliError::msg("exec ID empty"));
    }
    if detach {
        client.post_json(
            &format!("/exec/{}/start", enc(&id)),
            &json!({ "Detach": true, "Tty": tty }),
        )?;
        return Ok(());
    }
    let resize = tty && crate::term::is_tty(0);
    if resize {
        crate::signals::start_exec_resize(client, &id);
    }
    let h = client.hijack(&format!("/exec/{}/start", enc(&id)))?;
    if resize {
        crate::signals::resize_exec(client, &id);
    }
    let streams = Streams {
        tty,
        stdin: interactive,
        stdout: true,
        stderr: true,
        detach_keys: keys,
    };
    match attach::run(h, &streams) {
        Ok(attach::End::Detached) => return Err(CliError::msg("read escape sequence")),
        Ok(attach::End::Eof) => {}
        Err(e) => return Err(CliError::msg(e.to_string())),
    }
    let inspect = client.get_json(&format!("/exec/{}/json", enc(&id)))?;
    match inspect["ExitCode"].as_i64().unwrap_or(0) {
        0 => Ok(()),
        code => Err(CliError::status(i32::try_from(code).unwrap_or(1))),
    }
}
