//! v2 freezer: `cgroup.freeze` takes `1` or `0`; the kernel reports the
//! reached state as `frozen 1` / `frozen 0` in `cgroup.events`.

use std::path::Path;

use crate::cgroups::freezer::{set_and_wait, Freeze, Seen, TIMEOUT};
use crate::cgroups::{keyed_value, read, CgroupError};

pub fn set(dir: &Path, want: Freeze) -> Result<(), CgroupError> {
    let (value, undo) = match want {
        Freeze::Frozen => ("1", Some("0")),
        Freeze::Thawed => ("0", None),
    };
    let events = dir.join("cgroup.events");
    let wanted: u64 = if want == Freeze::Frozen { 1 } else { 0 };
    set_and_wait(&dir.join("cgroup.freeze"), value, undo, 0, TIMEOUT, || {
        let frozen = keyed_value(&read(&events)?, "frozen");
        Ok(match frozen {
            Some(f) if f == wanted => Seen::Done,
            // No `frozen` key to wait on: the write is all there is.
            None => Seen::Done,
            Some(f) => Seen::Pending(format!("frozen {f}")),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn writes_the_control_file_and_reads_events() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        set(d.path(), Freeze::Frozen).unwrap();
        assert_eq!(
            fs::read_to_string(d.path().join("cgroup.freeze")).unwrap(),
            "1"
        );
        fs::write(d.path().join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        set(d.path(), Freeze::Thawed).unwrap();
        assert_eq!(
            fs::read_to_string(d.path().join("cgroup.freeze")).unwrap(),
            "0"
        );
    }
}
