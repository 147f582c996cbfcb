//! v1 memory controller: limit, memory+swap limit (when swap accounting is
//! on), soft limit.

use std::path::Path;

use crate::cgroups::{write, CgroupError};
use crate::spec::Memory;

pub fn apply(dir: &Path, m: &Memory) -> Result<(), CgroupError> {
    if let Some(limit) = m.limit {
        write(&dir.join("memory.limit_in_bytes"), &limit.to_string())?;
    }
    let memsw = dir.join("memory.memsw.limit_in_bytes");
    if let (Some(swap), true) = (m.swap, memsw.exists()) {
        write(&memsw, &swap.to_string())?;
    }
    if let Some(r) = m.reservation {
        write(&dir.join("memory.soft_limit_in_bytes"), &r.to_string())?;
    }
    Ok(())
}
