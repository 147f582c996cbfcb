//! v1 devices controller: the spec's rules in order, each written to
//! `devices.allow` or `devices.deny` as `type major:minor access`.

use std::path::Path;

use crate::cgroups::{write, CgroupError};
use crate::spec::DeviceRule;

/// `c 1:3 rwm`; a missing type is `a`, a missing number `*`.
pub fn rule_line(r: &DeviceRule) -> String {
    let num = |n: Option<i64>| {
        n.filter(|n| *n >= 0)
            .map_or("*".to_string(), |n| n.to_string())
    };
    format!(
        "{} {}:{} {}",
        r.kind.as_deref().unwrap_or("a"),
        num(r.major),
        num(r.minor),
        r.access.as_deref().unwrap_or("rwm")
    )
}

pub fn apply(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    for r in rules {
        let file = if r.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        write(&dir.join(file), &rule_line(r))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let r = DeviceRule {
            allow: true,
            kind: Some("c".into()),
            major: Some(1),
            minor: Some(3),
            access: Some("rwm".into()),
        };
        assert_eq!(rule_line(&r), "c 1:3 rwm");
        let r = DeviceRule {
            allow: true,
            kind: Some("c".into()),
            major: Some(136),
            minor: None,
            access: Some("rwm".into()),
        };
        assert_eq!(rule_line(&r), "c 136:* rwm");
    }
}
