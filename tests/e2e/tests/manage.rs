//! Changing containers in place and cleaning up: pause/unpause (a frozen
//! process stops counting), rename, update (limits reach the cgroup),
//! restart policies (retries, back-off, berthd restarts), prune and the
//! `events` command — through `berth` and the real docker CLI.

use berth_e2e::{can_run, cgroups_of, Berthd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Lines the container wrote to its json-file log so far.
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

/// The container's cgroup directory that has `file` (any hierarchy).
fn cgroup_file(id: &str, file: &str) -> Option<PathBuf> {
    cgroups_of(id)
        .into_iter()
        .map(|d| d.join(file))
        .find(|p| p.exists())
}

fn read_cgroup(id: &str, v1: &str, v2: &str) -> String {
    let p = cgroup_file(id, v1)
        .or_else(|| cgroup_file(id, v2))
        .unwrap_or_else(|| panic!("no {v1} or {v2} for {id}"));
    std::fs::read_to_string(p).unwrap().trim().to_string()
}

fn run_id(d: &Berthd, args: &[&str]) -> String {
    d.berth(args).ok().stdout.trim().to_string()
}

fn status(d: &Berthd, name: &str) -> String {
    d.inspect(name)["State"]["Status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn restart_count(d: &Berthd, name: &str) -> i64 {
    d.inspect(name)["RestartCount"].as_i64().unwrap_or(-1)
}

/// `seconds.nanoseconds` now, for `--since` / `--until`.
fn now_ts() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}.{:09}", t.as_secs(), t.subsec_nanos())
}

/// Container actions of `events` lines for one name, in order.
fn actions(lines: &str) -> Vec<String> {
    lines
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect()
}

#[test]
fn pause_freezes_and_unpause_resumes() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let since = now_ts();
    let id = run_id(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "counter",
            "busybox",
            "sh",
            "-c",
            "i=0; while true; do i=$((i+1)); echo $i; sleep 0.05; done",
        ],
    );
    assert!(d.eventually(Duration::from_secs(5), || log_lines(&d, &id) > 3));

    let r = d.berth(&["pause", "counter"]).ok();
    assert_eq!(r.stdout, "counter\n");
    let ps = d
        .berth(&["ps", "--filter", "name=counter", "--format", "{{.Status}}"])
        .ok()
        .stdout;
    assert!(
        ps.starts_with("Up ") && ps.trim_end().ends_with("(Paused)"),
        "{ps}"
    );
    let ps_paused = d
        .berth(&["ps", "-q", "--filter", "status=paused"])
        .ok()
        .stdout;
    assert_eq!(ps_paused.trim(), &id[..12]);
    let st = &d.inspect("counter")["State"];
    assert_eq!(st["Status"], "paused");
    assert_eq!(st["Paused"], true);
    assert_eq!(st["Running"], true);
    let frozen = read_cgroup(&id, "freezer.state", "cgroup.freeze");
    assert!(frozen == "FROZEN" || frozen == "1", "{frozen}");

    // A frozen process stops counting.
    std::thread::sleep(Duration::from_millis(200));
    let n1 = log_lines(&d, &id);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(log_lines(&d, &id), n1, "the counter grew while paused");

    let r = d.berth(&["pause", "counter"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!("Error response from daemon: container {id} is already paused\n")
    );
    let r = d.berth(&["rm", "counter"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("container is paused and must be unpaused first"),
        "{r:?}"
    );

    let r = d.berth(&["start", "counter"]);
    assert_eq!(
        r.stderr,
        "Error response from daemon: cannot start a paused container, try unpause instead\nError: failed to start containers: counter\n"
    );

    let r = d.docker(&["unpause", "counter"]).ok();
    assert_eq!(r.stdout, "counter\n");
    assert_eq!(status(&d, "counter"), "running");
    assert!(d.eventually(Duration::from_secs(5), || log_lines(&d, &id) > n1 + 3));
    let r = d.berth(&["unpause", "counter", "nope"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!(
            "Error response from daemon: Container {id} is not paused\nError response from daemon: No such container: nope\n"
        )
    );

    // Docker's management form, then a kill of the paused container.
    d.berth(&["container", "pause", "counter"]).ok();
    let t = Instant::now();
    d.berth(&["kill", "counter"]).ok();
    assert!(d.eventually(Duration::from_secs(5), || status(&d, "counter") == "exited"));
    assert!(t.elapsed() < Duration::from_secs(5));
    let st = &d.inspect("counter")["State"];
    assert_eq!(st["Paused"], false);
    assert_eq!(st["ExitCode"], 137);
    let r = d.berth(&["pause", "counter"]);
    assert_eq!(
        r.stderr,
        format!("Error response from daemon: container {id} is not running\n")
    );

    // stop of a paused container: the signal, then the thaw.
    d.berth(&["start", "counter"]).ok();
    d.docker(&["pause", "counter"]).ok();
    d.berth(&["stop", "-t", "1", "counter"]).ok();
    assert_eq!(status(&d, "counter"), "exited");

    let ev = d
        .berth(&[
            "events",
            "--since",
            &since,
            "--until",
            &now_ts(),
            "--filter",
            "container=counter",
            "--filter",
            "event=pause",
            "--filter",
            "event=unpause",
        ])
        .ok()
        .stdout;
    assert_eq!(
        actions(&ev),
        ["pause", "unpause", "pause", "unpause", "pause", "unpause"],
        "{ev}"
    );
}

#[test]
fn rename_through_berth_and_docker() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let since = now_ts();
    let a = run_id(&d, &["create", "--name", "first", "busybox", "true"]);
    let b = run_id(&d, &["create", "--name", "second", "busybox", "true"]);
    let r = d.berth(&["rename", "first", "third"]).ok();
    assert_eq!(r.stdout, "");
    assert_eq!(d.inspect("third")["Id"], a.as_str());
    assert_eq!(d.inspect("third")["Name"], "/third");
    assert_ne!(d.berth(&["inspect", "first"]).code, 0);

    let r = d.berth(&["rename", "third", "second"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!("Error response from daemon: Error when allocating new name: Conflict. The container name \"/second\" is already in use by container \"{b}\". You have to remove (or rename) that container to be able to reuse that name.\nError: failed to rename container named third\n")
    );
    let (code, _) = d.request("POST", "/containers/third/rename?name=second", None);
    assert_eq!(code, 409);
    let (code, body) = d.request("POST", "/containers/third/rename?name=third", None);
    assert_eq!(code, 400, "{body}");
    let r = d.berth(&["rename", "third", "a b"]);
    assert!(r.stderr.contains("Invalid container name (/a b)"), "{r:?}");
    let r = d.berth(&["rename", "third", " "]);
    assert_eq!(r.stderr, "Error: Neither old nor new names may be empty\n");

    d.docker(&["rename", "third", "fourth"]).ok();
    let ps = d.berth(&["ps", "-a", "--format", "{{.Names}}"]).ok().stdout;
    let mut names: Vec<&str> = ps.lines().collect();
    names.sort();
    assert_eq!(names, ["fourth", "second"]);
    // The old name is free again.
    d.berth(&["create", "--name", "first", "busybox", "true"])
        .ok();

    let ev = d
        .berth(&[
            "events",
            "--since",
            &since,
            "--until",
            &now_ts(),
            "--filter",
            "event=rename",
        ])
        .ok()
        .stdout;
    let lines: Vec<&str> = ev.lines().collect();
    assert_eq!(lines.len(), 2, "{ev}");
    assert!(
        lines[0].ends_with(&format!(
            "container rename {a} (image=busybox, name=third, oldName=/first)"
        )),
        "{ev}"
    );
    assert!(lines[1].contains("name=fourth, oldName=/third"), "{ev}");
}

#[test]
fn update_reaches_the_cgroup_and_the_next_start() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let id = run_id(
        &d,
        &[
            "run", "-d", "--name", "upd", "-m", "64m", "busybox", "sleep", "1000",
        ],
    );
    let mem = || read_cgroup(&id, "memory.limit_in_bytes", "memory.max");
    assert_eq!(mem(), (64u64 << 20).to_string());

    let r = d
        .berth(&["update", "--memory", "100m", "--memory-swap", "200m", "upd"])
        .ok();
    assert_eq!(r.stdout, "upd\n");
    assert_eq!(mem(), (100u64 << 20).to_string());
    let hc = d.inspect("upd")["HostConfig"].clone();
    assert_eq!(hc["Memory"], 100 << 20);
    assert_eq!(hc["MemorySwap"], 200 << 20);

    let r = d
        .docker(&[
            "update",
            "--cpus",
            "0.5",
            "--cpu-shares",
            "512",
            "--pids-limit",
            "50",
            "--restart",
            "on-failure:3",
            "upd",
        ])
        .ok();
    assert_eq!(r.stdout, "upd\n");
    assert_eq!(read_cgroup(&id, "pids.max", "pids.max"), "50");
    let quota = read_cgroup(&id, "cpu.cfs_quota_us", "cpu.max");
    assert!(quota == "50000" || quota == "50000 100000", "{quota}");
    let hc = d.inspect("upd")["HostConfig"].clone();
    assert_eq!(hc["NanoCpus"], 500_000_000);
    assert_eq!(hc["CpuShares"], 512);
    assert_eq!(hc["PidsLimit"], 50);
    assert_eq!(hc["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(hc["RestartPolicy"]["MaximumRetryCount"], 3);

    let r = d.berth(&["update", "-m", "1000", "upd"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "Error response from daemon: Minimum memory limit allowed is 6MB\n"
    );
    let r = d.berth(&["update", "-m", "300m", "upd"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&format!("Cannot update container {id}: Memory limit should be smaller than already set memoryswap limit")),
        "{r:?}"
    );
    let r = d.berth(&["update", "upd"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "you must provide one or more flags when using this command\n"
        )
    );
    let (code, body) = d.request(
        "POST",
        "/containers/upd/update",
        Some(r#"{"CpuShares": 256}"#),
    );
    assert_eq!((code, body.trim()), (200, r#"{"Warnings":[]}"#));

    // A stopped container keeps the update for its next start.
    d.berth(&["stop", "-t", "1", "upd"]).ok();
    d.berth(&[
        "update",
        "-m",
        "150m",
        "--memory-swap",
        "300m",
        "--pids-limit",
        "-1",
        "upd",
    ])
    .ok();
    d.berth(&["start", "upd"]).ok();
    assert_eq!(mem(), (150u64 << 20).to_string());
    assert_eq!(read_cgroup(&id, "pids.max", "pids.max"), "max");
}

#[test]
fn on_failure_restarts_exactly_the_retry_count() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let since = now_ts();
    let id = run_id(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "flaky",
            "--restart",
            "on-failure:2",
            "busybox",
            "sh",
            "-c",
            "echo run; exit 3",
        ],
    );
    assert!(
        d.eventually(Duration::from_secs(10), || {
            restart_count(&d, "flaky") == 2 && status(&d, "flaky") == "exited"
        }),
        "{}",
        d.inspect("flaky")
    );
    // The back-off after the second restart is over: no third one comes.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(restart_count(&d, "flaky"), 2);
    assert_eq!(status(&d, "flaky"), "exited");
    assert_eq!(d.inspect("flaky")["State"]["ExitCode"], 3);
    assert_eq!(log_lines(&d, &id), 3);
    let ev = d
        .berth(&[
            "events",
            "--since",
            &since,
            "--until",
            &now_ts(),
            "--filter",
            "container=flaky",
            "--filter",
            "event=start",
            "--filter",
            "event=die",
        ])
        .ok()
        .stdout;
    assert_eq!(
        actions(&ev),
        ["start", "die", "start", "die", "start", "die"],
        "{ev}"
    );

    // A user's start starts the count over.
    d.berth(&["start", "flaky"]).ok();
    assert!(d.eventually(Duration::from_secs(10), || {
        restart_count(&d, "flaky") == 2 && status(&d, "flaky") == "exited"
    }));

    // Success is no failure: on-failure leaves it alone.
    d.berth(&[
        "run",
        "-d",
        "--name",
        "fine",
        "--restart",
        "on-failure",
        "busybox",
        "true",
    ])
    .ok();
    assert!(d.eventually(Duration::from_secs(5), || status(&d, "fine") == "exited"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(restart_count(&d, "fine"), 0);

    // Policies are validated.
    let r = d.berth(&["update", "--restart", "always:3", "fine"]);
    assert_eq!(r.code, 1, "{r:?}");
    let (code, _) = d.request(
        "POST",
        "/containers/fine/update",
        Some(r#"{"RestartPolicy": {"Name": "sometimes"}}"#),
    );
    assert_eq!(code, 400);
}

#[test]
fn always_and_unless_stopped_across_berthd_restarts() {
    if !can_run() {
        return;
    }
    let mut d = Berthd::start();
    // Exits every second, restarted each time.
    d.berth(&[
        "run",
        "-d",
        "--name",
        "looper",
        "--restart",
        "always",
        "busybox",
        "sleep",
        "1",
    ])
    .ok();
    assert!(d.eventually(Duration::from_secs(10), || restart_count(&d, "looper") >= 2));
    let ps = d.berth(&["ps", "--format", "{{.Names}}"]).ok().stdout;
    assert!(ps.contains("looper"), "{ps}");

    // Stopped by the user: always waits for the next berthd start,
    // unless-stopped stays down, never-started stays created.
    for (name, policy) in [("keeper", "always"), ("sleeper", "unless-stopped")] {
        d.berth(&[
            "run",
            "-d",
            "--name",
            name,
            "--restart",
            policy,
            "busybox",
            "sleep",
            "1000",
        ])
        .ok();
        d.berth(&["stop", "-t", "1", name]).ok();
    }
    d.berth(&[
        "create",
        "--name",
        "fresh",
        "--restart",
        "always",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(status(&d, "keeper"), "exited");
    assert_eq!(status(&d, "sleeper"), "exited");

    let before = restart_count(&d, "looper");
    d.restart();
    assert!(
        d.eventually(Duration::from_secs(10), || status(&d, "keeper")
            == "running"),
        "{}",
        d.log()
    );
    assert!(
        d.eventually(Duration::from_secs(10), || restart_count(&d, "looper")
            > before),
        "{}",
        d.inspect("looper")
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(status(&d, "sleeper"), "exited");
    assert_eq!(status(&d, "fresh"), "created");

    // A stop ends the loop for good, even mid back-off.
    d.berth(&["stop", "-t", "1", "looper"]).ok();
    let count = restart_count(&d, "looper");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(status(&d, "looper"), "exited");
    assert_eq!(restart_count(&d, "looper"), count);
}

#[test]
fn events_show_the_lifecycle_in_order() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let since = now_ts();
    let id = run_id(&d, &["create", "--name", "ev", "busybox", "true"]);
    d.berth(&["start", "-a", "ev"]).ok();
    d.berth(&["rm", "ev"]).ok();
    let until = now_ts();
    let filtered = ["--filter", "container=ev"];
    let mut args = vec!["events", "--since", &since, "--until", &until];
    args.extend(filtered);
    let out = d.berth(&args).ok().stdout;
    let wanted = ["create", "start", "die", "destroy"];
    let seen: Vec<String> = actions(&out)
        .into_iter()
        .filter(|a| wanted.contains(&a.as_str()))
        .collect();
    assert_eq!(seen, wanted, "{out}");
    let first = out.lines().next().unwrap();
    let (time, rest) = first.split_once(' ').unwrap();
    assert_eq!(
        time.len(),
        "2026-11-23T16:26:19.123456789Z".len(),
        "{first}"
    );
    assert!(
        time.ends_with('Z') && time.as_bytes()[19] == b'.',
        "{first}"
    );
    assert_eq!(
        rest,
        format!("container create {id} (image=busybox, name=ev)")
    );
    let die = out.lines().find(|l| l.contains(" die ")).unwrap();
    assert!(
        die.ends_with("(exitCode=0, image=busybox, name=ev)"),
        "{die}"
    );

    // The docker CLI prints the same lines.
    let docker_out = d.docker(&args).ok().stdout;
    assert_eq!(docker_out, out);

    // --format json: docker's field order.
    args.extend(["--format", "json"]);
    let json = d.berth(&args).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(v["Action"], "create");
    assert_eq!(v["Actor"]["Attributes"]["name"], "ev");
    assert!(json.starts_with(&format!("{{\"status\":\"create\",\"id\":\"{id}\"")));
    let r = d.berth(&["events", "--format", "{{.Nope}}"]);
    assert_eq!(r.code, 64, "{r:?}");
    let r = d.berth(&["events", "--since", "bogus"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "failed to parse value as time or duration: \"bogus\"\n"
    );
}

#[test]
fn container_and_system_prune() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let keep = run_id(
        &d,
        &["run", "-d", "--name", "up", "busybox", "sleep", "1000"],
    );
    let labelled = run_id(
        &d,
        &[
            "create",
            "--label",
            "prune=yes",
            "--name",
            "lab",
            "busybox",
            "true",
        ],
    );
    let plain = run_id(&d, &["create", "--name", "plain", "busybox", "true"]);

    // Declined: nothing goes.
    let r = d.berth_stdin(&["container", "prune"], b"n\n");
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            0,
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
        )
    );
    assert_eq!(d.berth(&["ps", "-aq"]).ok().stdout.lines().count(), 3);

    let r = d
        .berth(&["container", "prune", "-f", "--filter", "label=prune=yes"])
        .ok();
    assert_eq!(
        r.stdout,
        format!("Deleted Containers:\n{labelled}\n\nTotal reclaimed space: 0B\n")
    );
    let r = d.berth_stdin(&["container", "prune"], b"y\n").ok();
    assert!(
        r.stdout.ends_with(&format!(
            "Deleted Containers:\n{plain}\n\nTotal reclaimed space: 0B\n"
        )),
        "{r:?}"
    );
    let r = d.docker(&["container", "prune", "-f"]).ok();
    assert_eq!(r.stdout, "Total reclaimed space: 0B\n");
    assert_eq!(d.berth(&["ps", "-aq"]).ok().stdout.trim(), &keep[..12]);

    let (code, body) = d.request(
        "POST",
        "/containers/prune?filters=%7B%22nope%22%3A%5B%22x%22%5D%7D",
        None,
    );
    assert_eq!(code, 400, "{body}");

    // system prune: the warning, then containers (and the rest) go.
    d.berth(&["create", "--name", "s1", "busybox", "true"]).ok();
    let r = d.berth_stdin(&["system", "prune"], b"\n");
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue? [y/N] "
    );
    let r = d.berth(&["system", "prune", "-f"]).ok();
    assert!(r.stdout.starts_with("Deleted Containers:\n"), "{r:?}");
    assert!(r.stdout.ends_with("\nTotal reclaimed space: 0B\n"), "{r:?}");
    d.berth(&["create", "--name", "s2", "busybox", "true"]).ok();
    let r = d.docker(&["system", "prune", "-f"]).ok();
    assert!(r.stdout.starts_with("Deleted Containers:\n"), "{r:?}");
    assert_eq!(d.berth(&["ps", "-aq"]).ok().stdout.trim(), &keep[..12]);
    // The busybox image is in use by "up": still there.
    assert!(d.berth(&["images", "-q"]).ok().stdout.trim().len() >= 12);
}
