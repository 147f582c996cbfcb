//! v1 cpu controller: shares and the CFS quota.

use std::path::Path;

use crate::cgroups::{write, CgroupError};
use crate::spec::Cpu;

pub fn apply(dir: &Path, c: &Cpu) -> Result<(), CgroupError> {
    if let Some(shares) = c.shares.filter(|s| *s > 0) {
        write(&dir.join("cpu.shares"), &shares.to_string())?;
    }
    if let Some(period) = c.period.filter(|p| *p > 0) {
        write(&dir.join("cpu.cfs_period_us"), &period.to_string())?;
    }
    if let Some(quota) = c.quota.filter(|q| *q != 0) {
        write(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
    }
    Ok(())
}
