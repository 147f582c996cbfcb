//! The `run --rm` fast path keeps Docker's behaviour: the seccomp program
//! compiled once and cached (`<exec-root>/seccomp`) filters like Docker's,
//! the init is in its cgroups, a `--rm` container is gone when `run`
//! returns, and a removal a dead daemon left half-done is swept at start.

use berth_e2e::{can_run, Berthd};

/// What the default profile and capabilities refuse or allow, as one line.
const PROBE: &str = "unshare -u true 2>/dev/null; echo unshare=$?; \
    grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr -s '\\t\\n' '  '";

fn cache_entries(d: &Berthd) -> Vec<String> {
    std::fs::read_dir(d.dir.path().join("run/seccomp"))
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn cached_seccomp_program_filters_like_docker() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let first = d.berth(&["run", "--rm", "busybox", "sh", "-c", PROBE]).ok();
    let entries = cache_entries(&d);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].ends_with(".bpf"), "{entries:?}");
    // The second container reads the program from the cache.
    let second = d.berth(&["run", "--rm", "busybox", "sh", "-c", PROBE]).ok();
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(cache_entries(&d), entries);
    match real_docker(&["run", "--rm", "busybox", "sh", "-c", PROBE]) {
        Some(out) => assert_eq!(second.stdout, out, "berth and Docker differ"),
        None => eprintln!("SKIP: comparison with the real Docker engine (not reachable)"),
    }
    assert!(
        second.stdout.starts_with("unshare=1\n"),
        "{}",
        second.stdout
    );
    assert!(second.stdout.contains("Seccomp: 2"), "{}", second.stdout);
    // Unconfined and privileged containers have no filter at all.
    for flags in [
        &["--security-opt", "seccomp=unconfined"][..],
        &["--privileged"],
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "grep", "^Seccomp:", "/proc/self/status"]);
        let r = d.berth(&args).ok();
        assert_eq!(r.stdout, "Seccomp:\t0\n", "{flags:?}");
    }
    // A torn cache entry is rebuilt, not loaded.
    let path = d.dir.path().join("run/seccomp").join(&entries[0]);
    let full = std::fs::read(&path).unwrap();
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let third = d.berth(&["run", "--rm", "busybox", "sh", "-c", PROBE]).ok();
    assert_eq!(third.stdout, first.stdout);
    assert_eq!(std::fs::read(&path).unwrap(), full);
}

#[test]
fn rm_container_is_gone_when_run_returns_and_leftovers_are_swept() {
    if !can_run() {
        return;
    }
    let mut d = Berthd::start();
    let containers = d.data_root().join("containers");
    d.berth(&["run", "--rm", "busybox", "true"]).ok();
    assert_eq!(d.berth(&["ps", "-aq"]).ok().stdout, "");
    let names = || {
        let mut v: Vec<String> = std::fs::read_dir(&containers)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    // The bundle was renamed away before `run` returned; its deletion ends soon.
    assert!(
        names().iter().all(|n| n.starts_with(".removing-")),
        "{:?}",
        names()
    );
    assert!(d.eventually(std::time::Duration::from_secs(5), || names().is_empty()));

    // A daemon killed between the rename and the deletion: the next one
    // must neither list nor keep the half-removed bundle.
    let id = d
        .berth(&["create", "--name", "keep", "busybox", "true"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let doomed = containers.join(format!(".removing-{}", "f".repeat(64)));
    copy_dir(&containers.join(&id), &doomed);
    d.restart();
    assert_eq!(names(), vec![id.clone()]);
    let ps = d.berth(&["ps", "-aq", "--no-trunc"]).ok().stdout;
    assert_eq!(ps.trim(), id);
    d.berth(&["rm", "keep"]).ok();
}

/// stdout of the `docker` CLI against the real Docker engine (its default
/// host, not this test's berthd), when that works.
fn real_docker(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("docker")
        .env_remove("DOCKER_HOST")
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}
