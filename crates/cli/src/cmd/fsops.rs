//! Container filesystem commands: `diff` (`C /etc` lines from
//! `/containers/{id}/changes`), `commit` (`POST /commit`, prints the new
//! image ID) and `export` (`/containers/{id}/export` to `-o` or a
//! non-terminal stdout). `cp` lives in [`super::cp`].

use super::archive::copy_to_file;
use super::common::{outln, split_tag, Ctx};
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec, BIN};
use crate::error::{CliError, Result};
use crate::http::Body;
use crate::opts::kv::io_text;

pub const DIFF_SPEC: Spec = Spec {
    path: "diff",
    usage: "CONTAINER",
    about: "Inspect changes to files or directories on a container's filesystem",
    aliases: "docker container diff, docker diff",
    flags: &[],
    interspersed: true,
    arity: Arity::Exact(1),
};

pub fn diff(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let v = ctx
        .client
        .get_json(&format!("/containers/{}/changes", enc(&p.args[0])))?;
    for c in v.as_array().map(Vec::as_slice).unwrap_or_default() {
        let kind = match c["Kind"].as_i64() {
            Some(0) => 'C',
            Some(1) => 'A',
            Some(2) => 'D',
            _ => '?',
        };
        outln(&format!(
            "{kind} {}",
            c["Path"].as_str().unwrap_or_default()
        ));
    }
    Ok(())
}

const COMMIT_FLAGS: &[Flag] = &[
    Flag::str(
        "author",
        Some('a'),
        "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")",
    ),
    Flag::list(
        "change",
        Some('c'),
        "Apply Dockerfile instruction to the created image",
    ),
    Flag::str("message", Some('m'), "Commit message"),
    Flag::bool("pause", Some('p'), "Pause container during commit").default("true"),
];

pub const COMMIT_SPEC: Spec = Spec {
    path: "commit",
    usage: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
    about: "Create a new image from a container's changes",
    aliases: "docker container commit, docker commit",
    flags: &[COMMIT_FLAGS],
    interspersed: true,
    // 1 or 2, checked by the command for docker's wording.
    arity: Arity::Min(0),
};

pub fn commit(ctx: &Ctx, p: &Parsed) -> Result<()> {
    run_commit(ctx, p, "commit")
}

pub fn container_commit(ctx: &Ctx, p: &Parsed) -> Result<()> {
    run_commit(ctx, p, "container commit")
}

fn run_commit(ctx: &Ctx, p: &Parsed, path: &'static str) -> Result<()> {
    if p.args.is_empty() || p.args.len() > 2 {
        let spec = Spec {
            path,
            ..COMMIT_SPEC
        };
        return Err(CliError::msg(format!(
            "{BIN}: '{BIN} {path}' requires at least 1 and at most 2 arguments\n\nUsage:  {}\n\nRun '{BIN} {path} --help' for more information",
            spec.use_line(),
        )));
    }
    let mut q = vec![format!("container={}", enc(&p.args[0]))];
    if let Some(r) = p.args.get(1) {
        if r.contains('@') {
            return Err(CliError::msg(
                "refusing to create a tag with a digest reference",
            ));
        }
        let (repo, tag) = split_tag(r);
        q.push(format!("repo={}", enc(&repo)));
        if r.rsplit('/').next().is_some_and(|last| last.contains(':')) {
            q.push(format!("tag={}", enc(&tag)));
        }
    }
    q.push(format!("comment={}", enc(&p.string("message"))));
    q.push(format!("author={}", enc(&p.string("author"))));
    for c in p.list("change") {
        q.push(format!("changes={}", enc(&c)));
    }
    if !p.bool_or("pause", true) {
        q.push("pause=0".into());
    }
    let v = ctx.client.post_json(
        &format!("/commit?{}", q.join("&")),
        &serde_json::Value::Null,
    )?;
    outln(v["Id"].as_str().unwrap_or_default());
    Ok(())
}

const EXPORT_FLAGS: &[Flag] = &[Flag::str(
    "output",
    Some('o'),
    "Write to a file, instead of STDOUT",
)];

pub const EXPORT_SPEC: Spec = Spec {
    path: "export",
    usage: "[OPTIONS] CONTAINER",
    about: "Export a container's filesystem as a tar archive",
    aliases: "docker container export, docker export",
    flags: &[EXPORT_FLAGS],
    interspersed: true,
    arity: Arity::Exact(1),
};

pub fn export(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let output = p.string("output");
    let fail = |m: String| CliError::msg(format!("failed to export container: {m}"));
    if output.is_empty() {
        if crate::term::is_tty(1) {
            return Err(CliError::msg(
                "cowardly refusing to save to a terminal. Use the -o flag or redirect",
            ));
        }
    } else {
        let path = std::path::Path::new(&output);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Err(e) = std::fs::metadata(dir) {
                return Err(fail(format!(
                    "invalid output path: stat {}: {}",
                    dir.display(),
                    io_text(&e)
                )));
            }
        }
        if path.is_dir() {
            return Err(fail("cannot write to a directory".into()));
        }
    }
    let mut resp = ctx.client.request(
        "GET",
        &format!("/containers/{}/export", enc(&p.args[0])),
        Body::Empty,
        &[],
    )?;
    if output.is_empty() {
        let mut stdout = std::io::stdout().lock();
        return crate::stream::copy_raw(&mut resp, &mut stdout)
            .map_err(|e| CliError::msg(e.to_string()));
    }
    copy_to_file(&mut resp, &output).map_err(|e| fail(io_text(&e)))
}
