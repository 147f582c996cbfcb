//! `ps` / `container ls`: lists containers with docker's columns, filters,
//! `--format` templates and the row fields of docker's ContainerContext.

use super::common::{filters_json, out, Ctx, FILTER_FLAG, FORMAT_HELP};
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::fmt::{human, ports, table, text};
use crate::template::{value::Method, Mode, ObjKind, Template, Value};
use serde_json::Value as J;
use std::rc::Rc;

const FLAGS: &[Flag] = &[
    Flag::bool(
        "all",
        Some('a'),
        "Show all containers (default shows just running)",
    ),
    FILTER_FLAG,
    Flag::str("format", None, FORMAT_HELP),
    Flag::int(
        "last",
        Some('n'),
        "Show n last created containers (includes all states)",
    )
    .default("-1"),
    Flag::bool(
        "latest",
        Some('l'),
        "Show the latest created container (includes all states)",
    ),
    Flag::bool("no-trunc", None, "Don't truncate output"),
    Flag::bool("quiet", Some('q'), "Only display container IDs"),
    Flag::bool("size", Some('s'), "Display total file sizes"),
];

pub const SPEC: Spec = Spec {
    path: "ps",
    usage: "[OPTIONS]",
    about: "List containers",
    aliases: "docker container ls, docker container list, docker container ps, docker ps",
    flags: &[FLAGS],
    interspersed: true,
    arity: Arity::None,
};

const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/// Column titles of the container list.
pub(crate) const HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Names", "NAMES"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("Networks", "NETWORKS"),
    ("Platform", "PLATFORM"),
];

pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let quiet = p.bool("quiet");
    let format_flag = p.string("format");
    let mut size = p.bool("size");
    if !format_flag.is_empty() {
        // docker runs the raw format once against an empty row to validate it
        // and to see whether it uses .Size.
        let t = Template::parse(&format_flag)
            .map_err(|e| CliError::msg(format!("failed to parse template: {e}")))?;
        t.execute(&row(&J::Null, true, 0), Mode::Normal)
            .map_err(|e| CliError::msg(format!("failed to execute template: {e}")))?;
        if !quiet && !size && !p.changed("size") {
            let compact = format_flag.replace(' ', "");
            size = format_flag.contains(".Size")
                || compact.contains("json.}}")
                || compact.contains("json.)");
        }
    }
    let mut limit = p.int("last").unwrap_or(-1);
    if p.bool("latest") && limit == -1 {
        limit = 1;
    }
    let mut q = Vec::new();
    if p.bool("all") {
        q.push("all=1".to_string());
    }
    if limit > 0 {
        q.push(format!("limit={limit}"));
    }
    if size {
        q.push("size=1".to_string());
    }
    if let Some(f) = filters_json(&p.list("filter"))? {
        q.push(format!("filters={}", enc(&f)));
    }
    let path = if q.is_empty() {
        "/containers/json".to_string()
    } else {
        format!("/containers/json?{}", q.join("&"))
    };
    let list = ctx.client.get_json(&path)?;
    let trunc = !p.bool("no-trunc");
    let format = if quiet {
        "{{.ID}}".to_string()
    } else if format_flag.is_empty() || format_flag == "table" {
        if size {
            format!("{DEFAULT_TABLE}\t{{{{.Size}}}}")
        } else {
            DEFAULT_TABLE.to_string()
        }
    } else {
        format_flag
    };
    let now = berth_util::time::now_nanos();
    let rows: Vec<Value> = list
        .as_array()
        .map(|a| a.iter().map(|c| row(c, trunc, now)).collect())
        .unwrap_or_default();
    out(&table::render(&format, &rows, &table::header(HEADERS))?);
    Ok(())
}

fn s(v: &J) -> String {
    v.as_str().unwrap_or("").to_string()
}

fn image_column(c: &J, trunc: bool) -> String {
    let image = s(&c["Image"]);
    if image.is_empty() {
        return "<no image>".into();
    }
    if !trunc {
        return image;
    }
    let image_id = s(&c["ImageID"]);
    if text::truncate_id(&image_id) == text::truncate_id(&image) {
        return text::truncate_id(&image);
    }
    let without_digest = image.split('@').next().unwrap_or(&image).to_string();
    super::common::familiar(&without_digest)
}

fn names(c: &J, trunc: bool) -> String {
    let all: Vec<String> = c["Names"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| s(n).trim_start_matches('/').to_string())
                .collect()
        })
        .unwrap_or_default();
    if trunc {
        return all
            .iter()
            .find(|n| !n.contains('/'))
            .cloned()
            .unwrap_or_default();
    }
    all.join(",")
}

/// A row of `ps` as docker's ContainerContext exposes it.
pub fn row(c: &J, trunc: bool, now: i128) -> Value {
    let id = s(&c["Id"]);
    let created = c["Created"].as_i64().unwrap_or(0);
    let command = s(&c["Command"]);
    let command = if trunc {
        text::ellipsis(&command, 20)
    } else {
        command
    };
    let port_list: Vec<ports::Port> = c["Ports"]
        .as_array()
        .map(|a| a.iter().map(ports::Port::from_json).collect())
        .unwrap_or_default();
    let srw = c["SizeRw"].as_i64().unwrap_or(0);
    let srootfs = c["SizeRootFs"].as_i64().unwrap_or(0);
    let mut size = human::human_size_precision(srw as f64, 3);
    if srootfs > 0 {
        size = format!(
            "{size} (virtual {})",
            human::human_size_precision(srootfs as f64, 3)
        );
    }
    let labels_obj = c["Labels"].as_object().cloned().unwrap_or_default();
    let mut labels: Vec<String> = labels_obj
        .iter()
        .map(|(k, v)| format!("{k}={}", s(v)))
        .collect();
    labels.sort();
    let mounts = c["Mounts"].as_array().cloned().unwrap_or_default();
    let mount_names: Vec<String> = mounts
        .iter()
        .map(|m| {
            let n = if s(&m["Name"]).is_empty() {
                s(&m["Source"])
            } else {
                s(&m["Name"])
            };
            if trunc {
                text::ellipsis(&n, 15)
            } else {
                n
            }
        })
        .collect();
    let local = mounts.iter().filter(|m| m["Driver"] == "local").count();
    let mut networks: Vec<String> = c["NetworkSettings"]["Networks"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    networks.sort();
    let label_method: Method = Rc::new(move |args: &[Value]| {
        let key = args.first().map(Value::to_go_string).unwrap_or_default();
        Ok(Value::Str(labels_obj.get(&key).map(s).unwrap_or_default()))
    });
    Value::Object(
        ObjKind::Context("*formatter.ContainerContext"),
        vec![
            ("Command".into(), Value::Str(text::go_quote(&command))),
            (
                "CreatedAt".into(),
                Value::Str(human::go_time_string(created)),
            ),
            (
                "ID".into(),
                Value::Str(if trunc { text::truncate_id(&id) } else { id }),
            ),
            ("Image".into(), Value::Str(image_column(c, trunc))),
            ("Labels".into(), Value::Str(labels.join(","))),
            ("LocalVolumes".into(), Value::Str(local.to_string())),
            ("Mounts".into(), Value::Str(mount_names.join(","))),
            ("Names".into(), Value::Str(names(c, trunc))),
            ("Networks".into(), Value::Str(networks.join(","))),
            ("Platform".into(), Value::Nil),
            (
                "Ports".into(),
                Value::Str(ports::displayable_ports(&port_list)),
            ),
            ("RunningFor".into(), Value::Str(human::ago(created, now))),
            ("Size".into(), Value::Str(size)),
            ("State".into(), Value::Str(s(&c["State"]))),
            ("Status".into(), Value::Str(s(&c["Status"]))),
            ("Label".into(), Value::Method(label_method)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> J {
        serde_json::json!({
            "Id": "ef0296c4a4fffcc701bd07343b1bc66c45016a86c2ac7f7bf36b4be4f1ccd525",
            "Names": ["/bcli-a"],
            "Image": "busybox",
            "ImageID": "sha256:4b8765de035b3c7e2d851d3d2de0324027e94fcf780919eafb2c466e2553408b",
            "Command": "sh -c 'echo hello; echo err >&2; sleep 1000'",
            "Created": 1795451506,
            "Ports": [],
            "Labels": {"foo": "bar", "z": "1"},
            "State": "created",
            "Status": "Created",
            "NetworkSettings": {"Networks": {"bridge": {}}},
            "Mounts": []
        })
    }

    #[test]
    fn json_row_matches_docker() {
        // `docker ps -a --format '{{json .}}'` here, with RunningFor pinned.
        let now = (1795451506i128 + 1) * 1_000_000_000;
        let v = row(&sample(), true, now);
        let got = Template::parse("{{json .}}")
            .unwrap()
            .execute(&v, Mode::Normal)
            .unwrap();
        assert_eq!(
            got,
            r#"{"Command":"\"sh -c 'echo hello; …\"","CreatedAt":"2026-11-23 16:31:46 +0000 UTC","ID":"ef0296c4a4ff","Image":"busybox","Labels":"foo=bar,z=1","LocalVolumes":"0","Mounts":"","Names":"bcli-a","Networks":"bridge","Platform":null,"Ports":"","RunningFor":"1 second ago","Size":"0B","State":"created","Status":"Created"}"#
        );
        let got = Template::parse("{{.Label \"foo\"}}|{{.Label \"x\"}}")
            .unwrap()
            .execute(&v, Mode::Normal)
            .unwrap();
        assert_eq!(got, "bar|");
    }

    #[test]
    fn table_matches_docker() {
        let now = (1795451506i128 + 1) * 1_000_000_000;
        let v = row(&sample(), true, now);
        let got = table::render(DEFAULT_TABLE, &[v], &table::header(HEADERS)).unwrap();
        assert_eq!(
            got,
            "CONTAINER ID   IMAGE     COMMAND                  CREATED        STATUS    PORTS     NAMES\n\
             ef0296c4a4ff   busybox   \"sh -c 'echo hello; …\"   1 second ago   Created             bcli-a\n"
        );
    }
}
