//! `--ulimit` (`HostConfig.Ulimits`) → `process.rlimits`. With none given
//! the container inherits the limits of the process that starts it, as
//! Docker's containers inherit the daemon's.

use berth_runtime::spec::Rlimit;

use super::SpecError;
use crate::model::Ulimit;

/// The names Docker accepts (`RLIMIT_` + the upper-cased name).
const NAMES: &[&str] = &[
    "as",
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

pub(crate) fn build(ulimits: &[Ulimit]) -> Result<Vec<Rlimit>, SpecError> {
    ulimits.iter().map(rlimit).collect()
}

fn rlimit(u: &Ulimit) -> Result<Rlimit, SpecError> {
    let name = u.name.to_ascii_lowercase();
    if !NAMES.contains(&name.as_str()) {
        return Err(SpecError(format!("invalid ulimit type: {}", u.name)));
    }
    // -1 (and any negative value) is "unlimited", RLIM_INFINITY.
    let value = |v: i64| u64::try_from(v).unwrap_or(u64::MAX);
    let (soft, hard) = (value(u.soft), value(u.hard));
    if soft > hard {
        return Err(SpecError(format!(
            "ulimit soft limit must be less than or equal to hard limit: {} > {}",
            u.soft, u.hard
        )));
    }
    Ok(Rlimit {
        kind: format!("RLIMIT_{}", name.to_ascii_uppercase()),
        hard,
        soft,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ul(name: &str, soft: i64, hard: i64) -> Ulimit {
        Ulimit {
            name: name.into(),
            soft,
            hard,
        }
    }

    #[test]
    fn names_and_values() {
        let got = build(&[
            ul("nofile", 100, 200),
            ul("core", -1, -1),
            ul("NPROC", 5, 5),
        ])
        .unwrap();
        let view: Vec<(&str, u64, u64)> = got
            .iter()
            .map(|r| (r.kind.as_str(), r.soft, r.hard))
            .collect();
        assert_eq!(
            view,
            [
                ("RLIMIT_NOFILE", 100, 200),
                ("RLIMIT_CORE", u64::MAX, u64::MAX),
                ("RLIMIT_NPROC", 5, 5)
            ]
        );
        for name in NAMES {
            assert!(build(&[ul(name, 1, 1)]).is_ok(), "{name}");
        }
        assert!(build(&[]).unwrap().is_empty());
    }

    #[test]
    fn errors() {
        assert_eq!(
            build(&[ul("foo", 1, 2)]).unwrap_err().0,
            "invalid ulimit type: foo"
        );
        assert_eq!(
            build(&[ul("nofile", 3, 2)]).unwrap_err().0,
            "ulimit soft limit must be less than or equal to hard limit: 3 > 2"
        );
        assert!(build(&[ul("nofile", 3, -1)]).is_ok());
    }
}
