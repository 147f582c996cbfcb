//! v1 pids controller: `pids.max`, `max` for no limit.

use std::path::Path;

use crate::cgroups::{write, CgroupError};
use crate::spec::Pids;

/// The value of `pids.max` (shared with v2).
pub fn max_value(p: &Pids) -> String {
    if p.limit > 0 {
        p.limit.to_string()
    } else {
        "max".into()
    }
}

pub fn apply(dir: &Path, p: &Pids) -> Result<(), CgroupError> {
    write(&dir.join("pids.max"), &max_value(p))
}
