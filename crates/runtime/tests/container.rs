//! End-to-end: real containers from a busybox rootfs under an overlay, run
//! as root. Skipped (with a message) when not root or without a rootfs
//! fixture (`BERTH_TEST_ROOTFS`, else /tmp/anchors/busybox-rootfs).

use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use berth_runtime::spec::*;
use berth_runtime::{create, Bundle, CreateError, Running, Stdio};

/// Containers are cloned from the test process: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn fixture() -> Option<PathBuf> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIP: berth-runtime container tests need root");
        return None;
    }
    let p = std::env::var_os("BERTH_TEST_ROOTFS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/anchors/busybox-rootfs"));
    if !p.join("bin/busybox").exists() && !p.join("bin/sh").exists() {
        eprintln!(
            "SKIP: no rootfs fixture at {} (set BERTH_TEST_ROOTFS)",
            p.display()
        );
        return None;
    }
    Some(p)
}

fn mount(dest: &str, kind: &str, source: &str, options: &[&str]) -> Mount {
    Mount {
        destination: dest.into(),
        kind: kind.into(),
        source: source.into(),
        options: options.iter().map(|s| s.to_string()).collect(),
    }
}

const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// A spec shaped like the one Docker generates.
fn docker_spec(id: &str, args: &[&str]) -> Spec {
    let caps: Vec<String> = DEFAULT_CAPS.iter().map(|s| s.to_string()).collect();
    let ns = |k: &str| Namespace {
        kind: k.into(),
        path: None,
    };
    Spec {
        oci_version: "1.0.2".into(),
        process: Process {
            terminal: false,
            user: User::default(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            cwd: "/".into(),
            capabilities: Some(Capabilities {
                bounding: caps.clone(),
                effective: caps.clone(),
                inheritable: vec![],
                permitted: caps,
                ambient: vec![],
            }),
            rlimits: vec![Rlimit {
                kind: "RLIMIT_NOFILE".into(),
                hard: 1_048_576,
                soft: 1_048_576,
            }],
            no_new_privileges: false,
            oom_score_adj: None,
        },
        root: Root {
            path: "rootfs".into(),
            readonly: false,
        },
        hostname: "berth-test".into(),
        mounts: vec![
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
            mount(
                "/dev/shm",
                "tmpfs",
                "shm",
                &["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"],
            ),
        ],
        linux: Linux {
            namespaces: ["mount", "network", "uts", "pid", "ipc", "cgroup"]
                .iter()
                .map(|k| ns(k))
                .collect(),
            resources: Some(Resources::default()),
            cgroups_path: format!("berth-test/{id}"),
            seccomp: None,
            masked_paths: ["/proc/kcore", "/proc/keys", "/sys/firmware", "/proc/scsi"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            readonly_paths: ["/proc/bus", "/proc/fs", "/proc/sys", "/proc/sysrq-trigger"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            devices: vec![],
            sysctl: BTreeMap::new(),
        },
        annotations: BTreeMap::new(),
    }
}

/// A bundle in a temp dir: overlay of the fixture (read-only lower) with
/// upper and work dirs beside it. Removed on drop.
struct TestBundle {
    dir: tempfile::TempDir,
}

impl TestBundle {
    fn new(lower: &Path, spec: &Spec) -> TestBundle {
        let dir = tempfile::tempdir().unwrap();
        for d in ["rootfs", "upper", "work"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        let overlay = Mount {
            destination: String::new(),
            kind: "overlay".into(),
            source: "overlay".into(),
            options: vec![
                format!("lowerdir={}", lower.display()),
                format!("upperdir={}", dir.path().join("upper").display()),
                format!("workdir={}", dir.path().join("work").display()),
            ],
        };
        std::fs::write(
            dir.path().join("config.json"),
            serde_json::to_vec(spec).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("rootfs.json"),
            serde_json::to_vec(&[overlay]).unwrap(),
        )
        .unwrap();
        TestBundle { dir }
    }

    fn load(&self) -> Bundle {
        Bundle::load(self.dir.path()).unwrap()
    }
}

fn pipe() -> (OwnedFd, OwnedFd) {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap()
}

fn read_all(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    s
}

fn mountinfo() -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mut v: Vec<String> = text.lines().map(String::from).collect();
    v.sort();
    v
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs a container to completion and checks that it left no mount and no
/// cgroup behind.
fn run_spec(lower: &Path, spec: &Spec) -> Result<Outcome, CreateError> {
    let before = mountinfo();
    let tb = TestBundle::new(lower, spec);
    let (out_r, out_w) = pipe();
    let (err_r, err_w) = pipe();
    let stdio = Stdio::Pipes {
        stdin: None,
        stdout: out_w,
        stderr: err_w,
    };
    let result = create(&tb.load(), "t", stdio).and_then(|c| c.start());
    let outcome = match result {
        Ok(running) => {
            let running = Container(running);
            let stdout = read_all(out_r);
            let stderr = read_all(err_r);
            let code = running.wait().unwrap();
            let dirs = running.cgroup_dirs();
            assert!(!dirs.is_empty());
            running.cleanup().unwrap();
            for d in dirs {
                assert!(!d.exists(), "cgroup {} left behind", d.display());
            }
            Ok(Outcome {
                code,
                stdout,
                stderr,
            })
        }
        Err(e) => Err(e),
    };
    assert_eq!(before, mountinfo(), "host mount table changed");
    assert!(
        !Path::new("/sys/fs/cgroup/memory/berth-test/t").exists(),
        "cgroup left behind"
    );
    outcome
}

fn run(lower: &Path, args: &[&str]) -> Outcome {
    run_spec(lower, &docker_spec("t", args)).unwrap()
}

/// Holds the serial lock; on drop removes the tests' parent cgroups.
struct Serial(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

impl Drop for Serial {
    fn drop(&mut self) {
        if let Ok(dirs) = std::fs::read_dir("/sys/fs/cgroup") {
            for d in dirs.flatten() {
                let _ = std::fs::remove_dir(d.path().join("berth-test"));
            }
        }
    }
}

fn lock() -> Serial {
    Serial(SERIAL.lock().unwrap_or_else(|e| e.into_inner()))
}

/// A running container that is killed, reaped and cleaned up on drop, even
/// when an assertion fails first.
struct Container(Running);

impl std::ops::Deref for Container {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.0
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.0.kill(libc::SIGKILL);
        let _ = self.0.wait();
        let _ = self.0.cleanup();
    }
}

/// Creates and starts a container whose stdout and stderr are discarded.
fn start_quiet(tb: &TestBundle) -> Container {
    let stdio = Stdio::Pipes {
        stdin: None,
        stdout: pipe().1,
        stderr: pipe().1,
    };
    Container(create(&tb.load(), "t", stdio).unwrap().start().unwrap())
}

#[test]
fn echo_hi_through_a_pipe() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    let o = run(&rootfs, &["echo", "hi"]);
    assert_eq!(o.stdout, "hi\n");
    assert_eq!(o.stderr, "");
    assert_eq!(o.code, 0);
}

#[test]
fn exit_codes_and_signals() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    assert_eq!(run(&rootfs, &["sh", "-c", "echo err >&2; exit 3"]).code, 3);
    assert_eq!(
        run(&rootfs, &["sh", "-c", "echo err >&2; exit 3"]).stderr,
        "err\n"
    );

    let tb = TestBundle::new(&rootfs, &docker_spec("t", &["sleep", "100"]));
    let running = start_quiet(&tb);
    assert!(running.pid() > 0);
    let mut pfd = libc::pollfd {
        fd: running.pidfd().as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    assert_eq!(
        unsafe { libc::poll(&mut pfd, 1, 100) },
        0,
        "exited too early"
    );
    running.kill(libc::SIGKILL).unwrap();
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::poll(&mut pfd, 1, 5000) },
        1,
        "pidfd not readable"
    );
    assert_eq!(running.wait().unwrap(), 137);
    assert_eq!(running.wait().unwrap(), 137);
    assert!(!running.oom_killed());
    running.cleanup().unwrap();
}

#[test]
fn namespaces_hostname_and_pid1() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    let o = run(
        &rootfs,
        &["sh", "-c", "hostname; echo $$; cat /sys/class/net/lo/flags; wc -c </proc/keys; ls /sys/firmware | wc -l; echo 1 >/proc/sys/vm/overcommit_memory || echo ro; ls /sys/fs/cgroup"],
    );
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines[0], "berth-test", "{o:?}", o = o.stdout);
    assert_eq!(lines[1], "1");
    // IFF_UP | IFF_LOOPBACK | IFF_RUNNING, …: lo is up.
    let flags = u32::from_str_radix(lines[2].trim_start_matches("0x"), 16).unwrap();
    assert_eq!(flags & 1, 1, "lo down: {}", lines[2]);
    assert_eq!(lines[3], "0", "/proc/keys not masked");
    assert_eq!(lines[4], "0", "/sys/firmware not masked");
    assert_eq!(lines[5], "ro", "/proc/sys writable");
    assert!(o.stdout.contains("memory"), "{}", o.stdout);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn exec_errors_have_runc_wording() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    let cases = [
        (
            "nosuch",
            127,
            "exec: \"nosuch\": executable file not found in $PATH",
        ),
        ("/etc", 126, "exec: \"/etc\": is a directory"),
        (
            "/x",
            127,
            "exec: \"/x\": stat /x: no such file or directory",
        ),
        (
            "/etc/passwd",
            126,
            "exec: \"/etc/passwd\": permission denied",
        ),
    ];
    for (arg, want_code, want_msg) in cases {
        match run_spec(&rootfs, &docker_spec("t", &[arg])) {
            Err(CreateError::Exec { message, exit_code }) => {
                assert_eq!((exit_code, message.as_str()), (want_code, want_msg));
            }
            Err(e) => panic!("{arg}: unexpected error {e}"),
            Ok(_) => panic!("{arg}: started"),
        }
    }
}

#[test]
fn memory_limit_reaches_the_cgroup() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    let mut spec = docker_spec("t", &["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]);
    spec.linux.resources = Some(Resources {
        memory: Some(Memory {
            limit: Some(64 << 20),
            swap: Some(128 << 20),
            reservation: None,
        }),
        pids: Some(Pids { limit: 50 }),
        ..Resources::default()
    });
    let o = run_spec(&rootfs, &spec).unwrap();
    assert_eq!(o.stdout.trim(), (64u64 << 20).to_string(), "{}", o.stderr);
    assert_eq!(o.code, 0);

    // And from the host while it runs.
    spec.process.args = vec!["sleep".into(), "100".into()];
    let tb = TestBundle::new(&rootfs, &spec);
    let running = start_quiet(&tb);
    let host_file = Path::new("/sys/fs/cgroup/memory/berth-test/t/memory.limit_in_bytes");
    let host = std::fs::read_to_string(host_file);
    let procs = std::fs::read_to_string("/sys/fs/cgroup/pids/berth-test/t/cgroup.procs");
    running.kill(libc::SIGKILL).unwrap();
    running.wait().unwrap();
    running.cleanup().unwrap();
    assert_eq!(host.unwrap().trim(), (64u64 << 20).to_string());
    assert_eq!(procs.unwrap().trim(), running.pid().to_string());
}

#[test]
fn user_caps_rlimits_and_seccomp() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    let mut spec = docker_spec(
        "t",
        &["sh", "-c", "id; echo $HOME; ulimit -n; grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status; mkdir /tmp/d || echo denied"],
    );
    spec.annotations
        .insert(ANNOTATION_USER.into(), "nobody".into());
    spec.process.no_new_privileges = true;
    spec.linux.seccomp = Some(Seccomp {
        default_action: "SCMP_ACT_ALLOW".into(),
        default_errno_ret: None,
        architectures: vec!["SCMP_ARCH_X86_64".into()],
        syscalls: vec![Syscall {
            names: vec!["mkdir".into(), "mkdirat".into()],
            action: "SCMP_ACT_ERRNO".into(),
            errno_ret: Some(1),
            args: vec![],
        }],
    });
    let o = run_spec(&rootfs, &spec).unwrap();
    let out = o.stdout;
    assert!(
        out.contains("uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"),
        "{out}\n{}",
        o.stderr
    );
    assert!(out.contains("\n/home\n"), "{out}");
    // 1048576 requested; clamped to our hard limit when we cannot raise it.
    let nofile: u64 = out.lines().nth(2).unwrap().trim().parse().unwrap();
    let (_, hard) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    assert!(nofile == 1_048_576 || nofile == hard, "{out}");
    assert!(out.contains("CapEff:\t0000000000000000"), "{out}");
    assert!(out.contains("CapBnd:\t00000000a80425fb"), "{out}");
    assert!(out.contains("Seccomp:\t2"), "{out}");
    assert!(out.contains("NoNewPrivs:\t1"), "{out}");
    assert!(out.contains("denied"), "{out}");
}

#[test]
fn seccomp_without_no_new_privileges_and_sysctl() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    let mut spec = docker_spec(
        "t",
        &["sh", "-c", "mkdir /tmp/d || echo denied; cat /proc/sys/net/ipv4/ip_forward; grep Seccomp: /proc/self/status; ls /proc/self/fd"],
    );
    spec.linux
        .sysctl
        .insert("net.ipv4.ip_forward".into(), "1".into());
    spec.linux.seccomp = Some(Seccomp {
        default_action: "SCMP_ACT_ALLOW".into(),
        default_errno_ret: None,
        architectures: vec![],
        syscalls: vec![Syscall {
            names: vec!["mkdir".into(), "mkdirat".into()],
            action: "SCMP_ACT_ERRNO".into(),
            errno_ret: None,
            args: vec![],
        }],
    });
    let o = run_spec(&rootfs, &spec).unwrap();
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines[0], "denied", "{}", o.stdout);
    assert_eq!(lines[1], "1");
    assert_eq!(lines[2], "Seccomp:\t2");
    // Only stdio and the fd of ls's own directory listing.
    assert_eq!(&lines[3..], ["0", "1", "2", "3"], "{}", o.stdout);
}

#[test]
fn terminal_is_the_console() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    let pty = nix::pty::openpty(None, None).unwrap();
    let tb = TestBundle::new(
        &rootfs,
        &docker_spec(
            "t",
            &[
                "sh",
                "-c",
                "test -t 0 && test -t 1 && echo is-a-tty; test -c /dev/console && echo console",
            ],
        ),
    );
    let running = Container(
        create(&tb.load(), "t", Stdio::Terminal { slave: pty.slave })
            .unwrap()
            .start()
            .unwrap(),
    );
    let mut out = Vec::new();
    let mut master = std::fs::File::from(pty.master);
    let mut buf = [0u8; 256];
    // Reading the master ends with EIO once the last slave fd is closed.
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(running.wait().unwrap(), 0);
    running.cleanup().unwrap();
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("is-a-tty") && out.contains("console"), "{out}");
}

#[test]
fn exec_failure_at_start_and_init_failures() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    // Found and executable, but not a valid binary: fails at start.
    let tb = TestBundle::new(&rootfs, &docker_spec("t", &["/bad"]));
    let bad = tb.dir.path().join("upper/bad");
    std::fs::write(&bad, b"\x01\x02garbage").unwrap();
    std::fs::set_permissions(&bad, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let before = mountinfo();
    let created = create(
        &tb.load(),
        "t",
        Stdio::Pipes {
            stdin: None,
            stdout: pipe().1,
            stderr: pipe().1,
        },
    )
    .unwrap();
    match created.start() {
        Err(CreateError::Exec { message, exit_code }) => {
            assert_eq!(
                (exit_code, message.as_str()),
                (126, "exec /bad: exec format error")
            );
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("started"),
    }
    assert_eq!(before, mountinfo());
    assert!(!Path::new("/sys/fs/cgroup/memory/berth-test/t").exists());

    // A failing step inside the init reports its cause.
    let mut spec = docker_spec("t", &["true"]);
    spec.mounts.push(mount("/mnt", "nosuchfs", "none", &[]));
    match run_spec(&rootfs, &spec) {
        Err(CreateError::Init { message, .. }) => {
            assert!(
                message.contains("/mnt") && message.contains("no such device"),
                "{message}"
            );
        }
        Err(e) => panic!("unexpected error {e:?}"),
        Ok(_) => panic!("started"),
    }

    // Aborting a created container kills and reaps it and removes the cgroup.
    let tb = TestBundle::new(&rootfs, &docker_spec("t", &["true"]));
    let created = create(
        &tb.load(),
        "t",
        Stdio::Pipes {
            stdin: None,
            stdout: pipe().1,
            stderr: pipe().1,
        },
    )
    .unwrap();
    let pid = created.pid();
    created.abort();
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    assert!(!Path::new("/sys/fs/cgroup/memory/berth-test/t").exists());
}

#[test]
fn readonly_root_binds_and_cwd() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("f"), "from-host\n").unwrap();
    let mut spec = docker_spec(
        "t",
        &["sh", "-c", "pwd; cat /data/f; touch /data/g || echo data-ro; touch /x || echo root-ro; touch /dev/shm/ok && echo shm-rw"],
    );
    spec.root.readonly = true;
    spec.process.cwd = "/work/dir".into();
    spec.mounts.push(Mount {
        destination: "/data".into(),
        kind: "bind".into(),
        source: data.path().display().to_string(),
        options: vec!["rbind".into(), "ro".into(), "rprivate".into()],
    });
    // The missing cwd is created before the root becomes read-only.
    let o = run_spec(&rootfs, &spec).unwrap();
    assert_eq!(o.stdout.lines().next(), Some("/work/dir"), "{}", o.stderr);
    spec.process.cwd = "/tmp".into();
    let o = run_spec(&rootfs, &spec).unwrap();
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(
        lines,
        ["/tmp", "from-host", "data-ro", "root-ro", "shm-rw"],
        "{}",
        o.stderr
    );
    spec.root.readonly = false;
    spec.process.cwd = "/work/dir".into();
    let o = run_spec(&rootfs, &spec).unwrap();
    assert_eq!(o.stdout.lines().next(), Some("/work/dir"));
}

#[test]
fn signals_reset_and_oom_kill_detected() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    // The test process ignores SIGPIPE (Rust does); the container must not.
    let o = run(
        &rootfs,
        &["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"],
    );
    assert_eq!(
        o.stdout,
        "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
    );

    let mut spec = docker_spec(
        "t",
        &["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"],
    );
    spec.linux.resources = Some(Resources {
        memory: Some(Memory {
            limit: Some(16 << 20),
            swap: Some(16 << 20),
            reservation: None,
        }),
        ..Resources::default()
    });
    let tb = TestBundle::new(&rootfs, &spec);
    let running = start_quiet(&tb);
    assert_eq!(running.wait().unwrap(), 137);
    assert!(running.oom_killed());
}

/// The init enters its cgroups itself (v1 `tasks`) or is born in them
/// (cgroup2, `CLONE_INTO_CGROUP`): every hierarchy must list it, and inside,
/// the cgroup namespace must make each one look like the root.
#[test]
fn init_is_in_every_hierarchy_of_its_cgroup() {
    let Some(rootfs) = fixture() else { return };
    let _g = lock();
    let spec = docker_spec("t", &["sh", "-c", "cat /proc/self/cgroup; sleep 100"]);
    let tb = TestBundle::new(&rootfs, &spec);
    let (out_r, out_w) = pipe();
    let stdio = Stdio::Pipes {
        stdin: None,
        stdout: out_w,
        stderr: pipe().1,
    };
    let running = Container(create(&tb.load(), "t", stdio).unwrap().start().unwrap());
    let host_view = std::fs::read_to_string(format!("/proc/{}/cgroup", running.pid())).unwrap();
    let mut inside = String::new();
    let mut out = std::fs::File::from(out_r);
    let mut buf = [0u8; 4096];
    while inside.lines().count() < host_view.lines().count() {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "container output ended early: {inside}");
        inside.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let dirs = running.cgroup_dirs();
    drop(running);
    assert!(!dirs.is_empty());
    for line in host_view.lines() {
        assert!(
            line.ends_with("/berth-test/t"),
            "not in its cgroup: {line}\n{host_view}"
        );
    }
    for line in inside.lines() {
        assert!(
            line.ends_with(":/"),
            "not the namespace root: {line}\n{inside}"
        );
    }
}
