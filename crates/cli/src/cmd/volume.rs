//! `volume create`, `volume ls`/`list`, `volume rm`/`remove` and
//! `volume prune` (`volume inspect` is in `inspect.rs` with the other
//! inspect commands): docker's flags, output and errors.

use super::common::{filters_json, out, outln, Ctx, FILTER_FLAG, FORMAT_HELP};
use super::images::confirm;
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::fmt::{human, table};
use crate::opts::kv::to_map;
use crate::template::{value::Method, ObjKind, Value};
use serde_json::{json, Value as J};
use std::rc::Rc;

const CREATE_FLAGS: &[Flag] = &[
    Flag::str("driver", Some('d'), "Specify volume driver name").default("\"local\""),
    Flag::list("label", None, "Set metadata for a volume"),
    Flag::list("opt", Some('o'), "Set driver specific options")
        .typ("map")
        .default("map[]"),
    Flag::str("name", None, "Specify volume name").hidden(),
];

pub const CREATE_SPEC: Spec = Spec {
    path: "volume create",
    usage: "[OPTIONS] [VOLUME]",
    about: "Create a volume",
    aliases: "",
    flags: &[CREATE_FLAGS],
    interspersed: true,
    arity: Arity::Max(1),
};

pub fn create(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let mut name = p.string("name");
    if let Some(arg) = p.args.first() {
        if !name.is_empty() {
            return Err(CliError::msg(
                "conflicting options: cannot specify a volume-name through both --name and as a positional arg",
            ));
        }
        name = arg.clone();
    }
    let driver = p.str("driver").unwrap_or("local");
    let body = json!({
        "Driver": driver,
        "DriverOpts": to_map(&p.list("opt")),
        "Labels": to_map(&p.list("label")),
        "Name": name,
    });
    let v = ctx.client.post_json("/volumes/create", &body)?;
    outln(v["Name"].as_str().unwrap_or(""));
    Ok(())
}

const LS_FLAGS: &[Flag] = &[
    Flag::bool(
        "cluster",
        None,
        "Display only cluster volumes, and use cluster volume list formatting",
    )
    .hidden(),
    Flag {
        help: "Provide filter values (e.g. \"dangling=true\")",
        ..FILTER_FLAG
    },
    Flag::str("format", None, FORMAT_HELP),
    Flag::bool("quiet", Some('q'), "Only display volume names"),
];

pub const LS_SPEC: Spec = Spec {
    path: "volume ls",
    usage: "[OPTIONS]",
    about: "List volumes",
    aliases: "docker volume ls, docker volume list",
    flags: &[LS_FLAGS],
    interspersed: true,
    arity: Arity::None,
};

const HEADERS: &[(&str, &str)] = &[
    ("Name", "VOLUME NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
    ("Group", "GROUP"),
    ("Availability", "AVAILABILITY"),
    ("Status", "STATUS"),
];

/// docker's `volumeContext` row.
fn row(v: &J) -> Value {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let labels = v["Labels"].as_object().cloned().unwrap_or_default();
    let mut joined: Vec<String> = labels
        .iter()
        .map(|(k, val)| format!("{k}={}", val.as_str().unwrap_or("")))
        .collect();
    joined.sort();
    let usage = &v["UsageData"];
    let (links, size) = if usage.is_object() {
        (
            usage["RefCount"].as_i64().unwrap_or(0).to_string(),
            human::human_size(usage["Size"].as_i64().unwrap_or(0) as f64),
        )
    } else {
        ("N/A".to_string(), "N/A".to_string())
    };
    let label: Method = Rc::new(move |args: &[Value]| {
        let key = args.first().map(Value::to_go_string).unwrap_or_default();
        let val = labels.get(&key).and_then(J::as_str).unwrap_or("");
        Ok(Value::str(val))
    });
    Value::Object(
        ObjKind::Context("*formatter.volumeContext"),
        vec![
            ("Availability".into(), Value::str("N/A")),
            ("Driver".into(), Value::Str(s("Driver"))),
            ("Group".into(), Value::str("N/A")),
            ("Labels".into(), Value::Str(joined.join(","))),
            ("Links".into(), Value::Str(links)),
            ("Mountpoint".into(), Value::Str(s("Mountpoint"))),
            ("Name".into(), Value::Str(s("Name"))),
            ("Scope".into(), Value::Str(s("Scope"))),
            ("Size".into(), Value::Str(size)),
            ("Status".into(), Value::str("N/A")),
            ("Label".into(), Value::Method(label)),
        ],
    )
}

/// `sortorder.NaturalLess`: digit runs compare as numbers and sort before
/// other characters.
fn natural_less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da != db {
            return da;
        }
        if !da {
            if a[i] != b[j] {
                return a[i] < b[j];
            }
            i += 1;
            j += 1;
            continue;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let (na, nb) = (i, j);
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if i - na != j - nb {
            return i - na < j - nb;
        }
        if a[na..i] != b[nb..j] {
            return a[na..i] < b[nb..j];
        }
        if na != nb {
            return na < nb;
        }
    }
    a.len() - i < b.len() - j
}

pub fn ls(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let path = match filters_json(&p.list("filter"))? {
        Some(f) => format!("/volumes?filters={}", enc(&f)),
        None => "/volumes".to_string(),
    };
    let resp = ctx.client.get_json(&path)?;
    let mut vols: Vec<J> = resp["Volumes"].as_array().cloned().unwrap_or_default();
    vols.sort_by(|a, b| {
        let (x, y) = (
            a["Name"].as_str().unwrap_or(""),
            b["Name"].as_str().unwrap_or(""),
        );
        if natural_less(x, y) {
            std::cmp::Ordering::Less
        } else if natural_less(y, x) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    let given = p.string("format");
    let format = match given.as_str() {
        "" | "table" if p.bool("quiet") => "{{.Name}}".to_string(),
        "" | "table" => "table {{.Driver}}\t{{.Name}}".to_string(),
        _ => given,
    };
    let rows: Vec<Value> = vols.iter().map(row).collect();
    out(&table::render(&format, &rows, &table::header(HEADERS))?);
    Ok(())
}

const RM_FLAGS: &[Flag] = &[Flag::bool(
    "force",
    Some('f'),
    "Force the removal of one or more volumes",
)];

pub const RM_SPEC: Spec = Spec {
    path: "volume rm",
    usage: "[OPTIONS] VOLUME [VOLUME...]",
    about: "Remove one or more volumes",
    aliases: "docker volume rm, docker volume remove",
    flags: &[RM_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub fn rm(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let q = if p.bool("force") { "?force=1" } else { "" };
    super::lifecycle::each(&p.args, |name| {
        ctx.client
            .delete(&format!("/volumes/{}{q}", enc(name)))
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

const PRUNE_FLAGS: &[Flag] = &[
    Flag::bool(
        "all",
        Some('a'),
        "Remove all unused volumes, not just anonymous ones",
    ),
    Flag::list(
        "filter",
        None,
        "Provide filter values (e.g. \"label=<label>\")",
    )
    .typ("filter"),
    Flag::bool("force", Some('f'), "Do not prompt for confirmation"),
];

pub const PRUNE_SPEC: Spec = Spec {
    path: "volume prune",
    usage: "[OPTIONS]",
    about: "Remove unused local volumes",
    aliases: "",
    flags: &[PRUNE_FLAGS],
    interspersed: true,
    arity: Arity::None,
};

const ANONYMOUS_WARNING: &str =
    "WARNING! This will remove anonymous local volumes not used by at least one container.";
const ALL_WARNING: &str =
    "WARNING! This will remove all local volumes not used by at least one container.";

pub fn prune(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let mut filters = p.list("filter");
    let warning = if !ctx.client.at_least("1.42") {
        if p.bool("all") {
            return Err(CliError::msg(format!(
                "\"--all\" requires API version 1.42, but the daemon API version is {}",
                ctx.client.version()?
            )));
        }
        ALL_WARNING
    } else if p.bool("all") {
        if filters.iter().any(|f| f.starts_with("all=")) {
            return Err(CliError::msg(
                "conflicting options: cannot specify both --all and --filter all=1",
            ));
        }
        filters.push("all=true".into());
        ALL_WARNING
    } else {
        ANONYMOUS_WARNING
    };
    if !p.bool("force") && !confirm(warning) {
        return Ok(());
    }
    let path = match filters_json(&filters)? {
        Some(f) => format!("/volumes/prune?filters={}", enc(&f)),
        None => "/volumes/prune".to_string(),
    };
    let report: J = serde_json::from_slice(&ctx.client.post(&path)?).unwrap_or(J::Null);
    let deleted = report["VolumesDeleted"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut text = String::new();
    let mut reclaimed = 0;
    if !deleted.is_empty() {
        text.push_str("Deleted Volumes:\n");
        for d in &deleted {
            text.push_str(d.as_str().unwrap_or(""));
            text.push('\n');
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

    #[test]
    fn natural_order() {
        let mut v = vec!["vol10", "vol2", "a", "vol02", "b1", "10", "9"];
        v.sort_by(|a, b| {
            if natural_less(a, b) {
                std::cmp::Ordering::Less
            } else if natural_less(b, a) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        assert_eq!(v, ["9", "10", "a", "b1", "vol2", "vol02", "vol10"]);
    }

    /// `docker volume ls --format '{{json .}}'` against Docker 20.10.
    #[test]
    fn json_rows_match_docker() {
        let v = json!({"CreatedAt":"2026-11-23T17:02:57Z","Driver":"local","Labels":{"a":"b"},"Mountpoint":"/var/lib/docker/volumes/tv1/_data","Name":"tv1","Options":{"device":"tmpfs"},"Scope":"local"});
        let got = Template::parse("{{json .}}")
            .unwrap()
            .execute(&row(&v), Mode::Normal)
            .unwrap();
        assert_eq!(
            got,
            r#"{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"a=b","Links":"N/A","Mountpoint":"/var/lib/docker/volumes/tv1/_data","Name":"tv1","Scope":"local","Size":"N/A","Status":"N/A"}"#
        );
        let t = Template::parse("{{.Label \"a\"}}|{{.Label \"x\"}}").unwrap();
        assert_eq!(t.execute(&row(&v), Mode::Normal).unwrap(), "b|");
        let table = table::render(
            "table {{.Driver}}\t{{.Name}}",
            &[row(&v)],
            &table::header(HEADERS),
        )
        .unwrap();
        assert_eq!(table, "DRIVER    VOLUME NAME\nlocal     tv1\n");
    }

    #[test]
    fn key_values() {
        let m = to_map(&["a=b=c".into(), "k".into()]);
        assert_eq!(m, json!({"a": "b=c", "k": ""}));
    }
}
