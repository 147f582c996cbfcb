//! json-file log rotation: `--log-opt max-size` / `max-file` limit the files
//! the shim keeps, `logs` reads what is kept oldest first, `logs -f` follows
//! across rotations, and bad options fail with Docker's texts.

use berth_e2e::{can_run, Berthd};

/// The numbers of `<prefix><n> …` lines, in output order.
fn numbers(out: &str, prefix: &str) -> Vec<u32> {
    out.lines()
        .map(|l| {
            l.strip_prefix(prefix)
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected line {l:?}"))
        })
        .collect()
}

#[test]
fn max_size_and_max_file_bound_the_log_and_logs_reads_the_newest_lines() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    // 2000 lines of ~100 bytes: ~200 KB of output.
    let id = d
        .berth(&[
            "run",
            "-d",
            "--name",
            "big",
            "--log-opt",
            "max-size=10k",
            "--log-opt",
            "max-file=3",
            "busybox",
            "sh",
            "-c",
            "i=0; while [ $i -lt 2000 ]; do echo \"line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"; i=$((i+1)); done",
        ])
        .ok()
        .stdout;
    let id = id.trim().to_string();
    assert_eq!(d.berth(&["wait", "big"]).ok().stdout.trim(), "0");

    let dir = d.data_root().join("containers").join(&id);
    let live = format!("{id}-json.log");
    let mut logs: Vec<(String, u64)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&live))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, e.metadata().unwrap().len())
        })
        .collect();
    logs.sort();
    let names: Vec<&str> = logs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [live.clone(), format!("{live}.1"), format!("{live}.2")],
        "max-file=3 keeps the live log and two rotated ones"
    );
    for (name, size) in &logs {
        // 10k = 10000 bytes, plus at most one json line (~170 bytes).
        assert!(*size < 10_000 + 200, "{name} is {size} bytes");
    }
    for (name, size) in &logs[1..] {
        assert!(*size >= 10_000, "rotated {name} is only {size} bytes");
    }

    for out in [
        d.berth(&["logs", "big"]).ok().stdout,
        d.docker(&["logs", "big"]).ok().stdout,
    ] {
        let n = numbers(&out, "line ");
        assert_eq!(*n.last().unwrap(), 1999);
        assert!(n.len() > 100 && n.len() < 400, "{} lines kept", n.len());
        let want: Vec<u32> = (n[0]..2000).collect();
        assert_eq!(n, want, "the kept lines, oldest first, none missing");
    }
    let tail = d.berth(&["logs", "--tail", "2", "big"]).ok().stdout;
    assert_eq!(numbers(&tail, "line "), [1998, 1999]);
}

#[test]
fn logs_follow_continues_across_rotations() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.berth(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "--log-opt",
        "max-size=2k",
        "--log-opt",
        "max-file=2",
        "busybox",
        "sh",
        "-c",
        "i=0; while [ $i -lt 120 ]; do echo \"tick $i\"; i=$((i+1)); sleep 0.03; done",
    ])
    .ok();
    // `logs -f` ends when the container exits.
    let out = d.docker(&["logs", "-f", "ticker"]).ok().stdout;
    let want: Vec<u32> = (0..120).collect();
    assert_eq!(numbers(&out, "tick "), want, "every line once, in order");
    // ~60 bytes a json line: 120 lines went through several 2k files.
    let id = d.inspect("ticker")["Id"].as_str().unwrap().to_string();
    let rotated = d
        .data_root()
        .join("containers")
        .join(&id)
        .join(format!("{id}-json.log.1"));
    assert!(rotated.exists());
}

#[test]
fn bad_log_options_fail_with_dockers_texts() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let r = d.docker(&["create", "--log-opt", "foo=1", "busybox"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("unknown log opt 'foo' for json-file log driver"),
        "{r:?}"
    );
    let r = d.berth(&["create", "--log-opt", "max-size=abc", "busybox"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("invalid size: 'abc'"), "{r:?}");
    let r = d.berth(&["create", "--log-opt", "max-file=0", "busybox"]);
    assert!(r.stderr.contains("max-file cannot be less than 1"), "{r:?}");
    // max-file without max-size is accepted (and rotates nothing), as in Docker.
    d.berth(&["create", "--log-opt", "max-file=3", "busybox"])
        .ok();
    assert!(d.berth(&["ps", "-aq"]).ok().stdout.lines().count() == 1);
}
