//! Images through berth and the docker CLI: load, save, tag, rmi, and the
//! same table output from both clients.

use berth_e2e::{can_run, Berthd};

fn fixture_id() -> String {
    // The image ID is the config digest: read it from the archive's manifest.
    let out = std::process::Command::new("tar")
        .args([
            "-xOf",
            berth_e2e::fixture_image().to_str().unwrap(),
            "./manifest.json",
        ])
        .output()
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    format!(
        "sha256:{}",
        m[0]["Config"].as_str().unwrap().trim_end_matches(".json")
    )
}

/// berth and docker print the same for the same state. Humanised times can
/// tick between the two runs, so a mismatch is retried a few times.
#[track_caller]
fn assert_same_output(d: &Berthd, args: &[&str]) {
    let mut last = (String::new(), String::new());
    for _ in 0..5 {
        let ours = d.berth(args).ok().stdout;
        let theirs = d.docker(args).ok().stdout;
        if ours == theirs {
            return;
        }
        last = (ours, theirs);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(last.0, last.1, "berth vs docker for {args:?}");
}

#[test]
fn loaded_image_has_docker_id_and_matching_tables() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let id = d
        .berth(&["image", "inspect", "-f", "{{.Id}}", "busybox"])
        .ok()
        .stdout;
    assert_eq!(id.trim(), fixture_id());
    d.berth(&["tag", "busybox", "mybox:1"]).ok();
    // docker prints the rows of one image's tags in Go map order: compare sorted.
    let sorted = |s: String| {
        let mut l: Vec<String> = s.lines().map(str::to_string).collect();
        l[1..].sort();
        l
    };
    let ours = d.berth(&["images"]).ok().stdout;
    let theirs = d.docker(&["images"]).ok().stdout;
    assert_eq!(sorted(ours.clone()), sorted(theirs));
    assert!(ours.contains("mybox"), "{ours}");
    d.berth(&["run", "--name", "c1", "busybox", "true"]).ok();
    d.berth(&["create", "--name", "c2", "busybox"]).ok();
    assert_same_output(&d, &["ps", "-a"]);
    assert_same_output(&d, &["ps", "-a", "--no-trunc"]);
    assert_same_output(
        &d,
        &[
            "ps",
            "-a",
            "--format",
            "{{.Names}}\t{{.Status}}\t{{json .Labels}}",
        ],
    );
}

#[test]
fn save_load_round_trip_and_rmi_rules() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let out = d.dir.path().join("saved.tar");
    d.berth(&["save", "-o", out.to_str().unwrap(), "busybox"])
        .ok();
    d.berth(&["create", "--name", "user", "busybox"]).ok();
    let r = d.berth(&["rmi", "busybox"]);
    assert_ne!(r.code, 0, "rmi of an image in use must fail: {r:?}");
    assert!(r.stderr.contains("conflict"), "{r:?}");
    d.berth(&["rm", "user"]).ok();
    let r = d.berth(&["rmi", "busybox"]).ok();
    assert!(r.stdout.contains("Untagged: busybox:latest"), "{r:?}");
    assert!(
        r.stdout.contains(&format!("Deleted: {}", fixture_id())),
        "{r:?}"
    );
    let r = d.docker(&["load", "-i", out.to_str().unwrap()]).ok();
    assert_eq!(r.stdout, "Loaded image: busybox:latest\n");
    let id = d
        .berth(&["image", "inspect", "-f", "{{.Id}}", "busybox"])
        .ok()
        .stdout;
    assert_eq!(id.trim(), fixture_id());
    d.berth(&["run", "--rm", "busybox", "true"]).ok();
}

#[test]
fn bad_input_gets_docker_status_codes() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let (s, b) = d.request("POST", "/v1.50/containers/create", Some("{not json"));
    assert_eq!(s, 400, "{b}");
    assert!(b.contains("message"), "{b}");
    let (s, _) = d.request("POST", "/containers/create", Some(r#"{"Image":"nope:1"}"#));
    assert_eq!(s, 404);
    let (s, _) = d.get("/containers/nope/json");
    assert_eq!(s, 404);
    let (s, b) = d.get("/containers/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D");
    assert_eq!(s, 400, "{b}");
    d.berth(&["create", "--name", "dup", "busybox"]).ok();
    let (s, _) = d.request(
        "POST",
        "/containers/create?name=dup",
        Some(r#"{"Image":"busybox"}"#),
    );
    assert_eq!(s, 409);
    // A layer that climbs out of its directory.
    let evil = d.dir.path().join("evil");
    std::fs::create_dir_all(evil.join("l")).unwrap();
    std::fs::write(d.dir.path().join("escaped-victim"), b"keep").unwrap();
    let layer = evil.join("layer.tar");
    let st = std::process::Command::new("tar")
        .args([
            "-cf",
            layer.to_str().unwrap(),
            "-P",
            "--transform",
            "s|^.*victim|../../escaped-victim|",
            d.dir.path().join("escaped-victim").to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let r = d.berth(&["import", layer.to_str().unwrap(), "evil:1"]);
    assert_ne!(r.code, 0, "{r:?}");
    assert_eq!(
        std::fs::read(d.dir.path().join("escaped-victim")).unwrap(),
        b"keep"
    );
}
