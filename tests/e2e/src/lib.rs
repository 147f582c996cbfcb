//! End-to-end harness: starts a real `berthd` on a private data root, exec
//! root and socket, runs `berth` and the real `docker` CLI against it, and
//! tears everything down (containers, mounts, the daemon) even when a test
//! fails. Tests need root and the busybox fixture (`fixtures/build-busybox.sh`).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Where cargo put the binaries: next to the test executable's `deps/` dir.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_path_buf()
}

/// The docker-archive of the busybox fixture.
pub fn fixture_image() -> PathBuf {
    if let Ok(p) = std::env::var("BERTH_TEST_IMAGE") {
        return p.into();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/out/busybox.tar")
}

/// Returns false (and says why) when the e2e tests cannot run here.
pub fn can_run() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("e2e: skipped, needs root");
        return false;
    }
    if !fixture_image().exists() {
        panic!(
            "e2e: fixture {} missing: run fixtures/build-busybox.sh",
            fixture_image().display()
        );
    }
    true
}

pub mod netns;

pub struct Berthd {
    child: Option<Child>,
    /// The "rest of the world" of `start_with_outside`.
    pub outside: Option<netns::Netns>,
    /// The daemon's own network namespace (dropped before `dir`).
    pub netns: netns::Netns,
    pub dir: tempfile::TempDir,
    pub sock: PathBuf,
}

/// Output of a CLI run, with helpers for assertions.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "command failed: {self:?}");
        self
    }
}

impl Berthd {
    /// Starts a daemon with a loaded busybox image, in a network namespace
    /// of its own (see `netns`).
    pub fn start() -> Berthd {
        Self::launch(false)
    }

    /// `start`, with the daemon's namespace routed through an `outside`
    /// namespace (`netns::HOST_ADDR` ↔ `netns::OUTSIDE_ADDR`), for tests of
    /// forwarded traffic.
    pub fn start_with_outside() -> Berthd {
        Self::launch(true)
    }

    fn launch(with_outside: bool) -> Berthd {
        let dir = tempfile::Builder::new()
            .prefix("bt")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let sock = dir.path().join("b.sock");
        let ns = netns::Netns::create(dir.path().join("netns"));
        let outside = with_outside.then(|| {
            let o = netns::Netns::create(dir.path().join("outside"));
            ns.link_outside(&o);
            o
        });
        let mut d = Berthd {
            child: None,
            outside,
            netns: ns,
            dir,
            sock,
        };
        d.spawn();
        d.berth(&[
            "load",
            "-q",
            "-i",
            fixture_image().to_str().expect("utf-8 path"),
        ])
        .ok();
        d
    }

    pub fn data_root(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("berthd.log"))
            .expect("log file");
        let child = self
            .netns
            .command(bin_dir().join("berthd").to_str().expect("utf-8 path"))
            .arg("-H")
            .arg(format!("unix://{}", self.sock.display()))
            .arg("--data-root")
            .arg(self.data_root())
            .arg("--exec-root")
            .arg(self.dir.path().join("run"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log fd"))
            .stderr(log)
            .spawn()
            .expect("start berthd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.get("/_ping").0 == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("berthd did not come up: {}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("berthd.log")).unwrap_or_default()
    }

    /// SIGKILLs the daemon (containers and shims must survive).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the daemon again on the same state.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    pub fn berth(&self, args: &[&str]) -> Run {
        Command::new(bin_dir().join("berth"))
            .arg("-H")
            .arg(self.host())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run berth")
            .into()
    }

    /// `berth` with bytes on stdin.
    pub fn berth_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        let mut child = Command::new(bin_dir().join("berth"))
            .arg("-H")
            .arg(self.host())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run berth");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait berth");
        let _ = writer.join();
        out.into()
    }

    /// The real docker CLI against this daemon.
    pub fn docker(&self, args: &[&str]) -> Run {
        Command::new("docker")
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run docker")
            .into()
    }

    /// A raw HTTP request on the socket: (status, body).
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let Ok(mut s) = UnixStream::connect(&self.sock) else {
            return (0, String::new());
        };
        let body = body.unwrap_or("");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        if s.write_all(req.as_bytes()).is_err() {
            return (0, String::new());
        }
        let mut resp = String::new();
        let _ = s.read_to_string(&mut resp);
        let status = resp
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = resp
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, None)
    }

    /// Inspect a container as JSON.
    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let out = self.berth(&["inspect", name]).ok();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("inspect JSON");
        v[0].clone()
    }

    /// Polls `f` until it returns true or the timeout passes.
    pub fn eventually(&self, timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Berthd {
    fn drop(&mut self) {
        if self.child.is_some() {
            let ids = self.berth(&["ps", "-aq"]).stdout;
            for id in ids.split_whitespace() {
                let _ = self.berth(&["rm", "-f", id]);
            }
        }
        if let Some(mut c) = self.child.take() {
            // SAFETY: plain signal to our own child.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let _ = c.wait();
        }
        // Anything a failed test left mounted under our root.
        let root = self.dir.path().display().to_string();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut targets: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(4))
            .filter(|m| m.starts_with(&root))
            .collect();
        targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
        for t in targets {
            let _ = Command::new("umount").arg("-l").arg(t).status();
        }
    }
}

/// Lines of /proc/self/mountinfo that mention `needle`.
pub fn mounts_containing(needle: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

/// cgroup directories named after a container, in any hierarchy.
pub fn cgroups_of(id: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
        for h in rd.flatten() {
            let p = h.path().join("berth").join(id);
            if p.exists() {
                found.push(p);
            }
        }
    }
    let v2 = Path::new("/sys/fs/cgroup/berth").join(id);
    if v2.exists() {
        found.push(v2);
    }
    found
}
