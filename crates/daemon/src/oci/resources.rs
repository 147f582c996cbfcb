//! cgroup limits from `HostConfig` (memory, swap, reservation, CPU shares,
//! quota and period, `--cpus`, cpusets, pids), checked with Docker's rules
//! and messages. Device rules are added by the devices module.

use berth_runtime::spec::{Cpu, Memory, Pids, Resources};

use super::host::Host;
use super::SpecError;
use crate::model::HostConfig;

/// Docker's smallest memory limit and reservation (6 MiB).
const MIN_MEMORY: i64 = 6 * 1024 * 1024;
/// The CFS period `--cpus` uses (100 ms).
const NANO_CPUS_PERIOD: i64 = 100_000;

pub(crate) fn build(hc: &HostConfig, host: &Host) -> Result<Resources, SpecError> {
    Ok(Resources {
        memory: memory(hc, host)?,
        cpu: cpu(hc, host)?,
        pids: hc.pids_limit.filter(|l| *l > 0).map(|limit| Pids { limit }),
        devices: Vec::new(),
    })
}

fn memory(hc: &HostConfig, host: &Host) -> Result<Option<Memory>, SpecError> {
    let err = |m: &str| Err(SpecError::new(m));
    if hc.memory != 0 && hc.memory < MIN_MEMORY {
        return err("Minimum memory limit allowed is 6MB");
    }
    if hc.memory > 0 && hc.memory_swap > 0 && hc.memory_swap < hc.memory {
        return err("Minimum memoryswap limit should be larger than memory limit, see usage");
    }
    if hc.memory == 0 && hc.memory_swap > 0 {
        return err(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        );
    }
    if hc.memory_reservation != 0 && hc.memory_reservation < MIN_MEMORY {
        return err("Minimum memory reservation allowed is 6MB");
    }
    if hc.memory > 0 && hc.memory_reservation > 0 && hc.memory < hc.memory_reservation {
        return err(
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        );
    }
    let swap = match hc.memory_swap {
        0 if hc.memory > 0 => Some(hc.memory.saturating_mul(2)),
        0 => None,
        s => Some(s),
    };
    let memory = Memory {
        limit: Some(hc.memory).filter(|m| *m > 0),
        swap: swap.filter(|_| host.swap_limit),
        reservation: Some(hc.memory_reservation).filter(|r| *r > 0),
    };
    let any = memory.limit.is_some() || memory.swap.is_some() || memory.reservation.is_some();
    Ok(any.then_some(memory))
}

fn cpu(hc: &HostConfig, host: &Host) -> Result<Option<Cpu>, SpecError> {
    let err = |m: String| Err(SpecError(m));
    if hc.nano_cpus > 0 && hc.cpu_period > 0 {
        return err("Conflicting options: Nano CPUs and CPU Period cannot both be set".into());
    }
    if hc.nano_cpus > 0 && hc.cpu_quota > 0 {
        return err("Conflicting options: Nano CPUs and CPU Quota cannot both be set".into());
    }
    let max_nano = i64::try_from(host.ncpu)
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000_000);
    if hc.nano_cpus < 0 || hc.nano_cpus > max_nano {
        return err(format!(
            "Range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available",
            n = host.ncpu
        ));
    }
    if hc.cpu_period != 0 && !(1000..=1_000_000).contains(&hc.cpu_period) {
        return err(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
                .into(),
        );
    }
    if hc.cpu_quota > 0 && hc.cpu_quota < 1000 {
        return err("CPU cfs quota can not be less than 1ms (i.e. 1000)".into());
    }
    check_cpuset(&hc.cpuset_cpus, &host.cpus_online, "cpus", "CPUs")?;
    check_cpuset(&hc.cpuset_mems, &host.mems_online, "mems", "memory nodes")?;

    let (quota, period) = if hc.nano_cpus > 0 {
        (
            Some(hc.nano_cpus * NANO_CPUS_PERIOD / 1_000_000_000),
            Some(NANO_CPUS_PERIOD as u64),
        )
    } else {
        (
            Some(hc.cpu_quota).filter(|q| *q != 0),
            u64::try_from(hc.cpu_period).ok().filter(|p| *p != 0),
        )
    };
    let cpu = Cpu {
        shares: u64::try_from(hc.cpu_shares).ok().filter(|s| *s > 0),
        quota,
        period,
        cpus: hc.cpuset_cpus.clone(),
        mems: hc.cpuset_mems.clone(),
    };
    let any = cpu.shares.is_some()
        || quota.is_some()
        || period.is_some()
        || !cpu.cpus.is_empty()
        || !cpu.mems.is_empty();
    Ok(any.then_some(cpu))
}

/// A cpuset list (`0-2,4`) must parse and name only online CPUs or nodes.
fn check_cpuset(requested: &str, online: &str, what: &str, plural: &str) -> Result<(), SpecError> {
    if requested.is_empty() {
        return Ok(());
    }
    let wanted = parse_list(requested).ok_or_else(|| {
        SpecError(format!(
            "Invalid value {requested} for cpuset {what}: invalid format: {requested}"
        ))
    })?;
    let available = parse_list(online).unwrap_or_default();
    let is_online = |n: u32| available.iter().any(|(lo, hi)| (*lo..=*hi).contains(&n));
    let all_online = wanted.iter().all(|(lo, hi)| {
        // Never walk more numbers than can be online.
        hi - lo <= available.iter().map(|(l, h)| h - l + 1).sum::<u32>()
            && (*lo..=*hi).all(is_online)
    });
    if !all_online {
        return Err(SpecError(format!(
            "Requested {plural} are not available - requested {requested}, available: {online}"
        )));
    }
    Ok(())
}

/// `0-2,4` → `[(0, 2), (4, 4)]`; `None` when malformed.
fn parse_list(list: &str) -> Option<Vec<(u32, u32)>> {
    list.split(',')
        .map(|item| {
            let (lo, hi) = item.split_once('-').unwrap_or((item, item));
            let (lo, hi): (u32, u32) = (lo.parse().ok()?, hi.parse().ok()?);
            (lo <= hi).then_some((lo, hi))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_hc(hc: HostConfig) -> Result<Resources, SpecError> {
        build(&hc, &Host::for_tests())
    }

    fn err(hc: HostConfig) -> String {
        build_hc(hc).unwrap_err().0
    }

    const MB: i64 = 1024 * 1024;

    #[test]
    fn nothing_set_means_no_limits() {
        let r = build_hc(HostConfig::default()).unwrap();
        assert!(r.memory.is_none() && r.cpu.is_none() && r.pids.is_none());
    }

    #[test]
    fn memory_and_swap() {
        let mem = |memory, memory_swap| {
            build_hc(HostConfig {
                memory,
                memory_swap,
                ..HostConfig::default()
            })
            .unwrap()
            .memory
            .unwrap()
        };
        let m = mem(10 * MB, 0);
        assert_eq!((m.limit, m.swap), (Some(10 * MB), Some(20 * MB)));
        assert_eq!(mem(10 * MB, -1).swap, Some(-1));
        assert_eq!(mem(10 * MB, 30 * MB).swap, Some(30 * MB));
        assert_eq!(mem(10 * MB, 10 * MB).swap, Some(10 * MB));

        let mut host = Host::for_tests();
        host.swap_limit = false;
        let hc = HostConfig {
            memory: 10 * MB,
            ..HostConfig::default()
        };
        assert_eq!(build(&hc, &host).unwrap().memory.unwrap().swap, None);
    }

    #[test]
    fn memory_errors() {
        let e = |memory, memory_swap, memory_reservation| {
            err(HostConfig {
                memory,
                memory_swap,
                memory_reservation,
                ..HostConfig::default()
            })
        };
        assert_eq!(e(1000, 0, 0), "Minimum memory limit allowed is 6MB");
        assert_eq!(
            e(10 * MB, 5 * MB, 0),
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        );
        assert_eq!(
            e(0, 50 * MB, 0),
            "You should always set the Memory limit when using Memoryswap limit, see usage"
        );
        assert_eq!(e(0, 0, 2000), "Minimum memory reservation allowed is 6MB");
        assert_eq!(
            e(10 * MB, 0, 20 * MB),
            "Minimum memory limit can not be less than memory reservation limit, see usage"
        );
        assert!(build_hc(HostConfig {
            memory: 6 * MB,
            ..HostConfig::default()
        })
        .is_ok());
    }

    #[test]
    fn cpus_to_quota() {
        let cpu = |nano_cpus| {
            build_hc(HostConfig {
                nano_cpus,
                ..HostConfig::default()
            })
            .unwrap()
            .cpu
            .unwrap()
        };
        let c = cpu(1_500_000_000);
        assert_eq!((c.quota, c.period), (Some(150_000), Some(100_000)));
        assert_eq!(cpu(10_000_000).quota, Some(1000));
        assert_eq!(cpu(2_000_000_000).quota, Some(200_000));
    }

    #[test]
    fn quota_period_shares_cpuset_pids() {
        let r = build_hc(HostConfig {
            cpu_quota: 50_000,
            cpu_period: 200_000,
            cpu_shares: 512,
            cpuset_cpus: "0-1".into(),
            cpuset_mems: "0".into(),
            pids_limit: Some(50),
            ..HostConfig::default()
        })
        .unwrap();
        let c = r.cpu.unwrap();
        assert_eq!(
            (c.quota, c.period, c.shares),
            (Some(50_000), Some(200_000), Some(512))
        );
        assert_eq!((c.cpus.as_str(), c.mems.as_str()), ("0-1", "0"));
        assert_eq!(r.pids.unwrap().limit, 50);
        for unlimited in [Some(0), Some(-1), None] {
            let r = build_hc(HostConfig {
                pids_limit: unlimited,
                ..HostConfig::default()
            })
            .unwrap();
            assert!(r.pids.is_none());
        }
    }

    /// Messages as Docker 20.10 answers on a 2-CPU host.
    #[test]
    fn cpu_errors() {
        let cases = [
            (
                HostConfig { nano_cpus: 1_000_000_000, cpu_quota: 50_000, ..HostConfig::default() },
                "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
            ),
            (
                HostConfig { nano_cpus: 1_000_000_000, cpu_period: 50_000, ..HostConfig::default() },
                "Conflicting options: Nano CPUs and CPU Period cannot both be set",
            ),
            (
                HostConfig { nano_cpus: 100_000_000_000, ..HostConfig::default() },
                "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available",
            ),
            (
                HostConfig { cpu_period: 500, ..HostConfig::default() },
                "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
            ),
            (
                HostConfig { cpu_quota: 500, ..HostConfig::default() },
                "CPU cfs quota can not be less than 1ms (i.e. 1000)",
            ),
            (
                HostConfig { cpuset_cpus: "abc".into(), ..HostConfig::default() },
                "Invalid value abc for cpuset cpus: invalid format: abc",
            ),
            (
                HostConfig { cpuset_cpus: "0-99".into(), ..HostConfig::default() },
                "Requested CPUs are not available - requested 0-99, available: 0-1",
            ),
            (
                HostConfig { cpuset_cpus: "0-4294967295".into(), ..HostConfig::default() },
                "Requested CPUs are not available - requested 0-4294967295, available: 0-1",
            ),
            (
                HostConfig { cpuset_mems: "5".into(), ..HostConfig::default() },
                "Requested memory nodes are not available - requested 5, available: 0",
            ),
        ];
        for (hc, want) in cases {
            assert_eq!(err(hc), want);
        }
    }

    #[test]
    fn list_parsing() {
        assert_eq!(parse_list("0-2,4"), Some(vec![(0, 2), (4, 4)]));
        for bad in ["", "1,,2", "3-1", "a", "1-", "-1"] {
            assert_eq!(parse_list(bad), None, "{bad}");
        }
    }
}
