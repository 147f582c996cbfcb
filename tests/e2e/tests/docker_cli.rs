//! The real docker CLI 28 against berthd: the commands a Docker user types
//! every day work unchanged (DOCKER_HOST pointing at the test daemon).

use berth_e2e::{can_run, Berthd};
use std::time::Duration;

#[test]
fn version_and_info_through_docker() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let v = d
        .docker(&[
            "version",
            "--format",
            "{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}",
        ])
        .ok();
    assert_eq!(v.stdout.trim(), "1.50 1.24 linux");
    let info = d
        .docker(&[
            "info",
            "--format",
            "{{.Containers}} {{.Images}} {{.Driver}} {{.LoggingDriver}} {{.CgroupVersion}}",
        ])
        .ok();
    let f: Vec<&str> = info.stdout.split_whitespace().collect();
    assert_eq!(f[..4], ["0", "1", "overlay2", "json-file"], "{info:?}");
    let ours = d
        .berth(&[
            "info",
            "--format",
            "{{.Containers}} {{.Images}} {{.Driver}}",
        ])
        .ok();
    assert_eq!(ours.stdout.trim(), "0 1 overlay2");
    // Every route also answers under a version prefix, and too-old versions are refused.
    assert_eq!(d.get("/v1.24/version").0, 200);
    assert_eq!(d.get("/v1.12/version").0, 400);
}

#[test]
fn logs_follow_streams_until_the_container_exits() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "talker",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3; do echo line $i; sleep 0.3; done",
    ])
    .ok();
    // `logs -f` ends when the container exits.
    let out = d.docker(&["logs", "-f", "talker"]).ok().stdout;
    assert_eq!(out, "line 1\nline 2\nline 3\n");
    let t = d
        .berth(&["logs", "-t", "--tail", "1", "talker"])
        .ok()
        .stdout;
    assert!(
        t.ends_with("Z line 3\n") && t.len() == "2026-11-23T16:26:19.123456789Z line 3\n".len(),
        "{t}"
    );
}

#[test]
fn inspect_rm_force_and_wait_through_docker() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let id = d
        .docker(&[
            "run", "-d", "-l", "app=web", "--name", "svc", "busybox", "sleep", "100",
        ])
        .ok()
        .stdout;
    let id = id.trim();
    let f = d.docker(&["inspect", "-f", "{{.State.Status}} {{.Name}} {{index .Config.Labels \"app\"}} {{.HostConfig.NetworkMode}}", "svc"]).ok();
    assert_eq!(f.stdout.trim(), "running /svc web default");
    let ps = d.docker(&["ps", "-q", "--filter", "label=app=web"]).ok();
    assert_eq!(ps.stdout.trim(), &id[..12]);
    assert_eq!(
        d.docker(&["rm", "svc"]).code,
        1,
        "rm of a running container must be refused"
    );
    assert_eq!(d.docker(&["rm", "-f", "svc"]).ok().stdout, "svc\n");
    let r = d.docker(&["inspect", "svc"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("No such object: svc"), "{r:?}");
    d.docker(&[
        "run", "-d", "--name", "short", "busybox", "sh", "-c", "exit 7",
    ])
    .ok();
    assert_eq!(d.docker(&["wait", "short"]).ok().stdout, "7\n");
}

#[test]
fn oom_killed_is_reported() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    // Fill a tmpfs-backed string until the 16 MB limit kills the shell.
    let r = d.berth(&[
        "run",
        "--name",
        "hog",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "busybox",
        "sh",
        "-c",
        "x=a; while true; do x=$x$x; done",
    ]);
    assert_eq!(r.code, 137, "{r:?}");
    assert!(
        d.eventually(Duration::from_secs(3), || d.inspect("hog")["State"]
            ["OOMKilled"]
            == true)
    );
}
