//! Container lifecycle commands: `start` (with `-a`/`-i` attach), `stop`,
//! `kill`, `restart`, `wait` and `rm`, printing each name given on success
//! and joining per-container errors as docker does.

use super::common::{errln, outln, Ctx};
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::attach::{self, Streams};
use crate::error::{CliError, Result};

/// Runs `f` for every container, printing the name on success; errors are
/// joined into one message (exit 1) as docker's `errors.Join`.
pub(super) fn each(
    names: &[String],
    mut f: impl FnMut(&str) -> std::result::Result<(), String>,
) -> Result<()> {
    let mut errs = Vec::new();
    for n in names {
        match f(n) {
            Ok(()) => outln(n),
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(CliError::msg(errs.join("\n")))
    }
}

const START_FLAGS: &[Flag] = &[
    Flag::bool(
        "attach",
        Some('a'),
        "Attach STDOUT/STDERR and forward signals",
    ),
    Flag::str("checkpoint", None, "Restore from this checkpoint"),
    Flag::str(
        "checkpoint-dir",
        None,
        "Use a custom checkpoint storage directory",
    ),
    Flag::str(
        "detach-keys",
        None,
        "Override the key sequence for detaching a container",
    ),
    Flag::bool("interactive", Some('i'), "Attach container's STDIN"),
];

pub const START_SPEC: Spec = Spec {
    path: "start",
    usage: "[OPTIONS] CONTAINER [CONTAINER...]",
    about: "Start one or more stopped containers",
    aliases: "docker container start, docker start",
    flags: &[START_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub fn start(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let client = &ctx.client;
    if p.bool("attach") || p.bool("interactive") {
        if p.args.len() > 1 {
            return Err(CliError::msg(
                "you cannot start and attach multiple containers at once",
            ));
        }
        let c = client.get_json(&format!("/containers/{}/json", enc(&p.args[0])))?;
        let id = c["Id"].as_str().unwrap_or("").to_string();
        let tty = c["Config"]["Tty"].as_bool().unwrap_or(false);
        let stdin = p.bool("interactive") && c["Config"]["OpenStdin"].as_bool().unwrap_or(false);
        let auto_remove = c["HostConfig"]["AutoRemove"].as_bool().unwrap_or(false);
        let keys = attach::parse_detach_keys(&p.string("detach-keys"))
            .map_err(|e| CliError::msg(e.to_string()))?;
        let resize = tty && crate::term::is_tty(1);
        crate::signals::start(client, &id, !tty, resize);
        let mut q = String::from("stream=1&stdout=1&stderr=1");
        if stdin {
            q.push_str("&stdin=1");
        }
        if p.changed("detach-keys") {
            q.push_str(&format!("&detachKeys={}", enc(&p.string("detach-keys"))));
        }
        let h = client.hijack(&format!("/containers/{}/attach?{q}", enc(&id)))?;
        let status = super::run::wait_exit(client, &id, auto_remove)?;
        if let Err(e) = client.post(&format!("/containers/{}/start", enc(&id))) {
            drop(h);
            if auto_remove {
                let _ = status.join();
            }
            return Err(e.into());
        }
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
            Ok(attach::End::Detached) => return Ok(()),
            Ok(attach::End::Eof) => {}
            Err(e) => return Err(CliError::msg(e.to_string())),
        }
        let code = status.join().unwrap_or(125);
        return if code != 0 {
            Err(CliError::status(code))
        } else {
            Ok(())
        };
    }
    let mut failed = Vec::new();
    for n in &p.args {
        match client.post(&format!("/containers/{}/start", enc(n))) {
            Ok(_) => outln(n),
            Err(e) => {
                errln(&e.to_string());
                failed.push(n.clone());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::msg(format!(
            "Error: failed to start containers: {}",
            failed.join(", ")
        )))
    }
}

const STOP_FLAGS: &[Flag] = &[
    Flag::str("signal", Some('s'), "Signal to send to the container"),
    Flag::int(
        "timeout",
        Some('t'),
        "Seconds to wait before killing the container",
    ),
    Flag::int(
        "time",
        None,
        "Seconds to wait before killing the container (deprecated: use --timeout)",
    )
    .hidden(),
];

pub const STOP_SPEC: Spec = Spec {
    path: "stop",
    usage: "[OPTIONS] CONTAINER [CONTAINER...]",
    about: "Stop one or more running containers",
    aliases: "docker container stop, docker stop",
    flags: &[STOP_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub const RESTART_SPEC: Spec = Spec {
    path: "restart",
    usage: "[OPTIONS] CONTAINER [CONTAINER...]",
    about: "Restart one or more containers",
    aliases: "docker container restart, docker restart",
    flags: &[STOP_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

fn stop_query(ctx: &Ctx, p: &Parsed) -> Result<String> {
    if p.changed("time") && p.changed("timeout") {
        return Err(CliError::msg("conflicting options: --time and --timeout"));
    }
    let mut q = Vec::new();
    if let Some(s) = p.str("signal").filter(|s| !s.is_empty()) {
        if ctx.client.at_least("1.42") {
            q.push(format!("signal={}", enc(s)));
        }
    }
    if let Some(t) = p.int("timeout").or_else(|| p.int("time")) {
        q.push(format!("t={t}"));
    }
    Ok(if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    })
}

pub fn stop(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let q = stop_query(ctx, p)?;
    each(&p.args, |n| {
        ctx.client
            .post(&format!("/containers/{}/stop{q}", enc(n)))
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

pub fn restart(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let q = stop_query(ctx, p)?;
    each(&p.args, |n| {
        ctx.client
            .post(&format!("/containers/{}/restart{q}", enc(n)))
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

const KILL_FLAGS: &[Flag] = &[Flag::str(
    "signal",
    Some('s'),
    "Signal to send to the container",
)];

pub const KILL_SPEC: Spec = Spec {
    path: "kill",
    usage: "[OPTIONS] CONTAINER [CONTAINER...]",
    about: "Kill one or more running containers",
    aliases: "docker container kill, docker kill",
    flags: &[KILL_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub fn kill(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let q = match p.str("signal").filter(|s| !s.is_empty()) {
        Some(s) => format!("?signal={}", enc(s)),
        None => String::new(),
    };
    each(&p.args, |n| {
        ctx.client
            .post(&format!("/containers/{}/kill{q}", enc(n)))
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

pub const WAIT_SPEC: Spec = Spec {
    path: "wait",
    usage: "CONTAINER [CONTAINER...]",
    about: "Block until one or more containers stop, then print their exit codes",
    aliases: "docker container wait, docker wait",
    flags: &[],
    interspersed: true,
    arity: Arity::Min(1),
};

pub fn wait(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let mut errs = Vec::new();
    for n in &p.args {
        let r = ctx
            .client
            .request_deferred("POST", &format!("/containers/{}/wait", enc(n)))
            .and_then(|d| d.json());
        match r {
            Ok(v) => outln(&v["StatusCode"].as_i64().unwrap_or(0).to_string()),
            Err(e) => errs.push(e.to_string()),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(CliError::msg(errs.join("\n")))
    }
}

const RM_FLAGS: &[Flag] = &[
    Flag::bool(
        "force",
        Some('f'),
        "Force the removal of a running container (uses SIGKILL)",
    ),
    Flag::bool("link", Some('l'), "Remove the specified link"),
    Flag::bool(
        "volumes",
        Some('v'),
        "Remove anonymous volumes associated with the container",
    ),
];

pub const RM_SPEC: Spec = Spec {
    path: "rm",
    usage: "[OPTIONS] CONTAINER [CONTAINER...]",
    about: "Remove one or more containers",
    aliases: "docker container rm, docker container remove, docker rm",
    flags: &[RM_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub fn rm(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let mut q = Vec::new();
    if p.bool("volumes") {
        q.push("v=1");
    }
    if p.bool("link") {
        q.push("link=1");
    }
    if p.bool("force") {
        q.push("force=1");
    }
    let q = if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    };
    let force = p.bool("force");
    let mut errs = Vec::new();
    for n in &p.args {
        let id = n.trim_matches('/');
        if id.is_empty() {
            errs.push("container name cannot be empty".to_string());
            continue;
        }
        match ctx.client.delete(&format!("/containers/{}{q}", enc(id))) {
            Ok(_) => outln(n),
            Err(e) if force && e.status() == Some(404) => errln(&e.to_string()),
            Err(e) => errs.push(e.to_string()),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(CliError::msg(errs.join("\n")))
    }
}
