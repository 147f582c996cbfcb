//! `run` and `create`: build the container configuration from flags, create
//! the container (pulling a missing image as docker does), and for `run`
//! attach, register the wait, start, stream, and exit with the container's
//! status; start errors map to 125/126/127 like docker's `toStatusError`.

use super::common::{errln, familiar, out, outln, split_tag, Ctx};
use crate::api::{enc, ApiError, Client};
use crate::args::{Arity, Flag, Parsed, Spec, BIN};
use crate::attach::{self, Streams};
use crate::error::{CliError, Result};
use crate::opts::container::{build, ContainerConfig, CONTAINER_FLAGS};
use std::thread::JoinHandle;

const RUN_FLAGS: &[Flag] = &[
    Flag::bool(
        "detach",
        Some('d'),
        "Run container in background and print container ID",
    ),
    Flag::str(
        "detach-keys",
        None,
        "Override the key sequence for detaching a container",
    ),
    Flag::bool("sig-proxy", None, "Proxy received signals to the process").default("true"),
];

pub const RUN_SPEC: Spec = Spec {
    path: "run",
    usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    about: "Create and run a new container from an image",
    aliases: "docker container run, docker run",
    flags: &[CONTAINER_FLAGS, RUN_FLAGS],
    interspersed: false,
    arity: Arity::Min(1),
};

pub const CREATE_SPEC: Spec = Spec {
    path: "create",
    usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    about: "Create a new container",
    aliases: "docker container create, docker create",
    flags: &[CONTAINER_FLAGS],
    interspersed: false,
    arity: Arity::Min(1),
};

/// docker's `withHelp`.
fn with_help(err: &str, cmd: &str) -> String {
    format!("{BIN}: {err}\n\nRun '{BIN} {cmd} --help' for more information")
}

/// docker's `toStatusError` for `run`.
fn status_error(err: &str) -> CliError {
    let code = if err.contains("executable file not found")
        || err.contains("no such file or directory")
        || err.contains("system cannot find the file specified")
    {
        127
    } else if err.contains("permission denied")
        || err.contains("is a directory")
        || err.contains("exec format error")
    {
        126
    } else {
        125
    };
    CliError::new(with_help(err, "run"), code)
}

fn pull(
    client: &Client,
    image: &str,
    platform: &str,
    quiet: bool,
) -> std::result::Result<(), String> {
    let (name, tag) = split_tag(image);
    let mut path = if image.contains('@') {
        format!("/images/create?fromImage={}", enc(image))
    } else {
        format!("/images/create?fromImage={}&tag={}", enc(&name), enc(&tag))
    };
    if !platform.is_empty() {
        path.push_str(&format!("&platform={}", enc(platform)));
    }
    let resp = client
        .request("POST", &path, crate::http::Body::Empty, &[])
        .map_err(|e| e.to_string())?;
    let mut stderr = std::io::stderr();
    let mut sink = std::io::sink();
    let w: &mut dyn std::io::Write = if quiet { &mut sink } else { &mut stderr };
    crate::jsonmsg::display(resp, w, |_| {}).map_err(|e| e.to_string())
}

/// Creates the container, pulling its image when missing; returns the ID.
fn create(client: &Client, c: &ContainerConfig) -> std::result::Result<String, String> {
    if !c.cidfile.is_empty() && std::path::Path::new(&c.cidfile).exists() {
        return Err(format!(
            "container ID file found, make sure the other container isn't running or delete {}",
            c.cidfile
        ));
    }
    let mut q = Vec::new();
    if !c.name.is_empty() {
        q.push(format!("name={}", enc(&c.name)));
    }
    if !c.platform.is_empty() {
        q.push(format!("platform={}", enc(&c.platform)));
    }
    let path = if q.is_empty() {
        "/containers/create".to_string()
    } else {
        format!("/containers/create?{}", q.join("&"))
    };
    if c.pull == "always" {
        pull(client, &c.image, &c.platform, c.quiet)?;
    }
    let resp = match client.post_json(&path, &c.body) {
        Ok(r) => r,
        Err(e) if is_missing_image(&e) && c.pull == "missing" => {
            if !c.quiet {
                errln(&format!(
                    "Unable to find image '{}' locally",
                    familiar(&super::common::with_latest(&c.image))
                ));
            }
            pull(client, &c.image, &c.platform, c.quiet)?;
            client
                .post_json(&path, &c.body)
                .map_err(|e| e.to_string())?
        }
        Err(e) => return Err(e.to_string()),
    };
    if let Some(w) = resp["Warnings"].as_array() {
        for w in w.iter().filter_map(|w| w.as_str()) {
            errln(&format!("WARNING: {w}"));
        }
    }
    let id = resp["Id"].as_str().unwrap_or("").to_string();
    if !c.cidfile.is_empty() {
        std::fs::write(&c.cidfile, &id)
            .map_err(|e| format!("failed to write the container ID to the file: {e}"))?;
    }
    Ok(id)
}

fn is_missing_image(e: &ApiError) -> bool {
    e.status() == Some(404)
        && e.daemon_message()
            .is_some_and(|m| m.to_lowercase().contains("image"))
}

fn console_size() -> Option<(u16, u16)> {
    crate::term::size(1)
}

/// `create`.
pub fn run_create(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let c = build(p, console_size()).map_err(|e| CliError::new(with_help(&e, "create"), 125))?;
    let id = create(&ctx.client, &c).map_err(CliError::msg)?;
    outln(&id);
    Ok(())
}

/// Registers `wait` before start and reads its answer on a thread.
pub fn wait_exit(
    client: &Client,
    id: &str,
    removed: bool,
) -> std::result::Result<JoinHandle<i32>, ApiError> {
    let condition = if removed { "removed" } else { "next-exit" };
    let d = client.request_deferred(
        "POST",
        &format!("/containers/{}/wait?condition={condition}", enc(id)),
    )?;
    Ok(std::thread::spawn(move || match d.json() {
        Ok(v) => {
            if let Some(m) = v["Error"]["Message"].as_str().filter(|m| !m.is_empty()) {
                errln(&format!("Error waiting for container: {m}"));
                return 125;
            }
            v["StatusCode"].as_i64().unwrap_or(125) as i32
        }
        Err(e) => {
            errln(&format!("error waiting for container: {e}"));
            125
        }
    }))
}

/// `run`.
pub fn run_run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let client = &ctx.client;
    let mut c = build(p, console_size()).map_err(|e| CliError::new(with_help(&e, "run"), 125))?;
    let detach = p.bool("detach");
    if !detach {
        if c.attach_stdin && c.tty && !crate::term::is_tty(0) {
            return Err(CliError::msg("the input device is not a TTY"));
        }
    } else {
        if p.changed("attach") {
            return Err(CliError::msg(
                "conflicting options: cannot specify both --attach and --detach",
            ));
        }
        c.attach_stdin = false;
        c.attach_stdout = false;
        c.attach_stderr = false;
        if let Some(o) = c.body.as_object_mut() {
            for k in ["AttachStdin", "AttachStdout", "AttachStderr", "StdinOnce"] {
                o.insert(k.into(), serde_json::Value::Bool(false));
            }
        }
    }
    let keys = attach::parse_detach_keys(&p.string("detach-keys"))
        .map_err(|e| CliError::msg(e.to_string()))?;
    berth_util::trace::mark("cli.run");
    let id = create(client, &c).map_err(|e| status_error(&e))?;
    berth_util::trace::mark("cli.created");
    let attached = c.attach_stdin || c.attach_stdout || c.attach_stderr;
    // As docker: no signal proxy in tty mode (the terminal sends them as keys).
    let sig_proxy = p.bool_or("sig-proxy", true) && !c.tty;
    let resize = attached && c.tty && crate::term::is_tty(1);
    crate::signals::start(client, &id, sig_proxy, resize);

    let streams = Streams {
        tty: c.tty,
        stdin: c.attach_stdin,
        stdout: c.attach_stdout,
        stderr: c.attach_stderr,
        detach_keys: keys,
    };
    let hijacked = if attached {
        let mut q = String::from("stream=1");
        for (on, name) in [
            (c.attach_stdin, "stdin"),
            (c.attach_stdout, "stdout"),
            (c.attach_stderr, "stderr"),
        ] {
            if on {
                q.push_str(&format!("&{name}=1"));
            }
        }
        if p.changed("detach-keys") {
            q.push_str(&format!("&detachKeys={}", enc(&p.string("detach-keys"))));
        }
        Some(client.hijack(&format!("/containers/{}/attach?{q}", enc(&id)))?)
    } else {
        None
    };
    let status = wait_exit(client, &id, c.auto_remove).map_err(|e| status_error(&e.to_string()))?;
    if !attached {
        outln(&id);
    }
    berth_util::trace::mark("cli.start");
    let started = client.post(&format!("/containers/{}/start", enc(&id)));
    berth_util::trace::mark("cli.started");
    if let Err(e) = started {
        drop(hijacked);
        if c.auto_remove {
            let _ = status.join();
        }
        return Err(status_error(&e.to_string()));
    }
    let Some(h) = hijacked else { return Ok(()) };
    if resize {
        crate::signals::resize(client, &id);
    }
    match attach::run(h, &streams) {
        Ok(attach::End::Detached) => {
            out("");
            return Ok(());
        }
        Ok(attach::End::Eof) => {}
        Err(e) => return Err(CliError::msg(e.to_string())),
    }
    berth_util::trace::mark("cli.eof");
    let code = status.join().unwrap_or(125);
    berth_util::trace::mark("cli.waited");
    if code != 0 {
        return Err(CliError::status(code));
    }
    Ok(())
}
