//! Image archives: `load` (tar from `-i` or stdin to `/images/load`),
//! `save` (`/images/get` to `-o` or a non-terminal stdout), and `import`
//! (file, `-` or URL to `/images/create?fromSrc=`).

use super::common::{split_tag, Ctx};
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::http::Body;
use crate::opts::kv::io_text;
use std::io::Write;

const LOAD_FLAGS: &[Flag] = &[
    Flag::str("input", Some('i'), "Read from tar archive file, instead of STDIN"),
    Flag::str("platform", None, "Load only the given platform variant. Formatted as \"os[/arch[/variant]]\" (e.g., \"linux/amd64\")"),
    Flag::bool("quiet", Some('q'), "Suppress the load output"),
];

pub const LOAD_SPEC: Spec = Spec {
    path: "load",
    usage: "[OPTIONS]",
    about: "Load an image from a tar archive or STDIN",
    aliases: "docker image load, docker load",
    flags: &[LOAD_FLAGS],
    interspersed: true,
    arity: Arity::None,
};

fn open(path: &str) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|e| CliError::msg(format!("open {path}: {}", io_text(&e))))
}

fn show_stream(resp: crate::http::Response) -> Result<()> {
    let json = resp
        .header("Content-Type")
        .is_some_and(|c| c.contains("json"));
    let mut stdout = std::io::stdout().lock();
    if json {
        crate::jsonmsg::display(resp, &mut stdout, |_| {}).map_err(|e| CliError::msg(e.to_string()))
    } else {
        let mut r = resp;
        crate::stream::copy_raw(&mut r, &mut stdout).map_err(|e| CliError::msg(e.to_string()))
    }
}

pub fn load(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let input = p.string("input");
    let mut file;
    let mut stdin;
    let reader: &mut dyn std::io::Read = if input.is_empty() {
        if crate::term::is_tty(0) {
            return Err(CliError::msg(
                "requested load from stdin, but stdin is empty",
            ));
        }
        stdin = std::io::stdin().lock();
        &mut stdin
    } else {
        file = open(&input)?;
        &mut file
    };
    let mut q = Vec::new();
    if p.bool("quiet") || !crate::term::is_tty(1) {
        q.push("quiet=1".to_string());
    }
    if let Some(pl) = p.str("platform").filter(|s| !s.is_empty()) {
        q.push(format!(
            "platform={}",
            enc(&super::images::platform_json(pl))
        ));
    }
    let path = if q.is_empty() {
        "/images/load".to_string()
    } else {
        format!("/images/load?{}", q.join("&"))
    };
    let resp = ctx.client.request(
        "POST",
        &path,
        Body::Stream(reader),
        &[("Content-Type", "application/x-tar")],
    )?;
    show_stream(resp)
}

const SAVE_FLAGS: &[Flag] = &[
    Flag::str("output", Some('o'), "Write to a file, instead of STDOUT"),
    Flag::str("platform", None, "Save only the given platform variant. Formatted as \"os[/arch[/variant]]\" (e.g., \"linux/amd64\")"),
];

pub const SAVE_SPEC: Spec = Spec {
    path: "save",
    usage: "[OPTIONS] IMAGE [IMAGE...]",
    about: "Save one or more images to a tar archive (streamed to STDOUT by default)",
    aliases: "docker image save, docker save",
    flags: &[SAVE_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub fn save(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let output = p.string("output");
    if output.is_empty() && crate::term::is_tty(1) {
        return Err(CliError::msg(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect",
        ));
    }
    let mut q: Vec<String> = p.args.iter().map(|n| format!("names={}", enc(n))).collect();
    if let Some(pl) = p.str("platform").filter(|s| !s.is_empty()) {
        q.push(format!(
            "platform={}",
            enc(&super::images::platform_json(pl))
        ));
    }
    let mut resp = ctx.client.request(
        "GET",
        &format!("/images/get?{}", q.join("&")),
        Body::Empty,
        &[],
    )?;
    if output.is_empty() {
        let mut stdout = std::io::stdout().lock();
        return crate::stream::copy_raw(&mut resp, &mut stdout)
            .map_err(|e| CliError::msg(e.to_string()));
    }
    copy_to_file(&mut resp, &output)
        .map_err(|e| CliError::msg(format!("failed to save image: {}", io_text(&e))))
}

/// Writes `r` to the file `output` through a temporary file next to it
/// (mode 0600, synced) renamed into place, as docker's `CopyToFile`.
pub fn copy_to_file(r: &mut impl std::io::Read, output: &str) -> std::io::Result<()> {
    let target = std::path::Path::new(output);
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        std::io::copy(r, &mut f)?;
        f.flush()?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

const IMPORT_FLAGS: &[Flag] = &[
    Flag::list(
        "change",
        Some('c'),
        "Apply Dockerfile instruction to the created image",
    ),
    Flag::str(
        "message",
        Some('m'),
        "Set commit message for imported image",
    ),
    Flag::str(
        "platform",
        None,
        "Set platform if server is multi-platform capable",
    ),
];

pub const IMPORT_SPEC: Spec = Spec {
    path: "import",
    usage: "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
    about: "Import the contents from a tarball to create a filesystem image",
    aliases: "docker image import, docker import",
    flags: &[IMPORT_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub fn import(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let source = &p.args[0];
    let mut q = Vec::new();
    let is_url = source.starts_with("http://") || source.starts_with("https://");
    q.push(format!(
        "fromSrc={}",
        enc(if is_url { source } else { "-" })
    ));
    if let Some(r) = p.args.get(1) {
        let (repo, tag) = split_tag(r);
        q.push(format!("repo={}", enc(&repo)));
        if r.rsplit('/').next().is_some_and(|last| last.contains(':')) {
            q.push(format!("tag={}", enc(&tag)));
        }
    }
    if let Some(m) = p.str("message").filter(|s| !s.is_empty()) {
        q.push(format!("message={}", enc(m)));
    }
    for c in p.list("change") {
        q.push(format!("changes={}", enc(&c)));
    }
    if let Some(pl) = p.str("platform").filter(|s| !s.is_empty()) {
        q.push(format!("platform={}", enc(pl)));
    }
    let path = format!("/images/create?{}", q.join("&"));
    let mut file;
    let mut stdin;
    let resp = if is_url {
        ctx.client.request("POST", &path, Body::Empty, &[])?
    } else {
        let reader: &mut dyn std::io::Read = if source == "-" {
            stdin = std::io::stdin().lock();
            &mut stdin
        } else {
            file = open(source)?;
            &mut file
        };
        ctx.client.request(
            "POST",
            &path,
            Body::Stream(reader),
            &[("Content-Type", "application/x-tar")],
        )?
    };
    show_stream(resp)
}
