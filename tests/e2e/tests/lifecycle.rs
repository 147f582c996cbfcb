//! What must survive and what must go: a berthd crash loses nothing, and
//! `rm -f` releases every mount and cgroup.

use berth_e2e::{can_run, cgroups_of, mounts_containing, Berthd};
use std::time::Duration;

fn log_lines(d: &Berthd, id: &str) -> usize {
    let p = d
        .data_root()
        .join("containers")
        .join(id)
        .join(format!("{id}-json.log"));
    std::fs::read_to_string(p)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn sigkill_of_berthd_loses_nothing() {
    if !can_run() {
        return;
    }
    let mut d = Berthd::start();
    let id = d
        .berth(&[
            "run",
            "-d",
            "--name",
            "ticker",
            "busybox",
            "sh",
            "-c",
            "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done",
        ])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert!(d.eventually(Duration::from_secs(5), || log_lines(&d, &id) > 2));
    d.kill9();
    let before = log_lines(&d, &id);
    std::thread::sleep(Duration::from_millis(800));
    let after = log_lines(&d, &id);
    assert!(
        after > before,
        "log stopped growing while berthd was down ({before} → {after})"
    );
    d.restart();
    let ps = d.berth(&["ps"]).ok().stdout;
    assert!(ps.contains("ticker") && ps.contains("Up "), "{ps}");
    let logs = d.berth(&["logs", "--tail", "3", "ticker"]).ok().stdout;
    assert_eq!(logs.lines().count(), 3, "{logs}");
    let docker_logs = d.docker(&["logs", "ticker"]).ok().stdout;
    assert!(
        docker_logs.lines().count() >= after,
        "{}",
        docker_logs.lines().count()
    );
    // sh as PID 1 ignores SIGTERM: stop ends it with SIGKILL after the timeout.
    d.berth(&["stop", "-t", "1", "ticker"]).ok();
    assert_eq!(d.inspect("ticker")["State"]["Status"], "exited");
    assert_eq!(d.inspect("ticker")["State"]["ExitCode"], 137);
    assert_eq!(d.berth(&["wait", "ticker"]).ok().stdout, "137\n");
}

#[test]
fn container_whose_shim_died_while_berthd_was_down_is_exited() {
    if !can_run() {
        return;
    }
    let mut d = Berthd::start();
    let id = d
        .berth(&["run", "-d", "busybox", "sleep", "1000"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let pid = d.inspect(&id)["State"]["Pid"].as_i64().expect("pid") as i32;
    d.kill9();
    // SAFETY: the container's init, which this test started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(300));
    d.restart();
    assert!(
        d.eventually(Duration::from_secs(5), || d.inspect(&id)["State"]["Status"]
            == "exited")
    );
    let ps = d.berth(&["ps", "-a"]).ok().stdout;
    assert!(ps.contains("Exited ("), "{ps}");
}

#[test]
fn rm_force_releases_mounts_and_cgroups() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let id = d
        .berth(&["run", "-d", "busybox", "sleep", "1000"])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert!(
        !cgroups_of(&id).is_empty(),
        "running container has no cgroup"
    );
    let pid = d.inspect(&id)["State"]["Pid"].as_i64().expect("pid");
    let inside =
        std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).expect("container mountinfo");
    assert!(
        inside.contains("overlay"),
        "container root is not overlayfs"
    );
    d.berth(&["rm", "-f", &id]).ok();
    assert!(
        mounts_containing(&id).is_empty(),
        "{:?}",
        mounts_containing(&id)
    );
    assert!(
        d.eventually(Duration::from_secs(3), || cgroups_of(&id).is_empty()),
        "{:?}",
        cgroups_of(&id)
    );
    assert!(!d.data_root().join("containers").join(&id).exists());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "container init still alive"
    );
}

/// The PID of the shim serving container `id` (found by its command line).
fn shim_pid(id: &str) -> Option<i32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        (cmd.contains("berth-shim") && cmd.contains(&format!("--id {id}"))).then_some(pid)
    })
}

#[test]
fn killed_shim_leaves_no_orphan_and_no_cgroup() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let id = d
        .berth(&["run", "-d", "busybox", "sleep", "1000"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let init = d.inspect(&id)["State"]["Pid"].as_i64().expect("pid");
    let shim = shim_pid(&id).expect("shim process");
    assert!(!cgroups_of(&id).is_empty());
    // SAFETY: the shim this test's daemon started for this container.
    unsafe { libc::kill(shim, libc::SIGKILL) };
    assert!(
        d.eventually(Duration::from_secs(5), || d.inspect(&id)["State"]["Status"]
            == "exited")
    );
    assert!(
        d.eventually(Duration::from_secs(5), || !std::path::Path::new(&format!(
            "/proc/{init}/cmdline"
        ))
        .exists()
            || std::fs::read(format!("/proc/{init}/cmdline"))
                .map(|c| c.is_empty())
                .unwrap_or(true)),
        "the container's init outlived its shim"
    );
    assert!(
        d.eventually(Duration::from_secs(3), || cgroups_of(&id).is_empty()),
        "{:?}",
        cgroups_of(&id)
    );
    d.berth(&["rm", &id]).ok();
}
