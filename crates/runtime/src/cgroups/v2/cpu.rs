//! v2 cpu controller: `cpu.weight` from v1 shares (runc's conversion) and
//! `cpu.max` as `quota period`.

use std::path::Path;

use crate::cgroups::{write, CgroupError};
use crate::spec::Cpu;

const DEFAULT_PERIOD: u64 = 100_000;

/// Shares 2..262144 onto weight 1..10000, as runc does; 0 means unset.
pub fn weight_from_shares(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

pub fn apply(dir: &Path, c: &Cpu) -> Result<(), CgroupError> {
    if let Some(shares) = c.shares {
        let w = weight_from_shares(shares);
        if w > 0 {
            write(&dir.join("cpu.weight"), &w.to_string())?;
        }
    }
    if c.quota.is_some() || c.period.is_some() {
        let quota = match c.quota {
            Some(q) if q > 0 => q.to_string(),
            _ => "max".into(),
        };
        let period = c.period.filter(|p| *p > 0).unwrap_or(DEFAULT_PERIOD);
        write(&dir.join("cpu.max"), &format!("{quota} {period}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runc_share_conversion() {
        assert_eq!(weight_from_shares(2), 1);
        assert_eq!(weight_from_shares(1024), 39);
        assert_eq!(weight_from_shares(262_144), 10_000);
        assert_eq!(weight_from_shares(0), 0);
    }
}
