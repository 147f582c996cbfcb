//! Interactive work: `exec` (output, exit codes, -e/-u/-w/-d/-i, a stopped
//! container, inspect and events), and real terminals driven from a pty
//! pair: `run -it` (the container's own /dev/pts/0, `stty size`, resize,
//! detach with ctrl-p ctrl-q), `attach` again, `exec -it`, several clients
//! attached at once — through `berth` and through the docker CLI.

use berth_e2e::{bin_dir, can_run, Berthd};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a terminal waits for expected output.
const EXPECT: Duration = Duration::from_secs(10);

/// A command on the slave side of a pty pair (its controlling terminal),
/// driven from the master. Killed on drop.
struct Tty {
    master: File,
    child: Child,
    out: Vec<u8>,
    /// Output before this offset was matched already.
    seen: usize,
}

impl Tty {
    fn spawn(mut cmd: Command, rows: u16, cols: u16) -> Tty {
        let (mut m, mut s) = (0, 0);
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty fills two fds; the name and termios are optional.
        let rc =
            unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), &ws) };
        assert_eq!(rc, 0, "openpty");
        for fd in [m, s] {
            // SAFETY: marks our own fds close-on-exec (tests spawn in parallel).
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        // SAFETY: openpty gave us both descriptors.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn on a pty");
        Tty {
            master: File::from(master),
            child,
            out: Vec::new(),
            seen: 0,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
    }

    /// Reads what arrives within `wait`; false at end of output.
    fn pump(&mut self, wait: Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = wait.as_millis().clamp(1, 1000) as i32;
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, ms) } != 1 {
            return true;
        }
        let mut buf = [0u8; 4096];
        match self.master.read(&mut buf) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.out.extend_from_slice(&buf[..n]);
                true
            }
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }

    /// Waits for `needle` in the output after the last match.
    #[track_caller]
    fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + EXPECT;
        loop {
            let tail = String::from_utf8_lossy(&self.out[self.seen..]).into_owned();
            if let Some(i) = tail.find(needle) {
                self.seen += tail[..i + needle.len()].len();
                return;
            }
            if Instant::now() > deadline || !self.pump(Duration::from_millis(100)) {
                panic!("{needle:?} not seen in {:?}", self.text());
            }
        }
    }

    /// A new window size: the kernel sends SIGWINCH to the terminal's
    /// foreground process group.
    fn resize(&self, rows: u16, cols: u16) {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize.
        assert_eq!(
            unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) },
            0
        );
    }

    /// The command's exit code (output is drained meanwhile).
    #[track_caller]
    fn exit_code(&mut self) -> i32 {
        let deadline = Instant::now() + EXPECT;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                while self.pump(Duration::from_millis(10)) && self.out.len() < 1 << 20 {}
                return st.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "still running: {:?}",
                self.text()
            );
            self.pump(Duration::from_millis(50));
        }
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn berth_cmd(d: &Berthd, args: &[&str]) -> Command {
    let mut c = Command::new(bin_dir().join("berth"));
    c.arg("-H").arg(d.host()).args(args);
    c
}

fn docker_cmd(d: &Berthd, args: &[&str]) -> Command {
    let mut c = Command::new("docker");
    c.env("DOCKER_HOST", d.host())
        .env("DOCKER_CONFIG", d.dir.path().join("docker-config"))
        .args(args);
    c
}

fn running(d: &Berthd, name: &str) -> bool {
    d.inspect(name)["State"]["Running"] == true
}

#[test]
fn exec_output_exit_codes_and_options() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.berth(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"])
        .ok();
    let r = d.berth(&["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 7"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (7, "out\n", "err\n")
    );
    let r = d
        .docker(&["exec", "box", "sh", "-c", "echo out; echo err >&2"])
        .ok();
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("out\n", "err\n"));
    for run in [
        d.berth(&["exec", "box", "nosuch"]),
        d.docker(&["exec", "box", "nosuch"]),
    ] {
        assert_eq!(run.code, 127, "{run:?}");
        assert!(
            run.stdout.contains(
                "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH"
            ),
            "{run:?}"
        );
    }
    assert_eq!(d.berth(&["exec", "box", "/etc"]).code, 126);
    assert_eq!(d.docker(&["exec", "box", "/etc"]).code, 126);
    let r = d.berth(&["exec", "-w", "/nonexist", "box", "pwd"]);
    assert_eq!(r.code, 126, "{r:?}");
    assert!(r.stdout.contains("chdir to cwd (\"/nonexist\")"), "{r:?}");
    let r = d.berth(&["exec", "-u", "nosuchuser", "box", "id"]);
    assert_eq!(r.code, 126, "{r:?}");
    assert!(r.stdout.contains("unable to find user nosuchuser"), "{r:?}");

    // -u, -w, -e, --env-file: the container's environment, then the exec's.
    let env_file = d.dir.path().join("exec.env");
    std::fs::write(&env_file, "FROMFILE=1\n").unwrap();
    let script = "id -u; pwd; echo $FOO $FROMFILE $HOSTNAME; cat /proc/self/cgroup | head -1";
    let r = d
        .berth(&[
            "exec",
            "-u",
            "nobody",
            "-w",
            "/tmp",
            "-e",
            "FOO=bar",
            "--env-file",
            env_file.to_str().unwrap(),
            "box",
            "sh",
            "-c",
            script,
        ])
        .ok();
    let id = d.inspect("box")["Id"].as_str().unwrap().to_string();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[..3],
        ["65534", "/tmp", &format!("bar 1 {}", &id[..12])]
    );
    // In the container's cgroup namespace, whose root is its cgroup.
    assert!(lines[3].ends_with(":/"), "{r:?}");
    let r = d
        .docker(&[
            "exec",
            "-u",
            "1000:1000",
            "-e",
            "A=1",
            "box",
            "sh",
            "-c",
            "id; echo $A",
        ])
        .ok();
    assert_eq!(r.stdout, "uid=1000 gid=1000 groups=1000\n1\n");

    // -i: our stdin to the process; its end closes the process's stdin.
    let r = d
        .berth_stdin(&["exec", "-i", "box", "cat"], b"piped in\n")
        .ok();
    assert_eq!(r.stdout, "piped in\n");
    // -d: in the background.
    let r = d
        .berth(&["exec", "-d", "box", "sh", "-c", "echo done > /tmp/flag"])
        .ok();
    assert_eq!(r.stdout, "");
    assert!(d.eventually(Duration::from_secs(5), || {
        d.berth(&["exec", "box", "cat", "/tmp/flag"]).stdout == "done\n"
    }));
    // The exec'd processes are in the container's PID namespace.
    let r = d.berth(&["exec", "box", "cat", "/proc/1/comm"]).ok();
    assert_eq!(r.stdout, "sleep\n");
    // None of this stopped the container.
    assert!(running(&d, "box"));
}

#[test]
fn exec_into_a_container_that_is_not_running_fails() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let id = d
        .berth(&["create", "--name", "idle", "busybox", "sleep", "1000"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let want = format!("Error response from daemon: container {id} is not running");
    for r in [
        d.berth(&["exec", "idle", "true"]),
        d.docker(&["exec", "idle", "true"]),
    ] {
        assert_eq!(r.code, 1, "{r:?}");
        assert_eq!(r.stderr.trim(), want);
    }
    let r = d.berth(&["exec", "nosuch", "true"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr.trim(),
        "Error response from daemon: No such container: nosuch"
    );
    // An exec whose container stopped meanwhile cannot start either.
    d.berth(&["start", "idle"]).ok();
    let (status, body) = d.request(
        "POST",
        "/containers/idle/exec",
        Some(r#"{"Cmd":["true"],"AttachStdout":true}"#),
    );
    assert_eq!(status, 201, "{body}");
    let exec_id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();
    d.berth(&["kill", "idle"]).ok();
    assert!(d.eventually(Duration::from_secs(5), || !running(&d, "idle")));
    let (status, body) = d.request(
        "POST",
        &format!("/exec/{exec_id}/start"),
        Some(r#"{"Detach":true}"#),
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("is not running"), "{body}");
}

#[test]
fn exec_instances_are_inspectable_and_emit_events() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let id = d
        .berth(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let json = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap();
    let (status, body) = d.request(
        "POST",
        "/v1.41/containers/box/exec",
        Some(r#"{"Cmd":["sh","-c","sleep 0.3; exit 3"],"AttachStdout":true,"User":"nobody"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let exec_id = json(&body)["Id"].as_str().unwrap().to_string();
    let (status, body) = d.get(&format!("/exec/{exec_id}/json"));
    assert_eq!(status, 200);
    let v = json(&body);
    assert_eq!(v["ID"], exec_id.as_str());
    assert_eq!(v["ContainerID"], id.as_str());
    assert_eq!(v["Running"], false);
    assert_eq!(v["ExitCode"], serde_json::Value::Null);
    assert_eq!(v["ProcessConfig"]["entrypoint"], "sh");
    assert_eq!(v["ProcessConfig"]["arguments"][1], "sleep 0.3; exit 3");
    assert_eq!(v["ProcessConfig"]["user"], "nobody");
    assert_eq!(
        (v["OpenStdout"].clone(), v["OpenStdin"].clone()),
        (true.into(), false.into())
    );
    let (status, _) = d.request(
        "POST",
        &format!("/exec/{exec_id}/start"),
        Some(r#"{"Detach":true}"#),
    );
    assert_eq!(status, 200);
    let v = json(&d.get(&format!("/exec/{exec_id}/json")).1);
    assert_eq!(v["Running"], true);
    assert!(v["Pid"].as_i64().unwrap() > 0);
    assert!(d.eventually(Duration::from_secs(5), || {
        json(&d.get(&format!("/exec/{exec_id}/json")).1)["ExitCode"] == 3
    }));
    let (status, body) = d.request(
        "POST",
        &format!("/exec/{exec_id}/start"),
        Some(r#"{"Detach":true}"#),
    );
    assert_eq!(status, 409);
    assert!(body.contains("has already run"), "{body}");
    let (status, body) = d.get("/exec/nope/json");
    assert_eq!(status, 404);
    assert!(body.contains("No such exec instance: nope"), "{body}");
    let (status, _) = d.request("POST", "/containers/box/exec", Some(r#"{"Cmd":[]}"#));
    assert_eq!(status, 400);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (_, body) = d.get(&format!("/events?since=0&until={}", now + 1));
    let events: Vec<String> = body
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|e| {
            let a = &e["Actor"]["Attributes"];
            let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
            format!(
                "{}|{}|{}",
                s(&e["Action"]),
                s(&a["execID"]),
                s(&a["exitCode"])
            )
        })
        .collect();
    for want in [
        format!("exec_create: sh -c sleep 0.3; exit 3|{exec_id}|"),
        format!("exec_start: sh -c sleep 0.3; exit 3|{exec_id}|"),
        format!("exec_die|{exec_id}|3"),
    ] {
        assert!(events.contains(&want), "{want} not in {events:?}");
    }
    assert!(running(&d, "box"));
}

#[test]
fn run_it_detach_attach_resize_and_exec_it() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let mut t = Tty::spawn(
        berth_cmd(&d, &["run", "-it", "--name", "term", "busybox", "sh"]),
        33,
        101,
    );
    t.expect("/ # ");
    t.send(b"tty; stty size\n");
    // The container's own devpts, and the size of our terminal.
    t.expect("/dev/pts/0\r\n33 101\r\n");
    // Job control works on the terminal.
    t.send(b"sleep 300 &\njobs\n");
    t.expect("Running");
    t.send(b"kill %1; echo killed-$((40+2))\n");
    t.expect("killed-42");
    t.resize(44, 132);
    std::thread::sleep(Duration::from_millis(300));
    t.send(b"stty size\n");
    t.expect("44 132\r\n");
    t.send(b"\x10\x11");
    assert_eq!(t.exit_code(), 0, "{}", t.text());
    assert!(running(&d, "term"), "detaching stopped the container");

    // Attach again: input still reaches the shell; detach again.
    let mut a = Tty::spawn(berth_cmd(&d, &["attach", "term"]), 25, 90);
    a.send(b"echo again-$((1+1)); stty size\n");
    a.expect("again-2\r\n25 90\r\n");
    a.send(b"\x10\x11");
    assert_eq!(a.exit_code(), 1);
    assert!(a.text().contains("read escape sequence"), "{}", a.text());
    assert!(running(&d, "term"));

    // exec -it: its own terminal in the container; its exit code.
    let mut x = Tty::spawn(berth_cmd(&d, &["exec", "-it", "term", "sh"]), 20, 70);
    x.expect("/ # ");
    x.send(b"tty; stty size\n");
    x.expect("/dev/pts/1\r\n20 70\r\n");
    x.resize(21, 71);
    std::thread::sleep(Duration::from_millis(300));
    x.send(b"stty size; exit 6\n");
    x.expect("21 71\r\n");
    assert_eq!(x.exit_code(), 6);
    assert!(running(&d, "term"), "the exec's end stopped the container");

    // The shell that is PID 1 exits: the container stops with its code.
    let mut a = Tty::spawn(berth_cmd(&d, &["attach", "term"]), 25, 90);
    a.send(b"exit 3\n");
    assert_eq!(a.exit_code(), 3, "{}", a.text());
    let state = d.inspect("term")["State"].clone();
    assert_eq!(
        (state["Status"].as_str(), state["ExitCode"].as_i64()),
        (Some("exited"), Some(3))
    );
}

#[test]
fn docker_cli_drives_the_terminal_too() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let mut t = Tty::spawn(
        docker_cmd(&d, &["run", "-it", "--name", "dt", "busybox", "sh"]),
        30,
        100,
    );
    t.expect("/ # ");
    t.send(b"tty; stty size\n");
    t.expect("/dev/pts/0\r\n30 100\r\n");
    t.send(b"\x10\x11");
    assert_eq!(t.exit_code(), 0, "{}", t.text());
    assert!(running(&d, "dt"));
    let mut x = Tty::spawn(docker_cmd(&d, &["exec", "-it", "dt", "sh"]), 24, 80);
    x.send(b"tty; exit 4\n");
    x.expect("/dev/pts/1");
    assert_eq!(x.exit_code(), 4);
    // Custom detach keys.
    let mut a = Tty::spawn(
        docker_cmd(&d, &["attach", "--detach-keys", "ctrl-a,x", "dt"]),
        24,
        80,
    );
    a.send(b"echo via-$((2*3))\n");
    a.expect("via-6");
    a.send(b"\x01x");
    assert_eq!(a.exit_code(), 1);
    assert!(running(&d, "dt"));
    let mut a = Tty::spawn(docker_cmd(&d, &["attach", "dt"]), 24, 80);
    a.send(b"exit 5\n");
    assert_eq!(a.exit_code(), 5);
}

#[test]
fn several_attached_clients_see_the_same_output() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.berth(&["run", "-dit", "--name", "shared", "busybox", "sh"])
        .ok();
    let watcher = || {
        berth_cmd(&d, &["attach", "--no-stdin", "shared"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (w1, w2) = (watcher(), watcher());
    std::thread::sleep(Duration::from_millis(500));
    let mut typist = Tty::spawn(berth_cmd(&d, &["attach", "shared"]), 24, 80);
    typist.send(b"echo shared-$((6*7))\n");
    typist.expect("shared-42");
    // The shell ends: every attached client sees its output and its end.
    typist.send(b"exit 2\n");
    assert_eq!(typist.exit_code(), 2);
    for w in [w1, w2] {
        let out = w.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("shared-42"), "{text}");
        assert_eq!(out.status.code(), Some(2));
    }
}
