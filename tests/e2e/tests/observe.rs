//! Observing containers through `berth` and the docker CLI: `stats`, `top`,
//! `port`, sizes (`ps -s`, `inspect -s`), `system df` and `logs --details`.

use berth_e2e::{can_run, Berthd};

fn run_d(d: &Berthd, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    d.berth(&all).ok().stdout.trim().to_string()
}

/// The JSON object of a (chunked) stats response body.
fn stats_json(body: &str) -> serde_json::Value {
    let line = body
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON in {body:?}"));
    serde_json::from_str(line).expect("stats JSON")
}

/// `12.34%` → 12.34.
fn percent(s: &str) -> f64 {
    s.trim()
        .trim_end_matches('%')
        .parse()
        .unwrap_or_else(|_| panic!("not a percentage: {s:?}"))
}

#[test]
fn stats_show_cpu_memory_limit_and_pids() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    run_d(
        &d,
        &[
            "--name",
            "spin",
            "-m",
            "64m",
            "busybox",
            "sh",
            "-c",
            "while :; do :; done",
        ],
    );
    let fmt = "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.PIDs}}";
    // A busy loop takes a whole CPU; a machine busy with other work gives
    // it less, so take the best of several samples.
    let mut best = 0.0f64;
    for _ in 0..8 {
        for out in [
            d.berth(&["stats", "--no-stream", "--format", fmt, "spin"])
                .ok()
                .stdout,
            d.docker(&["stats", "--no-stream", "--format", fmt, "spin"])
                .ok()
                .stdout,
        ] {
            let f: Vec<&str> = out.trim().split('|').collect();
            assert_eq!(f.len(), 5, "{out}");
            assert_eq!(f[0], "spin");
            assert!(f[2].ends_with(" / 64MiB"), "{out}");
            assert_eq!(f[4], "1", "{out}");
            best = best.max(percent(f[1]));
        }
        if best > 50.0 {
            break;
        }
    }
    assert!(best > 50.0, "CPU % of a busy loop: {best}");

    // The default table, with docker's header (column widths depend on the values).
    let table = d.docker(&["stats", "--no-stream"]).ok().stdout;
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or("")
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "CONTAINER ID",
            "NAME",
            "CPU %",
            "MEM USAGE / LIMIT",
            "MEM %",
            "NET I/O",
            "BLOCK I/O",
            "PIDS"
        ],
        "{table}"
    );
    assert!(table.contains("   spin   "), "{table}");

    // The API: two samples a second apart, or one with one-shot.
    let (code, body) = d.get("/containers/spin/stats?stream=0");
    assert_eq!(code, 200, "{body}");
    let v = stats_json(&body);
    assert_eq!(v["name"], "/spin");
    assert_eq!(v["memory_stats"]["limit"], 64 << 20);
    assert!(v["precpu_stats"]["system_cpu_usage"].as_u64().unwrap_or(0) > 0);
    assert!(
        v["cpu_stats"]["cpu_usage"]["total_usage"].as_u64()
            > v["precpu_stats"]["cpu_usage"]["total_usage"].as_u64()
    );
    let (_, body) = d.get("/containers/spin/stats?stream=0&one-shot=1");
    let v = stats_json(&body);
    assert_eq!(v["preread"], "0001-01-01T00:00:00Z");
    assert!(v["cpu_stats"]["online_cpus"].as_u64().unwrap_or(0) > 0);

    // A container that is not running: zeros, as docker shows them.
    d.berth(&["create", "--name", "idle", "busybox"]).ok();
    let out = d
        .berth(&["stats", "--no-stream", "--format", fmt, "idle"])
        .ok()
        .stdout;
    assert_eq!(out, "idle|0.00%|0B / 0B|0.00%|0\n");
    let r = d.berth(&["stats", "--no-stream", "nosuch"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "Error response from daemon: No such container: nosuch\n"
    );
}

#[test]
fn stats_streams_a_redrawn_table() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    run_d(&d, &["--name", "s1", "busybox", "sleep", "1000"]);
    let out = std::process::Command::new("timeout")
        .args(["2.5", berth_e2e::bin_dir().join("berth").to_str().unwrap()])
        .args(["-H", &d.host(), "stats", "--format", "{{.Name}} {{.PIDs}}"])
        .output()
        .expect("run berth stats");
    let text = String::from_utf8_lossy(&out.stdout);
    // Cursor home, each line cleared to its end, the rest cleared.
    assert!(text.starts_with("\x1b[Hs1 1\x1b[K\n"), "{text:?}");
    assert!(text.matches("\x1b[J").count() >= 2, "{text:?}");
}

#[test]
fn top_lists_the_containers_processes_with_host_pids() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    run_d(&d, &["--name", "t1", "busybox", "sleep", "1000"]);
    let pid = d.inspect("t1")["State"]["Pid"].as_i64().expect("pid");
    for out in [
        d.berth(&["top", "t1"]).ok().stdout,
        d.docker(&["top", "t1"]).ok().stdout,
    ] {
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].starts_with("UID                 PID                 PPID"));
        let fields: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(fields[1], pid.to_string(), "{out}");
        assert!(lines[1].ends_with("sleep 1000"), "{out}");
    }
    let out = d.berth(&["top", "t1", "-o", "pid,comm"]).ok().stdout;
    assert_eq!(
        out,
        format!("PID                 COMMAND\n{pid:<20}sleep\n")
    );
    d.berth(&["create", "--name", "t2", "busybox"]).ok();
    let r = d.docker(&["top", "t2"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is not running"), "{}", r.stderr);
}

#[test]
fn sizes_after_writing_a_megabyte() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.berth(&[
        "run",
        "--name",
        "w1",
        "busybox",
        "dd",
        "if=/dev/zero",
        "of=/big",
        "bs=1024",
        "count=1024",
    ])
    .ok();
    let v = d.inspect("w1");
    assert!(v.get("SizeRw").is_none(), "sizes only with --size");
    let sizes = d
        .berth(&["inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "w1"])
        .ok()
        .stdout;
    let n: Vec<i64> = sizes
        .split_whitespace()
        .map(|s| s.parse().expect("number"))
        .collect();
    assert_eq!(n[0], 1 << 20, "{sizes}");
    assert!(n[1] > n[0], "{sizes}");
    for out in [
        d.berth(&["ps", "-a", "-s", "--format", "{{.Size}}"])
            .ok()
            .stdout,
        d.docker(&["ps", "-a", "-s", "--format", "{{.Size}}"])
            .ok()
            .stdout,
    ] {
        assert!(out.starts_with("1.05MB (virtual "), "{out}");
    }
    let table = d.docker(&["ps", "-a", "-s"]).ok().stdout;
    assert!(
        table.lines().next().unwrap_or("").ends_with("SIZE"),
        "{table}"
    );
}

#[test]
fn system_df_matches_between_berth_and_docker() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    run_d(&d, &["--name", "up", "busybox", "sleep", "1000"]);
    d.berth(&[
        "run",
        "--name",
        "done",
        "busybox",
        "sh",
        "-c",
        "echo x > /f",
    ])
    .ok();
    let ours = d.berth(&["system", "df"]).ok().stdout;
    let theirs = d.docker(&["system", "df"]).ok().stdout;
    assert_eq!(ours, theirs);
    let lines: Vec<&str> = ours.lines().collect();
    assert_eq!(
        lines[0],
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE"
    );
    assert!(
        lines[1].starts_with("Images          1         1  "),
        "{ours}"
    );
    assert!(
        lines[2].starts_with("Containers      2         1         2B        2B (100%)"),
        "{ours}"
    );
    assert_eq!(lines.len(), 5, "{ours}");
    let ours = d.berth(&["system", "df", "-v"]).ok().stdout;
    let theirs = d.docker(&["system", "df", "-v"]).ok().stdout;
    assert_eq!(ours, theirs);
    assert!(
        ours.starts_with("Images space usage:\n\nREPOSITORY   TAG "),
        "{ours}"
    );
    assert!(ours.contains("\nContainers space usage:\n\n"), "{ours}");
}

#[test]
fn port_lists_nothing_without_published_ports() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    run_d(&d, &["--name", "p1", "busybox", "sleep", "1000"]);
    for r in [d.berth(&["port", "p1"]), d.docker(&["port", "p1"])] {
        let r = r.ok();
        assert_eq!(r.stdout, "");
    }
    for r in [
        d.berth(&["port", "p1", "80"]),
        d.docker(&["port", "p1", "80"]),
    ] {
        assert_eq!(r.code, 1);
        assert_eq!(r.stderr, "Error: No public port '80' published for p1\n");
    }
    let r = d.berth(&["container", "port"]);
    assert_eq!(r.code, 1);
    assert!(r
        .stderr
        .starts_with("berth: 'berth container port' requires at least 1 and at most 2 arguments"));
}

#[test]
fn logs_details_show_log_attributes() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.berth(&[
        "run",
        "--name",
        "l1",
        "--label",
        "a=1",
        "--label",
        "b=x y",
        "--log-opt",
        "labels=a,b",
        "-e",
        "FOO=bar",
        "--log-opt",
        "env=FOO",
        "busybox",
        "echo",
        "hi",
    ])
    .ok();
    d.berth(&["run", "--name", "l2", "busybox", "echo", "hi"])
        .ok();
    for r in [
        d.berth(&["logs", "--details", "l1"]),
        d.docker(&["logs", "--details", "l1"]),
    ] {
        assert_eq!(r.ok().stdout, "FOO=bar,a=1,b=x+y hi\n");
    }
    assert_eq!(d.docker(&["logs", "--details", "l2"]).ok().stdout, " hi\n");
    assert_eq!(d.berth(&["logs", "l2"]).ok().stdout, "hi\n");
}
