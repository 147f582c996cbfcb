//! End-to-end checks of `build_spec_on`: one container config in, the whole
//! spec out, on the fixed test host.

use std::path::Path;

use berth_runtime::spec::{Spec, ANNOTATION_USER};

use super::*;
use crate::model::Ulimit;

const ID: &str = "e02bc8d052d826d753c414f3c757b2f1fc75a49a466d6e52ac45f4c6aaaec9ef";

fn busybox() -> ImageConfig {
    ImageConfig {
        env: Some(vec![format!("PATH={}", env::DEFAULT_PATH)]),
        cmd: Some(vec!["sh".into()]),
        ..ImageConfig::default()
    }
}

fn spec_for(config: &Config, hc: &HostConfig) -> Result<Spec, SpecError> {
    spec_on(config, hc, &Host::for_tests())
}

fn spec_on(config: &Config, hc: &HostConfig, host: &Host) -> Result<Spec, SpecError> {
    let image = busybox();
    let input = SpecInput {
        id: ID,
        config,
        host_config: hc,
        image_config: &image,
        rootfs: Path::new("/var/lib/berth/containers/x/rootfs"),
        hostname_path: Path::new("/c/hostname"),
        hosts_path: Path::new("/c/hosts"),
        resolv_conf_path: Path::new("/c/resolv.conf"),
        mounts: &[],
        cgroups_path: format!("berth/{ID}"),
    };
    build_spec_on(&input, host)
}

fn cmd(args: &[&str]) -> Config {
    Config {
        cmd: Some(args.iter().map(|s| s.to_string()).collect()),
        ..Config::default()
    }
}

#[test]
fn plain_container() {
    let s = spec_for(&Config::default(), &HostConfig::default()).unwrap();
    assert_eq!(s.oci_version, "1.0.2");
    assert_eq!(s.process.args, ["sh"]);
    assert_eq!(s.process.cwd, "/");
    assert!(!s.process.terminal);
    assert_eq!(s.process.env[1], "HOSTNAME=e02bc8d052d8");
    assert_eq!(s.hostname, "e02bc8d052d8");
    assert_eq!((s.process.user.uid, s.process.user.gid), (0, 0));
    assert_eq!(s.process.oom_score_adj, Some(0));
    assert!(!s.process.no_new_privileges);
    assert!(s.process.rlimits.is_empty());
    let caps = s.process.capabilities.as_ref().unwrap();
    assert_eq!(caps.bounding, caps::DEFAULT);
    assert_eq!(caps.effective, caps.bounding);
    assert_eq!(caps.permitted, caps.bounding);
    assert!(caps.inheritable.is_empty() && caps.ambient.is_empty());
    assert_eq!(s.root.path, "/var/lib/berth/containers/x/rootfs");
    assert!(!s.root.readonly);
    assert_eq!(s.mounts.len(), 10);
    assert_eq!(s.linux.cgroups_path, format!("berth/{ID}"));
    assert_eq!(s.linux.namespaces.len(), 6);
    assert_eq!(s.linux.masked_paths.len(), 12);
    assert_eq!(s.linux.readonly_paths.len(), 5);
    assert_eq!(s.linux.devices.len(), 6);
    let res = s.linux.resources.as_ref().unwrap();
    assert_eq!(res.devices.len(), 13);
    assert!(res.memory.is_none() && res.cpu.is_none() && res.pids.is_none());
    assert!(s.linux.seccomp.is_some());
    assert!(s.annotations.is_empty());
    // The spec serialises to JSON the runtime can read back.
    let json = serde_json::to_string(&s).unwrap();
    let back: Spec = serde_json::from_str(&json).unwrap();
    assert_eq!(back.process.args, s.process.args);
}

#[test]
fn process_fields() {
    let config = Config {
        tty: true,
        working_dir: "/srv/".into(),
        user: "nobody".into(),
        hostname: "web".into(),
        env: Some(vec!["A=1".into()]),
        ..cmd(&["echo", "hi"])
    };
    let hc = HostConfig {
        oom_score_adj: -500,
        group_add: Some(vec!["10".into()]),
        ulimits: Some(vec![Ulimit {
            name: "nofile".into(),
            soft: 100,
            hard: 200,
        }]),
        security_opt: Some(vec!["no-new-privileges".into()]),
        ..HostConfig::default()
    };
    let s = spec_for(&config, &hc).unwrap();
    assert_eq!(s.process.args, ["echo", "hi"]);
    assert!(s.process.terminal);
    assert_eq!(s.process.cwd, "/srv");
    assert_eq!(s.hostname, "web");
    assert!(s.process.env.contains(&"TERM=xterm".to_string()));
    assert!(s.process.env.contains(&"A=1".to_string()));
    assert_eq!(s.annotations[ANNOTATION_USER], "nobody");
    assert_eq!(s.process.user.additional_gids, vec![10]);
    assert_eq!(s.process.oom_score_adj, Some(-500));
    assert_eq!(s.process.rlimits[0].kind, "RLIMIT_NOFILE");
    assert!(s.process.no_new_privileges);
}

#[test]
fn no_command() {
    let config = Config {
        entrypoint: Some(vec![String::new()]),
        ..Config::default()
    };
    assert_eq!(
        spec_for(&config, &HostConfig::default()).unwrap_err().0,
        "No command specified"
    );
}

#[test]
fn host_network() {
    let hc = HostConfig {
        network_mode: "host".into(),
        ..HostConfig::default()
    };
    let s = spec_for(&Config::default(), &hc).unwrap();
    assert!(!s.linux.namespaces.iter().any(|n| n.kind == "network"));
    assert!(s.linux.namespaces.iter().any(|n| n.kind == "uts"));
    assert_eq!(s.hostname, "testhost");
    assert!(s.process.env.contains(&"HOSTNAME=testhost".to_string()));
    assert!(!s.linux.sysctl.contains_key("net.ipv4.ping_group_range"));
}

#[test]
fn host_uts_has_no_hostname() {
    let hc = HostConfig {
        uts_mode: "host".into(),
        ..HostConfig::default()
    };
    let config = Config {
        hostname: "x".into(),
        ..Config::default()
    };
    let s = spec_for(&config, &hc).unwrap();
    assert_eq!(s.hostname, "");
    assert!(!s.linux.namespaces.iter().any(|n| n.kind == "uts"));
}

#[test]
fn privileged() {
    let hc = HostConfig {
        privileged: true,
        readonly_rootfs: true,
        ..HostConfig::default()
    };
    let s = spec_for(&Config::default(), &hc).unwrap();
    assert_eq!(s.process.capabilities.as_ref().unwrap().bounding.len(), 41);
    assert!(s.linux.seccomp.is_none());
    assert!(s.linux.masked_paths.is_empty() && s.linux.readonly_paths.is_empty());
    let rules = &s.linux.resources.as_ref().unwrap().devices;
    assert_eq!(rules.len(), 1);
    assert!(rules[0].allow);
    let sys = s.mounts.iter().find(|m| m.destination == "/sys").unwrap();
    assert!(!sys.options.contains(&"ro".to_string()));
    assert!(s.root.readonly);
}

#[test]
fn readonly_rootfs() {
    let hc = HostConfig {
        readonly_rootfs: true,
        ..HostConfig::default()
    };
    let s = spec_for(&Config::default(), &hc).unwrap();
    assert!(s.root.readonly);
    for dest in [
        "/etc/hosts",
        "/etc/hostname",
        "/etc/resolv.conf",
        "/sys",
        "/sys/fs/cgroup",
    ] {
        let m = s.mounts.iter().find(|m| m.destination == dest).unwrap();
        assert!(m.options.contains(&"ro".to_string()), "{dest}");
    }
    let shm = s
        .mounts
        .iter()
        .find(|m| m.destination == "/dev/shm")
        .unwrap();
    assert!(!shm.options.contains(&"ro".to_string()));
}

#[test]
fn cap_add_reaches_seccomp() {
    let hc = HostConfig {
        cap_add: Some(vec!["SYS_ADMIN".into()]),
        ..HostConfig::default()
    };
    let s = spec_for(&Config::default(), &hc).unwrap();
    let seccomp = s.linux.seccomp.unwrap();
    assert!(seccomp
        .syscalls
        .iter()
        .any(|r| r.names.iter().any(|n| n == "mount")));
    let s = spec_for(&Config::default(), &HostConfig::default()).unwrap();
    let seccomp = s.linux.seccomp.unwrap();
    assert!(!seccomp
        .syscalls
        .iter()
        .any(|r| r.names.iter().any(|n| n == "mount")));
}

#[test]
fn seccomp_unconfined() {
    let hc = HostConfig {
        security_opt: Some(vec!["seccomp=unconfined".into()]),
        ..HostConfig::default()
    };
    assert!(spec_for(&Config::default(), &hc)
        .unwrap()
        .linux
        .seccomp
        .is_none());
}

#[test]
fn init() {
    let hc = HostConfig {
        init: Some(true),
        ..HostConfig::default()
    };
    let s = spec_for(&cmd(&["sleep", "1"]), &hc).unwrap();
    assert_eq!(s.process.args, ["/sbin/docker-init", "--", "sleep", "1"]);
    let m = s
        .mounts
        .iter()
        .find(|m| m.destination == "/sbin/docker-init")
        .unwrap();
    assert_eq!(m.source, "/usr/bin/docker-init");

    // No init in the host's PID namespace.
    let host_pid = HostConfig {
        pid_mode: "host".into(),
        ..hc.clone()
    };
    assert_eq!(
        spec_for(&cmd(&["x"]), &host_pid).unwrap().process.args,
        ["x"]
    );

    let mut host = Host::for_tests();
    host.init_path = None;
    assert_eq!(
        spec_on(&cmd(&["x"]), &hc, &host).unwrap_err().0,
        "--init requires docker-init or tini-static on the host"
    );
}

#[test]
fn resources_and_sysctl() {
    let hc = HostConfig {
        memory: 10 * 1024 * 1024,
        nano_cpus: 1_500_000_000,
        pids_limit: Some(50),
        sysctls: Some([("net.ipv4.ip_forward".to_string(), "1".to_string())].into()),
        ..HostConfig::default()
    };
    let config = Config {
        domainname: "example.com".into(),
        ..Config::default()
    };
    let s = spec_for(&config, &hc).unwrap();
    let r = s.linux.resources.unwrap();
    assert_eq!(r.memory.unwrap().swap, Some(20 * 1024 * 1024));
    assert_eq!(r.cpu.unwrap().quota, Some(150_000));
    assert_eq!(r.pids.unwrap().limit, 50);
    assert_eq!(s.linux.sysctl["net.ipv4.ip_forward"], "1");
    assert_eq!(s.linux.sysctl["net.ipv6.conf.all.disable_ipv6"], "1");
    assert_eq!(s.linux.sysctl["net.ipv6.conf.default.disable_ipv6"], "1");
    assert_eq!(s.linux.sysctl["kernel.domainname"], "example.com");
}

#[test]
fn errors_surface() {
    let cases: Vec<(HostConfig, &str)> = vec![
        (
            HostConfig {
                pid_mode: "container:abc".into(),
                ..HostConfig::default()
            },
            "container: namespace modes are not supported yet",
        ),
        (
            HostConfig {
                security_opt: Some(vec!["foo".into()]),
                ..HostConfig::default()
            },
            r#"invalid --security-opt 1: "foo""#,
        ),
        (
            HostConfig {
                memory: 1000,
                ..HostConfig::default()
            },
            "Minimum memory limit allowed is 6MB",
        ),
        (
            HostConfig {
                cap_add: Some(vec!["foo".into()]),
                ..HostConfig::default()
            },
            r#"invalid CapAdd: unknown capability: "CAP_FOO""#,
        ),
    ];
    for (hc, want) in cases {
        assert_eq!(spec_for(&Config::default(), &hc).unwrap_err().0, want);
    }
}

#[test]
fn build_spec_on_this_host() {
    // The probing entry point works here and agrees on the basics.
    let image = busybox();
    let config = Config::default();
    let hc = HostConfig::default();
    let input = SpecInput {
        id: ID,
        config: &config,
        host_config: &hc,
        image_config: &image,
        rootfs: Path::new("/r"),
        hostname_path: Path::new("/h"),
        hosts_path: Path::new("/hs"),
        resolv_conf_path: Path::new("/rc"),
        mounts: &[],
        cgroups_path: String::new(),
    };
    let s = build_spec(&input).unwrap();
    assert_eq!(s.process.args, ["sh"]);
    assert!(
        !s.linux.seccomp.unwrap().architectures.is_empty() || std::env::consts::ARCH != "x86_64"
    );
}
