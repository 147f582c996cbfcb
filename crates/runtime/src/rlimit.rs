//! The spec's rlimits on the init. A hard limit above ours needs
//! CAP_SYS_RESOURCE; without it the hard limit is clamped to the current
//! one instead of failing (the default nofile of Docker is 1048576).

use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource};

use crate::process::failure::{Context, InitError, Stage};
use crate::spec::Rlimit;

fn resource(name: &str) -> Option<Resource> {
    Some(match name {
        "RLIMIT_AS" => Resource::RLIMIT_AS,
        "RLIMIT_CORE" => Resource::RLIMIT_CORE,
        "RLIMIT_CPU" => Resource::RLIMIT_CPU,
        "RLIMIT_DATA" => Resource::RLIMIT_DATA,
        "RLIMIT_FSIZE" => Resource::RLIMIT_FSIZE,
        "RLIMIT_LOCKS" => Resource::RLIMIT_LOCKS,
        "RLIMIT_MEMLOCK" => Resource::RLIMIT_MEMLOCK,
        "RLIMIT_MSGQUEUE" => Resource::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => Resource::RLIMIT_NICE,
        "RLIMIT_NOFILE" => Resource::RLIMIT_NOFILE,
        "RLIMIT_NPROC" => Resource::RLIMIT_NPROC,
        "RLIMIT_RSS" => Resource::RLIMIT_RSS,
        "RLIMIT_RTPRIO" => Resource::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => Resource::RLIMIT_RTTIME,
        "RLIMIT_SIGPENDING" => Resource::RLIMIT_SIGPENDING,
        "RLIMIT_STACK" => Resource::RLIMIT_STACK,
        _ => return None,
    })
}

/// (soft, hard) to use when raising the hard limit was refused.
fn clamp(soft: u64, current_hard: u64) -> (u64, u64) {
    (soft.min(current_hard), current_hard)
}

pub fn apply(limits: &[Rlimit]) -> Result<(), InitError> {
    for l in limits {
        let Some(res) = resource(&l.kind) else {
            return Err(InitError::plain(
                Stage::Rlimits,
                format!("unknown rlimit type {:?}", l.kind),
            ));
        };
        let what = || format!("set {} to {}:{}", l.kind, l.soft, l.hard);
        match setrlimit(res, l.soft, l.hard) {
            Ok(()) => {}
            Err(Errno::EPERM) => {
                let (_, hard) = getrlimit(res).at(Stage::Rlimits, what)?;
                let (soft, hard) = clamp(l.soft, hard.min(l.hard));
                setrlimit(res, soft, hard).at(Stage::Rlimits, what)?;
            }
            Err(e) => return Err(e).at(Stage::Rlimits, what),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_clamp() {
        assert_eq!(resource("RLIMIT_NOFILE"), Some(Resource::RLIMIT_NOFILE));
        assert_eq!(resource("RLIMIT_BOGUS"), None);
        assert_eq!(clamp(1_048_576, 20_000), (20_000, 20_000));
        assert_eq!(clamp(1024, 20_000), (1024, 20_000));
    }
}
