//! `system df`: the summary table (TYPE TOTAL ACTIVE SIZE RECLAIMABLE) of
//! images, containers, local volumes and the build cache, or with `-v` one
//! table per kind, computed from `GET /system/df` as docker/cli does.

use crate::args::{Arity, Flag, Parsed, Spec};
use crate::cmd::common::{familiar, out, split_tag, Ctx, FORMAT_HELP};
use crate::cmd::{images, ps};
use crate::error::Result;
use crate::fmt::human::{ago, go_time_string, human_size, human_size_precision};
use crate::fmt::table;
use crate::fmt::text::truncate_id;
use crate::template::{Mode, ObjKind, Template, Value};
use serde_json::Value as J;

const FLAGS: &[Flag] = &[
    Flag::str("format", None, FORMAT_HELP),
    Flag::bool(
        "verbose",
        Some('v'),
        "Show detailed information on space usage",
    ),
];

pub const SPEC: Spec = Spec {
    path: "system df",
    usage: "[OPTIONS]",
    about: "Show berth disk usage",
    aliases: "",
    flags: &[FLAGS],
    interspersed: true,
    arity: Arity::None,
};

const SUMMARY_TABLE: &str =
    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
const SUMMARY_RAW: &str = "type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n";
const SUMMARY_HEADERS: &[(&str, &str)] = &[
    ("Type", "TYPE"),
    ("TotalCount", "TOTAL"),
    ("Active", "ACTIVE"),
    ("Size", "SIZE"),
    ("Reclaimable", "RECLAIMABLE"),
];
const IMAGES_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}";
const CONTAINERS_TABLE: &str = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}";
const VOLUMES_TABLE: &str = "table {{.Name}}\t{{.Links}}\t{{.Size}}";
const VOLUME_HEADERS: &[(&str, &str)] = &[
    ("Name", "VOLUME NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
];
const CACHE_TABLE: &str = "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}";
const CACHE_HEADERS: &[(&str, &str)] = &[
    ("ID", "CACHE ID"),
    ("CacheType", "CACHE TYPE"),
    ("Size", "SIZE"),
    ("CreatedSince", "CREATED"),
    ("LastUsedSince", "LAST USED"),
    ("UsageCount", "USAGE"),
    ("Shared", "SHARED"),
];

fn list(v: &J) -> Vec<J> {
    v.as_array().cloned().unwrap_or_default()
}

fn i(v: &J) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// `SIZE (PCT%)` as docker prints reclaimable space.
fn reclaimable(part: i64, total: i64) -> String {
    if total > 0 {
        format!("{} ({}%)", human_size(part as f64), part * 100 / total)
    } else {
        human_size(part as f64)
    }
}

fn summary_row(typ: &str, total: usize, active: usize, size: String, recl: String) -> Value {
    Value::Object(
        ObjKind::Context("*formatter.diskUsageContext"),
        vec![
            ("Active".into(), Value::Str(active.to_string())),
            ("Reclaimable".into(), Value::Str(recl)),
            ("Size".into(), Value::Str(size)),
            ("TotalCount".into(), Value::Str(total.to_string())),
            ("Type".into(), Value::str(typ)),
        ],
    )
}

fn is_active_container(c: &J) -> bool {
    matches!(
        c["State"].as_str().unwrap_or(""),
        "running" | "paused" | "restarting"
    )
}

/// The four summary rows of `system df`.
pub fn summary_rows(du: &J) -> Vec<Value> {
    let images = list(&du["Images"]);
    let layers = i(&du["LayersSize"]);
    let used: i64 = images
        .iter()
        .filter(|m| i(&m["Containers"]) != 0)
        .filter(|m| i(&m["Size"]) != -1 && i(&m["SharedSize"]) != -1)
        .map(|m| i(&m["Size"]) - i(&m["SharedSize"]))
        .sum();
    let image_row = summary_row(
        "Images",
        images.len(),
        images.iter().filter(|m| i(&m["Containers"]) > 0).count(),
        human_size(layers as f64),
        reclaimable(layers - used, layers),
    );

    let containers = list(&du["Containers"]);
    let total: i64 = containers.iter().map(|c| i(&c["SizeRw"])).sum();
    let idle: i64 = containers
        .iter()
        .filter(|c| !is_active_container(c))
        .map(|c| i(&c["SizeRw"]))
        .sum();
    let container_row = summary_row(
        "Containers",
        containers.len(),
        containers.iter().filter(|c| is_active_container(c)).count(),
        human_size(total as f64),
        reclaimable(idle, total),
    );

    let volumes = list(&du["Volumes"]);
    let refs = |v: &J| i(&v["UsageData"]["RefCount"]);
    let size = |v: &J| v["UsageData"]["Size"].as_i64().unwrap_or(-1);
    let vtotal: i64 = volumes.iter().map(size).filter(|s| *s != -1).sum();
    let vidle: i64 = volumes
        .iter()
        .filter(|v| size(v) != -1 && refs(v) == 0)
        .map(size)
        .sum();
    let volume_row = summary_row(
        "Local Volumes",
        volumes.len(),
        volumes.iter().filter(|v| refs(v) > 0).count(),
        human_size(vtotal as f64),
        reclaimable(vidle, vtotal),
    );

    let cache = list(&du["BuildCache"]);
    let flag = |c: &J, k: &str| c[k].as_bool().unwrap_or(false);
    let builder: i64 = cache
        .iter()
        .filter(|c| !flag(c, "Shared"))
        .map(|c| i(&c["Size"]))
        .sum();
    let in_use: i64 = cache
        .iter()
        .filter(|c| flag(c, "InUse") && !flag(c, "Shared"))
        .map(|c| i(&c["Size"]))
        .sum();
    let cache_row = summary_row(
        "Build Cache",
        cache.len(),
        cache.iter().filter(|c| flag(c, "InUse")).count(),
        human_size(builder as f64),
        human_size((builder - in_use) as f64),
    );
    vec![image_row, container_row, volume_row, cache_row]
}

fn image_rows(du: &J, trunc: bool, now: i128) -> Vec<Value> {
    list(&du["Images"])
        .iter()
        .map(|img| {
            let tags: Vec<&str> = img["RepoTags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(J::as_str)
                .collect();
            let digests: Vec<&str> = img["RepoDigests"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(J::as_str)
                .collect();
            let dangling = tags == ["<none>:<none>"] && digests == ["<none>@<none>"];
            let (repo, tag) = match tags.first() {
                Some(t) if !dangling => {
                    let (name, tag) = split_tag(t);
                    (familiar(&name), tag)
                }
                _ => ("<none>".to_string(), "<none>".to_string()),
            };
            images::image_row(img, trunc, &repo, &tag, "", now)
        })
        .collect()
}

fn container_rows(du: &J, trunc: bool, now: i128) -> Vec<Value> {
    list(&du["Containers"])
        .iter()
        .map(|c| {
            // The verbose view shows no virtual size.
            let mut c = c.clone();
            c["SizeRootFs"] = J::from(0);
            ps::row(&c, trunc, now)
        })
        .collect()
}

fn volume_rows(du: &J) -> Vec<Value> {
    list(&du["Volumes"])
        .iter()
        .map(|v| {
            let s = |k: &str| Value::Str(v[k].as_str().unwrap_or("").to_string());
            let usage = &v["UsageData"];
            let (links, size) = if usage.is_object() {
                (
                    i(&usage["RefCount"]).to_string(),
                    human_size(i(&usage["Size"]) as f64),
                )
            } else {
                ("N/A".to_string(), "N/A".to_string())
            };
            let labels: Vec<String> = v["Labels"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, x)| format!("{k}={}", x.as_str().unwrap_or("")))
                .collect();
            Value::Object(
                ObjKind::Context("*formatter.volumeContext"),
                vec![
                    ("Availability".into(), Value::str("N/A")),
                    ("Driver".into(), s("Driver")),
                    ("Group".into(), Value::str("N/A")),
                    ("Labels".into(), Value::Str(labels.join(","))),
                    ("Links".into(), Value::Str(links)),
                    ("Mountpoint".into(), s("Mountpoint")),
                    ("Name".into(), s("Name")),
                    ("Scope".into(), s("Scope")),
                    ("Size".into(), Value::Str(size)),
                    ("Status".into(), Value::str("N/A")),
                ],
            )
        })
        .collect()
}

fn cache_rows(du: &J, trunc: bool, now: i128) -> Vec<Value> {
    let mut cache = list(&du["BuildCache"]);
    let last_used = |c: &J| {
        c["LastUsedAt"]
            .as_str()
            .and_then(berth_util::time::parse_rfc3339)
    };
    cache.sort_by(|a, b| {
        last_used(b)
            .cmp(&last_used(a))
            .then_with(|| a["ID"].as_str().cmp(&b["ID"].as_str()))
    });
    let secs = |t: Option<i128>| t.map(|n| (n / 1_000_000_000) as i64);
    cache
        .iter()
        .map(|c| {
            let flag = |k: &str| c[k].as_bool().unwrap_or(false).to_string();
            let mut id = c["ID"].as_str().unwrap_or("").to_string();
            if trunc {
                id = truncate_id(&id);
            }
            if c["InUse"].as_bool().unwrap_or(false) {
                id.push('*');
            }
            let created = secs(
                c["CreatedAt"]
                    .as_str()
                    .and_then(berth_util::time::parse_rfc3339),
            );
            let used = secs(last_used(c));
            Value::Object(
                ObjKind::Context("*formatter.buildCacheContext"),
                vec![
                    (
                        "CacheType".into(),
                        Value::Str(c["Type"].as_str().unwrap_or("").into()),
                    ),
                    (
                        "CreatedAt".into(),
                        Value::Str(created.map(go_time_string).unwrap_or_default()),
                    ),
                    (
                        "CreatedSince".into(),
                        Value::Str(created.map(|t| ago(t, now)).unwrap_or_default()),
                    ),
                    (
                        "Description".into(),
                        Value::Str(c["Description"].as_str().unwrap_or("").into()),
                    ),
                    ("ID".into(), Value::Str(id)),
                    ("InUse".into(), Value::Str(flag("InUse"))),
                    (
                        "LastUsedAt".into(),
                        Value::Str(used.map(go_time_string).unwrap_or_default()),
                    ),
                    (
                        "LastUsedSince".into(),
                        Value::Str(used.map(|t| ago(t, now)).unwrap_or_default()),
                    ),
                    ("Shared".into(), Value::Str(flag("Shared"))),
                    (
                        "Size".into(),
                        Value::Str(human_size_precision(i(&c["Size"]) as f64, 3)),
                    ),
                    (
                        "UsageCount".into(),
                        Value::Str(i(&c["UsageCount"]).to_string()),
                    ),
                ],
            )
        })
        .collect()
}

/// `system df -v` as tables.
pub fn verbose_tables(du: &J, now: i128) -> Result<String> {
    let builder: i64 = list(&du["BuildCache"])
        .iter()
        .filter(|c| !c["Shared"].as_bool().unwrap_or(false))
        .map(|c| i(&c["Size"]))
        .sum();
    let mut s = String::from("Images space usage:\n\n");
    s.push_str(&table::render(
        IMAGES_TABLE,
        &image_rows(du, true, now),
        &table::header(images::HEADERS),
    )?);
    s.push_str("\nContainers space usage:\n\n");
    s.push_str(&table::render(
        CONTAINERS_TABLE,
        &container_rows(du, true, now),
        &table::header(ps::HEADERS),
    )?);
    s.push_str("\nLocal Volumes space usage:\n\n");
    s.push_str(&table::render(
        VOLUMES_TABLE,
        &volume_rows(du),
        &table::header(VOLUME_HEADERS),
    )?);
    s.push_str(&format!(
        "\nBuild cache usage: {}\n\n",
        human_size(builder as f64)
    ));
    s.push_str(&table::render(
        CACHE_TABLE,
        &cache_rows(du, true, now),
        &table::header(CACHE_HEADERS),
    )?);
    Ok(s)
}

/// `system df -v --format TEMPLATE`: the template runs once over all lists.
fn verbose_template(du: &J, format: &str, now: i128) -> Result<String> {
    let dot = Value::Object(
        ObjKind::Struct,
        vec![
            ("Images".into(), Value::List(image_rows(du, false, now))),
            (
                "Containers".into(),
                Value::List(container_rows(du, false, now)),
            ),
            ("Volumes".into(), Value::List(volume_rows(du))),
            ("BuildCache".into(), Value::List(cache_rows(du, false, now))),
        ],
    );
    let t = Template::parse(&table::template_string(format))
        .map_err(|e| crate::error::CliError::msg(format!("template parsing error: {e}")))?;
    t.execute(&dot, Mode::Normal)
        .map_err(|e| crate::error::CliError::msg(format!("template parsing error: {e}")))
}

pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let du = ctx.client.get_json("/system/df")?;
    let now = berth_util::time::now_nanos();
    let format = p.string("format");
    let text = if p.bool("verbose") {
        if format.is_empty() || format == "table" {
            verbose_tables(&du, now)?
        } else {
            verbose_template(&du, &format, now)?
        }
    } else {
        let format = match format.as_str() {
            "" | "table" => SUMMARY_TABLE,
            "raw" => SUMMARY_RAW,
            f => f,
        };
        table::render(format, &summary_rows(&du), &table::header(SUMMARY_HEADERS))?
    };
    out(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `GET /system/df` of the real engine here (trimmed).
    fn du() -> J {
        json!({
            "LayersSize": 118547518,
            "Images": [
                {"Containers": 0, "Created": 1795451362, "Id": "sha256:13c4ebddcf2e8aea2e94d9f44317e9b3759564d1411ffd9fc875e1a8f76896ec",
                 "Labels": null, "ParentId": "", "RepoDigests": [], "RepoTags": ["debian:bookworm", "localhost:5000/debian:bookworm"],
                 "SharedSize": 0, "Size": 116561727},
                {"Containers": 3, "Created": 1795451327, "Id": "sha256:4b8765de035b3c7e2d851d3d2de0324027e94fcf780919eafb2c466e2553408b",
                 "Labels": null, "ParentId": "", "RepoDigests": [], "RepoTags": ["busybox:latest"],
                 "SharedSize": 0, "Size": 1985791}
            ],
            "Containers": [
                {"Id": "833cdbbd30602fb8468be7762d3fe36e6a2d3c8c45f983b5211899d200fee84b", "Names": ["/obsref"],
                 "Image": "busybox", "ImageID": "sha256:4b87", "Command": "sh -c 'while :; do :; done'",
                 "Created": 1795453390, "Ports": [], "SizeRw": 1048576, "SizeRootFs": 3034367, "Labels": {},
                 "State": "running", "Status": "Up 30 seconds", "Mounts": []},
                {"Id": "be3cc76d0c5703f527a73b8dcb892b8106336427f5bb129a589ed4c37ab7ba5b", "Names": ["/obsstopped"],
                 "Image": "busybox", "ImageID": "sha256:4b87", "Command": "true",
                 "Created": 1795453390, "Ports": [], "SizeRw": 12, "SizeRootFs": 1985803, "Labels": {},
                 "State": "exited", "Status": "Exited (0) 5 seconds ago", "Mounts": []}
            ],
            "Volumes": [
                {"Name": "named2", "Driver": "local", "Labels": null, "Mountpoint": "/v/named2/_data", "Scope": "local",
                 "Options": null, "UsageData": {"RefCount": 1, "Size": 100}},
                {"Name": "named4", "Driver": "local", "Labels": null, "Mountpoint": "/v/named4/_data", "Scope": "local",
                 "Options": null, "UsageData": {"RefCount": 0, "Size": 300}}
            ],
            "BuildCache": []
        })
    }

    #[test]
    fn summary_matches_docker() {
        let got = table::render(
            SUMMARY_TABLE,
            &summary_rows(&du()),
            &table::header(SUMMARY_HEADERS),
        )
        .unwrap();
        assert_eq!(
            got,
            "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
             Images          2         1         118.5MB   116.6MB (98%)\n\
             Containers      2         1         1.049MB   12B (0%)\n\
             Local Volumes   2         1         400B      300B (75%)\n\
             Build Cache     0         0         0B        0B\n"
        );
        let json = table::render(
            "json",
            &summary_rows(&du()),
            &table::header(SUMMARY_HEADERS),
        )
        .unwrap();
        assert_eq!(
            json.lines().next().unwrap(),
            r#"{"Active":"1","Reclaimable":"116.6MB (98%)","Size":"118.5MB","TotalCount":"2","Type":"Images"}"#
        );
    }

    #[test]
    fn empty_usage() {
        let got = table::render(
            SUMMARY_TABLE,
            &summary_rows(&json!({"LayersSize": 0, "Images": [], "Containers": [], "Volumes": [], "BuildCache": null})),
            &table::header(SUMMARY_HEADERS),
        )
        .unwrap();
        assert!(
            got.contains("\nContainers      0         0         0B        0B\n"),
            "{got}"
        );
    }

    #[test]
    fn verbose_sections_match_docker() {
        let now = (1795453390i128 + 30) * 1_000_000_000;
        let got = verbose_tables(&du(), now).unwrap();
        let want = "Images space usage:\n\n\
REPOSITORY   TAG        IMAGE ID       CREATED          SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS\n\
debian       bookworm   13c4ebddcf2e   34 minutes ago   117MB     0B            116.6MB       0\n\
busybox      latest     4b8765de035b   34 minutes ago   1.99MB    0B            1.986MB       3\n\
\nContainers space usage:\n\n\
CONTAINER ID   IMAGE     COMMAND                  LOCAL VOLUMES   SIZE      CREATED          STATUS                     NAMES\n\
833cdbbd3060   busybox   \"sh -c 'while :; do …\"   0               1.05MB    30 seconds ago   Up 30 seconds              obsref\n\
be3cc76d0c57   busybox   \"true\"                   0               12B       30 seconds ago   Exited (0) 5 seconds ago   obsstopped\n\
\nLocal Volumes space usage:\n\n\
VOLUME NAME   LINKS     SIZE\n\
named2        1         100B\n\
named4        0         300B\n\
\nBuild cache usage: 0B\n\n\
CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n";
        assert_eq!(got, want);
    }
}
