//! Changing and moving container filesystems end to end, through `berth`
//! and the real docker CLI: `diff`, `commit` (then run the image, `history`),
//! `export`, `cp` both ways (running and stopped containers, modes and
//! owners, `-` streams, errors), and containers that plant hostile symlinks
//! (absolute, `..` chains, swapped while copying) to reach the host.

use berth_e2e::{bin_dir, can_run, mounts_containing, Berthd};
use serde_json::Value;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `berth` with raw stdout bytes (tar streams) and optional stdin.
fn raw(d: &Berthd, args: &[&str], input: Option<&[u8]>) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(bin_dir().join("berth"))
        .arg("-H")
        .arg(d.host())
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run berth");
    if let Some(data) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    let out = child.wait_with_output().expect("wait berth");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Entry names of a tar stream (`tar -t`).
fn tar_names(tar: &[u8]) -> Vec<String> {
    let mut child = Command::new("tar")
        .arg("-tf")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run tar");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = tar.to_vec();
    let w = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("tar output");
    let _ = w.join();
    assert!(out.status.success(), "not a tar");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A tar of `dir`'s entries `names` (run in `dir`).
fn make_tar(dir: &Path, names: &[&str]) -> Vec<u8> {
    let out = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .arg("-cf")
        .arg("-")
        .args(names)
        .output()
        .expect("tar -c");
    assert!(out.status.success());
    out.stdout
}

/// `--until` for event queries: one second from now, so that events of
/// the current second are in.
fn until() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (now + 1).to_string()
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

/// A local tree with set-id bits, odd owners, a private directory and a symlink.
fn local_tree(d: &Berthd) -> PathBuf {
    let src = d.dir.path().join("src");
    fs::create_dir_all(src.join("dir/sub")).unwrap();
    fs::write(src.join("dir/f"), b"data\n").unwrap();
    fs::write(src.join("dir/sub/g"), b"g\n").unwrap();
    fs::write(src.join("one"), b"hello\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("dir/link")).unwrap();
    for p in ["dir", "dir/f", "dir/sub", "dir/sub/g", "dir/link"] {
        std::os::unix::fs::lchown(src.join(p), Some(1234), Some(5678)).unwrap();
    }
    fs::set_permissions(src.join("dir/f"), fs::Permissions::from_mode(0o4711)).unwrap();
    fs::set_permissions(src.join("dir/sub"), fs::Permissions::from_mode(0o750)).unwrap();
    src
}

#[test]
fn diff_lists_changes_like_docker() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.berth(&[
        "run",
        "--name",
        "dif",
        "busybox",
        "sh",
        "-c",
        "touch /etc/x; rm /bin/ls; mkdir -p /tmp/d/e; rm -rf /home; mkdir /home; echo x >> /etc/passwd",
    ])
    .ok();
    let want = [
        "C /bin",
        "D /bin/ls",
        "C /etc",
        "C /etc/passwd",
        "A /etc/x",
        "C /home",
        "C /tmp",
        "A /tmp/d",
        "A /tmp/d/e",
    ];
    let out = d.berth(&["diff", "dif"]).ok().stdout;
    assert_eq!(lines(&out), want);
    assert_eq!(d.docker(&["diff", "dif"]).ok().stdout, out);
    assert_eq!(d.berth(&["container", "diff", "dif"]).ok().stdout, out);
    let (status, body) = d.get("/containers/dif/changes");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0], serde_json::json!({"Path": "/bin", "Kind": 0}));
    assert_eq!(v[1], serde_json::json!({"Path": "/bin/ls", "Kind": 2}));
    assert_eq!(v[4], serde_json::json!({"Path": "/etc/x", "Kind": 1}));

    // A container that changed nothing (its mount points are not changes).
    d.berth(&["run", "--name", "quiet", "busybox", "true"]).ok();
    assert_eq!(d.berth(&["diff", "quiet"]).ok().stdout, "");
    assert_eq!(d.get("/containers/quiet/changes").1.trim(), "null");
    d.berth(&["create", "--name", "fresh", "busybox"]).ok();
    assert_eq!(d.docker(&["diff", "fresh"]).ok().stdout, "");

    let r = d.berth(&["diff", "nope"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "Error response from daemon: No such container: nope\n"
    );
    let r = d.berth(&["diff"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("berth: 'berth diff' requires 1 argument"),
        "{r:?}"
    );
}

#[test]
fn commit_makes_an_image_that_runs_and_shows_in_history() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.berth(&[
        "run",
        "--name",
        "cm",
        "-e",
        "FOO=bar",
        "busybox",
        "sh",
        "-c",
        "echo hi > /tmp/hello; rm /bin/ls",
    ])
    .ok();
    let id = d
        .berth(&[
            "commit",
            "-a",
            "Me <me@x>",
            "-m",
            "my msg",
            "-c",
            "ENV X=1",
            "-c",
            "CMD [\"cat\", \"/tmp/hello\"]",
            "cm",
            "committed:t1",
        ])
        .ok()
        .stdout;
    let id = id.trim();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert_eq!(
        d.berth(&["run", "--rm", "committed:t1"]).ok().stdout,
        "hi\n"
    );
    let r = d
        .berth(&[
            "run",
            "--rm",
            "committed:t1",
            "sh",
            "-c",
            "test ! -e /bin/ls && echo $X $FOO",
        ])
        .ok();
    assert_eq!(r.stdout, "1 bar\n");
    let h = d
        .berth(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.ID}}|{{.CreatedBy}}|{{.Comment}}",
            "committed:t1",
        ])
        .ok()
        .stdout;
    assert_eq!(
        h.lines().next(),
        Some(format!("{id}|sh -c echo hi > /tmp/hello; rm /bin/ls|my msg").as_str())
    );
    let base = d
        .berth(&["history", "--format", "{{.ID}}", "busybox"])
        .ok()
        .stdout;
    assert_eq!(h.lines().count(), 1 + base.lines().count());
    let dh = d
        .docker(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}",
            "committed:t1",
        ])
        .ok()
        .stdout;
    assert!(
        dh.starts_with("sh -c echo hi > /tmp/hello; rm /bin/ls\n"),
        "{dh}"
    );
    let busybox = d
        .berth(&["image", "inspect", "-f", "{{.Id}}", "busybox"])
        .ok()
        .stdout;
    let info = d
        .berth(&[
            "image",
            "inspect",
            "-f",
            "{{.Author}}|{{.Comment}}|{{.Parent}}",
            "committed:t1",
        ])
        .ok()
        .stdout;
    assert_eq!(info, format!("Me <me@x>|my msg|{}", busybox));

    // Through the docker CLI, without a tag; then an unchanged container.
    let id2 = d.docker(&["commit", "cm"]).ok().stdout;
    let id2 = id2.trim().to_string();
    assert_eq!(
        d.berth(&["run", "--rm", &id2, "cat", "/tmp/hello"])
            .ok()
            .stdout,
        "hi\n"
    );
    d.berth(&["create", "--name", "same", "busybox"]).ok();
    let same = d.berth(&["commit", "same", "same:img"]).ok();
    assert!(same.stdout.starts_with("sha256:"));
    let h = d
        .berth(&["history", "--format", "{{.Size}}", "same:img"])
        .ok()
        .stdout;
    assert_eq!(h.lines().next(), Some("0B"));

    // A running container is paused while committed, and keeps running.
    d.berth(&[
        "run",
        "-d",
        "--name",
        "live",
        "busybox",
        "sh",
        "-c",
        "echo live > /f; sleep 1000",
    ])
    .ok();
    assert!(d.eventually(std::time::Duration::from_secs(5), || {
        d.berth(&["diff", "live"]).stdout.contains("A /f")
    }));
    d.berth(&["commit", "live", "live:snap"]).ok();
    assert_eq!(
        d.berth(&["run", "--rm", "live:snap", "cat", "/f"])
            .ok()
            .stdout,
        "live\n"
    );
    assert_eq!(d.inspect("live")["State"]["Status"], "running");
    let ev = d
        .berth(&[
            "events",
            "--since",
            "5m",
            "--until",
            &until(),
            "--filter",
            "container=live",
            "--format",
            "{{.Action}}",
        ])
        .ok()
        .stdout;
    let actions: Vec<&str> = ev
        .lines()
        .filter(|a| ["pause", "commit", "unpause"].contains(a))
        .collect();
    assert_eq!(actions, ["pause", "commit", "unpause"], "{ev}");
    let ev = d
        .berth(&[
            "events",
            "--since",
            "5m",
            "--until",
            &until(),
            "--filter",
            "container=cm",
            "--filter",
            "event=commit",
            "--format",
            "{{json .Actor.Attributes}}",
        ])
        .ok()
        .stdout;
    let first: Value = serde_json::from_str(ev.lines().next().unwrap()).unwrap();
    assert_eq!(first["imageRef"], "committed:t1");
    assert_eq!(first["imageID"], id);
    assert_eq!(first["comment"], "my msg");

    let r = d.berth(&["commit", "nope"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "Error response from daemon: No such container: nope\n")
    );
    let r = d.berth(&["commit", "cm", "a", "b"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("berth: 'berth commit' requires at least 1 and at most 2 arguments"),
        "{r:?}"
    );
}

#[test]
fn export_writes_the_flattened_filesystem() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.berth(&[
        "run",
        "--name",
        "ex",
        "busybox",
        "sh",
        "-c",
        "echo data > /newfile; rm /bin/ls",
    ])
    .ok();
    let (code, tar, err) = raw(&d, &["export", "ex"], None);
    assert_eq!(code, 0, "{err}");
    let names = tar_names(&tar);
    for want in [
        "newfile",
        ".dockerenv",
        "bin/",
        "bin/sh",
        "etc/hosts",
        "etc/hostname",
        "etc/resolv.conf",
        "proc/",
        "sys/",
        "dev/",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing");
    }
    assert!(
        !names.iter().any(|n| n == "bin/ls"),
        "a deleted file was exported"
    );
    assert!(!names
        .iter()
        .any(|n| n.starts_with("./") || n.starts_with('/')));
    // Sorted like a Go walk.
    let bin = names.iter().position(|n| n == "bin/").unwrap();
    let sh = names.iter().position(|n| n == "bin/sh").unwrap();
    assert!(bin < sh);

    let out = d.dir.path().join("ex.tar");
    let out_s = out.display().to_string();
    d.berth(&["export", "-o", &out_s, "ex"]).ok();
    assert_eq!(tar_names(&fs::read(&out).unwrap()), names);
    assert_eq!(fs::metadata(&out).unwrap().mode() & 0o777, 0o600);
    let dout = d.dir.path().join("ex-docker.tar");
    d.docker(&["export", "-o", dout.to_str().unwrap(), "ex"])
        .ok();
    assert_eq!(tar_names(&fs::read(&dout).unwrap()), names);
    // A never-started container exports too, with Docker's init entries.
    d.berth(&["create", "--name", "never", "busybox"]).ok();
    let (_, tar, _) = raw(&d, &["container", "export", "never"], None);
    let names = tar_names(&tar);
    assert!(names.iter().any(|n| n == "etc/mtab"));
    assert!(names.iter().any(|n| n == "dev/console"));

    let r = d.berth(&["export", "-o", "/nonexistent-dir/x.tar", "ex"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "failed to export container: invalid output path: stat /nonexistent-dir: no such file or directory\n"
    );
    let ev = d
        .berth(&[
            "events",
            "--since",
            "5m",
            "--until",
            &until(),
            "--filter",
            "event=export",
            "--format",
            "{{.Actor.Attributes.name}}",
        ])
        .ok()
        .stdout;
    assert!(ev.lines().filter(|l| *l == "ex").count() >= 2, "{ev}");
    assert!(mounts_containing(&d.data_root().display().to_string()).is_empty());
}

#[test]
fn cp_in_and_out_of_running_and_stopped_containers() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let src = local_tree(&d);
    let s = |p: &str| src.join(p).display().to_string();
    d.berth(&["run", "-d", "--name", "cpr", "busybox", "sleep", "1000"])
        .ok();

    // In: a directory to a new name, a file into a directory, a file to a new name.
    d.berth(&["cp", &s("dir"), "cpr:/noa"]).ok();
    d.berth(&["cp", "-a", &s("one"), "cpr:/tmp"]).ok();
    d.docker(&["cp", &s("one"), "cpr:/renamed"]).ok();
    let st = d
        .berth(&[
            "exec",
            "cpr",
            "stat",
            "-c",
            "%n %a %u %g",
            "/noa",
            "/noa/f",
            "/noa/sub",
            "/noa/sub/g",
            "/tmp/one",
            "/renamed",
        ])
        .ok()
        .stdout;
    assert_eq!(
        lines(&st),
        [
            "/noa 755 1234 5678",
            "/noa/f 4711 1234 5678",
            "/noa/sub 750 1234 5678",
            "/noa/sub/g 644 1234 5678",
            "/tmp/one 644 0 0",
            "/renamed 644 0 0",
        ]
    );
    assert_eq!(
        d.berth(&["exec", "cpr", "readlink", "/noa/link"])
            .ok()
            .stdout,
        "/etc/passwd\n"
    );
    assert_eq!(
        d.berth(&["exec", "cpr", "cat", "/renamed"]).ok().stdout,
        "hello\n"
    );

    // Out: modes kept, owned by the caller.
    let out = d.dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let o = |p: &str| out.join(p).display().to_string();
    d.berth(&["cp", "cpr:/noa", &o("noa")]).ok();
    let m = fs::metadata(out.join("noa/f")).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o4711, 0, 0));
    assert_eq!(fs::read(out.join("noa/sub/g")).unwrap(), b"g\n");
    assert_eq!(
        fs::metadata(out.join("noa/sub")).unwrap().mode() & 0o777,
        0o750
    );
    assert_eq!(
        fs::read_link(out.join("noa/link")).unwrap(),
        Path::new("/etc/passwd")
    );
    d.berth(&["cp", "cpr:/noa/.", &o("contents")]).ok();
    assert!(out.join("contents/f").is_file());
    d.berth(&["cp", "cpr:/etc/hostname", &o("")]).ok();
    assert!(out.join("hostname").is_file());
    d.docker(&["cp", "cpr:/noa/f", &o("from-docker")]).ok();
    assert_eq!(fs::read(out.join("from-docker")).unwrap(), b"data\n");

    // `-` streams both ways.
    let (code, tar, err) = raw(&d, &["cp", "cpr:/noa", "-"], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        tar_names(&tar),
        ["noa/", "noa/f", "noa/link", "noa/sub/", "noa/sub/g"]
    );
    let input = make_tar(&src, &["one"]);
    let (code, _, err) = raw(&d, &["cp", "-", "cpr:/etc"], Some(&input));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        d.berth(&["exec", "cpr", "cat", "/etc/one"]).ok().stdout,
        "hello\n"
    );
    let (code, _, err) = raw(&d, &["cp", "-", "cpr:/etc/passwd"], Some(&input));
    assert_eq!(
        (code, err.as_str()),
        (1, "destination \"cpr:/etc/passwd\" must be a directory\n")
    );

    // Stopped: both ways, then visible once started again.
    d.berth(&["stop", "-t", "0", "cpr"]).ok();
    d.berth(&["cp", &s("one"), "cpr:/stopped-in"]).ok();
    d.berth(&["cp", &s("dir"), "cpr:/noa2"]).ok();
    d.berth(&["cp", "cpr:/noa/sub/g", &o("stopped-out")]).ok();
    assert_eq!(fs::read(out.join("stopped-out")).unwrap(), b"g\n");
    let (_, host, _) = raw(&d, &["cp", "cpr:/etc/hostname", "-"], None);
    assert!(!tar_names(&host).is_empty());
    assert!(mounts_containing(&d.data_root().display().to_string()).is_empty());
    d.berth(&["start", "cpr"]).ok();
    assert_eq!(
        d.berth(&["exec", "cpr", "cat", "/stopped-in"]).ok().stdout,
        "hello\n"
    );
    assert_eq!(
        d.berth(&["exec", "cpr", "stat", "-c", "%a %u", "/noa2/f"])
            .ok()
            .stdout,
        "4711 1234\n"
    );

    // Errors as docker words them.
    let r = d.berth(&["cp", "cpr:/nope", &o("x")]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "Error response from daemon: Could not find the file /nope in container cpr\n"
        )
    );
    let r = d.docker(&["cp", "cpr:/nope", &o("x")]);
    assert_eq!(
        r.stderr,
        "Error response from daemon: Could not find the file /nope in container cpr\n"
    );
    let r = d.berth(&["cp", &s("one"), "cpr:/nodir/x"]);
    assert_eq!(
        r.stderr,
        "Error response from daemon: Could not find the file /nodir in container cpr\n"
    );
    let r = d.berth(&["cp", &s("dir"), "cpr:/etc/passwd"]);
    assert_eq!(r.stderr, "cannot copy directory\n");
    let r = d.berth(&["cp", &s("one"), "cpr:/nodir/"]);
    assert_eq!(r.stderr, "no such directory\n");
    let r = d.berth(&["cp", "cpr:/etc/passwd", "/nonexistent-dir/x"]);
    assert_eq!(
        r.stderr,
        "invalid output path: directory \"/nonexistent-dir\" does not exist\n"
    );
    let r = d.berth(&["cp", "a", "b"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "must specify at least one container source\n")
    );
    let r = d.berth(&["cp", "a:/x", "b:/y"]);
    assert_eq!(r.stderr, "copying between containers is not supported\n");
    let r = d.berth(&["cp", "nope:/x", &o("y")]);
    assert_eq!(
        r.stderr,
        "Error response from daemon: No such container: nope\n"
    );

    // The archive API directly.
    let (status, _) = d.request("HEAD", "/containers/cpr/archive?path=/noa", None);
    assert_eq!(status, 200);
    let (status, body) = d.get("/containers/cpr/archive");
    assert_eq!(
        (status, body.trim()),
        (400, r#"{"message":"bad parameter: pathcannot be empty"}"#)
    );
    let ev = d
        .berth(&[
            "events",
            "--since",
            "5m",
            "--until",
            &until(),
            "--filter",
            "container=cpr",
            "--format",
            "{{.Action}}",
        ])
        .ok()
        .stdout;
    assert!(
        ev.lines().any(|l| l == "archive-path") && ev.lines().any(|l| l == "extract-to-dir"),
        "{ev}"
    );
}

/// What a container must never reach: a directory of the host with one file.
fn victim(d: &Berthd) -> PathBuf {
    let v = d.dir.path().join("victim");
    fs::create_dir_all(&v).unwrap();
    fs::write(v.join("secret"), b"host secret\n").unwrap();
    v
}

#[track_caller]
fn untouched(v: &Path) {
    let names: Vec<_> = fs::read_dir(v)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        ["secret"],
        "something was written into the host directory"
    );
    assert_eq!(fs::read(v.join("secret")).unwrap(), b"host secret\n");
}

#[test]
fn hostile_symlinks_never_reach_the_host() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let v = victim(&d);
    let vs = v.display().to_string();
    let src = local_tree(&d);
    let one = src.join("one").display().to_string();
    let out = d.dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let plant = format!(
        "ln -s {vs} /abs; ln -s ../../../../../../../../..{vs} /rel; mkdir /d; ln -s / /d/root; \
         ln -s {vs}/secret /secretlink; ln -s /abs /chain; mkdir /x; echo container > /x/secret"
    );
    d.berth(&[
        "run",
        "-d",
        "--name",
        "evil",
        "busybox",
        "sh",
        "-c",
        &format!("{plant}; sleep 1000"),
    ])
    .ok();
    assert!(d.eventually(std::time::Duration::from_secs(5), || {
        d.berth(&["exec", "evil", "test", "-L", "/chain"]).code == 0
    }));
    let secret = |s: &[u8]| String::from_utf8_lossy(s).contains("host secret");
    for round in ["running", "stopped"] {
        // Reads through the links resolve inside the container.
        for p in [
            "/abs/secret",
            "/rel/secret",
            "/chain/secret",
            &format!("/d/root{vs}/secret"),
            "/abs/",
            "/secretlink/",
        ] {
            let (code, tar, _) = raw(&d, &["cp", &format!("evil:{p}"), "-"], None);
            assert!(
                code != 0 || !secret(&tar),
                "{round}: read the host through {p}"
            );
        }
        let (_, tar, _) = raw(&d, &["cp", "-L", "evil:/secretlink", "-"], None);
        assert!(!secret(&tar), "{round}: -L followed a link to the host");
        // A link is copied as a link.
        let (code, tar, _) = raw(&d, &["cp", "evil:/secretlink", "-"], None);
        assert_eq!(code, 0);
        assert!(!secret(&tar));
        // Writes through the links resolve inside the container.
        for dest in [
            "/abs",
            "/abs/",
            "/abs/new",
            "/rel",
            "/chain/",
            &format!("/d/root{vs}"),
        ] {
            let _ = d.berth(&["cp", &one, &format!("evil:{dest}")]);
            let _ = d.docker(&["cp", &one, &format!("evil:{dest}")]);
        }
        // Archives whose entries go through the links.
        let staging = d.dir.path().join(format!("stage-{round}"));
        for parent in ["abs", "rel", "chain", "d/root/tmp"] {
            fs::create_dir_all(staging.join(parent)).unwrap();
            fs::write(staging.join(parent).join("pwned"), b"x").unwrap();
        }
        let tar = make_tar(&staging, &["abs", "rel", "chain", "d"]);
        let _ = raw(&d, &["cp", "-", "evil:/"], Some(&tar));
        let _ = raw(&d, &["cp", "-", "evil:/abs"], Some(&tar));
        untouched(&v);
        assert!(!Path::new("/pwned").exists() && !Path::new("/tmp/pwned").exists());
        if round == "running" {
            d.berth(&["stop", "-t", "0", "evil"]).ok();
        }
    }
    assert!(mounts_containing(&d.data_root().display().to_string()).is_empty());
}

#[test]
fn symlinks_swapped_during_copies_never_reach_the_host() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let v = victim(&d);
    let vs = v.display().to_string();
    let src = local_tree(&d);
    // /x flips between a directory and a symlink to the host as fast as it can.
    let flip = format!(
        "mkdir /x; echo container > /x/secret; \
         while true; do mv /x /x.d; ln -s {vs} /x; rm /x; mv /x.d /x; done"
    );
    d.berth(&["run", "-d", "--name", "race", "busybox", "sh", "-c", &flip])
        .ok();
    let one = src.join("one").display().to_string();
    let tar = {
        let staging = d.dir.path().join("stage");
        fs::create_dir_all(staging.join("x")).unwrap();
        fs::write(staging.join("x/pwned"), b"x").unwrap();
        make_tar(&staging, &["x"])
    };
    for _ in 0..40 {
        let _ = d.berth(&["cp", &one, "race:/x/"]);
        let _ = raw(&d, &["cp", "-", "race:/"], Some(&tar));
        let (code, got, _) = raw(&d, &["cp", "race:/x/secret", "-"], None);
        assert!(code != 0 || !String::from_utf8_lossy(&got).contains("host secret"));
        let (code, got, _) = raw(&d, &["cp", "race:/x/", "-"], None);
        assert!(code != 0 || !String::from_utf8_lossy(&got).contains("host secret"));
    }
    untouched(&v);
    let (code, _, _) = raw(&d, &["commit", "race", "race:img"], None);
    assert_eq!(code, 0);
    untouched(&v);
}
