//! `GET /containers/{id}/stats`: samples a running container's cgroup, the
//! host's CPU time and the container's network namespace, and shapes them as
//! Docker's `StatsResponse`. Streaming sends one sample a second, each with
//! the previous one's CPU counters as `precpu_stats`; `stream=0` takes two
//! samples a second apart (one with `one-shot=1`). A container that is not
//! running gets Docker's empty sample (every second while streaming).

use super::host::{self, NetCounters};
use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::store::Entry;
use berth_runtime::cgroups::stats::{CgroupStats, IoEntry, StatsReader, Version};
use berth_util::time::{format_rfc3339, now_nanos, ZERO};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// `memory_stats.stats` keys Docker reports on cgroup v1.
const V1_MEMORY_KEYS: &[&str] = &[
    "cache",
    "rss",
    "rss_huge",
    "mapped_file",
    "dirty",
    "writeback",
    "pgpgin",
    "pgpgout",
    "pgfault",
    "pgmajfault",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "hierarchical_memory_limit",
    "hierarchical_memsw_limit",
    "total_cache",
    "total_rss",
    "total_rss_huge",
    "total_mapped_file",
    "total_dirty",
    "total_writeback",
    "total_pgpgin",
    "total_pgpgout",
    "total_pgfault",
    "total_pgmajfault",
    "total_inactive_anon",
    "total_active_anon",
    "total_inactive_file",
    "total_active_file",
    "total_unevictable",
];

/// `memory_stats.stats` keys Docker reports on cgroup v2.
const V2_MEMORY_KEYS: &[&str] = &[
    "anon",
    "file",
    "kernel_stack",
    "slab",
    "sock",
    "shmem",
    "file_mapped",
    "file_dirty",
    "file_writeback",
    "anon_thp",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "slab_reclaimable",
    "slab_unreclaimable",
    "pgfault",
    "pgmajfault",
    "workingset_refault",
    "workingset_activate",
    "workingset_nodereclaim",
    "pgrefill",
    "pgscan",
    "pgsteal",
    "pgactivate",
    "pgdeactivate",
    "pglazyfree",
    "pglazyfreed",
    "thp_fault_alloc",
    "thp_collapse_alloc",
];

/// The blkio lists after `io_service_bytes_recursive` and `io_serviced_recursive`.
const OTHER_BLKIO: &[&str] = &[
    "io_queue_recursive",
    "io_service_time_recursive",
    "io_wait_time_recursive",
    "io_merged_recursive",
    "io_time_recursive",
    "sectors_recursive",
];

/// One reading of everything a stats sample shows.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub read_nanos: i128,
    pub cgroup: CgroupStats,
    pub system_ns: u64,
    pub online_cpus: u32,
    /// `None` when the container has no network of its own.
    pub networks: Option<BTreeMap<String, NetCounters>>,
}

/// How to sample one running container.
struct Probe {
    reader: StatsReader,
    pid: i32,
    own_netns: bool,
    machine_memory: u64,
}

impl Probe {
    fn sample(&self) -> Result<Sample> {
        let cgroup = self
            .reader
            .read()
            .map_err(|e| Error::internal(e.to_string()))?;
        let stat = std::fs::read_to_string("/proc/stat")?;
        let (system_ns, online_cpus) = host::system_cpu(&stat);
        let networks = if self.own_netns {
            std::fs::read_to_string(format!("/proc/{}/net/dev", self.pid))
                .ok()
                .map(|t| host::net_dev(&t))
                .filter(|m| !m.is_empty())
        } else {
            None
        };
        Ok(Sample {
            read_nanos: now_nanos(),
            cgroup,
            system_ns,
            online_cpus,
            networks,
        })
    }
}

fn cpu_json(s: Option<&Sample>) -> Value {
    let d = Sample::default();
    let s = s.unwrap_or(&d);
    let c = &s.cgroup.cpu;
    let mut usage = Map::new();
    usage.insert("total_usage".into(), c.total_ns.into());
    if !c.per_cpu_ns.is_empty() {
        usage.insert("percpu_usage".into(), json!(c.per_cpu_ns));
    }
    usage.insert("usage_in_kernelmode".into(), c.kernel_ns.into());
    usage.insert("usage_in_usermode".into(), c.user_ns.into());
    let mut out = Map::new();
    out.insert("cpu_usage".into(), Value::Object(usage));
    if s.system_ns > 0 {
        out.insert("system_cpu_usage".into(), s.system_ns.into());
    }
    if s.online_cpus > 0 {
        out.insert("online_cpus".into(), s.online_cpus.into());
    }
    out.insert(
        "throttling_data".into(),
        json!({
            "periods": c.periods,
            "throttled_periods": c.throttled_periods,
            "throttled_time": c.throttled_ns,
        }),
    );
    Value::Object(out)
}

fn io_json(entries: &[IoEntry]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|e| json!({"major": e.major, "minor": e.minor, "op": e.op, "value": e.value}))
            .collect(),
    )
}

fn blkio_json(s: &CgroupStats) -> Value {
    let mut out = Map::new();
    match s.version {
        Version::V1 => {
            out.insert(
                "io_service_bytes_recursive".into(),
                io_json(&s.io.service_bytes),
            );
            out.insert("io_serviced_recursive".into(), io_json(&s.io.serviced));
            for k in OTHER_BLKIO {
                out.insert(k.to_string(), json!([]));
            }
        }
        Version::V2 => {
            let bytes = if s.io.service_bytes.is_empty() {
                Value::Null
            } else {
                io_json(&s.io.service_bytes)
            };
            out.insert("io_service_bytes_recursive".into(), bytes);
            out.insert("io_serviced_recursive".into(), Value::Null);
            for k in OTHER_BLKIO {
                out.insert(k.to_string(), Value::Null);
            }
        }
    }
    Value::Object(out)
}

/// Docker's `memory_stats`; an unlimited (or larger than the machine) limit
/// is the machine's memory.
fn memory_json(s: &CgroupStats, machine_memory: u64) -> Value {
    let m = &s.memory;
    let keys = match s.version {
        Version::V1 => V1_MEMORY_KEYS,
        Version::V2 => V2_MEMORY_KEYS,
    };
    let stats: BTreeMap<&str, u64> = keys
        .iter()
        .map(|k| (*k, m.stat.get(*k).copied().unwrap_or(0)))
        .collect();
    let limit = if machine_memory > 0 && m.limit > machine_memory {
        machine_memory
    } else {
        m.limit
    };
    let mut out = Map::new();
    let nonzero = |out: &mut Map<String, Value>, k: &str, v: u64| {
        if v > 0 {
            out.insert(k.into(), v.into());
        }
    };
    nonzero(&mut out, "usage", m.usage);
    nonzero(&mut out, "max_usage", m.max_usage);
    out.insert("stats".into(), json!(stats));
    nonzero(&mut out, "failcnt", m.failcnt);
    nonzero(&mut out, "limit", limit);
    Value::Object(out)
}

fn pids_json(s: &CgroupStats) -> Value {
    let mut out = Map::new();
    if s.pids.current > 0 {
        out.insert("current".into(), s.pids.current.into());
    }
    if s.pids.limit > 0 {
        out.insert("limit".into(), s.pids.limit.into());
    }
    Value::Object(out)
}

fn net_json(n: &NetCounters) -> Value {
    json!({
        "rx_bytes": n.rx_bytes,
        "rx_packets": n.rx_packets,
        "rx_errors": n.rx_errors,
        "rx_dropped": n.rx_dropped,
        "tx_bytes": n.tx_bytes,
        "tx_packets": n.tx_packets,
        "tx_errors": n.tx_errors,
        "tx_dropped": n.tx_dropped,
    })
}

/// Docker's `StatsResponse` for a sample and the one before it.
pub fn shape(
    id: &str,
    name: &str,
    cur: &Sample,
    pre: Option<&Sample>,
    machine_memory: u64,
) -> Value {
    let mut v = json!({
        "read": format_rfc3339(cur.read_nanos),
        "preread": pre.map_or_else(|| ZERO.to_string(), |p| format_rfc3339(p.read_nanos)),
        "pids_stats": pids_json(&cur.cgroup),
        "blkio_stats": blkio_json(&cur.cgroup),
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu_json(Some(cur)),
        "precpu_stats": cpu_json(pre),
        "memory_stats": memory_json(&cur.cgroup, machine_memory),
        "name": name,
        "id": id,
    });
    if let Some(nets) = &cur.networks {
        let m: Map<String, Value> = nets.iter().map(|(k, n)| (k.clone(), net_json(n))).collect();
        v["networks"] = Value::Object(m);
    }
    v
}

/// What Docker answers for a container that is not running.
pub fn empty(id: &str, name: &str) -> Value {
    let blkio: Map<String, Value> = ["io_service_bytes_recursive", "io_serviced_recursive"]
        .iter()
        .chain(OTHER_BLKIO)
        .map(|k| (k.to_string(), Value::Null))
        .collect();
    json!({
        "read": ZERO,
        "preread": ZERO,
        "pids_stats": {},
        "blkio_stats": blkio,
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu_json(None),
        "precpu_stats": cpu_json(None),
        "memory_stats": {},
        "name": name,
        "id": id,
    })
}

fn line(v: &Value) -> Vec<u8> {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    b
}

impl Daemon {
    /// How to sample `entry` now, or `None` when it is not running.
    fn probe(&self, entry: &Entry) -> Option<Probe> {
        let (running, pid, host_net) = {
            let rec = entry.lock();
            (
                rec.state.running && !rec.state.restarting,
                rec.state.pid,
                matches!(rec.host_config.network_mode.as_str(), "host" | "none"),
            )
        };
        if !running || pid <= 0 {
            return None;
        }
        let path = cgroup_path(&self.config.container_dir(&entry.id), &entry.id);
        let reader = StatsReader::detect(&path).ok()?;
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Some(Probe {
            reader,
            pid,
            own_netns: !host_net,
            machine_memory: host::mem_total(&meminfo),
        })
    }

    /// One sample of `entry`, or `None` when it is not running (any more).
    async fn sample(self: &Arc<Self>, entry: &Arc<Entry>) -> Option<(Sample, u64)> {
        let d = self.clone();
        let e = entry.clone();
        tokio::task::spawn_blocking(move || {
            let p = d.probe(&e)?;
            p.sample().ok().map(|s| (s, p.machine_memory))
        })
        .await
        .ok()
        .flatten()
    }

    /// `GET /containers/{id}/stats`: JSON lines on the receiver.
    pub fn container_stats(
        self: &Arc<Self>,
        key: &str,
        stream: bool,
        one_shot: bool,
    ) -> Result<mpsc::Receiver<Vec<u8>>> {
        let entry = self.containers.get(key)?;
        let (tx, rx) = mpsc::channel(4);
        let d = self.clone();
        tokio::spawn(async move {
            let (id, name) = {
                let rec = entry.lock();
                (rec.id.clone(), rec.name.clone())
            };
            if !stream {
                let Some((first, mem)) = d.sample(&entry).await else {
                    let _ = tx.send(line(&empty(&id, &name))).await;
                    return;
                };
                if one_shot {
                    let _ = tx.send(line(&shape(&id, &name, &first, None, mem))).await;
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                let v = match d.sample(&entry).await {
                    Some((cur, mem)) => shape(&id, &name, &cur, Some(&first), mem),
                    None => empty(&id, &name),
                };
                let _ = tx.send(line(&v)).await;
                return;
            }
            let mut prev: Option<Sample> = None;
            loop {
                if entry.snapshot().removed {
                    return;
                }
                match d.sample(&entry).await {
                    Some((cur, mem)) => {
                        let v = shape(&id, &name, &cur, prev.as_ref(), mem);
                        if tx.send(line(&v)).await.is_err() {
                            return;
                        }
                        prev = Some(cur);
                    }
                    None => {
                        if tx.send(line(&empty(&id, &name))).await.is_err() {
                            return;
                        }
                        prev = None;
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(rx)
    }
}

/// The container's cgroup path from its bundle's `config.json`, with the
/// runtime's default when the spec leaves it empty.
pub(super) fn cgroup_path(bundle: &Path, id: &str) -> String {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["linux"]["cgroupsPath"].as_str().map(str::to_string))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| format!("berth/{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_runtime::cgroups::stats::{CpuUsage, MemoryUsage, PidsUsage};

    fn sample(total: u64, system: u64) -> Sample {
        let mut cg = CgroupStats {
            version: Version::V1,
            cpu: CpuUsage {
                total_ns: total,
                per_cpu_ns: vec![total / 2, total / 2],
                ..Default::default()
            },
            memory: MemoryUsage {
                usage: 2318336,
                max_usage: 4079616,
                limit: 9223372036854771712,
                ..Default::default()
            },
            pids: PidsUsage {
                current: 1,
                limit: 0,
            },
            ..Default::default()
        };
        cg.memory.stat.insert("total_inactive_file".into(), 1978368);
        cg.memory.stat.insert("shmem".into(), 5);
        Sample {
            read_nanos: 1_795_453_393_665_462_666,
            cgroup: cg,
            system_ns: system,
            online_cpus: 2,
            networks: Some(BTreeMap::from([(
                "eth0".to_string(),
                NetCounters {
                    rx_bytes: 736,
                    ..Default::default()
                },
            )])),
        }
    }

    #[test]
    fn shapes_like_docker_on_v1() {
        let pre = sample(2_036_550_294, 4_458_900_000_000);
        let cur = sample(3_041_976_662, 4_460_910_000_000);
        let v = shape("abc", "/obsref", &cur, Some(&pre), 25_276_502_016);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "read",
                "preread",
                "pids_stats",
                "blkio_stats",
                "num_procs",
                "storage_stats",
                "cpu_stats",
                "precpu_stats",
                "memory_stats",
                "name",
                "id",
                "networks"
            ]
        );
        assert_eq!(v["read"], "2026-11-23T17:03:13.665462666Z");
        assert_eq!(v["pids_stats"], json!({"current": 1}));
        assert_eq!(v["blkio_stats"]["io_service_bytes_recursive"], json!([]));
        assert_eq!(v["cpu_stats"]["cpu_usage"]["total_usage"], 3_041_976_662u64);
        assert_eq!(v["cpu_stats"]["online_cpus"], 2);
        assert_eq!(v["precpu_stats"]["system_cpu_usage"], 4_458_900_000_000u64);
        // Unlimited memory shows the machine's memory; docker's key set only.
        assert_eq!(v["memory_stats"]["limit"], 25_276_502_016u64);
        assert_eq!(v["memory_stats"]["stats"].as_object().unwrap().len(), 32);
        assert!(v["memory_stats"]["stats"].get("shmem").is_none());
        assert_eq!(v["memory_stats"]["stats"]["total_inactive_file"], 1978368);
        assert!(v["memory_stats"].get("failcnt").is_none());
        assert_eq!(v["networks"]["eth0"]["rx_bytes"], 736);
    }

    #[test]
    fn first_streamed_sample_has_zero_precpu() {
        let cur = sample(5, 10);
        let v = shape("abc", "/x", &cur, None, 0);
        assert_eq!(v["preread"], ZERO);
        assert_eq!(
            v["precpu_stats"],
            json!({"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}})
        );
    }

    #[test]
    fn v2_blkio_and_memory_keys() {
        let mut cur = sample(5, 10);
        cur.cgroup.version = Version::V2;
        cur.cgroup.memory.limit = 64 << 20;
        let v = shape("abc", "/x", &cur, None, 1 << 34);
        assert_eq!(v["blkio_stats"]["io_service_bytes_recursive"], Value::Null);
        assert_eq!(v["memory_stats"]["stats"].as_object().unwrap().len(), 31);
        assert_eq!(v["memory_stats"]["limit"], 64u64 << 20);
    }

    #[test]
    fn empty_sample_matches_docker() {
        let v = empty("id1", "/vt1");
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"blkio_stats":{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{},"name":"/vt1","id":"id1"}"#
        );
    }

    #[test]
    fn cgroup_path_defaults() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(cgroup_path(d.path(), "x"), "berth/x");
        std::fs::write(
            d.path().join("config.json"),
            r#"{"linux":{"cgroupsPath":"other/x"}}"#,
        )
        .unwrap();
        assert_eq!(cgroup_path(d.path(), "x"), "other/x");
    }
}
