//! End-to-end: processes exec'd into a running busybox container (its
//! namespaces, cgroup, user, working directory, exit codes), and terminals
//! opened in the container's own devpts, for the init and for exec. Root
//! only; skipped (with a message) without a rootfs fixture
//! (`BERTH_TEST_ROOTFS`, else /tmp/anchors/busybox-rootfs).

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Mutex;

use berth_runtime::{create, exec, Bundle, CreateError, ExecConfig, ExecProcess, Running, Stdio};
use serde_json::json;

/// Processes are cloned from the test process: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn fixture() -> Option<PathBuf> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIP: exec tests need root");
        return None;
    }
    let p = std::env::var_os("BERTH_TEST_ROOTFS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/anchors/busybox-rootfs"));
    if !p.join("bin/sh").exists() {
        eprintln!("SKIP: no rootfs fixture at {}", p.display());
        return None;
    }
    Some(p)
}

/// A running container (`args`) on an overlay of the fixture; killed,
/// reaped and its cgroup removed on drop.
struct Container {
    running: Option<Running>,
    bundle: Bundle,
    _dir: tempfile::TempDir,
}

impl Container {
    fn start(lower: &std::path::Path, args: &[&str], stdio: Stdio) -> (Container, Option<OwnedFd>) {
        Container::start_with(lower, args, stdio, None)
    }

    /// [`Container::start`] with a seccomp profile (compiled through a
    /// cache in the bundle, as the daemon sets it up).
    fn start_with(
        lower: &std::path::Path,
        args: &[&str],
        stdio: Stdio,
        seccomp: Option<serde_json::Value>,
    ) -> (Container, Option<OwnedFd>) {
        let dir = tempfile::tempdir().unwrap();
        for d in ["rootfs", "upper", "work"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        let id = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let mut spec = json!({
            "ociVersion": "1.0.2",
            "process": {
                "terminal": matches!(stdio, Stdio::Console),
                "user": {"uid": 0, "gid": 0},
                "args": args,
                "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                "cwd": "/",
            },
            "root": {"path": "rootfs"},
            "hostname": "exectest",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                 "options": ["nosuid", "mode=755", "size=65536k"]},
                {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                 "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            ],
            "linux": {
                "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                               {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
                "cgroupsPath": format!("berth-test/{id}"),
            },
        });
        if let Some(profile) = seccomp {
            spec["linux"]["seccomp"] = profile;
            let cache = dir.path().join("seccomp-cache").display().to_string();
            spec["annotations"] = json!({ berth_runtime::seccomp_cache::ANNOTATION: cache });
        }
        let rootfs = json!([{
            "destination": "/", "type": "overlay", "source": "overlay",
            "options": [
                format!("lowerdir={}", lower.display()),
                format!("upperdir={}", dir.path().join("upper").display()),
                format!("workdir={}", dir.path().join("work").display()),
            ],
        }]);
        std::fs::write(dir.path().join("config.json"), spec.to_string()).unwrap();
        std::fs::write(dir.path().join("rootfs.json"), rootfs.to_string()).unwrap();
        let bundle = Bundle::load(dir.path()).unwrap();
        let mut created = create(&bundle, &id, stdio).unwrap();
        let console = created.take_console();
        let running = created.start().unwrap();
        let c = Container {
            running: Some(running),
            bundle,
            _dir: dir,
        };
        (c, console)
    }

    fn running(&self) -> &Running {
        self.running.as_ref().unwrap()
    }

    fn exec(&self, config: &ExecConfig, stdio: Stdio) -> Result<ExecProcess, CreateError> {
        exec(self.running(), &self.bundle, config, stdio)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let _ = r.kill(libc::SIGKILL);
            let _ = r.wait();
            let _ = r.cleanup();
        }
    }
}

fn config(args: &[&str]) -> ExecConfig {
    let mut c = ExecConfig::default();
    c.process.args = args.iter().map(|s| s.to_string()).collect();
    c.process.env = vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".into()];
    c.process.cwd = "/".into();
    c
}

fn pipe() -> (OwnedFd, OwnedFd) {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap()
}

/// Runs `c` with pipes: (exit code, stdout, stderr).
fn run(ctr: &Container, c: &ExecConfig) -> Result<(i32, String, String), CreateError> {
    let (out_r, out_w) = pipe();
    let (err_r, err_w) = pipe();
    let stdio = Stdio::Pipes {
        stdin: None,
        stdout: out_w,
        stderr: err_w,
    };
    let p = ctr.exec(c, stdio)?;
    let mut out = String::new();
    let mut err = String::new();
    std::fs::File::from(out_r).read_to_string(&mut out).unwrap();
    std::fs::File::from(err_r).read_to_string(&mut err).unwrap();
    Ok((p.wait().unwrap(), out, err))
}

/// Reads a pty master until the slave side is gone (EIO).
fn read_master(master: OwnedFd) -> String {
    let mut f = std::fs::File::from(master);
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    while let Ok(n) = f.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn exec_joins_the_container_and_reports_its_exit() {
    let Some(lower) = fixture() else { return };
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (ctr, _) = Container::start(
        &lower,
        &["sleep", "100"],
        Stdio::Pipes {
            stdin: None,
            stdout: pipe().1,
            stderr: pipe().1,
        },
    );
    let script = "echo pid=$$; hostname; cat /proc/self/cgroup | head -1; \
                  ls /proc | grep -c '^[0-9]'; pwd; id -u; echo oops >&2; exit 3";
    let mut c = config(&["sh", "-c", script]);
    c.process.cwd = "/tmp".into();
    c.user = "nobody".into();
    let (code, out, err) = run(&ctr, &c).unwrap();
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(err, "oops\n");
    let lines: Vec<&str> = out.lines().collect();
    // Not pid 1, in the container's pid namespace (sleep is 1).
    let pid: i32 = lines[0].strip_prefix("pid=").unwrap().parse().unwrap();
    assert!(pid > 1 && pid < 100, "{out}");
    assert_eq!(lines[1], "exectest");
    // The cgroup namespace's root is the container's cgroup.
    assert!(lines[2].ends_with(":/"), "{out}");
    // sleep, sh, ls (and maybe grep): only the container's processes.
    assert!(lines[3].parse::<u32>().unwrap() <= 4, "{out}");
    assert_eq!(&lines[4..], ["/tmp", "65534"]);
    // The container keeps running.
    assert!(ctr.running().kill(0).is_ok());
}

#[test]
fn exec_gets_the_containers_seccomp_filter_and_cgroups() {
    let Some(lower) = fixture() else { return };
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Docker's profile refuses unshare without CAP_SYS_ADMIN; this one
    // always does.
    let profile = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    });
    let (ctr, _) = Container::start_with(
        &lower,
        &["sleep", "100"],
        Stdio::Pipes {
            stdin: None,
            stdout: pipe().1,
            stderr: pipe().1,
        },
        Some(profile),
    );
    let script = "grep Seccomp: /proc/self/status; \
                  unshare -r true 2>/dev/null && echo unshared || echo refused";
    let (code, out, err) = run(&ctr, &config(&["sh", "-c", script])).unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "Seccomp:\t2\nrefused\n", "{err}");
    // The program came from (and stays in) the bundle's cache.
    let cached = std::fs::read_dir(ctr._dir.path().join("seccomp-cache")).unwrap();
    assert_eq!(cached.count(), 1);
    // Seen from the host, an exec'd process is in every cgroup of the init.
    let p = ctr.exec(
        &config(&["sleep", "100"]),
        Stdio::Pipes {
            stdin: None,
            stdout: pipe().1,
            stderr: pipe().1,
        },
    );
    let p = p.unwrap();
    let cgroups = |pid: i32| std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let (mine, init) = (cgroups(p.pid()), cgroups(ctr.running().pid()));
    p.kill(libc::SIGKILL).unwrap();
    assert_eq!(p.wait().unwrap(), 128 + libc::SIGKILL);
    assert_eq!(mine, init);
    assert!(init.contains("berth-test/"), "{init}");
}

#[test]
fn exec_failures_have_docker_codes_and_runc_messages() {
    let Some(lower) = fixture() else { return };
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (ctr, _) = Container::start(
        &lower,
        &["sleep", "100"],
        Stdio::Pipes {
            stdin: None,
            stdout: pipe().1,
            stderr: pipe().1,
        },
    );
    let code = |args: &[&str]| match run(&ctr, &config(args)) {
        Err(CreateError::Exec { exit_code, message }) => (exit_code, message),
        other => panic!("{args:?}: unexpected {:?}", other.map(|r| r.0)),
    };
    assert_eq!(
        code(&["nosuch"]),
        (
            127,
            "exec: \"nosuch\": executable file not found in $PATH".to_string()
        )
    );
    assert_eq!(code(&["/etc"]).0, 126);
    let mut c = config(&["pwd"]);
    c.process.cwd = "/nonexist".into();
    match run(&ctr, &c) {
        Err(e) => assert_eq!(
            e.to_string(),
            "chdir to cwd (\"/nonexist\") set in config.json failed: no such file or directory"
        ),
        Ok(r) => panic!("ran: {r:?}"),
    }
    let mut c = config(&["id"]);
    c.user = "nosuchuser".into();
    match run(&ctr, &c) {
        Err(e) => assert_eq!(
            e.to_string(),
            "unable to find user nosuchuser: no matching entries in passwd file"
        ),
        Ok(r) => panic!("ran: {r:?}"),
    }
    assert!(ctr.running().kill(0).is_ok());
}

#[test]
fn terminals_are_opened_in_the_containers_devpts() {
    let Some(lower) = fixture() else { return };
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (ctr, console) = Container::start(
        &lower,
        &[
            "sh",
            "-c",
            "tty; test -c /dev/console && echo console; exec sleep 100",
        ],
        Stdio::Console,
    );
    let console = console.expect("the init's console");
    let mut c = config(&["sh", "-c", "tty; stty size"]);
    c.process.terminal = true;
    c.console_size = Some([33, 101]);
    let mut p = ctr.exec(&c, Stdio::Console).unwrap();
    let master = p.take_console().expect("the exec's console");
    let out = read_master(master);
    assert_eq!(p.wait().unwrap(), 0);
    assert_eq!(out, "/dev/pts/1\r\n33 101\r\n");
    // The init's terminal (it keeps running: read what it wrote).
    let mut f = std::fs::File::from(console);
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !got.ends_with(b"console\r\n") && std::time::Instant::now() < deadline {
        let mut pfd = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&f),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, 100) } == 1 {
            let mut buf = [0u8; 256];
            let n = f.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert_eq!(String::from_utf8_lossy(&got), "/dev/pts/0\r\nconsole\r\n");
}
