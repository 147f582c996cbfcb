//! Image commands that only talk JSON: `images`/`image ls` (docker's
//! ImageContext rows), `history`, `tag`, `rmi`/`image rm`, `image prune`.

use super::common::{
    errln, familiar, filters_json, out, outln, split_tag, Ctx, FILTER_FLAG, FORMAT_HELP,
};
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::fmt::{human, table, text};
use crate::template::{ObjKind, Value};
use serde_json::Value as J;

const LS_FLAGS: &[Flag] = &[
    Flag::bool(
        "all",
        Some('a'),
        "Show all images (default hides intermediate images)",
    ),
    Flag::bool("digests", None, "Show digests"),
    FILTER_FLAG,
    Flag::str("format", None, FORMAT_HELP),
    Flag::bool("no-trunc", None, "Don't truncate output"),
    Flag::bool("quiet", Some('q'), "Only show image IDs"),
    Flag::bool(
        "tree",
        None,
        "List multi-platform images as a tree (EXPERIMENTAL)",
    ),
];

pub const LS_SPEC: Spec = Spec {
    path: "images",
    usage: "[OPTIONS] [REPOSITORY[:TAG]]",
    about: "List images",
    aliases: "docker image ls, docker image list, docker images",
    flags: &[LS_FLAGS],
    interspersed: true,
    arity: Arity::Max(1),
};

const TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
const TABLE_DIGEST: &str = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";

pub(crate) const HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
];

fn strs(v: &J) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn image_row(
    img: &J,
    trunc: bool,
    repo: &str,
    tag: &str,
    digest: &str,
    now: i128,
) -> Value {
    let id = img["Id"].as_str().unwrap_or("");
    let created = img["Created"].as_i64().unwrap_or(0);
    let size = img["Size"].as_i64().unwrap_or(0);
    let shared = img["SharedSize"].as_i64().unwrap_or(-1);
    let containers = img["Containers"].as_i64().unwrap_or(-1);
    let na = |cond: bool, s: String| if cond { "N/A".to_string() } else { s };
    Value::Object(
        ObjKind::Context("*formatter.imageContext"),
        vec![
            (
                "Containers".into(),
                Value::Str(na(containers == -1, containers.to_string())),
            ),
            (
                "CreatedAt".into(),
                Value::Str(human::go_time_string(created)),
            ),
            ("CreatedSince".into(), Value::Str(human::ago(created, now))),
            ("Digest".into(), Value::str(digest)),
            (
                "ID".into(),
                Value::Str(if trunc {
                    text::truncate_id(id)
                } else {
                    id.to_string()
                }),
            ),
            ("Repository".into(), Value::str(repo)),
            (
                "SharedSize".into(),
                Value::Str(na(shared == -1, human::human_size(shared as f64))),
            ),
            (
                "Size".into(),
                Value::Str(human::human_size_precision(size as f64, 3)),
            ),
            ("Tag".into(), Value::str(tag)),
            (
                "UniqueSize".into(),
                Value::Str(na(
                    size == -1 || shared == -1,
                    human::human_size((size - shared) as f64),
                )),
            ),
            (
                "VirtualSize".into(),
                Value::Str(human::human_size(size as f64)),
            ),
        ],
    )
}

fn is_dangling(tags: &[String], digests: &[String]) -> bool {
    (tags.is_empty() && digests.is_empty())
        || (tags.len() == 1
            && tags[0] == "<none>:<none>"
            && digests.len() == 1
            && digests[0] == "<none>@<none>")
}

/// The rows of one image, as docker's `imageFormat` produces them.
fn rows_of(img: &J, trunc: bool, show_digest: bool, need_digest: bool, now: i128) -> Vec<Value> {
    let tags = strs(&img["RepoTags"]);
    let digests = strs(&img["RepoDigests"]);
    if is_dangling(&tags, &digests) {
        return vec![image_row(img, trunc, "<none>", "<none>", "<none>", now)];
    }
    let mut repo_tags: Vec<(String, Vec<String>)> = Vec::new();
    for t in &tags {
        if t == "<none>:<none>" {
            continue;
        }
        let (name, tag) = split_tag(t);
        let repo = familiar(&name);
        match repo_tags.iter_mut().find(|(r, _)| *r == repo) {
            Some(e) => e.1.push(tag),
            None => repo_tags.push((repo, vec![tag])),
        }
    }
    let mut repo_digests: Vec<(String, Vec<String>)> = Vec::new();
    for d in &digests {
        let Some((name, dg)) = d.split_once('@') else {
            continue;
        };
        if dg == "<none>" {
            continue;
        }
        let repo = familiar(name);
        match repo_digests.iter_mut().find(|(r, _)| *r == repo) {
            Some(e) => e.1.push(dg.to_string()),
            None => repo_digests.push((repo, vec![dg.to_string()])),
        }
    }
    let mut rows = Vec::new();
    for (repo, tags) in &repo_tags {
        let pos = repo_digests.iter().position(|(r, _)| r == repo);
        let digests = pos.map(|i| repo_digests.remove(i).1).unwrap_or_default();
        let digests = if need_digest { digests } else { Vec::new() };
        for tag in tags {
            if digests.is_empty() {
                rows.push(image_row(img, trunc, repo, tag, "<none>", now));
            }
            for d in &digests {
                rows.push(image_row(img, trunc, repo, tag, d, now));
            }
        }
    }
    for (repo, digests) in &repo_digests {
        if show_digest {
            for d in digests {
                rows.push(image_row(img, trunc, repo, "<none>", d, now));
            }
        } else {
            rows.push(image_row(img, trunc, repo, "<none>", "", now));
        }
    }
    rows
}

pub fn ls(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let mut filters = p.list("filter");
    if let Some(name) = p.args.first() {
        filters.push(format!("reference={name}"));
    }
    let mut q = Vec::new();
    if p.bool("all") {
        q.push("all=1".to_string());
    }
    if let Some(f) = filters_json(&filters)? {
        q.push(format!("filters={}", enc(&f)));
    }
    let path = if q.is_empty() {
        "/images/json".to_string()
    } else {
        format!("/images/json?{}", q.join("&"))
    };
    let list = ctx.client.get_json(&path)?;
    let show_digest = p.bool("digests");
    let quiet = p.bool("quiet");
    let given = p.string("format");
    let format = if given.is_empty() || given == "table" {
        if quiet {
            "{{.ID}}".to_string()
        } else if show_digest {
            TABLE_DIGEST.to_string()
        } else {
            TABLE.to_string()
        }
    } else if table::is_table(&given) && show_digest && !given.contains("{{.Digest}}") {
        format!("{given}\t{{{{.Digest}}}}")
    } else {
        given
    };
    let need_digest = show_digest || format.contains("{{.Digest}}");
    let trunc = !p.bool("no-trunc");
    let now = berth_util::time::now_nanos();
    let mut rows = Vec::new();
    let empty = Vec::new();
    for img in list.as_array().unwrap_or(&empty) {
        rows.extend(rows_of(img, trunc, show_digest, need_digest, now));
    }
    out(&table::render(&format, &rows, &table::header(HEADERS))?);
    Ok(())
}

const HISTORY_FLAGS: &[Flag] = &[
    Flag::str("format", None, FORMAT_HELP),
    Flag::bool("human", Some('H'), "Print sizes and dates in human readable format").default("true"),
    Flag::bool("no-trunc", None, "Don't truncate output"),
    Flag::str("platform", None, "Show history for the given platform. Formatted as \"os[/arch[/variant]]\" (e.g., \"linux/amd64\")"),
    Flag::bool("quiet", Some('q'), "Only show image IDs"),
];

pub const HISTORY_SPEC: Spec = Spec {
    path: "history",
    usage: "[OPTIONS] IMAGE",
    about: "Show the history of an image",
    aliases: "docker image history, docker history",
    flags: &[HISTORY_FLAGS],
    interspersed: true,
    arity: Arity::Exact(1),
};

/// Seconds of 2000-01-01T00:00:00Z: older dates print as N/A.
const EPOCH_2000: i64 = 946_684_800;

fn history_row(h: &J, trunc: bool, human_fmt: bool, now: i128) -> Value {
    let id = h["Id"].as_str().unwrap_or("");
    let created = h["Created"].as_i64().unwrap_or(0);
    let created_at = berth_util::time::format_rfc3339(created as i128 * 1_000_000_000);
    let since = if !human_fmt {
        created_at.clone()
    } else if created <= EPOCH_2000 {
        "N/A".into()
    } else {
        human::ago(created, now)
    };
    let by = h["CreatedBy"].as_str().unwrap_or("").replace('\t', " ");
    let by = if trunc { text::ellipsis(&by, 45) } else { by };
    let size = h["Size"].as_i64().unwrap_or(0);
    let size = if human_fmt {
        human::human_size_precision(size as f64, 3)
    } else {
        size.to_string()
    };
    Value::Object(
        ObjKind::Context("*image.historyContext"),
        vec![
            (
                "Comment".into(),
                Value::str(h["Comment"].as_str().unwrap_or("")),
            ),
            ("CreatedAt".into(), Value::Str(created_at)),
            ("CreatedBy".into(), Value::Str(by)),
            ("CreatedSince".into(), Value::Str(since)),
            (
                "ID".into(),
                Value::Str(if trunc {
                    text::truncate_id(id)
                } else {
                    id.to_string()
                }),
            ),
            ("Size".into(), Value::Str(size)),
        ],
    )
}

pub fn history(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let mut path = format!("/images/{}/history", enc(&p.args[0]));
    if let Some(pl) = p.str("platform").filter(|s| !s.is_empty()) {
        path.push_str(&format!("?platform={}", enc(&platform_json(pl))));
    }
    let list = ctx.client.get_json(&path)?;
    let human_fmt = p.bool_or("human", true);
    let given = p.string("format");
    let format = if given.is_empty() || given == "table" {
        if p.bool("quiet") {
            "{{.ID}}".to_string()
        } else if !human_fmt {
            "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}".to_string()
        } else {
            "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}".to_string()
        }
    } else {
        given
    };
    let trunc = !p.bool("no-trunc");
    let now = berth_util::time::now_nanos();
    let empty = Vec::new();
    let rows: Vec<Value> = list
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|h| history_row(h, trunc, human_fmt, now))
        .collect();
    let header = table::header(&[
        ("ID", "IMAGE"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("CreatedBy", "CREATED BY"),
        ("Size", "SIZE"),
        ("Comment", "COMMENT"),
    ]);
    out(&table::render(&format, &rows, &header)?);
    Ok(())
}

/// `os[/arch[/variant]]` as the API's platform JSON.
pub fn platform_json(p: &str) -> String {
    let mut parts = p.split('/');
    let os = parts.next().unwrap_or("");
    let arch = parts.next().unwrap_or("");
    let variant = parts.next().unwrap_or("");
    let mut m = serde_json::Map::new();
    m.insert("os".into(), J::from(os));
    if !arch.is_empty() {
        m.insert("architecture".into(), J::from(arch));
    }
    if !variant.is_empty() {
        m.insert("variant".into(), J::from(variant));
    }
    J::Object(m).to_string()
}

pub const TAG_SPEC: Spec = Spec {
    path: "tag",
    usage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
    about: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    aliases: "docker image tag, docker tag",
    flags: &[],
    interspersed: true,
    arity: Arity::Exact(2),
};

pub fn tag(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let target = &p.args[1];
    if target.contains('@') {
        return Err(CliError::msg(
            "refusing to create a tag with a digest reference",
        ));
    }
    let (repo, tag) = split_tag(target);
    if repo.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(CliError::msg(format!(
            "invalid reference format: repository name ({repo}) must be lowercase"
        )));
    }
    ctx.client.post(&format!(
        "/images/{}/tag?repo={}&tag={}",
        enc(&p.args[0]),
        enc(&repo),
        enc(&tag)
    ))?;
    Ok(())
}

const RMI_FLAGS: &[Flag] = &[
    Flag::bool("force", Some('f'), "Force removal of the image"),
    Flag::bool("no-prune", None, "Do not delete untagged parents"),
    Flag::list("platform", None, "Remove only the given platform variant. Formatted as \"os[/arch[/variant]]\" (e.g., \"linux/amd64\")").typ("strings"),
];

pub const RMI_SPEC: Spec = Spec {
    path: "rmi",
    usage: "[OPTIONS] IMAGE [IMAGE...]",
    about: "Remove one or more images",
    aliases: "docker image rm, docker image remove, docker rmi",
    flags: &[RMI_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub fn rmi(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let force = p.bool("force");
    let mut q = vec![
        format!("force={}", if force { 1 } else { 0 }),
        format!("noprune={}", if p.bool("no-prune") { 1 } else { 0 }),
    ];
    for pl in p.list("platform") {
        q.push(format!("platforms={}", enc(&platform_json(&pl))));
    }
    let q = q.join("&");
    let mut errs = Vec::new();
    let mut fatal = false;
    for img in &p.args {
        match ctx.client.delete(&format!("/images/{}?{q}", enc(img))) {
            Ok(body) => {
                let v: J = serde_json::from_slice(&body).unwrap_or(J::Null);
                for d in v.as_array().cloned().unwrap_or_default() {
                    match d["Deleted"].as_str().filter(|s| !s.is_empty()) {
                        Some(del) => outln(&format!("Deleted: {del}")),
                        None => outln(&format!(
                            "Untagged: {}",
                            d["Untagged"].as_str().unwrap_or("")
                        )),
                    }
                }
            }
            Err(e) => {
                if e.status() != Some(404) {
                    fatal = true;
                }
                errs.push(e.to_string());
            }
        }
    }
    if errs.is_empty() {
        return Ok(());
    }
    let msg = errs.join("\n");
    if !force || fatal {
        return Err(CliError::msg(msg));
    }
    errln(&msg);
    Ok(())
}

const PRUNE_FLAGS: &[Flag] = &[
    Flag::bool(
        "all",
        Some('a'),
        "Remove all unused images, not just dangling ones",
    ),
    Flag::list(
        "filter",
        None,
        "Provide filter values (e.g. \"until=<timestamp>\")",
    )
    .typ("filter"),
    Flag::bool("force", Some('f'), "Do not prompt for confirmation"),
];

pub const PRUNE_SPEC: Spec = Spec {
    path: "image prune",
    usage: "[OPTIONS]",
    about: "Remove unused images",
    aliases: "",
    flags: &[PRUNE_FLAGS],
    interspersed: true,
    arity: Arity::None,
};

/// docker's `prompt.Confirm`: prints the question, reads a line, `y`/`Y` confirms.
pub fn confirm(question: &str) -> bool {
    out(&format!(
        "{question}\nAre you sure you want to continue? [y/N] "
    ));
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y")
}

pub fn prune(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let all = p.bool("all");
    let mut filters = p.list("filter");
    filters.push(format!("dangling={}", !all));
    let warning = if all {
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    if !p.bool("force") && !confirm(warning) {
        return Ok(());
    }
    let f = filters_json(&filters)?.unwrap_or_default();
    let body = ctx
        .client
        .post(&format!("/images/prune?filters={}", enc(&f)))?;
    let report: J = serde_json::from_slice(&body).unwrap_or(J::Null);
    let mut text = String::new();
    let deleted = report["ImagesDeleted"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut reclaimed = 0u64;
    if !deleted.is_empty() {
        text.push_str("Deleted Images:\n");
        for d in &deleted {
            match d["Untagged"].as_str().filter(|s| !s.is_empty()) {
                Some(u) => text.push_str(&format!("untagged: {u}\n")),
                None => text.push_str(&format!(
                    "deleted: {}\n",
                    d["Deleted"].as_str().unwrap_or("")
                )),
            }
        }
        text.push('\n');
        reclaimed = report["SpaceReclaimed"].as_u64().unwrap_or(0);
    }
    text.push_str(&format!(
        "Total reclaimed space: {}\n",
        human::human_size(reclaimed as f64)
    ));
    out(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Mode, Template};

    fn sample() -> J {
        serde_json::json!({
            "Containers": -1, "Created": 1795451362,
            "Id": "sha256:13c4ebddcf2e8aea2e94d9f44317e9b3759564d1411ffd9fc875e1a8f76896ec",
            "RepoDigests": ["localhost:5000/debian@sha256:3f8f06128c3b1dd1fe1e8928582868e52836f536c9fefc81e656c1c864d959d9"],
            "RepoTags": ["debian:bookworm", "localhost:5000/debian:bookworm"],
            "SharedSize": -1, "Size": 116561727
        })
    }

    #[test]
    fn json_rows_match_docker() {
        // `docker images --format '{{json .}}'` here, CreatedSince pinned.
        let now = (1795451362i128 + 180) * 1_000_000_000;
        let rows = rows_of(&sample(), true, false, false, now);
        let got: Vec<String> = rows
            .iter()
            .map(|r| {
                Template::parse("{{json .}}")
                    .unwrap()
                    .execute(r, Mode::Normal)
                    .unwrap()
            })
            .collect();
        assert_eq!(
            got[0],
            r#"{"Containers":"N/A","CreatedAt":"2026-11-23 16:29:22 +0000 UTC","CreatedSince":"3 minutes ago","Digest":"\u003cnone\u003e","ID":"13c4ebddcf2e","Repository":"debian","SharedSize":"N/A","Size":"117MB","Tag":"bookworm","UniqueSize":"N/A","VirtualSize":"116.6MB"}"#
        );
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn digest_rows() {
        let rows = rows_of(&sample(), true, true, true, 0);
        let t = Template::parse("{{.Repository}} {{.Digest}}").unwrap();
        let got: Vec<String> = rows
            .iter()
            .map(|r| t.execute(r, Mode::Normal).unwrap())
            .collect();
        assert_eq!(
            got,
            vec![
                "debian <none>",
                "localhost:5000/debian sha256:3f8f06128c3b1dd1fe1e8928582868e52836f536c9fefc81e656c1c864d959d9"
            ]
        );
    }

    #[test]
    fn history_rows() {
        let h = serde_json::json!({"Id": "sha256:4b8765de035b3c7e2d851d3d2de0324027e94fcf780919eafb2c466e2553408b", "Created": 1795451327, "CreatedBy": "", "Size": 1985791, "Comment": "busybox-static from Debian"});
        let r = history_row(&h, true, false, 0);
        let t = Template::parse("{{.ID}}|{{.CreatedSince}}|{{.Size}}").unwrap();
        assert_eq!(
            t.execute(&r, Mode::Normal).unwrap(),
            "4b8765de035b|2026-11-23T16:28:47Z|1985791"
        );
    }
}
