//! `run`, exit codes, detached containers, logs, ps, stop, rm — through
//! `berth` and through the real docker CLI.

use berth_e2e::{can_run, Berthd};
use std::time::Duration;

#[test]
fn run_prints_output_through_berth_and_docker() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let r = d
        .berth(&["run", "--rm", "busybox", "echo", "hello from berth"])
        .ok();
    assert_eq!(r.stdout, "hello from berth\n");
    let r = d
        .docker(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "echo out; echo err >&2",
        ])
        .ok();
    assert_eq!(r.stdout, "out\n");
    assert_eq!(r.stderr, "err\n");
    assert_eq!(
        d.berth(&["ps", "-aq"]).ok().stdout,
        "",
        "--rm left a container"
    );
}

#[test]
fn run_exit_codes_follow_docker() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    assert_eq!(
        d.berth(&["run", "--rm", "busybox", "sh", "-c", "exit 3"])
            .code,
        3
    );
    let r = d.berth(&["run", "--rm", "busybox", "no-such-cmd"]);
    assert_eq!(r.code, 127, "{r:?}");
    assert!(r.stderr.contains("executable file not found"), "{r:?}");
    let r = d.docker(&["run", "--rm", "busybox", "no-such-cmd"]);
    assert_eq!(r.code, 127, "{r:?}");
    let r = d.berth(&["run", "--rm", "busybox", "/etc"]);
    assert_eq!(r.code, 126, "{r:?}");
    let r = d.berth(&["run", "--rm", "no-such-image"]);
    assert_eq!(r.code, 125, "{r:?}");
    let r = d.berth(&["run", "--no-such-flag", "busybox"]);
    assert_eq!(r.code, 125, "{r:?}");
    assert_eq!(d.berth(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn detached_container_logs_ps_stop_rm() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let id = d
        .berth(&[
            "run",
            "-d",
            "--name",
            "web",
            "busybox",
            "sh",
            "-c",
            "echo started; echo oops >&2; exec sleep 1000",
        ])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert_eq!(id.len(), 64, "{id}");
    assert!(
        d.eventually(Duration::from_secs(5), || d.berth(&["logs", "web"]).stdout
            == "started\n")
    );
    let logs = d.berth(&["logs", "web"]).ok();
    assert_eq!(logs.stderr, "oops\n");
    let ps = d.berth(&["ps"]).ok().stdout;
    let line = ps.lines().nth(1).expect("one container");
    assert!(line.starts_with(&id[..12]), "{ps}");
    assert!(line.contains("Up "), "{ps}");
    assert!(line.ends_with("web"), "{ps}");
    let state = d.inspect("web");
    assert_eq!(state["State"]["Status"], "running");
    assert_eq!(state["Config"]["Hostname"], &id[..12]);
    // sleep as PID 1 ignores SIGTERM: stop must fall back to SIGKILL.
    d.berth(&["stop", "-t", "1", "web"]).ok();
    let state = d.inspect("web");
    assert_eq!(state["State"]["Status"], "exited");
    assert_eq!(state["State"]["ExitCode"], 137);
    let r = d.berth(&["rm", "web"]).ok();
    assert_eq!(r.stdout, "web\n");
    assert_eq!(d.berth(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn container_sees_docker_environment() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let script = "cat /etc/hostname; test -f /.dockerenv && echo dockerenv; echo pid=$$; grep -c localhost /etc/hosts; id -u; cat /proc/self/status | grep CapEff";
    let r = d
        .berth(&["run", "--rm", "-h", "box1", "busybox", "sh", "-c", script])
        .ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "box1");
    assert_eq!(lines[1], "dockerenv");
    assert_eq!(lines[2], "pid=1");
    assert_eq!(lines[4], "0");
    // Docker's default capability set.
    assert_eq!(
        lines[5].split_whitespace().nth(1),
        Some("00000000a80425fb"),
        "{r:?}"
    );
    let r = d
        .berth(&[
            "run",
            "--rm",
            "-u",
            "nobody",
            "-e",
            "A=1",
            "-w",
            "/tmp",
            "busybox",
            "sh",
            "-c",
            "id -u; echo $A; pwd",
        ])
        .ok();
    assert_eq!(r.stdout, "65534\n1\n/tmp\n");
}

#[test]
fn resource_limits_reach_the_cgroup() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let id = d
        .berth(&[
            "run",
            "-d",
            "-m",
            "64m",
            "--pids-limit",
            "50",
            "busybox",
            "sleep",
            "100",
        ])
        .ok()
        .stdout
        .trim()
        .to_string();
    let cgs = berth_e2e::cgroups_of(&id);
    assert!(!cgs.is_empty(), "no cgroup for {id}");
    let mem = std::path::Path::new("/sys/fs/cgroup/memory/berth")
        .join(&id)
        .join("memory.limit_in_bytes");
    if mem.exists() {
        assert_eq!(
            std::fs::read_to_string(mem).unwrap().trim(),
            (64 * 1024 * 1024).to_string()
        );
    }
    d.berth(&["rm", "-f", &id]).ok();
}

#[test]
fn init_runs_as_pid_one_and_reaps() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let r = d
        .berth(&[
            "run",
            "--rm",
            "--init",
            "busybox",
            "sh",
            "-c",
            "cat /proc/1/comm; echo $$",
        ])
        .ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "docker-init", "{r:?}");
    assert_ne!(lines[1], "1", "the command must not be PID 1 with --init");
    // The exit code of the command passes through the init.
    assert_eq!(
        d.berth(&["run", "--rm", "--init", "busybox", "sh", "-c", "exit 4"])
            .code,
        4
    );
}
