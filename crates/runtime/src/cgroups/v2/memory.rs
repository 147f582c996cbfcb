//! v2 memory controller: `memory.max`, `memory.swap.max` (swap alone, so
//! Docker's memory+swap minus the limit), `memory.low`.

use std::path::Path;

use crate::cgroups::{write, CgroupError};
use crate::spec::Memory;

fn limit_value(v: i64) -> String {
    if v < 0 {
        "max".into()
    } else {
        v.to_string()
    }
}

/// `memory.swap.max` from Docker's memory+swap total and the memory limit.
pub fn swap_max(m: &Memory) -> Result<Option<String>, CgroupError> {
    match (m.swap, m.limit) {
        (Some(s), _) if s < 0 => Ok(Some("max".into())),
        (Some(s), Some(l)) if l >= 0 => {
            if s < l {
                return Err(CgroupError::SwapBelowLimit { swap: s, limit: l });
            }
            Ok(Some((s - l).to_string()))
        }
        _ => Ok(None),
    }
}

pub fn apply(dir: &Path, m: &Memory) -> Result<(), CgroupError> {
    if let Some(l) = m.limit {
        write(&dir.join("memory.max"), &limit_value(l))?;
    }
    if let Some(s) = swap_max(m)? {
        write(&dir.join("memory.swap.max"), &s)?;
    }
    if let Some(r) = m.reservation {
        write(&dir.join("memory.low"), &limit_value(r))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_is_total_minus_limit() {
        let m = |limit, swap| Memory {
            limit,
            swap,
            reservation: None,
        };
        assert_eq!(
            swap_max(&m(Some(100), Some(300))).unwrap().as_deref(),
            Some("200")
        );
        assert_eq!(
            swap_max(&m(Some(100), Some(-1))).unwrap().as_deref(),
            Some("max")
        );
        assert_eq!(swap_max(&m(None, None)).unwrap(), None);
        assert!(swap_max(&m(Some(300), Some(100))).is_err());
    }
}
