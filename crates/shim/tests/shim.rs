//! End-to-end tests of the `berth-shim` binary against real containers:
//! readiness line, attach frames, json-file log, `wait`, `exit.json`, and a
//! shim that lives on after its spawner. Root only; each test prints why it
//! is skipped otherwise. Rootfs: `$BERTH_TEST_ROOTFS` or
//! `/tmp/anchors/busybox-rootfs` (read-only overlay lower layer).

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEFAULT_ROOTFS: &str = "/tmp/anchors/busybox-rootfs";

fn rootfs() -> Option<PathBuf> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root");
        return None;
    }
    let path = PathBuf::from(
        std::env::var_os("BERTH_TEST_ROOTFS").unwrap_or_else(|| DEFAULT_ROOTFS.into()),
    );
    if !path.join("bin/sh").exists() {
        eprintln!("skipped: no rootfs with /bin/sh at {}", path.display());
        return None;
    }
    Some(path)
}

/// A bundle in a temp dir and the shim serving it. Dropping it kills the
/// container (if still there), waits for the shim to finish, removes files.
struct Container {
    id: String,
    bundle: PathBuf,
    socket: PathBuf,
    /// The ready line the shim wrote.
    ready: String,
    /// Removed last, after the shim is done with the bundle.
    _dir: tempfile::TempDir,
}

struct Options {
    args: Vec<&'static str>,
    terminal: bool,
    annotations: Value,
}

impl Options {
    fn new(args: &[&'static str]) -> Options {
        Options {
            args: args.to_vec(),
            terminal: false,
            annotations: json!({}),
        }
    }
}

fn spec(bundle: &Path, id: &str, opts: &Options) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": opts.terminal,
            "user": {"uid": 0, "gid": 0},
            "args": opts.args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
        },
        "root": {"path": bundle.join("rootfs"), "readonly": false},
        "hostname": "shimtest",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        ],
        "linux": {
            "namespaces": [
                {"type": "pid"}, {"type": "mount"}, {"type": "uts"},
                {"type": "ipc"}, {"type": "network"},
            ],
            "cgroupsPath": format!("berth-shim-test-{id}"),
        },
        "annotations": opts.annotations,
    })
}

impl Container {
    /// Writes the bundle and spawns the shim; returns after its ready line.
    fn spawn(rootfs: &Path, opts: &Options) -> Container {
        let dir = tempfile::tempdir().unwrap();
        let id = format!("shimtest{}", std::process::id()) + &rand_suffix();
        let bundle = dir.path().join("containers").join(&id);
        for sub in ["rootfs", "upper", "work"] {
            std::fs::create_dir_all(bundle.join(sub)).unwrap();
        }
        std::fs::write(
            bundle.join("config.json"),
            serde_json::to_vec_pretty(&spec(&bundle, &id, opts)).unwrap(),
        )
        .unwrap();
        let overlay = json!([{
            "destination": "",
            "type": "overlay",
            "source": "overlay",
            "options": [
                format!("lowerdir={}", rootfs.display()),
                format!("upperdir={}", bundle.join("upper").display()),
                format!("workdir={}", bundle.join("work").display()),
            ],
        }]);
        std::fs::write(bundle.join("rootfs.json"), overlay.to_string()).unwrap();
        let socket = dir.path().join("run").join(format!("{id}.sock"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_berth-shim"))
            .arg("--id")
            .arg(&id)
            .arg("--bundle")
            .arg(&bundle)
            .arg("--socket")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // The spawned process exits at once, long before the container exists.
        let status = child.wait().unwrap();
        assert!(status.success(), "spawned shim exited with {status}");
        // Up to end of file: the line must come with it (no process may
        // keep the pipe open, not even the created init, a clone of the shim).
        let mut ready = String::new();
        let mut stdout = stdout;
        stdout.read_to_string(&mut ready).unwrap();
        assert_eq!(ready.lines().count(), 1, "{ready:?}");
        Container {
            id,
            bundle,
            socket,
            ready,
            _dir: dir,
        }
    }

    fn pid(&self) -> i32 {
        let pid = self.ready.strip_prefix("ok ").map(str::trim);
        pid.and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("shim not ready: {:?}", self.ready))
    }

    fn connect(&self, request: &str) -> UnixStream {
        let mut conn = UnixStream::connect(&self.socket).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        conn.write_all(format!("{request}\n").as_bytes()).unwrap();
        conn
    }

    /// Sends a request and returns its one answer line.
    fn ask(&self, request: &str) -> String {
        read_line(&mut self.connect(request))
    }

    fn log_lines(&self) -> Vec<Value> {
        let path = self.bundle.join(format!("{}-json.log", self.id));
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn exit_record(&self) -> Value {
        let text = std::fs::read_to_string(self.bundle.join("exit.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Fails with the shim's own diagnostics if it wrote any.
    fn assert_quiet(&self) {
        if let Ok(text) = std::fs::read_to_string(self.bundle.join("shim.log")) {
            panic!("shim.log: {text}");
        }
    }

    /// Waits until the shim has removed its socket (its last act before answering waits).
    fn wait_gone(&self) {
        let start = Instant::now();
        while self.socket.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "shim did not finish"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Ok(mut c) = UnixStream::connect(&self.socket) {
            let _ = c.write_all(b"kill 9\n");
        }
        let start = Instant::now();
        while self.socket.exists() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn rand_suffix() -> String {
    let mut b = [0u8; 4];
    // SAFETY: getrandom writes at most 4 bytes into `b`.
    unsafe { libc::getrandom(b.as_mut_ptr().cast(), 4, 0) };
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn read_line(conn: &mut UnixStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while conn.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap()
}

/// Reads Docker frames until the stream ends: (stdout, stderr).
fn read_frames(conn: &mut UnixStream) -> (Vec<u8>, Vec<u8>) {
    let mut all = Vec::new();
    conn.read_to_end(&mut all).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut rest = &all[..];
    while !rest.is_empty() {
        assert!(rest.len() >= 8, "truncated frame header: {rest:?}");
        assert_eq!(&rest[1..4], &[0, 0, 0]);
        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let payload = &rest[8..8 + len];
        match rest[0] {
            1 => out.extend_from_slice(payload),
            2 => err.extend_from_slice(payload),
            s => panic!("bad stream byte {s}"),
        }
        rest = &rest[8 + len..];
    }
    (out, err)
}

fn parent_of(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn runs_attaches_logs_and_reports_the_exit() {
    let Some(rootfs) = rootfs() else { return };
    let c = Container::spawn(
        &rootfs,
        &Options::new(&["sh", "-c", "echo out; echo err >&2; exit 3"]),
    );
    c.pid();
    let mut attach = c.connect("attach 0 1 1");
    assert_eq!(read_line(&mut attach), "ok");
    let mut wait = c.connect("wait");
    assert_eq!(c.ask("start"), "ok");
    let (out, err) = read_frames(&mut attach);
    assert_eq!(String::from_utf8_lossy(&out), "out\n");
    assert_eq!(String::from_utf8_lossy(&err), "err\n");
    assert_eq!(read_line(&mut wait), "exit 3 0");

    let lines = c.log_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let find = |stream: &str| lines.iter().find(|l| l["stream"] == stream).unwrap();
    assert_eq!(find("stdout")["log"], "out\n");
    assert_eq!(find("stderr")["log"], "err\n");
    let time = find("stdout")["time"].as_str().unwrap();
    assert!(is_rfc3339_utc(time), "bad time {time}");

    let exit = c.exit_record();
    assert_eq!(exit["ExitCode"], 3);
    assert_eq!(exit["OOMKilled"], false);
    assert!(is_rfc3339_utc(exit["FinishedAt"].as_str().unwrap()));
    c.wait_gone();
    c.assert_quiet();
}

/// RFC 3339 with nanoseconds in UTC, as Docker writes it.
fn is_rfc3339_utc(t: &str) -> bool {
    t.len() >= 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T' && t.starts_with("20")
}

#[test]
fn outlives_its_spawner_keeps_logging_and_dies_by_kill() {
    let Some(rootfs) = rootfs() else { return };
    let c = Container::spawn(
        &rootfs,
        &Options::new(&[
            "sh",
            "-c",
            "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done",
        ]),
    );
    let pid = c.pid();
    assert_eq!(c.ask("start"), "ok");
    // The process this test spawned has exited; the shim (the init's parent)
    // is another process, in its own session, not a child of the test.
    let shim = parent_of(pid);
    assert_ne!(shim, std::process::id() as i32);
    assert_ne!(parent_of(shim), std::process::id() as i32);
    // SAFETY: getsid has no preconditions.
    assert_eq!(unsafe { libc::getsid(shim) }, shim);

    // The shim ignores the signals a terminal or a service manager sends.
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGPIPE] {
        // SAFETY: signalling a process this test started.
        assert_eq!(unsafe { libc::kill(shim, sig) }, 0);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(is_running(shim) && is_running(pid));
    let first = c.log_lines().len();
    assert!(first >= 2, "only {first} log lines");
    std::thread::sleep(Duration::from_millis(300));
    assert!(c.log_lines().len() > first, "log stopped growing");

    // A new client (a restarted daemon) attaches and sees live output.
    let mut attach = c.connect("attach 0 1 1");
    assert_eq!(read_line(&mut attach), "ok");
    let mut head = [0u8; 8];
    attach.read_exact(&mut head).unwrap();
    assert_eq!(head[0], 1);
    let mut payload = vec![0u8; u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize];
    attach.read_exact(&mut payload).unwrap();
    assert!(payload.starts_with(b"tick "), "{payload:?}");

    let mut wait = c.connect("wait");
    assert_eq!(c.ask("kill 9"), "ok");
    assert_eq!(read_line(&mut wait), "exit 137 0");
    assert_eq!(c.exit_record()["ExitCode"], 137);
    c.wait_gone();
    let start = Instant::now();
    while is_running(shim) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "shim still running"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    c.assert_quiet();
}

/// Whether `pid` exists and is not a zombie.
fn is_running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat[stat.rfind(')').unwrap()..].starts_with(") Z"),
        Err(_) => false,
    }
}

#[test]
fn reports_a_missing_executable_on_the_ready_pipe() {
    let Some(rootfs) = rootfs() else { return };
    let c = Container::spawn(&rootfs, &Options::new(&["/no/such/binary"]));
    assert!(c.ready.starts_with("error "), "{:?}", c.ready);
    assert!(c.ready.contains("/no/such/binary"), "{:?}", c.ready);
    assert!(c.ready.ends_with('\n') && c.ready.lines().count() == 1);
    assert!(!c.socket.exists());
}

#[test]
fn tty_output_is_raw_and_resizable() {
    let Some(rootfs) = rootfs() else { return };
    let mut opts = Options::new(&["sh", "-c", "stty size; read line; echo got $line"]);
    opts.terminal = true;
    opts.annotations = json!({"berth.stdin-once": "true"});
    let c = Container::spawn(&rootfs, &opts);
    c.pid();
    let mut attach = c.connect("attach 1 1 0");
    assert_eq!(read_line(&mut attach), "ok");
    assert_eq!(c.ask("resize 30 100"), "ok");
    assert_eq!(c.ask("start"), "ok");
    attach.write_all(b"hello\n").unwrap();
    let mut all = Vec::new();
    attach.read_to_end(&mut all).unwrap();
    let text = String::from_utf8_lossy(&all);
    // The size set before start, the tty's echo of the input (whenever it
    // came), the answer; no frame headers.
    assert!(text.contains("30 100\r\n"), "{text:?}");
    assert!(text.contains("hello\r\n"), "{text:?}");
    assert!(text.contains("got hello\r\n"), "{text:?}");
    assert!(!all.contains(&0u8));
    let lines = c.log_lines();
    assert!(lines.iter().all(|l| l["stream"] == "stdout"));
    assert!(
        lines.iter().any(|l| l["log"] == "got hello\r\n"),
        "{lines:?}"
    );
    c.wait_gone();
}

#[test]
fn stdin_once_closes_stdin_when_the_attach_input_ends() {
    let Some(rootfs) = rootfs() else { return };
    let mut opts = Options::new(&["sh", "-c", "cat; echo done"]);
    opts.annotations = json!({"berth.stdin-once": "true"});
    let c = Container::spawn(&rootfs, &opts);
    let mut attach = c.connect("attach 1 1 1");
    assert_eq!(read_line(&mut attach), "ok");
    assert_eq!(c.ask("start"), "ok");
    attach.write_all(b"abc\n").unwrap();
    attach.shutdown(Shutdown::Write).unwrap();
    let (out, _) = read_frames(&mut attach);
    assert_eq!(String::from_utf8_lossy(&out), "abc\ndone\n");
    c.wait_gone();
    assert_eq!(c.exit_record()["ExitCode"], 0);
}

#[test]
fn control_socket_rejects_bad_requests_and_answers_wait_after_exit() {
    let Some(rootfs) = rootfs() else { return };
    let c = Container::spawn(&rootfs, &Options::new(&["sh", "-c", "sleep 1; exit 0"]));
    c.pid();
    assert!(c.ask("bogus").starts_with("error unknown request"));
    assert!(c.ask("kill 0").starts_with("error invalid signal"));
    let mut wait = c.connect("wait");
    assert_eq!(c.ask("start"), "ok");
    assert!(c.ask("start").starts_with("error"));
    assert_eq!(read_line(&mut wait), "exit 0 0");
    c.wait_gone();
    assert_eq!(c.exit_record()["ExitCode"], 0);
}

#[test]
fn kill_before_start_discards_the_created_container() {
    let Some(rootfs) = rootfs() else { return };
    let c = Container::spawn(&rootfs, &Options::new(&["sh", "-c", "echo never"]));
    let pid = c.pid();
    assert!(is_running(pid));
    let mut wait = c.connect("wait");
    assert_eq!(c.ask("kill 9"), "ok");
    assert_eq!(read_line(&mut wait), "exit 137 0");
    c.wait_gone();
    assert!(!is_running(pid));
    assert!(c.log_lines().is_empty());
    assert_eq!(c.exit_record()["ExitCode"], 137);
}

#[test]
fn a_client_that_does_not_read_is_dropped_and_never_blocks_the_container() {
    let Some(rootfs) = rootfs() else { return };
    let script = "dd if=/dev/zero bs=1024 count=4096 2>/dev/null | tr '\\0' x; echo; echo end";
    let c = Container::spawn(&rootfs, &Options::new(&["sh", "-c", script]));
    let mut lazy = c.connect("attach 0 1 1");
    assert_eq!(read_line(&mut lazy), "ok");
    let mut wait = c.connect("wait");
    assert_eq!(c.ask("start"), "ok");
    // Nobody reads `lazy`: 4 MiB cannot fit its queue and socket buffer.
    assert_eq!(read_line(&mut wait), "exit 0 0");
    let mut got = Vec::new();
    lazy.read_to_end(&mut got).unwrap();
    assert!(got.len() < 4 << 20, "the lazy client got everything");
    let lines = c.log_lines();
    let logged: usize = lines
        .iter()
        .filter(|l| l["log"].as_str().unwrap().starts_with('x'))
        .map(|l| l["log"].as_str().unwrap().trim_end().len())
        .sum();
    assert_eq!(logged, 4 << 20);
    // Docker's 16 KiB cut: full partial lines, no newline inside.
    assert_eq!(lines[0]["log"].as_str().unwrap().len(), 16 * 1024);
    assert_eq!(lines.last().unwrap()["log"], "end\n");
    c.wait_gone();
}

/// `Pss` of `pid` in kB, from /proc/<pid>/smaps_rollup.
fn pss_kb(pid: i32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
    let line = text.lines().find(|l| l.starts_with("Pss:")).unwrap();
    line.split_ascii_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_shim_with_a_sleeping_container_stays_small() {
    let Some(rootfs) = rootfs() else { return };
    let c = Container::spawn(&rootfs, &Options::new(&["sleep", "1000"]));
    let pid = c.pid();
    assert_eq!(c.ask("start"), "ok");
    let shim = parent_of(pid);
    std::thread::sleep(Duration::from_millis(200));
    let pss = pss_kb(shim);
    eprintln!("berth-shim PSS with a sleeping container: {pss} kB");
    // The goal holds for optimized builds (`cargo test --release`); debug
    // builds carry much more code.
    if !cfg!(debug_assertions) {
        assert!(pss <= 512, "shim PSS {pss} kB");
    }
}
