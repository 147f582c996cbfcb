//! From the spec's namespace list to what the clone does: which namespaces
//! the clone creates, which the init joins with `setns`, and whether the
//! cgroup namespace is unshared after the init was moved into its cgroup.

use std::path::PathBuf;

use crate::spec::Namespace;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("unknown namespace type {0:?}")]
    Unknown(String),
    #[error("namespace type {0:?} is not supported")]
    Unsupported(String),
    #[error("namespace type {0:?} listed twice")]
    Duplicate(String),
    #[error("a new mount namespace is required")]
    NoMountNamespace,
}

/// What to do with namespaces, derived from the spec alone.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// `CLONE_NEW*` flags for the clone itself.
    pub clone_flags: u64,
    /// Unshare a new cgroup namespace once the init is in its cgroup, so
    /// that the namespace's root is the container's cgroup.
    pub unshare_cgroup: bool,
    /// Namespaces the init joins (`setns`) before anything else: (flag, path).
    pub join: Vec<(i32, PathBuf)>,
    /// A PID namespace to join: the parent enters it around the clone.
    pub join_pid: Option<PathBuf>,
    /// A new network namespace is created (its loopback must be brought up).
    pub new_net: bool,
    /// A new UTS namespace is created (the hostname may be set).
    pub new_uts: bool,
}

fn flag_of(kind: &str) -> Result<i32, PlanError> {
    Ok(match kind {
        "pid" => libc::CLONE_NEWPID,
        "network" => libc::CLONE_NEWNET,
        "mount" => libc::CLONE_NEWNS,
        "ipc" => libc::CLONE_NEWIPC,
        "uts" => libc::CLONE_NEWUTS,
        "cgroup" => libc::CLONE_NEWCGROUP,
        "user" | "time" => return Err(PlanError::Unsupported(kind.to_string())),
        other => return Err(PlanError::Unknown(other.to_string())),
    })
}

pub fn plan(namespaces: &[Namespace]) -> Result<Plan, PlanError> {
    let mut plan = Plan::default();
    let mut seen = 0i32;
    let mut new_mount = false;
    for ns in namespaces {
        let flag = flag_of(&ns.kind)?;
        if seen & flag != 0 {
            return Err(PlanError::Duplicate(ns.kind.clone()));
        }
        seen |= flag;
        match (&ns.path, flag) {
            (Some(path), libc::CLONE_NEWPID) => plan.join_pid = Some(PathBuf::from(path)),
            (Some(_), libc::CLONE_NEWNS) => return Err(PlanError::NoMountNamespace),
            (Some(path), _) => plan.join.push((flag, PathBuf::from(path))),
            (None, libc::CLONE_NEWCGROUP) => plan.unshare_cgroup = true,
            (None, _) => {
                plan.clone_flags |= flag as u64;
                plan.new_net |= flag == libc::CLONE_NEWNET;
                plan.new_uts |= flag == libc::CLONE_NEWUTS;
                new_mount |= flag == libc::CLONE_NEWNS;
            }
        }
    }
    if !new_mount {
        return Err(PlanError::NoMountNamespace);
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(kind: &str, path: Option<&str>) -> Namespace {
        Namespace {
            kind: kind.into(),
            path: path.map(Into::into),
        }
    }

    #[test]
    fn docker_default_set() {
        let p = plan(&[
            ns("pid", None),
            ns("network", None),
            ns("ipc", None),
            ns("uts", None),
            ns("mount", None),
            ns("cgroup", None),
        ])
        .unwrap();
        let want = (libc::CLONE_NEWPID
            | libc::CLONE_NEWNET
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWNS) as u64;
        assert_eq!(p.clone_flags, want);
        assert!(p.unshare_cgroup && p.new_net && p.new_uts);
        assert!(p.join.is_empty() && p.join_pid.is_none());
    }

    #[test]
    fn host_network_and_joined_namespaces() {
        let p = plan(&[
            ns("mount", None),
            ns("ipc", Some("/proc/9/ns/ipc")),
            ns("pid", Some("/proc/9/ns/pid")),
        ])
        .unwrap();
        assert_eq!(p.clone_flags, libc::CLONE_NEWNS as u64);
        assert!(!p.new_net && !p.unshare_cgroup);
        assert_eq!(
            p.join,
            vec![(libc::CLONE_NEWIPC, PathBuf::from("/proc/9/ns/ipc"))]
        );
        assert_eq!(p.join_pid, Some(PathBuf::from("/proc/9/ns/pid")));
    }

    #[test]
    fn rejects_bad_lists() {
        assert_eq!(plan(&[ns("pid", None)]), Err(PlanError::NoMountNamespace));
        assert_eq!(
            plan(&[ns("mount", None), ns("user", None)]),
            Err(PlanError::Unsupported("user".into()))
        );
        assert_eq!(
            plan(&[ns("mount", None), ns("mount", None)]),
            Err(PlanError::Duplicate("mount".into()))
        );
        assert_eq!(
            plan(&[ns("bogus", None)]),
            Err(PlanError::Unknown("bogus".into()))
        );
    }
}
