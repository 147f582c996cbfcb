//! v1 memory controller: limit, memory+swap limit (when swap accounting is
//! on, in the order a live update needs), soft limit.

use std::path::Path;

use crate::cgroups::{read, write, CgroupError};
use crate::spec::Memory;

/// Whether memsw must be written before the limit: the kernel keeps
/// memsw >= limit after every write, so a new memsw above the current
/// limit (or unlimited) goes first, and otherwise the limit does.
fn swap_first(current_limit: Option<i64>, swap: Option<i64>) -> bool {
    matches!((swap, current_limit), (Some(s), Some(cur)) if s == -1 || cur < s)
}

pub fn apply(dir: &Path, m: &Memory) -> Result<(), CgroupError> {
    let limit_file = dir.join("memory.limit_in_bytes");
    let memsw = dir.join("memory.memsw.limit_in_bytes");
    let swap = m.swap.filter(|_| memsw.exists());
    let current = read(&limit_file)
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let first = swap_first(current, swap);
    if let (Some(s), true) = (swap, first) {
        write(&memsw, &s.to_string())?;
    }
    if let Some(limit) = m.limit {
        write(&limit_file, &limit.to_string())?;
    }
    if let (Some(s), false) = (swap, first) {
        write(&memsw, &s.to_string())?;
    }
    if let Some(r) = m.reservation {
        write(&dir.join("memory.soft_limit_in_bytes"), &r.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memsw_goes_first_only_when_raised_above_the_limit() {
        // Raising 100/200 to 300/600: memsw first (300 > 200 would fail).
        assert!(swap_first(Some(100), Some(600)));
        // Lowering 300/600 to 100/200: the limit first.
        assert!(!swap_first(Some(300), Some(200)));
        assert!(swap_first(Some(300), Some(-1)));
        assert!(!swap_first(None, Some(600)));
        assert!(!swap_first(Some(100), None));
    }
}
