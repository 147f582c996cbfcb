//! The container's mounts in Docker's order: the default filesystems
//! (`/proc`, `/dev`, `/dev/pts`, `/sys`, `/sys/fs/cgroup`, `/dev/mqueue`,
//! `/dev/shm`) minus those a user mount replaces, the init binary, then the
//! user mounts (the resolved volumes, binds and tmpfs mounts,
//! `/etc/resolv.conf`, `/etc/hostname`, `/etc/hosts`, `--tmpfs`) sorted
//! parents first.

use std::collections::HashSet;

use berth_runtime::spec::Mount;

use super::init::IN_CONTAINER_PATH;
use super::namespaces::Plan;
use super::paths::DEFAULT_SHM_SIZE;
use super::tmpfs;
use super::SpecError;
use crate::model::HostConfig;
use crate::volumes::{MountKind, MountPoint};

/// Host files the daemon writes for the container.
pub(crate) struct NetworkFiles {
    pub resolv_conf: String,
    pub hostname: String,
    pub hosts: String,
}

/// Default mounts that stay writable on a read-only root filesystem.
const WRITABLE_ON_RO_ROOT: &[&str] = &["/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev"];

fn mount(destination: &str, kind: &str, source: &str, options: &[&str]) -> Mount {
    Mount {
        destination: destination.to_string(),
        kind: kind.to_string(),
        source: source.to_string(),
        options: options.iter().map(|o| o.to_string()).collect(),
    }
}

/// Docker's default mounts, `/dev/shm` of `shm_size` bytes.
fn defaults(shm_size: i64) -> Vec<Mount> {
    let mut shm = mount(
        "/dev/shm",
        "tmpfs",
        "shm",
        &["nosuid", "noexec", "nodev", "mode=1777"],
    );
    shm.options.push(format!("size={shm_size}"));
    vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["ro", "nosuid", "noexec", "nodev"],
        ),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        shm,
    ]
}

/// The spec mount of a resolved mount: a recursive bind (read-only when
/// not `RW`, with its propagation if any) or a tmpfs.
fn spec_mount(mp: &MountPoint) -> Result<Mount, SpecError> {
    if mp.kind == MountKind::Tmpfs {
        return tmpfs::mount(&mp.destination, &mp.tmpfs_options);
    }
    let mut options = vec![if mp.non_recursive { "bind" } else { "rbind" }];
    if !mp.rw {
        options.push("ro");
    }
    if !mp.propagation.is_empty() {
        options.push(&mp.propagation);
    }
    Ok(mount(&mp.destination, "bind", &mp.source, &options))
}

/// Every mount of the container.
pub(crate) fn build(
    hc: &HostConfig,
    points: &[MountPoint],
    ns: &Plan,
    files: &NetworkFiles,
    init_path: Option<String>,
) -> Result<Vec<Mount>, SpecError> {
    if hc.shm_size < 0 {
        return Err(SpecError::new("SHM size can not be less than 0"));
    }
    let shm_size = if hc.shm_size == 0 {
        DEFAULT_SHM_SIZE
    } else {
        hc.shm_size
    };

    let user = user_mounts(hc, points, files)?;
    let user_dests: HashSet<&str> = user.iter().map(|m| m.destination.as_str()).collect();
    let dev_replaced = user_dests.contains("/dev");
    let mut mounts: Vec<Mount> = defaults(shm_size)
        .into_iter()
        .filter(|m| !user_dests.contains(m.destination.as_str()))
        .filter(|m| !(dev_replaced && m.destination.starts_with("/dev/")))
        .filter(|m| !(ns.ipc_none && m.destination == "/dev/shm"))
        .collect();
    if let Some(source) = init_path {
        mounts.push(mount(IN_CONTAINER_PATH, "bind", &source, &["bind", "ro"]));
    }
    if hc.readonly_rootfs {
        for m in mounts.iter_mut() {
            if !WRITABLE_ON_RO_ROOT.contains(&m.destination.as_str())
                && !m.options.iter().any(|o| o == "ro")
            {
                m.options.push("ro".to_string());
            }
        }
    }
    if hc.privileged {
        for m in mounts
            .iter_mut()
            .filter(|m| m.destination == "/sys" || m.kind == "cgroup")
        {
            m.options.retain(|o| o != "ro");
        }
    }
    mounts.extend(user);
    Ok(mounts)
}

/// Resolved mounts, the network files they do not replace, and tmpfs
/// mounts, stably sorted by depth so that parents come before their children.
fn user_mounts(
    hc: &HostConfig,
    points: &[MountPoint],
    files: &NetworkFiles,
) -> Result<Vec<Mount>, SpecError> {
    let mut seen = HashSet::new();
    let mut unique = |m: Mount| {
        if seen.insert(m.destination.clone()) {
            Ok(m)
        } else {
            Err(SpecError(format!(
                "Duplicate mount point: {}",
                m.destination
            )))
        }
    };
    let binds = points
        .iter()
        .map(|mp| spec_mount(mp).and_then(&mut unique))
        .collect::<Result<Vec<_>, _>>()?;
    let tmpfs = hc
        .tmpfs
        .iter()
        .flatten()
        .map(|(dest, data)| tmpfs::mount(dest, data).and_then(&mut unique))
        .collect::<Result<Vec<_>, _>>()?;
    let taken = |dest: &str| binds.iter().chain(&tmpfs).any(|m| m.destination == dest);
    let mut options = vec!["rbind"];
    if hc.readonly_rootfs {
        options.push("ro");
    }
    options.push("rprivate");
    let network: Vec<Mount> = [
        ("/etc/resolv.conf", &files.resolv_conf),
        ("/etc/hostname", &files.hostname),
        ("/etc/hosts", &files.hosts),
    ]
    .into_iter()
    .filter(|(dest, _)| !taken(dest))
    .map(|(dest, source)| mount(dest, "bind", source, &options))
    .collect();

    let mut all: Vec<Mount> = binds.into_iter().chain(network).chain(tmpfs).collect();
    all.sort_by_key(|m| m.destination.split('/').filter(|p| !p.is_empty()).count());
    Ok(all)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn files() -> NetworkFiles {
        NetworkFiles {
            resolv_conf: "/c/resolv.conf".into(),
            hostname: "/c/hostname".into(),
            hosts: "/c/hosts".into(),
        }
    }

    /// Mount points of the test's binds, as resolution records them.
    fn points(hc: &HostConfig) -> Vec<MountPoint> {
        hc.binds
            .iter()
            .flatten()
            .map(|b| super::super::parse_bind(b, "").unwrap().point)
            .collect()
    }

    fn run(hc: &HostConfig) -> Result<Vec<Mount>, SpecError> {
        build(hc, &points(hc), &Plan::new(hc).unwrap(), &files(), None)
    }

    fn dests(mounts: &[Mount]) -> Vec<&str> {
        mounts.iter().map(|m| m.destination.as_str()).collect()
    }

    fn find<'a>(mounts: &'a [Mount], dest: &str) -> &'a Mount {
        mounts.iter().find(|m| m.destination == dest).unwrap()
    }

    #[test]
    fn default_order_and_options() {
        let m = run(&HostConfig::default()).unwrap();
        assert_eq!(
            dests(&m),
            [
                "/proc",
                "/dev",
                "/dev/pts",
                "/sys",
                "/sys/fs/cgroup",
                "/dev/mqueue",
                "/dev/shm",
                "/etc/resolv.conf",
                "/etc/hostname",
                "/etc/hosts"
            ]
        );
        assert_eq!(
            find(&m, "/dev/shm").options,
            ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]
        );
        assert_eq!(find(&m, "/sys/fs/cgroup").kind, "cgroup");
        let hosts = find(&m, "/etc/hosts");
        assert_eq!(
            (hosts.kind.as_str(), hosts.source.as_str()),
            ("bind", "/c/hosts")
        );
        assert_eq!(hosts.options, ["rbind", "rprivate"]);
    }

    /// The order Docker 20.10 wrote for `-v /tmp:/hosttmp:ro --tmpfs /run:size=1m,exec --read-only`.
    #[test]
    fn user_mounts_sorted_and_readonly_root() {
        let hc = HostConfig {
            binds: Some(vec!["/tmp:/hosttmp:ro".into(), "/srv:/hosttmp/sub".into()]),
            tmpfs: Some(BTreeMap::from([(
                "/run".to_string(),
                "size=1m,exec".to_string(),
            )])),
            readonly_rootfs: true,
            shm_size: 1024,
            ..HostConfig::default()
        };
        let m = run(&hc).unwrap();
        assert_eq!(
            dests(&m)[7..],
            [
                "/hosttmp",
                "/run",
                "/hosttmp/sub",
                "/etc/resolv.conf",
                "/etc/hostname",
                "/etc/hosts"
            ]
        );
        assert_eq!(
            find(&m, "/etc/resolv.conf").options,
            ["rbind", "ro", "rprivate"]
        );
        assert_eq!(find(&m, "/hosttmp/sub").options, ["rbind", "rprivate"]);
        assert_eq!(
            find(&m, "/run").options,
            ["nosuid", "nodev", "rprivate", "size=1m", "exec"]
        );
        assert_eq!(find(&m, "/proc").options, ["nosuid", "noexec", "nodev"]);
        assert!(find(&m, "/dev/shm")
            .options
            .contains(&"size=1024".to_string()));
    }

    #[test]
    fn user_mounts_replace_defaults_and_network_files() {
        let hc = HostConfig {
            binds: Some(vec!["/my/resolv.conf:/etc/resolv.conf:ro".into()]),
            tmpfs: Some(BTreeMap::from([("/dev/shm".to_string(), String::new())])),
            ..HostConfig::default()
        };
        let m = run(&hc).unwrap();
        assert_eq!(m.iter().filter(|m| m.destination == "/dev/shm").count(), 1);
        assert_eq!(find(&m, "/dev/shm").source, "tmpfs");
        assert_eq!(find(&m, "/etc/resolv.conf").source, "/my/resolv.conf");

        let hc = HostConfig {
            binds: Some(vec!["/hostdev:/dev".into()]),
            ..HostConfig::default()
        };
        let m = run(&hc).unwrap();
        assert!(!m.iter().any(|m| m.destination.starts_with("/dev/")));
        assert_eq!(find(&m, "/dev").source, "/hostdev");
    }

    #[test]
    fn ipc_none_has_no_shm() {
        let hc = HostConfig {
            ipc_mode: "none".into(),
            ..HostConfig::default()
        };
        assert!(!dests(&run(&hc).unwrap()).contains(&"/dev/shm"));
    }

    #[test]
    fn privileged_sys_and_cgroup_writable() {
        let hc = HostConfig {
            privileged: true,
            ..HostConfig::default()
        };
        let m = run(&hc).unwrap();
        assert_eq!(find(&m, "/sys").options, ["nosuid", "noexec", "nodev"]);
        assert_eq!(
            find(&m, "/sys/fs/cgroup").options,
            ["nosuid", "noexec", "nodev"]
        );
    }

    #[test]
    fn init_binary_after_defaults() {
        let hc = HostConfig::default();
        let m = build(
            &hc,
            &[],
            &Plan::new(&hc).unwrap(),
            &files(),
            Some("/usr/bin/tini-static".into()),
        )
        .unwrap();
        assert_eq!(m[7].destination, "/sbin/docker-init");
        assert_eq!(m[7].source, "/usr/bin/tini-static");
        assert_eq!(m[7].options, ["bind", "ro"]);
    }

    #[test]
    fn errors() {
        let hc = HostConfig {
            binds: Some(vec!["/tmp:/x".into()]),
            tmpfs: Some(BTreeMap::from([("/x/".to_string(), String::new())])),
            ..HostConfig::default()
        };
        assert_eq!(run(&hc).unwrap_err().0, "Duplicate mount point: /x");
        let hc = HostConfig {
            binds: Some(vec!["/a:/x".into(), "/b:/x:ro".into()]),
            ..HostConfig::default()
        };
        assert_eq!(run(&hc).unwrap_err().0, "Duplicate mount point: /x");
        let hc = HostConfig {
            shm_size: -1,
            ..HostConfig::default()
        };
        assert_eq!(run(&hc).unwrap_err().0, "SHM size can not be less than 0");
    }

    /// As Docker 20.10 writes `-v vol:/data:ro --mount type=tmpfs,dst=/t,tmpfs-size=1m`.
    #[test]
    fn volumes_and_tmpfs_mount_points() {
        let hc = HostConfig::default();
        let mut vol = super::super::parse_bind("vol:/data:ro", "").unwrap().point;
        vol.source = "/var/lib/berth/volumes/vol/_data".into();
        let mut tmp = vol.clone();
        tmp.kind = MountKind::Tmpfs;
        tmp.destination = "/t".into();
        tmp.tmpfs_options = "size=1m".into();
        let m = build(&hc, &[vol, tmp], &Plan::new(&hc).unwrap(), &files(), None).unwrap();
        let data = find(&m, "/data");
        assert_eq!(data.kind, "bind");
        assert_eq!(data.source, "/var/lib/berth/volumes/vol/_data");
        assert_eq!(data.options, ["rbind", "ro"]);
        let t = find(&m, "/t");
        assert_eq!((t.kind.as_str(), t.source.as_str()), ("tmpfs", "tmpfs"));
        assert_eq!(
            t.options,
            ["noexec", "nosuid", "nodev", "rprivate", "size=1m"]
        );
    }
}
