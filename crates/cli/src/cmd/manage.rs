//! Commands that change containers in place or clean up: `pause`,
//! `unpause`, `rename`, `update`, `container prune` and `system prune`,
//! with docker's prompts, output and exit codes.

use super::common::{errln, filters_json, out, outln, Ctx};
use super::images::confirm;
use super::lifecycle::each;
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::fmt::{human, units};
use serde_json::{json, Value};

pub const PAUSE_SPEC: Spec = Spec {
    path: "pause",
    usage: "CONTAINER [CONTAINER...]",
    about: "Pause all processes within one or more containers",
    aliases: "docker container pause, docker pause",
    flags: &[],
    interspersed: true,
    arity: Arity::Min(1),
};

pub const UNPAUSE_SPEC: Spec = Spec {
    path: "unpause",
    usage: "CONTAINER [CONTAINER...]",
    about: "Unpause all processes within one or more containers",
    aliases: "docker container unpause, docker unpause",
    flags: &[],
    interspersed: true,
    arity: Arity::Min(1),
};

/// POSTs `/containers/{name}/{op}` for every container given.
fn post_each(ctx: &Ctx, p: &Parsed, op: &str) -> Result<()> {
    each(&p.args, |n| {
        ctx.client
            .post(&format!("/containers/{}/{op}", enc(n)))
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

pub fn pause(ctx: &Ctx, p: &Parsed) -> Result<()> {
    post_each(ctx, p, "pause")
}

pub fn unpause(ctx: &Ctx, p: &Parsed) -> Result<()> {
    post_each(ctx, p, "unpause")
}

pub const RENAME_SPEC: Spec = Spec {
    path: "rename",
    usage: "CONTAINER NEW_NAME",
    about: "Rename a container",
    aliases: "docker container rename, docker rename",
    flags: &[],
    interspersed: true,
    arity: Arity::Exact(2),
};

pub fn rename(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let (old, new) = (p.args[0].trim(), p.args[1].trim());
    if old.is_empty() || new.is_empty() {
        return Err(CliError::msg(
            "Error: Neither old nor new names may be empty",
        ));
    }
    let path = format!("/containers/{}/rename?name={}", enc(old), enc(new));
    if let Err(e) = ctx.client.post(&path) {
        errln(&e.to_string());
        return Err(CliError::msg(format!(
            "Error: failed to rename container named {old}"
        )));
    }
    Ok(())
}

/// `--memory-swap`: a size, or `-1` for unlimited swap.
fn check_swap(v: &str) -> std::result::Result<(), String> {
    if v == "-1" {
        return Ok(());
    }
    units::ram_in_bytes(v).map(|_| ())
}

fn swap_bytes(p: &Parsed) -> i64 {
    match p.str("memory-swap") {
        Some("-1") => -1,
        Some(v) => units::ram_in_bytes(v).unwrap_or(0),
        None => 0,
    }
}

const UPDATE_FLAGS: &[Flag] = &[
    Flag::int(
        "blkio-weight",
        None,
        "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)",
    )
    .typ("uint16"),
    Flag::int(
        "cpu-period",
        None,
        "Limit CPU CFS (Completely Fair Scheduler) period",
    ),
    Flag::int(
        "cpu-quota",
        None,
        "Limit CPU CFS (Completely Fair Scheduler) quota",
    ),
    Flag::int(
        "cpu-rt-period",
        None,
        "Limit the CPU real-time period in microseconds",
    ),
    Flag::int(
        "cpu-rt-runtime",
        None,
        "Limit the CPU real-time runtime in microseconds",
    ),
    Flag::int("cpu-shares", Some('c'), "CPU shares (relative weight)"),
    Flag::decimal("cpus", "Number of CPUs"),
    Flag::str(
        "cpuset-cpus",
        None,
        "CPUs in which to allow execution (0-3, 0,1)",
    ),
    Flag::str(
        "cpuset-mems",
        None,
        "MEMs in which to allow execution (0-3, 0,1)",
    ),
    Flag::bytes("kernel-memory", None, "Kernel memory limit (deprecated)").hidden(),
    Flag::bytes("memory", Some('m'), "Memory limit"),
    Flag::bytes("memory-reservation", None, "Memory soft limit"),
    Flag::str(
        "memory-swap",
        None,
        "Swap limit equal to memory plus swap: -1 to enable unlimited swap",
    )
    .typ("bytes")
    .check(check_swap),
    Flag::int(
        "pids-limit",
        None,
        "Tune container pids limit (set -1 for unlimited)",
    ),
    Flag::str(
        "restart",
        None,
        "Restart policy to apply when a container exits",
    ),
];

pub const UPDATE_SPEC: Spec = Spec {
    path: "update",
    usage: "[OPTIONS] CONTAINER [CONTAINER...]",
    about: "Update configuration of one or more containers",
    aliases: "docker container update, docker update",
    flags: &[UPDATE_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

/// The `UpdateConfig` body from the flags (docker sends every field).
fn update_body(p: &Parsed) -> Result<Value> {
    let restart = match p.str("restart").filter(|s| !s.is_empty()) {
        Some(r) => crate::opts::kv::restart_policy(r).map_err(CliError::msg)?,
        None => json!({"Name": "", "MaximumRetryCount": 0}),
    };
    let int = |f: &str| p.int(f).unwrap_or(0);
    let bytes = |f: &str| p.bytes(f).unwrap_or(0);
    let pids = p.int("pids-limit").filter(|n| *n != 0);
    Ok(json!({
        "BlkioWeight": int("blkio-weight"),
        "CpusetCpus": p.string("cpuset-cpus"),
        "CpusetMems": p.string("cpuset-mems"),
        "CpuShares": int("cpu-shares"),
        "Memory": bytes("memory"),
        "MemoryReservation": bytes("memory-reservation"),
        "MemorySwap": swap_bytes(p),
        "KernelMemory": bytes("kernel-memory"),
        "CpuPeriod": int("cpu-period"),
        "CpuQuota": int("cpu-quota"),
        "CpuRealtimePeriod": int("cpu-rt-period"),
        "CpuRealtimeRuntime": int("cpu-rt-runtime"),
        "NanoCpus": p.decimal("cpus").map(|c| (c * 1e9).round() as i64).unwrap_or(0),
        "PidsLimit": pids,
        "RestartPolicy": restart,
    }))
}

pub fn update(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let given = UPDATE_FLAGS.iter().any(|f| p.changed(f.long));
    if !given {
        return Err(CliError::msg(
            "you must provide one or more flags when using this command",
        ));
    }
    let body = update_body(p)?;
    let mut warnings = Vec::new();
    let mut errs = Vec::new();
    for n in &p.args {
        match ctx
            .client
            .post_json(&format!("/containers/{}/update", enc(n)), &body)
        {
            Ok(v) => {
                outln(n);
                warnings.extend(
                    v["Warnings"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|w| w.as_str().map(str::to_string)),
                );
            }
            Err(e) => errs.push(e.to_string()),
        }
    }
    if !warnings.is_empty() {
        outln(&warnings.join("\n"));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(CliError::msg(errs.join("\n")))
    }
}

/// `--filter` of the prune commands (no `-f`: that is `--force`).
const PRUNE_FILTER: Flag = Flag::list(
    "filter",
    None,
    "Provide filter values (e.g. \"until=<timestamp>\")",
)
.typ("filter");

const CONTAINER_PRUNE_FLAGS: &[Flag] = &[
    PRUNE_FILTER,
    Flag::bool("force", Some('f'), "Do not prompt for confirmation"),
];

pub const CONTAINER_PRUNE_SPEC: Spec = Spec {
    path: "container prune",
    usage: "[OPTIONS]",
    about: "Remove all stopped containers",
    aliases: "",
    flags: &[CONTAINER_PRUNE_FLAGS],
    interspersed: true,
    arity: Arity::None,
};

/// One prune call's contribution to the report: bytes and text.
struct Pruned {
    reclaimed: u64,
    text: String,
}

/// `"Deleted X:\n<item>\n…"` for a non-empty list of `key` in `report`.
fn listing(report: &Value, key: &str, title: &str) -> String {
    let items: Vec<&str> = report[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if items.is_empty() {
        return String::new();
    }
    let mut s = format!("{title}:\n");
    for i in items {
        s.push_str(i);
        s.push('\n');
    }
    s
}

/// POSTs a prune route; `None` when the daemon has no such route.
fn prune_call(ctx: &Ctx, what: &str, filters: &[String]) -> Result<Option<Value>> {
    let mut path = format!("/{what}/prune");
    if let Some(f) = filters_json(filters)? {
        path.push_str(&format!("?filters={}", enc(&f)));
    }
    match ctx.client.post(&path) {
        Ok(body) => Ok(Some(serde_json::from_slice(&body).unwrap_or(Value::Null))),
        Err(e) if e.status() == Some(404) && what != "containers" => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn prune_containers(ctx: &Ctx, filters: &[String]) -> Result<Pruned> {
    let r = prune_call(ctx, "containers", filters)?.unwrap_or(Value::Null);
    let text = listing(&r, "ContainersDeleted", "Deleted Containers");
    Ok(Pruned {
        reclaimed: if text.is_empty() {
            0
        } else {
            r["SpaceReclaimed"].as_u64().unwrap_or(0)
        },
        text,
    })
}

/// Prints the parts that removed something and the total, as docker does.
fn report(parts: &[Pruned]) {
    let mut s = String::new();
    for p in parts.iter().filter(|p| !p.text.is_empty()) {
        s.push_str(&p.text);
        s.push('\n');
    }
    let total: u64 = parts.iter().map(|p| p.reclaimed).sum();
    s.push_str(&format!(
        "Total reclaimed space: {}\n",
        human::human_size(total as f64)
    ));
    out(&s);
}

pub fn container_prune(ctx: &Ctx, p: &Parsed) -> Result<()> {
    if !p.bool("force") && !confirm("WARNING! This will remove all stopped containers.") {
        return Ok(());
    }
    let pruned = prune_containers(ctx, &p.list("filter"))?;
    report(&[pruned]);
    Ok(())
}

const SYSTEM_PRUNE_FLAGS: &[Flag] = &[
    Flag::bool(
        "all",
        Some('a'),
        "Remove all unused images not just dangling ones",
    ),
    Flag::list(
        "filter",
        None,
        "Provide filter values (e.g. \"label=<key>=<value>\")",
    )
    .typ("filter"),
    Flag::bool("force", Some('f'), "Do not prompt for confirmation"),
    Flag::bool("volumes", None, "Prune anonymous volumes"),
];

pub const SYSTEM_PRUNE_SPEC: Spec = Spec {
    path: "system prune",
    usage: "[OPTIONS]",
    about: "Remove unused data",
    aliases: "",
    flags: &[SYSTEM_PRUNE_FLAGS],
    interspersed: true,
    arity: Arity::None,
};

/// docker's natural sort order (`label!=…` before `label=…`, `a2` before `a10`).
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    while let (Some(&c), Some(&d)) = (x.first(), y.first()) {
        if c.is_ascii_digit() && d.is_ascii_digit() {
            let n = x.iter().take_while(|b| b.is_ascii_digit()).count();
            let m = y.iter().take_while(|b| b.is_ascii_digit()).count();
            let value =
                |d: &[u8]| -> Vec<u8> { d.iter().copied().skip_while(|b| *b == b'0').collect() };
            let (na, nb) = (value(&x[..n]), value(&y[..m]));
            let ord = na.len().cmp(&nb.len()).then(na.cmp(&nb)).then(n.cmp(&m));
            if ord.is_ne() {
                return ord;
            }
            x = &x[n..];
            y = &y[m..];
        } else {
            if c != d {
                return c.cmp(&d);
            }
            x = &x[1..];
            y = &y[1..];
        }
    }
    x.len().cmp(&y.len())
}

/// The confirmation text of `system prune` (docker's template, filled).
fn system_warning(all: bool, volumes: bool, filters: &[String]) -> String {
    let mut warnings = vec![
        "all stopped containers",
        "all networks not used by at least one container",
    ];
    if volumes {
        warnings.push("all anonymous volumes not used by at least one container");
    }
    warnings.push(if all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    });
    warnings.push(if all {
        "all build cache"
    } else {
        "unused build cache"
    });
    let mut s = "WARNING! This will remove:\n".to_string();
    for w in warnings {
        s.push_str(&format!("  - {w}\n"));
    }
    let mut shown: Vec<String> = filters
        .iter()
        .filter(|f| {
            let key = f.split_once('=').map_or(f.as_str(), |(k, _)| k);
            matches!(
                key.trim().to_lowercase().as_str(),
                "label" | "label!" | "until"
            )
        })
        .cloned()
        .collect();
    shown.sort_by(|a, b| natural_cmp(a, b));
    if !shown.is_empty() {
        s.push_str("\n  Items to be pruned will be filtered with:\n");
        for f in shown {
            s.push_str(&format!("  - {f}\n"));
        }
    }
    s
}

/// The image prune of `system prune`: docker's "Deleted Images" lines.
fn prune_images(ctx: &Ctx, all: bool, filters: &[String]) -> Result<Pruned> {
    let mut f = filters.to_vec();
    f.push(format!("dangling={}", !all));
    let r = prune_call(ctx, "images", &f)?.unwrap_or(Value::Null);
    let mut text = String::new();
    for d in r["ImagesDeleted"].as_array().into_iter().flatten() {
        match d["Untagged"].as_str().filter(|s| !s.is_empty()) {
            Some(u) => text.push_str(&format!("untagged: {u}\n")),
            None => text.push_str(&format!(
                "deleted: {}\n",
                d["Deleted"].as_str().unwrap_or("")
            )),
        }
    }
    if !text.is_empty() {
        text.insert_str(0, "Deleted Images:\n");
    }
    Ok(Pruned {
        reclaimed: if text.is_empty() {
            0
        } else {
            r["SpaceReclaimed"].as_u64().unwrap_or(0)
        },
        text,
    })
}

/// A prune whose report is only a list (networks, volumes, build cache).
fn prune_list(ctx: &Ctx, what: &str, filters: &[String], key: &str, title: &str) -> Result<Pruned> {
    let r = prune_call(ctx, what, filters)?.unwrap_or(Value::Null);
    let text = listing(&r, key, title);
    Ok(Pruned {
        reclaimed: r["SpaceReclaimed"].as_u64().unwrap_or(0),
        text,
    })
}

pub fn system_prune(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let (all, volumes) = (p.bool("all"), p.bool("volumes"));
    let filters = p.list("filter");
    if volumes && filters.iter().any(|f| f.trim_start().starts_with("until")) {
        return Err(CliError::msg(
            "ERROR: The \"until\" filter is not supported with \"--volumes\"",
        ));
    }
    if !p.bool("force") && !confirm(&system_warning(all, volumes, &filters)) {
        return Ok(());
    }
    let mut parts = vec![
        prune_containers(ctx, &filters)?,
        prune_list(
            ctx,
            "networks",
            &filters,
            "NetworksDeleted",
            "Deleted Networks",
        )?,
    ];
    if volumes {
        parts.push(prune_list(
            ctx,
            "volumes",
            &filters,
            "VolumesDeleted",
            "Deleted Volumes",
        )?);
    }
    parts.push(prune_images(ctx, all, &filters)?);
    parts.push(prune_list(
        ctx,
        "build",
        &filters,
        "CachesDeleted",
        "Deleted build cache objects",
    )?);
    report(&parts);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_prune_warning_matches_docker() {
        assert_eq!(
            system_warning(false, false, &[]),
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n"
        );
        let w = system_warning(
            true,
            true,
            &["label=x".into(), "label!=y".into(), "dangling=true".into()],
        );
        assert_eq!(
            w,
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all images without at least one container associated to them\n  - all build cache\n\n  Items to be pruned will be filtered with:\n  - label!=y\n  - label=x\n"
        );
    }

    #[test]
    fn natural_order() {
        let mut v = vec!["a10", "a2", "label=x", "label!=y", "a02"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a2", "a02", "a10", "label!=y", "label=x"]);
    }

    #[test]
    fn listings_and_update_bodies() {
        let r = json!({"ContainersDeleted": ["a", "b"], "SpaceReclaimed": 0});
        assert_eq!(
            listing(&r, "ContainersDeleted", "Deleted Containers"),
            "Deleted Containers:\na\nb\n"
        );
        assert_eq!(
            listing(
                &json!({"ContainersDeleted": null}),
                "ContainersDeleted",
                "x"
            ),
            ""
        );
        let spec = Spec {
            path: "update",
            ..UPDATE_SPEC
        };
        let argv: Vec<String> =
            "-m 100m --memory-swap -1 --cpus 1.5 --pids-limit 20 --restart on-failure:2 c"
                .split(' ')
                .map(String::from)
                .collect();
        let crate::args::Outcome::Run(p) = crate::args::parse(&spec, &argv).unwrap() else {
            panic!("help")
        };
        let b = update_body(&p).unwrap();
        assert_eq!(b["Memory"], 100 << 20);
        assert_eq!(b["MemorySwap"], -1);
        assert_eq!(b["NanoCpus"], 1_500_000_000i64);
        assert_eq!(b["PidsLimit"], 20);
        assert_eq!(b["RestartPolicy"]["Name"], "on-failure");
        assert_eq!(b["RestartPolicy"]["MaximumRetryCount"], 2);
        assert!(check_swap("x").is_err());
    }
}
