//! Seccomp: Docker's profile format (`defaultAction`, `archMap`, `syscalls`
//! with `includes`/`excludes` on capabilities, architectures and kernel
//! version) resolved into the flat filter of the spec for one container.
//!
//! `seccomp-default.json` is Docker's default profile, copied from
//! moby/moby `vendor/github.com/moby/profiles/seccomp/default.json` @ b985e231
//! (Apache-2.0).

use std::sync::OnceLock;

use berth_runtime::spec::{Seccomp, Syscall, SyscallArg};
use serde::Deserialize;

use super::host::Host;
use super::security_opt::SeccompChoice;
use super::SpecError;

const DEFAULT_PROFILE: &str = include_str!("seccomp-default.json");

/// A profile as Docker writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Profile {
    default_action: String,
    default_errno_ret: Option<u32>,
    architectures: Option<Vec<String>>,
    arch_map: Option<Vec<ArchMap>>,
    syscalls: Option<Vec<Rule>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ArchMap {
    architecture: String,
    sub_architectures: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Rule {
    name: Option<String>,
    names: Option<Vec<String>>,
    action: String,
    errno_ret: Option<u32>,
    args: Option<Vec<Arg>>,
    includes: Option<Filter>,
    excludes: Option<Filter>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Arg {
    index: u32,
    value: u64,
    value_two: u64,
    op: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Filter {
    caps: Option<Vec<String>>,
    arches: Option<Vec<String>>,
    min_kernel: Option<String>,
}

/// The seccomp filter of a container: none when privileged or unconfined,
/// else the chosen profile resolved for its capabilities and this host.
pub(crate) fn for_container(
    choice: &SeccompChoice,
    privileged: bool,
    caps: &[String],
    host: &Host,
) -> Result<Option<Seccomp>, SpecError> {
    match choice {
        _ if privileged => Ok(None),
        SeccompChoice::Unconfined => Ok(None),
        SeccompChoice::Default => resolve(default_profile()?, caps, host),
        SeccompChoice::Custom(json) => resolve(&parse(json)?, caps, host),
    }
}

/// Docker's default profile, parsed once.
fn default_profile() -> Result<&'static Profile, SpecError> {
    static PROFILE: OnceLock<Result<Profile, SpecError>> = OnceLock::new();
    PROFILE
        .get_or_init(|| parse(DEFAULT_PROFILE))
        .as_ref()
        .map_err(Clone::clone)
}

fn parse(json: &str) -> Result<Profile, SpecError> {
    let profile: Profile = serde_json::from_str(json)
        .map_err(|e| SpecError(format!("Decoding seccomp profile failed: {e}")))?;
    for rule in profile.syscalls.iter().flatten() {
        for filter in [&rule.includes, &rule.excludes].into_iter().flatten() {
            if let Some(v) = &filter.min_kernel {
                kernel_version(v)?;
            }
        }
    }
    Ok(profile)
}

/// `"4.8"` → `Some((4, 8))`; `""` → `None`.
fn kernel_version(v: &str) -> Result<Option<(u32, u32)>, SpecError> {
    if v.is_empty() {
        return Ok(None);
    }
    let invalid = || {
        SpecError(format!(
            "Decoding seccomp profile failed: invalid kernel version: {v:?}, expected \"<kernel>.<major>\""
        ))
    };
    let (kernel, major) = v.split_once('.').ok_or_else(invalid)?;
    let kernel: u8 = kernel.parse().map_err(|_| invalid())?;
    let major: u8 = major.parse().map_err(|_| invalid())?;
    if kernel == 0 && major == 0 {
        return Err(invalid());
    }
    Ok(Some((kernel.into(), major.into())))
}

fn resolve(profile: &Profile, caps: &[String], host: &Host) -> Result<Option<Seccomp>, SpecError> {
    let rules = profile.syscalls.as_deref().unwrap_or(&[]);
    if profile.default_action.is_empty() && rules.is_empty() {
        return Ok(None);
    }
    let arch_map = profile.arch_map.as_deref().unwrap_or(&[]);
    let mut architectures = profile.architectures.clone().unwrap_or_default();
    if !architectures.is_empty() && !arch_map.is_empty() {
        return Err(SpecError::new(
            "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'",
        ));
    }
    for m in arch_map
        .iter()
        .filter(|m| m.architecture == host.seccomp_arch)
    {
        architectures.push(m.architecture.clone());
        architectures.extend(m.sub_architectures.iter().flatten().cloned());
    }
    let mut syscalls = Vec::new();
    for rule in rules {
        let names = match (&rule.name, &rule.names) {
            (Some(_), Some(names)) if !names.is_empty() => {
                return Err(SpecError::new(
                    "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'",
                ))
            }
            (Some(name), _) => vec![name.clone()],
            (None, names) => names.clone().unwrap_or_default(),
        };
        if !applies(rule, caps, host)? {
            continue;
        }
        syscalls.push(Syscall {
            names,
            action: rule.action.clone(),
            errno_ret: rule.errno_ret,
            args: rule
                .args
                .iter()
                .flatten()
                .map(|a| SyscallArg {
                    index: a.index,
                    value: a.value,
                    value_two: a.value_two,
                    op: a.op.clone(),
                })
                .collect(),
        });
    }
    Ok(Some(Seccomp {
        default_action: profile.default_action.clone(),
        default_errno_ret: profile.default_errno_ret,
        architectures,
        syscalls,
    }))
}

/// Whether a rule's `excludes` spare it and its `includes` all hold.
fn applies(rule: &Rule, caps: &[String], host: &Host) -> Result<bool, SpecError> {
    let has_cap = |c: &String| caps.contains(c);
    let kernel_at_least = |v: &Option<String>| -> Result<Option<bool>, SpecError> {
        Ok(kernel_version(v.as_deref().unwrap_or(""))?.map(|min| host.kernel >= min))
    };
    if let Some(ex) = &rule.excludes {
        let arches = ex.arches.as_deref().unwrap_or(&[]);
        if arches.iter().any(|a| a == host.go_arch)
            || ex.caps.iter().flatten().any(has_cap)
            || kernel_at_least(&ex.min_kernel)? == Some(true)
        {
            return Ok(false);
        }
    }
    if let Some(inc) = &rule.includes {
        let arches = inc.arches.as_deref().unwrap_or(&[]);
        if (!arches.is_empty() && !arches.iter().any(|a| a == host.go_arch))
            || !inc.caps.iter().flatten().all(has_cap)
            || kernel_at_least(&inc.min_kernel)? == Some(false)
        {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::caps::DEFAULT;

    fn default_caps() -> Vec<String> {
        DEFAULT.iter().map(|s| s.to_string()).collect()
    }

    fn default_for(caps: &[String], host: &Host) -> Seccomp {
        for_container(&SeccompChoice::Default, false, caps, host)
            .unwrap()
            .unwrap()
    }

    fn allows(s: &Seccomp, name: &str) -> bool {
        s.syscalls.iter().any(|r| {
            r.action == "SCMP_ACT_ALLOW" && r.args.is_empty() && r.names.iter().any(|n| n == name)
        })
    }

    #[test]
    fn default_profile_for_default_caps() {
        let s = default_for(&default_caps(), &Host::for_tests());
        assert_eq!(s.default_action, "SCMP_ACT_ERRNO");
        assert_eq!(s.default_errno_ret, Some(1));
        assert_eq!(
            s.architectures,
            ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
        );
        assert!(allows(&s, "read") && allows(&s, "ptrace") && allows(&s, "arch_prctl"));
        assert!(allows(&s, "chroot"), "CAP_SYS_CHROOT is a default cap");
        // CAP_SYS_ADMIN-gated rules are absent, the clone/clone3 fallbacks present.
        assert!(!allows(&s, "mount") && !allows(&s, "unshare") && !allows(&s, "setns"));
        assert!(s
            .syscalls
            .iter()
            .any(|r| r.names == ["clone"] && r.args.len() == 1 && r.args[0].index == 0));
        assert!(s
            .syscalls
            .iter()
            .any(|r| r.names == ["clone3"] && r.errno_ret == Some(38)));
        // s390 and ppc64le rules are filtered out on amd64.
        assert!(!s
            .syscalls
            .iter()
            .any(|r| r.names.iter().any(|n| n.starts_with("s390"))));
        assert!(!allows(&s, "swapcontext"));
        // personality is allowed only for specific arguments.
        let personality: Vec<u64> = s
            .syscalls
            .iter()
            .filter(|r| r.names == ["personality"])
            .map(|r| r.args[0].value)
            .collect();
        assert_eq!(personality, [0, 8, 131072, 131080, 4294967295]);
        assert!(s
            .syscalls
            .iter()
            .filter(|r| r.names == ["personality"])
            .all(|r| r.args[0].op == "SCMP_CMP_EQ"));
    }

    #[test]
    fn sys_admin_unlocks_its_rules_and_drops_fallbacks() {
        let mut caps = default_caps();
        caps.push("CAP_SYS_ADMIN".into());
        let s = default_for(&caps, &Host::for_tests());
        assert!(allows(&s, "mount") && allows(&s, "unshare") && allows(&s, "clone3"));
        assert!(!s
            .syscalls
            .iter()
            .any(|r| r.names == ["clone"] && !r.args.is_empty()));
        assert!(!s.syscalls.iter().any(|r| r.errno_ret == Some(38)));
    }

    #[test]
    fn dropped_cap_removes_its_rule() {
        let caps: Vec<String> = default_caps()
            .into_iter()
            .filter(|c| c != "CAP_SYS_CHROOT")
            .collect();
        assert!(!allows(&default_for(&caps, &Host::for_tests()), "chroot"));
    }

    #[test]
    fn min_kernel_gates_rules() {
        let mut host = Host::for_tests();
        host.kernel = (4, 4);
        assert!(!allows(&default_for(&default_caps(), &host), "ptrace"));
        host.kernel = (4, 8);
        assert!(allows(&default_for(&default_caps(), &host), "ptrace"));
    }

    #[test]
    fn other_native_arch() {
        let mut host = Host::for_tests();
        host.seccomp_arch = "SCMP_ARCH_AARCH64";
        host.go_arch = "arm64";
        let s = default_for(&default_caps(), &host);
        assert_eq!(s.architectures, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
        assert!(allows(&s, "arm_fadvise64_64") && !allows(&s, "arch_prctl"));
    }

    #[test]
    fn privileged_and_unconfined_have_none() {
        let host = Host::for_tests();
        assert!(for_container(&SeccompChoice::Default, true, &[], &host)
            .unwrap()
            .is_none());
        assert!(for_container(&SeccompChoice::Unconfined, false, &[], &host)
            .unwrap()
            .is_none());
    }

    fn custom(json: &str) -> Result<Option<Seccomp>, SpecError> {
        for_container(
            &SeccompChoice::Custom(json.into()),
            false,
            &default_caps(),
            &Host::for_tests(),
        )
    }

    #[test]
    fn custom_profiles() {
        let s = custom(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
                "syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","errnoRet":13},
                            {"names":["bpf"],"action":"SCMP_ACT_ERRNO","excludes":{"minKernel":"4.0"}},
                            {"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":9,"valueTwo":0,"op":"SCMP_CMP_EQ"}]}]}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.architectures, ["SCMP_ARCH_X86_64"]);
        assert_eq!(s.syscalls.len(), 2);
        assert_eq!(s.syscalls[0].names, ["mkdir"]);
        assert_eq!(s.syscalls[0].errno_ret, Some(13));
        assert_eq!(s.syscalls[1].args[0].value, 9);
        assert!(custom("{}").unwrap().is_none());
    }

    #[test]
    fn custom_profile_errors() {
        assert!(custom("notjson")
            .unwrap_err()
            .0
            .starts_with("Decoding seccomp profile failed: "));
        assert_eq!(
            custom(r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#)
                .unwrap_err()
                .0,
            "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'"
        );
        assert_eq!(
            custom(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"x","names":["y"],"action":"SCMP_ACT_ERRNO"}]}"#)
                .unwrap_err()
                .0,
            "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'"
        );
        assert_eq!(
            custom(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"abc"}}]}"#)
                .unwrap_err()
                .0,
            r#"Decoding seccomp profile failed: invalid kernel version: "abc", expected "<kernel>.<major>""#
        );
    }
}
