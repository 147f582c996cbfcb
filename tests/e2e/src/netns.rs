//! Network namespaces for the e2e harness. Every test daemon runs in a
//! namespace of its own (its bridges, nftables table and host ports cannot
//! collide with another daemon's or the host's), persisted as a bind mount
//! of the namespace file under the test's directory (`unshare --net=FILE`)
//! and removed with it. `Outside` is a second namespace linked to the
//! daemon's by a veth pair, standing in for "the rest of the world": the
//! daemon's namespace routes through it, so forwarded and NATed traffic can
//! be tested without touching the host's firewall.

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Run;

/// The daemon namespace's address on the link to `Outside`.
pub const HOST_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
/// The outside namespace's address (the daemon namespace's default gateway).
pub const OUTSIDE_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

/// A persistent network namespace with `lo` up.
pub struct Netns {
    path: PathBuf,
}

fn must(cmd: &mut Command) {
    let out = cmd.output().expect("run namespace tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Netns {
    /// Creates a namespace persisted at `path` (a file is created there).
    pub fn create(path: PathBuf) -> Netns {
        File::create(&path).expect("namespace file");
        let ns = Netns { path };
        must(
            Command::new("unshare")
                .arg(format!("--net={}", ns.path.display()))
                .arg("true"),
        );
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `nsenter --net=<ns>` for a command run in the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net={}", self.path.display()))
            .arg("--")
            .arg(program);
        c
    }

    /// Runs `ip ARGS` in the namespace; panics on failure.
    pub fn ip(&self, args: &[&str]) {
        must(self.command("ip").args(args));
    }

    /// Runs a command in the namespace and collects its output.
    pub fn exec(&self, program: &str, args: &[&str]) -> Run {
        self.command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run command in namespace")
            .into()
    }

    /// Runs `f` on a thread that has joined the namespace (sockets it opens
    /// stay there).
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let file = File::open(&self.path).expect("open namespace");
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: setns on a namespace fd we own; it only changes
                // this thread's network namespace.
                let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            })
            .join()
            .expect("namespace thread")
        })
    }

    /// Links `self` (the daemon's namespace) to `outside` by a veth pair:
    /// `HOST_ADDR` here with the default route via `OUTSIDE_ADDR` there.
    pub fn link_outside(&self, outside: &Netns) {
        let peer = outside.path.display().to_string();
        self.ip(&[
            "link", "add", "bt-up", "type", "veth", "peer", "name", "bt-out", "netns", &peer,
        ]);
        self.ip(&["addr", "add", &format!("{HOST_ADDR}/24"), "dev", "bt-up"]);
        self.ip(&["link", "set", "bt-up", "up"]);
        self.ip(&["route", "add", "default", "via", &OUTSIDE_ADDR.to_string()]);
        outside.ip(&[
            "addr",
            "add",
            &format!("{OUTSIDE_ADDR}/24"),
            "dev",
            "bt-out",
        ]);
        outside.ip(&["link", "set", "bt-out", "up"]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_file(&self.path);
    }
}
