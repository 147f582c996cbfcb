//! docker/cli's arithmetic on a stats sample (CPU % from the deltas of
//! container and system CPU time, memory without the inactive page cache,
//! block and network totals) and the row it prints for it.

use crate::fmt::human::{bytes_size, human_size_precision};
use crate::fmt::text::truncate_id;
use crate::template::{ObjKind, Value};
use serde_json::Value as J;

/// What one container's row shows (docker's `StatsEntry`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsEntry {
    /// The name or ID the user gave (or the short ID when listing all).
    pub container: String,
    pub name: String,
    pub id: String,
    pub cpu_percent: f64,
    pub memory: f64,
    pub memory_limit: f64,
    pub memory_percent: f64,
    pub net_rx: f64,
    pub net_tx: f64,
    pub block_read: f64,
    pub block_write: f64,
    pub pids: u64,
    /// Shown as `--`: no valid sample (error or timeout).
    pub invalid: bool,
}

fn u(v: &J) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// `(cpu delta / system delta) × CPUs × 100`, 0 unless both deltas are positive.
pub fn cpu_percent(pre: &J, cur: &J) -> f64 {
    let cpu_delta =
        u(&cur["cpu_usage"]["total_usage"]) as f64 - u(&pre["cpu_usage"]["total_usage"]) as f64;
    let system_delta = u(&cur["system_cpu_usage"]) as f64 - u(&pre["system_cpu_usage"]) as f64;
    let mut cpus = u(&cur["online_cpus"]) as f64;
    if cpus == 0.0 {
        cpus = cur["cpu_usage"]["percpu_usage"]
            .as_array()
            .map_or(0, |a| a.len()) as f64;
    }
    if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * cpus * 100.0
    } else {
        0.0
    }
}

/// Usage minus the inactive page cache (`total_inactive_file` on cgroup v1,
/// `inactive_file` on v2) when that is smaller than the usage.
pub fn memory_without_cache(mem: &J) -> f64 {
    let usage = u(&mem["usage"]);
    let stats = &mem["stats"];
    if let Some(v) = stats.get("total_inactive_file").and_then(J::as_u64) {
        if v < usage {
            return (usage - v) as f64;
        }
    }
    let v = u(&stats["inactive_file"]);
    if v < usage {
        return (usage - v) as f64;
    }
    usage as f64
}

/// Share of the limit in percent (0 without a limit).
pub fn memory_percent(limit: f64, used: f64) -> f64 {
    if limit != 0.0 {
        used / limit * 100.0
    } else {
        0.0
    }
}

/// Bytes read and written: `io_service_bytes_recursive` ops starting with r / w.
pub fn block_io(blkio: &J) -> (u64, u64) {
    let (mut r, mut w) = (0, 0);
    for e in blkio["io_service_bytes_recursive"]
        .as_array()
        .into_iter()
        .flatten()
    {
        match e["op"].as_str().and_then(|o| o.bytes().next()) {
            Some(b'r' | b'R') => r += u(&e["value"]),
            Some(b'w' | b'W') => w += u(&e["value"]),
            _ => {}
        }
    }
    (r, w)
}

/// Bytes received and sent over every interface.
pub fn network(networks: &J) -> (f64, f64) {
    let (mut rx, mut tx) = (0.0, 0.0);
    for n in networks.as_object().into_iter().flat_map(|m| m.values()) {
        rx += u(&n["rx_bytes"]) as f64;
        tx += u(&n["tx_bytes"]) as f64;
    }
    (rx, tx)
}

/// The entry for one sample (`StatsResponse` JSON).
pub fn entry(container: &str, v: &J) -> StatsEntry {
    let mem = memory_without_cache(&v["memory_stats"]);
    let limit = u(&v["memory_stats"]["limit"]) as f64;
    let (rx, tx) = network(&v["networks"]);
    let (r, w) = block_io(&v["blkio_stats"]);
    StatsEntry {
        container: container.to_string(),
        name: v["name"].as_str().unwrap_or("").to_string(),
        id: v["id"].as_str().unwrap_or("").to_string(),
        cpu_percent: cpu_percent(&v["precpu_stats"], &v["cpu_stats"]),
        memory: mem,
        memory_limit: limit,
        memory_percent: memory_percent(limit, mem),
        net_rx: rx,
        net_tx: tx,
        block_read: r as f64,
        block_write: w as f64,
        pids: u(&v["pids_stats"]["current"]),
        invalid: false,
    }
}

/// Column titles of the stats table.
pub const HEADERS: &[(&str, &str)] = &[
    ("Container", "CONTAINER"),
    ("Name", "NAME"),
    ("ID", "CONTAINER ID"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
];

/// The default `stats` table.
pub const DEFAULT_FORMAT: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

fn percent(v: f64) -> String {
    format!("{v:.2}%")
}

/// The row docker's `statsContext` exposes to templates.
pub fn row(e: &StatsEntry, trunc: bool) -> Value {
    const NO: &str = "--";
    let name = e.name.trim_start_matches('/');
    let pair = |a: f64, b: f64| {
        format!(
            "{} / {}",
            human_size_precision(a, 3),
            human_size_precision(b, 3)
        )
    };
    let or_no = |valid: String| if e.invalid { NO.to_string() } else { valid };
    Value::Object(
        ObjKind::Context("*container.statsContext"),
        vec![
            (
                "BlockIO".into(),
                Value::Str(or_no(pair(e.block_read, e.block_write))),
            ),
            ("CPUPerc".into(), Value::Str(or_no(percent(e.cpu_percent)))),
            ("Container".into(), Value::str(e.container.clone())),
            (
                "ID".into(),
                Value::Str(if trunc {
                    truncate_id(&e.id)
                } else {
                    e.id.clone()
                }),
            ),
            (
                "MemPerc".into(),
                Value::Str(or_no(percent(e.memory_percent))),
            ),
            (
                "MemUsage".into(),
                Value::Str(if e.invalid {
                    "-- / --".into()
                } else {
                    format!("{} / {}", bytes_size(e.memory), bytes_size(e.memory_limit))
                }),
            ),
            (
                "Name".into(),
                Value::str(if name.is_empty() { NO } else { name }),
            ),
            ("NetIO".into(), Value::Str(or_no(pair(e.net_rx, e.net_tx)))),
            ("PIDs".into(), Value::Str(or_no(e.pids.to_string()))),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt::table;
    use crate::template::{Mode, Template};
    use serde_json::json;

    /// A sample the real engine returned for `sh -c 'while :; do :; done'`
    /// under `-m 64m` (trimmed).
    fn docker_sample() -> J {
        json!({
            "read": "2026-11-23T17:03:13.665462666Z",
            "pids_stats": {"current": 1},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "Read", "value": 4096},
                {"major": 8, "minor": 0, "op": "Write", "value": 1048576},
                {"major": 8, "minor": 0, "op": "Total", "value": 1052672}
            ]},
            "cpu_stats": {"cpu_usage": {"total_usage": 3041976662u64, "percpu_usage": [1109896198u64, 1932080464u64]},
                          "system_cpu_usage": 4460910000000u64, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 2036550294u64},
                             "system_cpu_usage": 4458900000000u64, "online_cpus": 2},
            "memory_stats": {"usage": 2318336, "stats": {"total_inactive_file": 1978368, "inactive_file": 1978368}, "limit": 67108864},
            "name": "/obsref",
            "id": "833cdbbd30602fb8468be7762d3fe36e6a2d3c8c45f983b5211899d200fee84b",
            "networks": {"eth0": {"rx_bytes": 736, "tx_bytes": 0}, "eth1": {"rx_bytes": 70, "tx_bytes": 5}}
        })
    }

    #[test]
    fn cpu_percent_is_delta_ratio_times_cpus() {
        let v = docker_sample();
        // (3041976662 - 2036550294) / (4460910000000 - 4458900000000) × 2 × 100
        let want = 1_005_426_368.0 / 2_010_000_000.0 * 2.0 * 100.0;
        let got = cpu_percent(&v["precpu_stats"], &v["cpu_stats"]);
        assert!((got - want).abs() < 1e-9, "{got}");
        assert_eq!(percent(got), "100.04%");
        // No change since the previous sample: 0%.
        assert_eq!(cpu_percent(&v["cpu_stats"], &v["cpu_stats"]), 0.0);
        // No previous sample (first of a stream): the average since boot.
        assert!((cpu_percent(&json!({}), &v["cpu_stats"]) - 0.13638368234284035).abs() < 1e-12);
        // Older daemons: the per-CPU list gives the CPU count.
        let mut c = v["cpu_stats"].clone();
        c["online_cpus"] = json!(0);
        assert!((cpu_percent(&v["precpu_stats"], &c) - want).abs() < 1e-9);
    }

    #[test]
    fn memory_excludes_inactive_file() {
        let v = docker_sample();
        assert_eq!(memory_without_cache(&v["memory_stats"]), 339968.0);
        // v2 key only.
        let m = json!({"usage": 1000, "stats": {"inactive_file": 300}});
        assert_eq!(memory_without_cache(&m), 700.0);
        // Cache larger than usage: usage as is.
        let m = json!({"usage": 100, "stats": {"total_inactive_file": 300}});
        assert_eq!(memory_without_cache(&m), 100.0);
        assert!((memory_percent(67108864.0, 339968.0) - 0.506591796875).abs() < 1e-12);
        assert_eq!(memory_percent(0.0, 5.0), 0.0);
    }

    #[test]
    fn row_matches_docker_stats() {
        let e = entry("obsref", &docker_sample());
        assert_eq!((e.block_read, e.block_write), (4096.0, 1048576.0));
        assert_eq!((e.net_rx, e.net_tx), (806.0, 5.0));
        let got = Template::parse("{{json .}}")
            .unwrap()
            .execute(&row(&e, true), Mode::Normal)
            .unwrap();
        assert_eq!(
            got,
            r#"{"BlockIO":"4.1kB / 1.05MB","CPUPerc":"100.04%","Container":"obsref","ID":"833cdbbd3060","MemPerc":"0.51%","MemUsage":"332KiB / 64MiB","Name":"obsref","NetIO":"806B / 5B","PIDs":"1"}"#
        );
        let table =
            table::render(DEFAULT_FORMAT, &[row(&e, true)], &table::header(HEADERS)).unwrap();
        assert_eq!(
            table,
            "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O     BLOCK I/O        PIDS\n\
             833cdbbd3060   obsref    100.04%   332KiB / 64MiB      0.51%     806B / 5B   4.1kB / 1.05MB   1\n"
        );
    }

    #[test]
    fn stopped_and_invalid_rows() {
        // What the engine sends for a container that is not running.
        let v = json!({"read": "0001-01-01T00:00:00Z", "pids_stats": {}, "memory_stats": {},
                       "cpu_stats": {"cpu_usage": {"total_usage": 0}}, "precpu_stats": {"cpu_usage": {"total_usage": 0}},
                       "name": "/obsstopped", "id": "be3cc76d0c5703f527a73b8dcb892b8106336427f5bb129a589ed4c37ab7ba5b"});
        let e = entry("obsstopped", &v);
        let t = "{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}";
        let render = |e: &StatsEntry| {
            Template::parse(t)
                .unwrap()
                .execute(&row(e, true), Mode::Normal)
                .unwrap()
        };
        assert_eq!(render(&e), "0.00%|0B / 0B|0.00%|0B / 0B|0B / 0B|0");
        let bad = StatsEntry {
            container: "x".into(),
            invalid: true,
            ..Default::default()
        };
        assert_eq!(render(&bad), "--|-- / --|--|--|--|--");
    }
}
