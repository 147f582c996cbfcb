//! The freezer behind `pause`/`unpause`: every process of a cgroup stops
//! (or runs again) at once. Freezing is asynchronous in the kernel, so both
//! versions write the wanted state and then read it back until the kernel
//! reports it; v1 (`freezer.state`) and v2 (`cgroup.freeze`) only differ in
//! the files and words, which live in their own modules.

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::{read, write, CgroupError};

/// How long a freeze may take before it is given up (and undone).
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

/// The wanted state of a cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freeze {
    Frozen,
    Thawed,
}

/// One attempt's outcome, as the version-specific reader sees the state file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// The kernel reports the wanted state.
    Done,
    /// Still on the way (v1 `FREEZING`, v2 `frozen 0` right after `1`).
    Pending(String),
}

/// Writes `value` to `control` and polls `check` until it reports the
/// wanted state. Every `rewrite_every` polls the value is written again,
/// after writing `undo` first when one is given: new tasks that appear
/// while a v1 cgroup is freezing can keep it in `FREEZING`, and a short
/// thaw lets the next attempt catch them. On timeout `undo` is written
/// (a half-frozen cgroup must not be left behind) and the state last seen
/// is reported.
pub(crate) fn set_and_wait(
    control: &Path,
    value: &str,
    undo: Option<&str>,
    rewrite_every: u32,
    timeout: Duration,
    mut check: impl FnMut() -> Result<Seen, CgroupError>,
) -> Result<(), CgroupError> {
    let deadline = Instant::now() + timeout;
    write(control, value)?;
    let mut polls: u32 = 0;
    loop {
        let last = match check()? {
            Seen::Done => return Ok(()),
            Seen::Pending(state) => state,
        };
        if Instant::now() >= deadline {
            if let Some(u) = undo {
                let _ = write(control, u);
            }
            return Err(CgroupError::NotFrozen {
                path: control.to_path_buf(),
                state: last,
            });
        }
        polls += 1;
        // Short polls first: most freezes finish within a millisecond.
        sleep(Duration::from_micros(if polls < 100 { 100 } else { 2000 }));
        if rewrite_every > 0 && polls.is_multiple_of(rewrite_every) {
            if let Some(u) = undo {
                write(control, u)?;
            }
            write(control, value)?;
        }
    }
}

/// The trimmed content of a state file.
pub(crate) fn read_state(path: &Path) -> Result<String, CgroupError> {
    Ok(read(path)?.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_until_the_state_is_reached() {
        let d = tempfile::tempdir().unwrap();
        let control = d.path().join("ctl");
        let mut calls = 0;
        set_and_wait(&control, "ON", Some("OFF"), 0, TIMEOUT, || {
            calls += 1;
            Ok(if calls < 3 {
                Seen::Pending("FREEZING".into())
            } else {
                Seen::Done
            })
        })
        .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(read_state(&control).unwrap(), "ON");
    }

    #[test]
    fn rewrites_with_a_short_undo_while_pending() {
        let d = tempfile::tempdir().unwrap();
        let control = d.path().join("ctl");
        let mut seen_values = Vec::new();
        let mut calls = 0;
        set_and_wait(&control, "ON", Some("OFF"), 2, TIMEOUT, || {
            calls += 1;
            seen_values.push(read_state(&control).unwrap());
            Ok(if calls < 5 {
                Seen::Pending("FREEZING".into())
            } else {
                Seen::Done
            })
        })
        .unwrap();
        // Every value the checker saw is the wanted one: the undo is only transient.
        assert!(seen_values.iter().all(|v| v == "ON"), "{seen_values:?}");
    }

    #[test]
    fn gives_up_and_undoes_on_timeout() {
        let d = tempfile::tempdir().unwrap();
        let control = d.path().join("ctl");
        let e = set_and_wait(
            &control,
            "ON",
            Some("OFF"),
            0,
            Duration::from_millis(20),
            || Ok(Seen::Pending("FREEZING".into())),
        )
        .unwrap_err();
        assert!(matches!(e, CgroupError::NotFrozen { ref state, .. } if state == "FREEZING"));
        assert_eq!(read_state(&control).unwrap(), "OFF");
    }
}
