//! `berth cp`: files and directories between a container and the local
//! filesystem, with docker's client-side rules. The daemon's archive API
//! (`HEAD`/`GET`/`PUT /containers/{id}/archive`) moves tars; this side
//! decides, from the stat of both ends, which directory a tar is extracted
//! into and which top-level name its entries take (copy into a directory,
//! onto a file, to a new name; `dir/.` for a directory's contents; a
//! trailing `/` asserting a directory; `-L` following a symlink source).
//! `-` streams a tar on stdin or stdout.

use super::common::Ctx;
use super::cparchive::{self, Rebase};
use crate::api::{enc, ApiError};
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::http::Body;
use crate::opts::kv::io_text;
use std::io::Write;
use std::path::Path;

const CP_FLAGS: &[Flag] = &[
    Flag::bool(
        "archive",
        Some('a'),
        "Archive mode (copy all uid/gid information)",
    ),
    Flag::bool(
        "follow-link",
        Some('L'),
        "Always follow symbol link in SRC_PATH",
    ),
    Flag::bool(
        "quiet",
        Some('q'),
        "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached",
    ),
];

pub const CP_SPEC: Spec = Spec {
    path: "cp",
    usage: "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
    about: "Copy files/folders between a container and the local filesystem",
    aliases: "docker container cp, docker cp",
    flags: &[CP_FLAGS],
    interspersed: true,
    arity: Arity::Exact(2),
};

/// Go's `os.FileMode` type bits, as the stat header carries them.
const GO_DIR: u64 = 1 << 31;
const GO_SYMLINK: u64 = 1 << 27;
const GO_DEVICE: u64 = 1 << 26;
const GO_IRREGULAR: u64 = 1 << 19;

/// `X-Docker-Container-Path-Stat`.
#[derive(Debug, Clone, Default, PartialEq)]
struct PathStat {
    mode: u64,
    link_target: String,
}

/// What is known about one end of the copy (docker's `CopyInfo`).
#[derive(Debug, Clone, Default, PartialEq)]
struct CopyInfo {
    path: String,
    exists: bool,
    is_dir: bool,
    rebase_name: Option<String>,
}

fn msg(s: impl Into<String>) -> CliError {
    CliError::msg(s.into())
}

pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let (src, dst) = (&p.args[0], &p.args[1]);
    if src.is_empty() {
        return Err(msg("source can not be empty"));
    }
    if dst.is_empty() {
        return Err(msg("destination can not be empty"));
    }
    let follow = p.bool("follow-link");
    let quiet = p.bool("quiet") || !crate::term::is_tty(2);
    match (split_cp_arg(src), split_cp_arg(dst)) {
        ((Some(c), sp), (None, dp)) => copy_from(ctx, c, sp, dp, follow, quiet),
        ((None, sp), (Some(c), dp)) => copy_to(ctx, c, sp, dp, follow, p.bool("archive"), quiet),
        ((Some(_), _), (Some(_), _)) => Err(msg("copying between containers is not supported")),
        ((None, _), (None, _)) => Err(msg("must specify at least one container source")),
    }
}

/// `container:path` or a local path (absolute, `./x:y`, or without `:`).
fn split_cp_arg(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.starts_with('.') => (Some(c), p),
        _ => (None, arg),
    }
}

// --- Go's path rules --------------------------------------------------------

/// `filepath.Clean`.
fn clean(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !abs {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    let joined = out.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// `filepath.Dir`.
fn dir_of(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => clean(&p[..=i]),
        None => ".".into(),
    }
}

/// `filepath.Base`.
fn base_of(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return if p.is_empty() { ".".into() } else { "/".into() };
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn has_trailing_sep(p: &str) -> bool {
    p.ends_with('/')
}

fn specifies_current_dir(p: &str) -> bool {
    base_of(p) == "."
}

fn asserts_directory(p: &str) -> bool {
    has_trailing_sep(p) || specifies_current_dir(p)
}

/// docker's `SplitPathDirEntry`.
fn split_path_dir_entry(p: &str) -> (String, String) {
    let mut cleaned = clean(p);
    if specifies_current_dir(p) {
        cleaned.push_str("/.");
    }
    (dir_of(&cleaned), base_of(&cleaned))
}

/// docker's `PreserveTrailingDotOrSeparator`.
fn preserve_trailing(cleaned: String, original: &str) -> String {
    let mut out = cleaned;
    if !specifies_current_dir(&out) && specifies_current_dir(original) {
        if !has_trailing_sep(&out) {
            out.push('/');
        }
        out.push('.');
    }
    if !has_trailing_sep(&out) && has_trailing_sep(original) {
        out.push('/');
    }
    out
}

fn resolve_local_path(p: &str) -> Result<String> {
    let abs = if p.starts_with('/') {
        clean(p)
    } else {
        let cwd = std::env::current_dir().map_err(|e| msg(io_text(&e)))?;
        clean(&format!("{}/{p}", cwd.display()))
    };
    Ok(preserve_trailing(abs, p))
}

/// docker's `GetRebaseName`.
fn get_rebase_name(path: &str, resolved: &str) -> (String, Option<String>) {
    let mut resolved = resolved.to_string();
    if specifies_current_dir(path) && !specifies_current_dir(&resolved) {
        resolved.push_str("/.");
    }
    if has_trailing_sep(path) && !has_trailing_sep(&resolved) {
        resolved.push('/');
    }
    let rebase = (base_of(path) != base_of(&resolved)).then(|| base_of(path));
    (resolved, rebase)
}

/// `filepath.EvalSymlinks`, with Go's error text.
fn eval_symlinks(p: &str) -> Result<String> {
    std::fs::canonicalize(p)
        .map(|c| c.display().to_string())
        .map_err(|e| msg(format!("lstat {}: {}", clean(p), io_text(&e))))
}

/// docker's `CopyInfoSourcePath` for a local source.
fn copy_info_source_path(path: &str, follow: bool) -> Result<CopyInfo> {
    let (resolved, rebase_name) = if follow {
        let r = eval_symlinks(path)?;
        get_rebase_name(path, &r)
    } else {
        let (dir, base) = match path.rfind('/') {
            Some(i) => (&path[..=i], &path[i + 1..]),
            None => ("", path),
        };
        let rdir = eval_symlinks(if dir.is_empty() { "." } else { dir })?;
        let resolved = format!("{}/{base}", rdir.trim_end_matches('/'));
        let rebase =
            (has_trailing_sep(path) && base_of(path) != base_of(&resolved)).then(|| base_of(path));
        (resolved, rebase)
    };
    let st = std::fs::symlink_metadata(&resolved)
        .map_err(|e| msg(format!("lstat {}: {}", clean(&resolved), io_text(&e))))?;
    Ok(CopyInfo {
        path: resolved,
        exists: true,
        is_dir: st.is_dir(),
        rebase_name,
    })
}

/// docker's `CopyInfoDestinationPath` for a local destination.
fn copy_info_destination_path(path: &str) -> Result<CopyInfo> {
    let mut path = path.to_string();
    let mut st = std::fs::symlink_metadata(&path);
    let mut n = 0;
    while let Ok(m) = &st {
        if !m.file_type().is_symlink() {
            break;
        }
        n += 1;
        if n > 10 {
            return Err(msg(format!("too many symlinks in {path}")));
        }
        let target = std::fs::read_link(&path)
            .map_err(|e| msg(format!("readlink {path}: {}", io_text(&e))))?
            .display()
            .to_string();
        path = if target.starts_with('/') {
            target
        } else {
            let (parent, _) = split_path_dir_entry(&path);
            clean(&format!("{parent}/{target}"))
        };
        st = std::fs::symlink_metadata(&path);
    }
    match st {
        Ok(m) => Ok(CopyInfo {
            path,
            exists: true,
            is_dir: m.is_dir(),
            rebase_name: None,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (parent, _) = split_path_dir_entry(&path);
            let pm = std::fs::metadata(&parent)
                .map_err(|e| msg(format!("stat {parent}: {}", io_text(&e))))?;
            if !pm.is_dir() {
                return Err(msg("not a directory"));
            }
            Ok(CopyInfo {
                path,
                ..CopyInfo::default()
            })
        }
        Err(e) => Err(msg(format!("lstat {path}: {}", io_text(&e)))),
    }
}

/// docker's `PrepareArchiveCopy`: where to extract, and the rename of the
/// source's top-level name it needs.
fn prepare_archive_copy(src: &CopyInfo, dst: &CopyInfo) -> Result<(String, Option<Rebase>)> {
    let (dst_dir, dst_base) = split_path_dir_entry(&dst.path);
    let (_, src_base) = split_path_dir_entry(&src.path);
    let src_base = src.rebase_name.clone().unwrap_or(src_base);
    if dst.exists && dst.is_dir {
        return Ok((dst.path.clone(), None));
    }
    if dst.exists && src.is_dir {
        return Err(msg("cannot copy directory"));
    }
    if !dst.exists && !src.is_dir && asserts_directory(&dst.path) {
        return Err(msg("no such directory"));
    }
    Ok((dst_dir, Some((src_base, dst_base))))
}

/// docker's `ValidateOutputPath`.
fn validate_output_path(path: &str) -> Result<()> {
    let dir = dir_of(&clean(path));
    if dir != "." && !Path::new(&dir).exists() {
        return Err(msg(format!(
            "invalid output path: directory {dir:?} does not exist"
        )));
    }
    if let Ok(m) = std::fs::metadata(path) {
        let ft = m.file_type();
        if !m.is_dir() && !m.is_file() {
            use std::os::unix::fs::FileTypeExt;
            let what = if ft.is_block_device() || ft.is_char_device() {
                "got a device"
            } else {
                "got an irregular file"
            };
            return Err(msg(format!(
                "invalid output path: {path:?} must be a directory or a regular file: {what}"
            )));
        }
    }
    Ok(())
}

// --- the daemon -------------------------------------------------------------

fn archive_url(container: &str, path: &str) -> String {
    format!("/containers/{}/archive?path={}", enc(container), enc(path))
}

/// Decodes standard base64 (padding optional).
fn unbase64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c)? << (18 - 6 * i);
        }
        let full = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&full[..chunk.len().saturating_sub(1)]);
    }
    Some(out)
}

fn parse_stat(header: Option<&str>) -> std::result::Result<PathStat, String> {
    let raw = header.ok_or("no X-Docker-Container-Path-Stat header")?;
    let json = unbase64(raw).ok_or("illegal base64 data")?;
    let v: serde_json::Value = serde_json::from_slice(&json).map_err(|e| e.to_string())?;
    Ok(PathStat {
        mode: v["mode"].as_u64().unwrap_or(0),
        link_target: v["linkTarget"].as_str().unwrap_or_default().to_string(),
    })
}

fn stat_path(ctx: &Ctx, container: &str, path: &str) -> std::result::Result<PathStat, ApiError> {
    let resp = ctx
        .client
        .request("HEAD", &archive_url(container, path), Body::Empty, &[])?;
    parse_stat(resp.header("X-Docker-Container-Path-Stat")).map_err(ApiError::Decode)
}

fn copied(size: u64, to: &str, quiet: bool) {
    if !quiet {
        crate::cmd::common::errln(&format!(
            "Successfully copied {} to {to}",
            crate::fmt::human::human_size(size as f64)
        ));
    }
}

fn copy_from(
    ctx: &Ctx,
    container: &str,
    src: &str,
    dst: &str,
    follow: bool,
    quiet: bool,
) -> Result<()> {
    let dst_path = if dst == "-" {
        dst.to_string()
    } else {
        let d = resolve_local_path(dst)?;
        validate_output_path(&d)?;
        d
    };
    let mut src_path = src.to_string();
    let mut rebase_name = None;
    if follow {
        if let Ok(st) = stat_path(ctx, container, &src_path) {
            if st.mode & GO_SYMLINK != 0 {
                let mut link = st.link_target;
                if !link.starts_with('/') {
                    let (parent, _) = split_path_dir_entry(&src_path);
                    link = clean(&format!("{parent}/{link}"));
                }
                let (l, r) = get_rebase_name(&src_path, &link);
                src_path = l;
                rebase_name = r;
            }
        }
    }
    let mut resp =
        ctx.client
            .request("GET", &archive_url(container, &src_path), Body::Empty, &[])?;
    let stat = parse_stat(resp.header("X-Docker-Container-Path-Stat"))
        .map_err(|e| msg(format!("unable to get resource stat from response: {e}")))?;
    if dst_path == "-" {
        let mut out = std::io::stdout().lock();
        crate::stream::copy_raw(&mut resp, &mut out).map_err(|e| msg(e.to_string()))?;
        return out.flush().map_err(|e| msg(e.to_string()));
    }
    let src_info = CopyInfo {
        path: src_path,
        exists: true,
        is_dir: stat.mode & GO_DIR != 0,
        rebase_name,
    };
    let mut rules: Vec<Rebase> = Vec::new();
    if let Some(r) = &src_info.rebase_name {
        let (_, base) = split_path_dir_entry(&src_info.path);
        rules.push((base, r.clone()));
    }
    let dst_info = copy_info_destination_path(&dst_path)?;
    let (dst_dir, rebase) = prepare_archive_copy(&src_info, &dst_info)?;
    rules.extend(rebase);
    let size =
        cparchive::untar(&mut resp, Path::new(&dst_dir), &rules).map_err(|e| msg(io_text(&e)))?;
    copied(size, &dst_path, quiet);
    Ok(())
}

/// Counts what the request body reads.
struct Counting<'a, R> {
    inner: R,
    n: &'a mut u64,
}

impl<R: std::io::Read> std::io::Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.n += n as u64;
        Ok(n)
    }
}

fn copy_to(
    ctx: &Ctx,
    container: &str,
    src: &str,
    dst_path: &str,
    follow: bool,
    copy_uid_gid: bool,
    quiet: bool,
) -> Result<()> {
    let src_path = if src == "-" {
        src.to_string()
    } else {
        resolve_local_path(src)?
    };
    let mut dst_info = CopyInfo {
        path: dst_path.to_string(),
        ..CopyInfo::default()
    };
    let mut dst_stat = stat_path(ctx, container, dst_path);
    if let Ok(st) = &dst_stat {
        if st.mode & GO_SYMLINK != 0 {
            let mut link = st.link_target.clone();
            if !link.starts_with('/') {
                let (parent, _) = split_path_dir_entry(dst_path);
                link = clean(&format!("{parent}/{link}"));
            }
            dst_info.path = link.clone();
            dst_stat = stat_path(ctx, container, &link);
        }
    }
    if let Ok(st) = &dst_stat {
        let what = if st.mode & GO_DEVICE != 0 {
            Some("got a device")
        } else if st.mode & GO_IRREGULAR != 0 {
            Some("got an irregular file")
        } else {
            None
        };
        if let Some(w) = what {
            return Err(msg(format!(
                "destination \"{container}:{dst_path}\" must be a directory or a regular file: {w}"
            )));
        }
        dst_info.exists = true;
        dst_info.is_dir = st.mode & GO_DIR != 0;
    }
    let url = |dir: &str| {
        let mut u = format!("{}&noOverwriteDirNonDir=true", archive_url(container, dir));
        if copy_uid_gid {
            u.push_str("&copyUIDGID=true");
        }
        u
    };
    let mut size = 0u64;
    if src_path == "-" {
        if !dst_info.is_dir {
            return Err(msg(format!(
                "destination \"{container}:{dst_path}\" must be a directory"
            )));
        }
        let mut stdin = Counting {
            inner: std::io::stdin().lock(),
            n: &mut size,
        };
        put(ctx, &url(&dst_info.path), &mut stdin)?;
    } else {
        let src_info = copy_info_source_path(&src_path, follow)?;
        let (dst_dir, rebase) = prepare_archive_copy(&src_info, &dst_info)?;
        let top = match rebase {
            Some((_, new)) => new,
            None => src_info
                .rebase_name
                .clone()
                .unwrap_or_else(|| split_path_dir_entry(&src_info.path).1),
        };
        let (reader, mut writer) = std::io::pipe().map_err(|e| msg(io_text(&e)))?;
        let source = src_info.path.clone();
        let packer = std::thread::spawn(move || {
            let r = cparchive::pack(Path::new(&source), &top, &mut writer);
            drop(writer);
            r
        });
        let mut body = Counting {
            inner: reader,
            n: &mut size,
        };
        let sent = put(ctx, &url(&dst_dir), &mut body);
        drop(body);
        let packed = packer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("tar writer panicked")));
        sent?;
        packed.map_err(|e| msg(io_text(&e)))?;
    }
    copied(size, &format!("{container}:{}", dst_info.path), quiet);
    Ok(())
}

fn put(ctx: &Ctx, path: &str, body: &mut dyn std::io::Read) -> Result<()> {
    let mut resp = ctx.client.request(
        "PUT",
        path,
        Body::Stream(body),
        &[("Content-Type", "application/x-tar")],
    )?;
    let _ = resp.read_body();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_container_and_local_args() {
        assert_eq!(split_cp_arg("c:/etc"), (Some("c"), "/etc"));
        assert_eq!(split_cp_arg("/abs:x"), (None, "/abs:x"));
        assert_eq!(split_cp_arg("./a:b"), (None, "./a:b"));
        assert_eq!(split_cp_arg("file"), (None, "file"));
        assert_eq!(split_cp_arg("c:"), (Some("c"), ""));
        assert_eq!(split_cp_arg("-"), (None, "-"));
    }

    #[test]
    fn go_path_rules() {
        assert_eq!(clean("/a/../b/./c/"), "/b/c");
        assert_eq!(clean("a/../../b"), "../b");
        assert_eq!(split_path_dir_entry("/noa/."), ("/noa".into(), ".".into()));
        assert_eq!(split_path_dir_entry("/noa/"), ("/".into(), "noa".into()));
        assert_eq!(split_path_dir_entry("/"), ("/".into(), "/".into()));
        assert_eq!(preserve_trailing("/x/y".into(), "y/."), "/x/y/.");
        assert_eq!(preserve_trailing("/x/y".into(), "y/"), "/x/y/");
        assert_eq!(
            get_rebase_name("/etc/link/", "/etc/real"),
            ("/etc/real/".into(), Some("link".into()))
        );
        assert!(asserts_directory("/x/") && asserts_directory("/x/.") && !asserts_directory("/x"));
    }

    #[test]
    fn archive_copy_rules_match_docker() {
        let f = |p: &str, exists, is_dir| CopyInfo {
            path: p.into(),
            exists,
            is_dir,
            rebase_name: None,
        };
        // Into an existing directory: no rename.
        assert_eq!(
            prepare_archive_copy(&f("/s/dir", true, true), &f("/d", true, true)).unwrap(),
            ("/d".into(), None)
        );
        // A directory onto a file.
        assert_eq!(
            prepare_archive_copy(&f("/s/dir", true, true), &f("/d/file", true, false))
                .unwrap_err()
                .message,
            "cannot copy directory"
        );
        // A file onto a file, or to a new name: renamed.
        assert_eq!(
            prepare_archive_copy(&f("/s/one", true, false), &f("/d/file", true, false)).unwrap(),
            ("/d".into(), Some(("one".into(), "file".into())))
        );
        assert_eq!(
            prepare_archive_copy(&f("/s/dir/.", true, true), &f("/d/new", false, false)).unwrap(),
            ("/d".into(), Some((".".into(), "new".into())))
        );
        // A file to a path asserted to be a directory that does not exist.
        assert_eq!(
            prepare_archive_copy(&f("/s/one", true, false), &f("/d/nodir/", false, false))
                .unwrap_err()
                .message,
            "no such directory"
        );
    }

    #[test]
    fn decodes_the_stat_header() {
        let st = parse_stat(Some("eyJuYW1lIjoicGxpbmsiLCJzaXplIjo2LCJtb2RlIjoxMzQyMTgyMzksIm10aW1lIjoiMjAyNi0xMS0yM1QxNzowNzowNC4xNzQ2MzMyMDFaIiwibGlua1RhcmdldCI6Ii9ldGMvcGFzc3dkIn0=")).unwrap();
        assert_eq!(st.link_target, "/etc/passwd");
        assert!(st.mode & GO_SYMLINK != 0);
        assert_eq!(unbase64("Zm8="), Some(b"fo".to_vec()));
        assert_eq!(unbase64("Zg"), Some(b"f".to_vec()));
        assert!(parse_stat(Some("!!")).is_err());
    }
}
