//! Usage counters of a container's cgroup, read back from the kernel's files:
//! v1 (`cpuacct.*`, `cpu.stat`, `memory.*`, `blkio.*`, `pids.*`, each in its
//! controller's hierarchy) or v2 (`cpu.stat`, `memory.*`, `io.stat`, `pids.*`
//! in one directory), and the processes the cgroup holds. Values are raw
//! (nanoseconds, bytes, `u64::MAX` for "no limit"); the daemon shapes them
//! into the Engine API's stats. A file a controller does not provide reads
//! as zero; a cgroup that does not exist is an error.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use super::{is_cgroup2, keyed_value, relative_path, CgroupError, HierarchyMount, DEFAULT_ROOT};

/// `USER_HZ`: the unit of `cpuacct.stat` (fixed at 100 on Linux).
const USER_HZ: u64 = 100;

/// Which cgroup layout the counters came from (their keys differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    #[default]
    V1,
    V2,
}

/// CPU time of the cgroup, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuUsage {
    pub total_ns: u64,
    /// Per CPU (v1 only; empty on v2).
    pub per_cpu_ns: Vec<u64>,
    pub kernel_ns: u64,
    pub user_ns: u64,
    pub periods: u64,
    pub throttled_periods: u64,
    pub throttled_ns: u64,
}

/// Memory of the cgroup, in bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryUsage {
    pub usage: u64,
    /// Peak usage (v1 only).
    pub max_usage: u64,
    /// `u64::MAX` (or the kernel's huge v1 value) when unlimited.
    pub limit: u64,
    /// Times the limit was hit (v1 `memory.failcnt`, v2 `oom` of `memory.events`).
    pub failcnt: u64,
    /// Every `key value` of `memory.stat`.
    pub stat: BTreeMap<String, u64>,
}

/// One `major:minor op value` counter of a block device.
#[derive(Debug, Clone, PartialEq)]
pub struct IoEntry {
    pub major: u64,
    pub minor: u64,
    /// v1: `Read`, `Write`, `Sync`, `Async`, `Discard`, `Total`; v2: `read`, `write`.
    pub op: String,
    pub value: u64,
}

/// Block I/O of the cgroup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IoUsage {
    /// Bytes transferred.
    pub service_bytes: Vec<IoEntry>,
    /// Operations (v1 only).
    pub serviced: Vec<IoEntry>,
}

/// Tasks of the cgroup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PidsUsage {
    pub current: u64,
    /// 0 when unlimited.
    pub limit: u64,
}

/// One sample of every counter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupStats {
    pub version: Version,
    pub cpu: CpuUsage,
    pub memory: MemoryUsage,
    pub io: IoUsage,
    pub pids: PidsUsage,
}

/// Where a container's counters live.
#[derive(Debug, Clone, PartialEq)]
pub enum StatsReader {
    /// The container's directory in each v1 controller hierarchy it has.
    V1 {
        cpuacct: Option<PathBuf>,
        cpu: Option<PathBuf>,
        memory: Option<PathBuf>,
        blkio: Option<PathBuf>,
        pids: Option<PathBuf>,
    },
    /// The container's unified directory.
    V2(PathBuf),
}

impl StatsReader {
    /// The reader for the spec cgroup path `path` (`berth/<id>`) on this host,
    /// chosen as [`super::detect`] chooses the manager.
    pub fn detect(path: &str) -> Result<StatsReader, CgroupError> {
        let rel = relative_path(path)?;
        let root = Path::new(DEFAULT_ROOT);
        if is_cgroup2(root) {
            return Ok(StatsReader::v2(root, &rel));
        }
        let hierarchies = HierarchyMount::from_mountinfo().map_err(CgroupError::MountTable)?;
        Ok(StatsReader::v1(&hierarchies, &rel))
    }

    /// A v1 reader over `hierarchies`.
    pub fn v1(hierarchies: &[HierarchyMount], rel: &Path) -> StatsReader {
        let dir = |controller: &str| {
            hierarchies
                .iter()
                .find(|h| !h.v2 && h.controllers.iter().any(|c| c == controller))
                .map(|h| h.mount_point.join(rel))
        };
        StatsReader::V1 {
            cpuacct: dir("cpuacct"),
            cpu: dir("cpu"),
            memory: dir("memory"),
            blkio: dir("blkio"),
            pids: dir("pids"),
        }
    }

    /// A v2 reader under the unified `root`.
    pub fn v2(root: &Path, rel: &Path) -> StatsReader {
        StatsReader::V2(root.join(rel))
    }

    /// The directory whose existence says the cgroup exists, and whose
    /// `cgroup.procs` lists its processes.
    fn main_dir(&self) -> Option<&Path> {
        match self {
            StatsReader::V1 {
                pids,
                memory,
                cpuacct,
                cpu,
                blkio,
            } => [pids, memory, cpuacct, cpu, blkio]
                .into_iter()
                .find_map(|d| d.as_deref()),
            StatsReader::V2(dir) => Some(dir),
        }
    }

    fn check_exists(&self) -> Result<&Path, CgroupError> {
        let dir = self.main_dir().ok_or_else(|| CgroupError::Read {
            path: PathBuf::from(DEFAULT_ROOT),
            source: io::Error::new(io::ErrorKind::NotFound, "no cgroup hierarchy"),
        })?;
        if !dir.is_dir() {
            return Err(CgroupError::Read {
                path: dir.to_path_buf(),
                source: io::Error::from(io::ErrorKind::NotFound),
            });
        }
        Ok(dir)
    }

    /// Reads every counter once.
    pub fn read(&self) -> Result<CgroupStats, CgroupError> {
        self.check_exists()?;
        match self {
            StatsReader::V1 {
                cpuacct,
                cpu,
                memory,
                blkio,
                pids,
            } => Ok(CgroupStats {
                version: Version::V1,
                cpu: v1_cpu(cpuacct.as_deref(), cpu.as_deref())?,
                memory: memory
                    .as_deref()
                    .map_or(Ok(Default::default()), v1_memory)?,
                io: blkio.as_deref().map_or(Ok(Default::default()), v1_io)?,
                pids: pids.as_deref().map_or(Ok(Default::default()), read_pids)?,
            }),
            StatsReader::V2(dir) => Ok(CgroupStats {
                version: Version::V2,
                cpu: v2_cpu(dir)?,
                memory: v2_memory(dir)?,
                io: v2_io(dir)?,
                pids: read_pids(dir)?,
            }),
        }
    }

    /// Host PIDs of every process in the cgroup and its descendants.
    pub fn procs(&self) -> Result<Vec<i32>, CgroupError> {
        let dir = self.check_exists()?;
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            if let Some(text) = read_opt(&d.join("cgroup.procs"))? {
                out.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<i32>().ok()),
                );
            }
            let entries = match std::fs::read_dir(&d) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(CgroupError::Read { path: d, source }),
            };
            for e in entries.flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    stack.push(e.path());
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

/// A file's text, `None` when it does not exist.
fn read_opt(path: &Path) -> Result<Option<String>, CgroupError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CgroupError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A file holding one number (`max` is `u64::MAX`); 0 when absent or unparsable.
fn read_u64(path: &Path) -> Result<u64, CgroupError> {
    Ok(read_opt(path)?.map_or(0, |s| parse_value(s.trim())))
}

fn parse_value(s: &str) -> u64 {
    if s == "max" {
        u64::MAX
    } else {
        s.parse().unwrap_or(0)
    }
}

/// Every `key value` line of a flat keyed file.
fn keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

fn keyed_file(path: &Path) -> Result<BTreeMap<String, u64>, CgroupError> {
    Ok(read_opt(path)?.map(|t| keyed(&t)).unwrap_or_default())
}

fn v1_cpu(cpuacct: Option<&Path>, cpu: Option<&Path>) -> Result<CpuUsage, CgroupError> {
    let mut u = CpuUsage::default();
    if let Some(dir) = cpuacct {
        u.total_ns = read_u64(&dir.join("cpuacct.usage"))?;
        u.per_cpu_ns = read_opt(&dir.join("cpuacct.usage_percpu"))?
            .map(|t| {
                t.split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let stat = keyed_file(&dir.join("cpuacct.stat"))?;
        let ns = |k: &str| stat.get(k).copied().unwrap_or(0) * (1_000_000_000 / USER_HZ);
        u.user_ns = ns("user");
        u.kernel_ns = ns("system");
    }
    if let Some(dir) = cpu {
        let stat = keyed_file(&dir.join("cpu.stat"))?;
        let get = |k: &str| stat.get(k).copied().unwrap_or(0);
        u.periods = get("nr_periods");
        u.throttled_periods = get("nr_throttled");
        u.throttled_ns = get("throttled_time");
    }
    Ok(u)
}

fn v1_memory(dir: &Path) -> Result<MemoryUsage, CgroupError> {
    Ok(MemoryUsage {
        usage: read_u64(&dir.join("memory.usage_in_bytes"))?,
        max_usage: read_u64(&dir.join("memory.max_usage_in_bytes"))?,
        limit: read_u64(&dir.join("memory.limit_in_bytes"))?,
        failcnt: read_u64(&dir.join("memory.failcnt"))?,
        stat: keyed_file(&dir.join("memory.stat"))?,
    })
}

/// `8:0 Read 4096` lines (a bare `Total N` line has no device and is skipped).
fn v1_io_entries(text: &str) -> Vec<IoEntry> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (dev, op, value) = (f.next()?, f.next()?, f.next()?);
            let (major, minor) = dev.split_once(':')?;
            Some(IoEntry {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                op: op.to_string(),
                value: value.parse().ok()?,
            })
        })
        .collect()
}

/// The throttle counters, which every I/O scheduler maintains (the
/// `_recursive` files where the kernel has them).
fn v1_io(dir: &Path) -> Result<IoUsage, CgroupError> {
    let read = |name: &str| -> Result<Vec<IoEntry>, CgroupError> {
        let text = match read_opt(&dir.join(format!("blkio.throttle.{name}_recursive")))? {
            Some(t) => Some(t),
            None => read_opt(&dir.join(format!("blkio.throttle.{name}")))?,
        };
        Ok(text.map(|t| v1_io_entries(&t)).unwrap_or_default())
    };
    Ok(IoUsage {
        service_bytes: read("io_service_bytes")?,
        serviced: read("io_serviced")?,
    })
}

fn read_pids(dir: &Path) -> Result<PidsUsage, CgroupError> {
    let limit = read_u64(&dir.join("pids.max"))?;
    Ok(PidsUsage {
        current: read_u64(&dir.join("pids.current"))?,
        limit: if limit == u64::MAX { 0 } else { limit },
    })
}

fn v2_cpu(dir: &Path) -> Result<CpuUsage, CgroupError> {
    let stat = keyed_file(&dir.join("cpu.stat"))?;
    let get = |k: &str| stat.get(k).copied().unwrap_or(0);
    Ok(CpuUsage {
        total_ns: get("usage_usec") * 1000,
        per_cpu_ns: Vec::new(),
        kernel_ns: get("system_usec") * 1000,
        user_ns: get("user_usec") * 1000,
        periods: get("nr_periods"),
        throttled_periods: get("nr_throttled"),
        throttled_ns: get("throttled_usec") * 1000,
    })
}

fn v2_memory(dir: &Path) -> Result<MemoryUsage, CgroupError> {
    let events = read_opt(&dir.join("memory.events"))?.unwrap_or_default();
    Ok(MemoryUsage {
        usage: read_u64(&dir.join("memory.current"))?,
        max_usage: 0,
        limit: read_opt(&dir.join("memory.max"))?.map_or(u64::MAX, |s| parse_value(s.trim())),
        failcnt: keyed_value(&events, "oom").unwrap_or(0),
        stat: keyed_file(&dir.join("memory.stat"))?,
    })
}

/// `8:0 rbytes=1 wbytes=2 rios=3 …` lines as a read and a write entry each.
fn v2_io_entries(text: &str) -> Vec<IoEntry> {
    let mut out = Vec::new();
    for l in text.lines() {
        let mut f = l.split_whitespace();
        let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else {
            continue;
        };
        let kv: BTreeMap<&str, u64> = f
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                Some((k, v.parse().ok()?))
            })
            .collect();
        for (op, key) in [("read", "rbytes"), ("write", "wbytes")] {
            out.push(IoEntry {
                major,
                minor,
                op: op.into(),
                value: kv.get(key).copied().unwrap_or(0),
            });
        }
    }
    out
}

fn v2_io(dir: &Path) -> Result<IoUsage, CgroupError> {
    Ok(IoUsage {
        service_bytes: read_opt(&dir.join("io.stat"))?
            .map(|t| v2_io_entries(&t))
            .unwrap_or_default(),
        serviced: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn put(dir: &Path, name: &str, text: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(name), text).unwrap();
    }

    fn hierarchy(root: &Path, name: &str, controllers: &[&str]) -> HierarchyMount {
        HierarchyMount {
            name: name.into(),
            mount_point: root.join(name),
            options: controllers.join(","),
            controllers: controllers.iter().map(|c| c.to_string()).collect(),
            v2: false,
        }
    }

    #[test]
    fn reads_a_v1_tree() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let hs = vec![
            hierarchy(root, "cpu,cpuacct", &["cpu", "cpuacct"]),
            hierarchy(root, "memory", &["memory"]),
            hierarchy(root, "blkio", &["blkio"]),
            hierarchy(root, "pids", &["pids"]),
            hierarchy(root, "systemd", &[]),
        ];
        let cpu = root.join("cpu,cpuacct/berth/c1");
        put(&cpu, "cpuacct.usage", "3041976662\n");
        put(&cpu, "cpuacct.usage_percpu", "1109896198 1932080464 \n");
        put(&cpu, "cpuacct.stat", "user 302\nsystem 1\n");
        put(
            &cpu,
            "cpu.stat",
            "nr_periods 10\nnr_throttled 2\nthrottled_time 5000\n",
        );
        let mem = root.join("memory/berth/c1");
        put(&mem, "memory.usage_in_bytes", "2318336\n");
        put(&mem, "memory.max_usage_in_bytes", "4079616\n");
        put(&mem, "memory.limit_in_bytes", "67108864\n");
        put(&mem, "memory.failcnt", "0\n");
        put(
            &mem,
            "memory.stat",
            "cache 1978368\nrss 57344\ntotal_inactive_file 1978368\n",
        );
        let blk = root.join("blkio/berth/c1");
        put(
            &blk,
            "blkio.throttle.io_service_bytes_recursive",
            "8:0 Read 4096\n8:0 Write 1048576\n8:0 Total 1052672\nTotal 1052672\n",
        );
        let pids = root.join("pids/berth/c1");
        put(&pids, "pids.current", "3\n");
        put(&pids, "pids.max", "max\n");
        put(&pids, "cgroup.procs", "41\n40\n");
        put(&pids.join("sub"), "cgroup.procs", "42\n");

        let r = StatsReader::v1(&hs, Path::new("berth/c1"));
        let s = r.read().unwrap();
        assert_eq!(s.version, Version::V1);
        assert_eq!(s.cpu.total_ns, 3041976662);
        assert_eq!(s.cpu.per_cpu_ns, [1109896198, 1932080464]);
        assert_eq!(s.cpu.user_ns, 3_020_000_000);
        assert_eq!(s.cpu.kernel_ns, 10_000_000);
        assert_eq!(
            (s.cpu.periods, s.cpu.throttled_periods, s.cpu.throttled_ns),
            (10, 2, 5000)
        );
        assert_eq!(s.memory.usage, 2318336);
        assert_eq!(s.memory.max_usage, 4079616);
        assert_eq!(s.memory.limit, 67108864);
        assert_eq!(s.memory.stat["total_inactive_file"], 1978368);
        assert_eq!(s.io.service_bytes.len(), 3);
        assert_eq!(
            s.io.service_bytes[1],
            IoEntry {
                major: 8,
                minor: 0,
                op: "Write".into(),
                value: 1048576
            }
        );
        assert!(s.io.serviced.is_empty());
        assert_eq!(
            s.pids,
            PidsUsage {
                current: 3,
                limit: 0
            }
        );
        assert_eq!(r.procs().unwrap(), [40, 41, 42]);

        let gone = StatsReader::v1(&hs, Path::new("berth/nope"));
        assert!(gone.read().is_err());
        assert!(gone.procs().is_err());
    }

    #[test]
    fn reads_a_v2_tree() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("berth/c2");
        put(
            &dir,
            "cpu.stat",
            "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n",
        );
        put(&dir, "memory.current", "1048576\n");
        put(&dir, "memory.max", "max\n");
        put(
            &dir,
            "memory.events",
            "low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n",
        );
        put(
            &dir,
            "memory.stat",
            "anon 4096\nfile 8192\ninactive_file 8192\n",
        );
        put(
            &dir,
            "io.stat",
            "8:0 rbytes=4096 wbytes=1048576 rios=1 wios=8 dbytes=0 dios=0\n",
        );
        put(&dir, "pids.current", "2\n");
        put(&dir, "pids.max", "100\n");
        put(&dir, "cgroup.procs", "7\n");

        let r = StatsReader::v2(d.path(), Path::new("berth/c2"));
        let s = r.read().unwrap();
        assert_eq!(s.version, Version::V2);
        assert_eq!(s.cpu.total_ns, 2_500_000);
        assert_eq!(s.cpu.user_ns, 2_000_000);
        assert_eq!(s.cpu.kernel_ns, 500_000);
        assert!(s.cpu.per_cpu_ns.is_empty());
        assert_eq!(s.cpu.throttled_ns, 7000);
        assert_eq!(s.memory.usage, 1048576);
        assert_eq!(s.memory.limit, u64::MAX);
        assert_eq!(s.memory.failcnt, 2);
        assert_eq!(s.memory.stat["inactive_file"], 8192);
        assert_eq!(
            s.io.service_bytes,
            [
                IoEntry {
                    major: 8,
                    minor: 0,
                    op: "read".into(),
                    value: 4096
                },
                IoEntry {
                    major: 8,
                    minor: 0,
                    op: "write".into(),
                    value: 1048576
                },
            ]
        );
        assert_eq!(
            s.pids,
            PidsUsage {
                current: 2,
                limit: 100
            }
        );
        assert_eq!(r.procs().unwrap(), [7]);
    }

    #[test]
    fn missing_controller_files_read_as_zero() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("c")).unwrap();
        let s = StatsReader::v2(d.path(), Path::new("c")).read().unwrap();
        assert_eq!(s.cpu, CpuUsage::default());
        assert_eq!(s.memory.usage, 0);
        assert_eq!(s.memory.limit, u64::MAX);
        assert!(s.io.service_bytes.is_empty());
    }
}
