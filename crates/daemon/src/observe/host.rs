//! What the host's `/proc` says that stats need: total CPU time and online
//! CPUs (`/proc/stat`), the machine's memory (`/proc/meminfo`), and the
//! interface counters of a network namespace (`/proc/<pid>/net/dev`).

use std::collections::BTreeMap;

/// `sysconf(_SC_CLK_TCK)`, constant on Linux.
const CLOCK_TICKS: u64 = 100;

/// Total CPU time of the host in nanoseconds (user … softirq of the `cpu`
/// line, as Docker sums them) and the number of `cpuN` lines.
pub fn system_cpu(proc_stat: &str) -> (u64, u32) {
    let mut total = 0;
    let mut cpus = 0;
    for line in proc_stat.lines() {
        let Some(rest) = line.strip_prefix("cpu") else {
            break;
        };
        if rest.starts_with(' ') {
            let ticks: u64 = rest
                .split_whitespace()
                .take(7)
                .filter_map(|v| v.parse::<u64>().ok())
                .sum();
            total = ticks * (1_000_000_000 / CLOCK_TICKS);
        } else if rest.starts_with(|c: char| c.is_ascii_digit()) {
            cpus += 1;
        }
    }
    (total, cpus)
}

/// `MemTotal` in bytes (0 when unreadable).
pub fn mem_total(meminfo: &str) -> u64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Counters of one interface, in the order of the Engine API's `NetworkStats`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NetCounters {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// Interfaces of a `net/dev` text except loopback, as Docker reports them.
pub fn net_dev(text: &str) -> BTreeMap<String, NetCounters> {
    let mut out = BTreeMap::new();
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name == "lo" || name.is_empty() {
            continue;
        }
        let v: Vec<u64> = rest
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        if v.len() < 12 {
            continue;
        }
        out.insert(
            name.to_string(),
            NetCounters {
                rx_bytes: v[0],
                rx_packets: v[1],
                rx_errors: v[2],
                rx_dropped: v[3],
                tx_bytes: v[8],
                tx_packets: v[9],
                tx_errors: v[10],
                tx_dropped: v[11],
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_cpu_line_and_counts_cpus() {
        let stat = "cpu  109286 10164 31140 334693 3213 0 393 146 0 0\n\
                    cpu0 53755 4229 14583 171195 596 0 45 70 0 0\n\
                    cpu1 55530 5934 16557 163498 2616 0 348 76 0 0\n\
                    intr 1 2 3\n";
        let (ns, cpus) = system_cpu(stat);
        // The first seven fields, steal excluded, in ticks of 10ms.
        assert_eq!(
            ns,
            (109286 + 10164 + 31140 + 334693 + 3213 + 393) * 10_000_000
        );
        assert_eq!(cpus, 2);
    }

    #[test]
    fn reads_mem_total() {
        assert_eq!(
            mem_total("MemTotal:       24684084 kB\nMemFree: 1 kB\n"),
            25_276_502_016
        );
        assert_eq!(mem_total(""), 0);
    }

    #[test]
    fn parses_net_dev_without_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n \
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n\
    lo:  51417979    7431    0    0    0     0          0         0 51417979    7431    0    0    0     0       0          0\n\
  eth0:       736       8    1    2    0     0          0         0      416       5    3    4    0     0       0          0\n";
        let m = net_dev(text);
        assert_eq!(m.len(), 1);
        assert_eq!(
            m["eth0"],
            NetCounters {
                rx_bytes: 736,
                rx_packets: 8,
                rx_errors: 1,
                rx_dropped: 2,
                tx_bytes: 416,
                tx_packets: 5,
                tx_errors: 3,
                tx_dropped: 4,
            }
        );
    }
}
