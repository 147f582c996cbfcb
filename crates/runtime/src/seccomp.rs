//! The spec's seccomp profile as a libseccomp filter: default action,
//! architectures, and per-syscall rules with argument comparisons. Names
//! libseccomp does not know are skipped, as runc does.

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};

use crate::spec::{Seccomp, SyscallArg};

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("unknown seccomp action {0:?}")]
    Action(String),
    #[error("unknown seccomp architecture {0:?}")]
    Arch(String),
    #[error("unknown seccomp operator {0:?}")]
    Operator(String),
    #[error("export filter: {0}")]
    Export(#[source] std::io::Error),
    #[error("libseccomp exported a malformed program ({0} bytes)")]
    BadProgram(usize),
    #[error("{step}: {source}")]
    Libseccomp {
        step: String,
        #[source]
        source: libseccomp::error::SeccompError,
    },
}

fn lib(step: impl Into<String>) -> impl FnOnce(libseccomp::error::SeccompError) -> SeccompError {
    let step = step.into();
    move |source| SeccompError::Libseccomp { step, source }
}

/// `SCMP_ACT_ERRNO` without an explicit errno returns EPERM, like runc.
fn action(name: &str, errno: Option<u32>) -> Result<ScmpAction, SeccompError> {
    let errno = errno.and_then(|e| i32::try_from(e).ok());
    Ok(match name {
        "SCMP_ACT_ALLOW" => ScmpAction::Allow,
        "SCMP_ACT_ERRNO" => ScmpAction::Errno(errno.unwrap_or(libc::EPERM)),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => ScmpAction::KillThread,
        "SCMP_ACT_KILL_PROCESS" => ScmpAction::KillProcess,
        "SCMP_ACT_TRAP" => ScmpAction::Trap,
        "SCMP_ACT_TRACE" => ScmpAction::Trace(
            errno
                .and_then(|e| u16::try_from(e).ok())
                .unwrap_or(libc::EPERM as u16),
        ),
        "SCMP_ACT_LOG" => ScmpAction::Log,
        other => return Err(SeccompError::Action(other.to_string())),
    })
}

fn compare(arg: &SyscallArg) -> Result<ScmpArgCompare, SeccompError> {
    let (op, datum) = match arg.op.as_str() {
        "SCMP_CMP_NE" => (ScmpCompareOp::NotEqual, arg.value),
        "SCMP_CMP_LT" => (ScmpCompareOp::Less, arg.value),
        "SCMP_CMP_LE" => (ScmpCompareOp::LessOrEqual, arg.value),
        "SCMP_CMP_EQ" => (ScmpCompareOp::Equal, arg.value),
        "SCMP_CMP_GE" => (ScmpCompareOp::GreaterEqual, arg.value),
        "SCMP_CMP_GT" => (ScmpCompareOp::Greater, arg.value),
        // The spec's value is the mask, valueTwo the value to compare with.
        "SCMP_CMP_MASKED_EQ" => (ScmpCompareOp::MaskedEqual(arg.value), arg.value_two),
        other => return Err(SeccompError::Operator(other.to_string())),
    };
    Ok(ScmpArgCompare::new(arg.index, op, datum))
}

/// The rules for one syscall: all comparisons in one rule when every index
/// is distinct; otherwise libseccomp cannot AND them, and each becomes its
/// own rule (OR), as runc does.
fn rule_sets(args: &[SyscallArg]) -> Result<Vec<Vec<ScmpArgCompare>>, SeccompError> {
    let cmps = args.iter().map(compare).collect::<Result<Vec<_>, _>>()?;
    let distinct = args
        .iter()
        .enumerate()
        .all(|(i, a)| args[..i].iter().all(|b| b.index != a.index));
    Ok(if distinct {
        vec![cmps]
    } else {
        cmps.into_iter().map(|c| vec![c]).collect()
    })
}

/// Builds the filter; `load` it as the last step before `execve`. The
/// filter does not set no_new_privs itself: that follows the spec.
pub fn build(profile: &Seccomp) -> Result<ScmpFilterContext, SeccompError> {
    let default = action(&profile.default_action, profile.default_errno_ret)?;
    let mut ctx = ScmpFilterContext::new(default).map_err(lib("create filter"))?;
    ctx.set_ctl_nnp(false).map_err(lib("clear nnp attribute"))?;
    for name in &profile.architectures {
        let arch: ScmpArch = name.parse().map_err(|_| SeccompError::Arch(name.clone()))?;
        if !ctx.is_arch_present(arch).unwrap_or(false) {
            ctx.add_arch(arch)
                .map_err(lib(format!("add architecture {name}")))?;
        }
    }
    for sc in &profile.syscalls {
        let act = action(&sc.action, sc.errno_ret)?;
        if act == default {
            continue;
        }
        let sets = rule_sets(&sc.args)?;
        for name in &sc.names {
            let Ok(nr) = ScmpSyscall::from_name(name) else {
                continue;
            };
            for set in &sets {
                ctx.add_rule_conditional(act, nr, set)
                    .map_err(lib(format!("add rule for {name}")))?;
            }
        }
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Syscall;

    fn arg(index: u32, value: u64, value_two: u64, op: &str) -> SyscallArg {
        SyscallArg {
            index,
            value,
            value_two,
            op: op.into(),
        }
    }

    #[test]
    fn actions_and_default_errno() {
        assert_eq!(
            action("SCMP_ACT_ERRNO", None).unwrap(),
            ScmpAction::Errno(1)
        );
        assert_eq!(
            action("SCMP_ACT_ERRNO", Some(38)).unwrap(),
            ScmpAction::Errno(38)
        );
        assert!(action("SCMP_ACT_NOPE", None).is_err());
    }

    #[test]
    fn same_index_args_become_separate_rules() {
        let same = [arg(0, 0, 0, "SCMP_CMP_EQ"), arg(0, 8, 0, "SCMP_CMP_EQ")];
        assert_eq!(rule_sets(&same).unwrap().len(), 2);
        let distinct = [
            arg(0, 0x7e020000, 0, "SCMP_CMP_MASKED_EQ"),
            arg(1, 1, 0, "SCMP_CMP_NE"),
        ];
        let sets = rule_sets(&distinct).unwrap();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].len(), 2);
        assert!(rule_sets(&[arg(0, 0, 0, "SCMP_CMP_BOGUS")]).is_err());
    }

    #[test]
    fn builds_docker_like_profile_and_skips_unknown_names() {
        let profile = Seccomp {
            default_action: "SCMP_ACT_ERRNO".into(),
            default_errno_ret: Some(1),
            architectures: vec!["SCMP_ARCH_X86_64".into(), "SCMP_ARCH_X86".into()],
            syscalls: vec![
                Syscall {
                    names: vec!["read".into(), "no_such_syscall_xyz".into()],
                    action: "SCMP_ACT_ALLOW".into(),
                    errno_ret: None,
                    args: vec![],
                },
                Syscall {
                    names: vec!["clone".into()],
                    action: "SCMP_ACT_ALLOW".into(),
                    errno_ret: None,
                    args: vec![arg(0, 2114060288, 0, "SCMP_CMP_MASKED_EQ")],
                },
                Syscall {
                    names: vec!["ptrace".into()],
                    action: "SCMP_ACT_ERRNO".into(),
                    errno_ret: Some(1),
                    args: vec![],
                },
            ],
        };
        let ctx = build(&profile).unwrap();
        assert!(!ctx.get_ctl_nnp().unwrap());
    }
}
