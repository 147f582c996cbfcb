//! Volumes and mounts end to end, through `berth` and the real docker CLI:
//! `volume create/ls/inspect/rm/prune`, named, anonymous and image volumes,
//! copy-up, binds, tmpfs, read-only mounts, `--volumes-from`, `rm -v` and
//! `run --rm`, and Docker's data-container backup and restore.

use berth_e2e::{can_run, mounts_containing, Berthd};
use serde_json::Value;

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("bad JSON {e}: {s}"))
}

fn volume_names(d: &Berthd) -> Vec<String> {
    let out = d.berth(&["volume", "ls", "-q"]).ok().stdout;
    out.lines().map(str::to_string).collect()
}

/// A host directory inside the test's temporary directory.
fn host_dir(d: &Berthd, name: &str) -> String {
    let p = d.dir.path().join(name);
    std::fs::create_dir_all(&p).unwrap();
    p.display().to_string()
}

#[test]
fn volume_commands_through_berth_and_docker() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    assert_eq!(d.berth(&["volume", "create", "data"]).ok().stdout, "data\n");
    let generated = d.docker(&["volume", "create"]).ok().stdout;
    let generated = generated.trim();
    assert_eq!(generated.len(), 64, "{generated}");
    assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));
    d.docker(&[
        "volume",
        "create",
        "--label",
        "tier=db",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=1m",
        "tv",
    ])
    .ok();

    let v = json(&d.berth(&["volume", "inspect", "tv"]).ok().stdout);
    let v = &v[0];
    assert_eq!(v["Name"], "tv");
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Labels"]["tier"], "db");
    assert_eq!(v["Options"]["type"], "tmpfs");
    assert_eq!(v["Options"]["o"], "size=1m");
    let mountpoint = d.data_root().join("volumes/tv/_data");
    assert_eq!(v["Mountpoint"], mountpoint.display().to_string());
    assert!(mountpoint.is_dir());
    assert!(v["CreatedAt"].as_str().unwrap().ends_with('Z'));
    let plain = json(&d.docker(&["volume", "inspect", "data"]).ok().stdout);
    assert_eq!(plain[0]["Labels"], Value::Null);
    assert_eq!(plain[0]["Options"], Value::Null);
    assert_eq!(
        d.docker(&["volume", "inspect", "-f", "{{.Name}} {{.Driver}}", "data"])
            .ok()
            .stdout,
        "data local\n"
    );

    let table = d.berth(&["volume", "ls"]).ok().stdout;
    assert_eq!(table, d.docker(&["volume", "ls"]).ok().stdout);
    let mut lines = table.lines();
    assert_eq!(lines.next(), Some("DRIVER    VOLUME NAME"));
    assert_eq!(lines.count(), 3);
    assert_eq!(
        d.berth(&["volume", "ls", "-q", "-f", "label=tier=db"])
            .ok()
            .stdout,
        "tv\n"
    );
    assert_eq!(
        d.docker(&["volume", "ls", "-q", "-f", "name=dat"])
            .ok()
            .stdout,
        "data\n"
    );
    assert_eq!(
        d.berth(&["volume", "ls", "-q", "-f", "driver=local"])
            .ok()
            .stdout
            .lines()
            .count(),
        3
    );
    assert_eq!(
        d.berth(&[
            "volume",
            "ls",
            "--format",
            "{{.Name}}:{{.Labels}}",
            "-f",
            "label=tier"
        ])
        .ok()
        .stdout,
        "tv:tier=db\n"
    );
    let row = json(
        d.docker(&["volume", "ls", "--format", "json", "-f", "name=tv"])
            .ok()
            .stdout
            .trim(),
    );
    assert_eq!(row["Labels"], "tier=db");
    assert_eq!(row["Links"], "N/A");

    // Errors as Docker words them.
    let r = d.berth(&["volume", "create", "x"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("create x: volume name is too short"),
        "{r:?}"
    );
    let r = d.docker(&["volume", "create", "-o", "bad=1", "vv"]);
    assert!(
        r.stderr.contains("create vv: invalid option: \"bad\""),
        "{r:?}"
    );
    let r = d.docker(&["volume", "create", "-d", "foo", "vv"]);
    assert!(r.stderr.contains("plugin \"foo\" not found"), "{r:?}");
    let r = d.docker(&["volume", "inspect", "nope"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("get nope: no such volume"), "{r:?}");
    let r = d.berth(&["volume", "ls", "-f", "dangling=maybe"]);
    assert_ne!(r.code, 0, "{r:?}");

    // In use: refused, even with -f; dangling tells used from unused.
    let id = d
        .berth(&["create", "-v", "data:/data", "busybox"])
        .ok()
        .stdout
        .trim()
        .to_string();
    for cli in ["berth", "docker"] {
        let args = ["volume", "rm", "-f", "data"];
        let r = if cli == "berth" {
            d.berth(&args)
        } else {
            d.docker(&args)
        };
        assert_eq!(r.code, 1, "{r:?}");
        assert!(
            r.stderr
                .contains(&format!("remove data: volume is in use - [{id}]")),
            "{cli}: {r:?}"
        );
    }
    let (status, body) = d.request("DELETE", "/volumes/data", None);
    assert_eq!(status, 409, "{body}");
    let dangling = d
        .berth(&["volume", "ls", "-q", "-f", "dangling=true"])
        .ok()
        .stdout;
    assert!(
        !dangling.contains("data\n") && dangling.contains("tv\n"),
        "{dangling}"
    );
    assert_eq!(
        d.berth(&["volume", "ls", "-q", "-f", "dangling=false"])
            .ok()
            .stdout,
        "data\n"
    );
    d.berth(&["rm", &id]).ok();

    let r = d.berth(&["volume", "rm", "data", "nope", generated]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, format!("data\n{generated}\n"));
    assert!(r.stderr.contains("get nope: no such volume"), "{r:?}");
    assert_eq!(
        d.docker(&["volume", "rm", "-f", "nope"]).ok().stdout,
        "nope\n"
    );
    assert_eq!(volume_names(&d), ["tv"]);
    assert!(!d.data_root().join("volumes/data").exists());

    let until = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1)
    .to_string();
    let events = d
        .docker(&[
            "events",
            "--since",
            "0",
            "--until",
            &until,
            "--filter",
            "type=volume",
            "--format",
            "{{.Action}} {{.Actor.ID}}",
        ])
        .ok()
        .stdout;
    assert!(events.contains("create data\n"), "{events}");
    assert!(events.contains("destroy data\n"), "{events}");
}

#[test]
fn prune_takes_anonymous_volumes_unless_all() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.berth(&["volume", "create", "named"]).ok();
    d.berth(&["volume", "create", "--label", "keep=1", "kept"])
        .ok();
    let c = d
        .berth(&["create", "-v", "/anon", "busybox"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let anon = json(&d.berth(&["inspect", &c]).ok().stdout)[0]["Mounts"][0]["Name"]
        .as_str()
        .unwrap()
        .to_string();
    // Used: nothing to prune.
    assert_eq!(
        d.docker(&["volume", "prune", "-f"]).ok().stdout,
        "Total reclaimed space: 0B\n"
    );
    d.berth(&["rm", &c]).ok();
    assert!(volume_names(&d).contains(&anon));
    let out = d.berth(&["volume", "prune", "-f"]).ok().stdout;
    assert_eq!(
        out,
        format!("Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 0B\n")
    );
    assert_eq!(volume_names(&d), ["kept", "named"]);
    let out = d
        .docker(&["volume", "prune", "-a", "-f", "--filter", "label!=keep"])
        .ok()
        .stdout;
    assert_eq!(
        out,
        "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n"
    );
    assert_eq!(volume_names(&d), ["kept"]);
}

#[test]
fn named_anonymous_and_bind_mounts_in_inspect_and_ps() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let host = host_dir(&d, "host");
    let missing = d.dir.path().join("made/by/berthd").display().to_string();
    let r = d
        .berth(&[
            "run",
            "--name",
            "mounted",
            "-v",
            "named:/data",
            "-v",
            "/anon",
            "-v",
            &format!("{host}:/h:ro"),
            "-v",
            &format!("{missing}:/made"),
            "--mount",
            "type=tmpfs,dst=/t,tmpfs-size=1m",
            "--tmpfs",
            "/run2:size=2m",
            "busybox",
            "sh",
            "-c",
            "echo hi > /data/f && grep -E ' /(t|run2) ' /proc/mounts | sort",
        ])
        .ok();
    assert!(
        r.stdout
            .contains("tmpfs /run2 tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k"),
        "{r:?}"
    );
    assert!(std::path::Path::new(&missing).is_dir());
    assert_eq!(
        std::fs::read_to_string(d.data_root().join("volumes/named/_data/f")).unwrap(),
        "hi\n"
    );

    let c = d.inspect("mounted");
    let mounts = c["Mounts"].as_array().unwrap();
    let find = |dest: &str| {
        mounts
            .iter()
            .find(|m| m["Destination"] == dest)
            .unwrap_or_else(|| panic!("no mount at {dest}: {mounts:?}"))
    };
    let named = find("/data");
    assert_eq!(named["Type"], "volume");
    assert_eq!(named["Name"], "named");
    assert_eq!(
        named["Source"],
        d.data_root()
            .join("volumes/named/_data")
            .display()
            .to_string()
    );
    assert_eq!(named["Driver"], "local");
    assert_eq!(
        (named["Mode"].as_str(), named["RW"].as_bool()),
        (Some("z"), Some(true))
    );
    assert_eq!(named["Propagation"], "");
    let anon = find("/anon");
    assert_eq!(anon["Name"].as_str().unwrap().len(), 64);
    assert_eq!(anon["Mode"], "");
    let bind = find("/h");
    assert_eq!(bind["Type"], "bind");
    assert_eq!(bind["Source"], host.as_str());
    assert_eq!(
        (bind["Mode"].as_str(), bind["RW"].as_bool()),
        (Some("ro"), Some(false))
    );
    assert_eq!(bind["Propagation"], "rprivate");
    assert!(bind.get("Name").is_none() && bind.get("Driver").is_none());
    let tmpfs = find("/t");
    assert_eq!(
        (tmpfs["Type"].as_str(), tmpfs["Source"].as_str()),
        (Some("tmpfs"), Some(""))
    );
    assert_eq!(mounts.len(), 5, "{mounts:?}");
    let anon_volume = json(
        &d.berth(&["volume", "inspect", anon["Name"].as_str().unwrap()])
            .ok()
            .stdout,
    );
    assert_eq!(anon_volume[0]["Labels"]["com.docker.volume.anonymous"], "");

    let ps = d
        .docker(&["ps", "-a", "--format", "{{.Mounts}}"])
        .ok()
        .stdout;
    assert!(
        ps.contains("named") && ps.contains(&anon["Name"].as_str().unwrap()[..14]),
        "{ps}"
    );
    assert_eq!(
        d.docker(&["ps", "-aq", "-f", "volume=named"])
            .ok()
            .stdout
            .trim()
            .len(),
        12
    );
    assert_eq!(
        d.docker(&["ps", "-aq", "-f", "volume=/h"])
            .ok()
            .stdout
            .trim()
            .len(),
        12
    );
    assert_eq!(
        d.docker(&["ps", "-aq", "-f", "volume=other"]).ok().stdout,
        ""
    );

    // A host file bound over a file of the image.
    let file = d.dir.path().join("motd");
    std::fs::write(&file, "bound file\n").unwrap();
    let bound = format!("{}:/etc/passwd:ro", file.display());
    let r = d
        .berth(&["run", "--rm", "-v", &bound, "busybox", "cat", "/etc/passwd"])
        .ok();
    assert_eq!(r.stdout, "bound file\n");

    // Errors at create, as Docker words them.
    let r = d.docker(&[
        "create",
        "--mount",
        "type=bind,src=/nonexistent-berth,dst=/x",
        "busybox",
    ]);
    assert!(
        r.stderr
            .contains("bind source path does not exist: /nonexistent-berth"),
        "{r:?}"
    );
    // `bee` is created before the duplicate is found, and removed again.
    let r = d.berth(&["create", "-v", "bee:/x", "-v", "/a:/x", "busybox"]);
    assert!(r.stderr.contains("Duplicate mount point: /x"), "{r:?}");
    let r = d.berth(&["create", "-v", "bad/name:/x", "busybox"]);
    assert!(
        r.stderr
            .contains("includes invalid characters for a local volume name"),
        "{r:?}"
    );
    assert!(
        !volume_names(&d).contains(&"bee".to_string()),
        "failed create left a volume"
    );
}

#[test]
fn read_only_mounts_refuse_writes() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let host = host_dir(&d, "ro-host");
    d.berth(&["run", "--name", "src", "-v", "shared:/s", "busybox", "true"])
        .ok();
    let cases: Vec<Vec<String>> = vec![
        vec!["-v".into(), "shared:/s:ro".into()],
        vec![
            "--mount".into(),
            "type=volume,src=shared,dst=/s,readonly".into(),
        ],
        vec!["-v".into(), format!("{host}:/s:ro")],
        vec!["--volumes-from".into(), "src:ro".into()],
    ];
    for flags in cases {
        let mut args: Vec<&str> = vec!["run", "--rm"];
        args.extend(flags.iter().map(String::as_str));
        args.extend(["busybox", "touch", "/s/x"]);
        let r = d.berth(&args);
        assert_eq!(r.code, 1, "{flags:?}: {r:?}");
        assert!(
            r.stderr.contains("Read-only file system"),
            "{flags:?}: {r:?}"
        );
        let r = d.docker(&args);
        assert!(
            r.stderr.contains("Read-only file system"),
            "{flags:?}: {r:?}"
        );
    }
    // The same volume read-write.
    d.berth(&[
        "run",
        "--rm",
        "--volumes-from",
        "src",
        "busybox",
        "touch",
        "/s/x",
    ])
    .ok();
    assert!(d.data_root().join("volumes/shared/_data/x").exists());
}

#[test]
fn rm_v_and_run_rm_remove_anonymous_volumes_only() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    d.berth(&[
        "run", "--rm", "-v", "keep1:/k", "-v", "/anon", "busybox", "true",
    ])
    .ok();
    assert_eq!(volume_names(&d), ["keep1"]);
    d.docker(&[
        "run",
        "--rm",
        "-v",
        "keep2:/k",
        "--mount",
        "type=volume,dst=/anon",
        "busybox",
        "true",
    ])
    .ok();
    assert_eq!(volume_names(&d), ["keep1", "keep2"]);

    // rm without -v keeps the anonymous volume; rm -v removes it.
    for (flag, kept) in [(None, true), (Some("-v"), false)] {
        let id = d
            .berth(&["create", "-v", "keep1:/k", "-v", "/anon", "busybox"])
            .ok()
            .stdout
            .trim()
            .to_string();
        let anon = d.inspect(&id)["Mounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Destination"] == "/anon")
            .unwrap()["Name"]
            .as_str()
            .unwrap()
            .to_string();
        let mut args = vec!["rm"];
        args.extend(flag);
        args.push(&id);
        d.docker(&args).ok();
        let names = volume_names(&d);
        assert_eq!(names.contains(&anon), kept, "rm {flag:?}: {names:?}");
        assert!(names.contains(&"keep1".to_string()));
    }
    d.berth(&["volume", "prune", "-f"]).ok();
    assert_eq!(volume_names(&d), ["keep1", "keep2"]);

    // An anonymous volume another container still uses survives rm -v.
    let owner = d
        .berth(&["create", "-v", "/anon", "busybox"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let user = d
        .berth(&["create", "--volumes-from", &owner, "busybox"])
        .ok()
        .stdout
        .trim()
        .to_string();
    d.berth(&["rm", "-v", &owner]).ok();
    assert_eq!(volume_names(&d).len(), 3);
    d.berth(&["rm", "-v", &user]).ok();
    assert_eq!(volume_names(&d), ["keep1", "keep2"]);
}

#[test]
fn new_volumes_are_filled_from_the_image() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let r = d
        .berth(&[
            "run",
            "--rm",
            "-v",
            "etc:/etc",
            "busybox",
            "cat",
            "/etc/passwd",
        ])
        .ok();
    assert!(r.stdout.starts_with("root:x:0:0"), "{r:?}");
    let copied = d.data_root().join("volumes/etc/_data/passwd");
    assert!(copied.is_file());
    // A volume that is not empty is left alone.
    std::fs::write(&copied, "mine\n").unwrap();
    let r = d
        .docker(&[
            "run",
            "--rm",
            "-v",
            "etc:/etc",
            "busybox",
            "cat",
            "/etc/passwd",
        ])
        .ok();
    assert_eq!(r.stdout, "mine\n");
    // nocopy: nothing but the mount targets of the network files.
    let r = d
        .berth(&[
            "run",
            "--rm",
            "-v",
            "bare:/etc:nocopy",
            "busybox",
            "ls",
            "/etc",
        ])
        .ok();
    assert_eq!(r.stdout, "hostname\nhosts\nresolv.conf\n");
    let r = d
        .docker(&[
            "run",
            "--rm",
            "--mount",
            "type=volume,src=bare2,dst=/etc,volume-nocopy",
            "busybox",
            "ls",
            "/etc",
        ])
        .ok();
    assert_eq!(r.stdout, "hostname\nhosts\nresolv.conf\n");

    // An image VOLUME: an anonymous volume with the image's content, owner
    // and mode.
    let root = d.dir.path().join("img");
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/out/rootfs");
    let s = std::process::Command::new("cp")
        .arg("-a")
        .arg(&fixture)
        .arg(&root)
        .status()
        .unwrap();
    assert!(s.success());
    std::fs::create_dir_all(root.join("srv/data/sub")).unwrap();
    std::fs::write(root.join("srv/data/sub/file"), "from image\n").unwrap();
    std::os::unix::fs::symlink("sub/file", root.join("srv/data/link")).unwrap();
    let chown = std::process::Command::new("chown")
        .args(["-hR", "33:44"])
        .arg(root.join("srv/data"))
        .status()
        .unwrap();
    assert!(chown.success());
    std::fs::set_permissions(
        root.join("srv/data"),
        std::os::unix::fs::PermissionsExt::from_mode(0o750),
    )
    .unwrap();
    let tar = d.dir.path().join("img.tar");
    let s = std::process::Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(s.success());
    d.berth(&[
        "import",
        "-c",
        "VOLUME /srv/data",
        "-c",
        "CMD [\"sh\"]",
        tar.to_str().unwrap(),
        "volimg:1",
    ])
    .ok();
    let r = d
        .docker(&[
            "run",
            "--name",
            "iv",
            "volimg:1",
            "sh",
            "-c",
            "stat -c '%u:%g %a' /srv/data /srv/data/sub/file; cat /srv/data/link",
        ])
        .ok();
    assert_eq!(r.stdout, "33:44 750\n33:44 644\nfrom image\n");
    let c = d.inspect("iv");
    assert_eq!(c["Config"]["Volumes"], serde_json::json!({"/srv/data": {}}));
    let m = &c["Mounts"][0];
    assert_eq!(m["Destination"], "/srv/data");
    assert_eq!(m["Name"].as_str().unwrap().len(), 64);
    assert!(std::fs::symlink_metadata(
        std::path::Path::new(m["Source"].as_str().unwrap()).join("link")
    )
    .unwrap()
    .file_type()
    .is_symlink());
    d.berth(&["rm", "-v", "iv"]).ok();
    assert!(!std::path::Path::new(m["Source"].as_str().unwrap()).exists());
}

#[test]
fn tmpfs_volume_is_mounted_while_used() {
    if !can_run() {
        return;
    }
    let mut d = Berthd::start();
    d.berth(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=2m",
        "tv",
    ])
    .ok();
    let data = d.data_root().join("volumes/tv/_data").display().to_string();
    d.berth(&[
        "run", "-d", "--name", "user-a", "-v", "tv:/tv", "busybox", "sleep", "1000",
    ])
    .ok();
    d.berth(&[
        "run", "-d", "--name", "user-b", "-v", "tv:/tv", "busybox", "sleep", "1000",
    ])
    .ok();
    assert_eq!(mounts_containing(&data).len(), 1);
    d.berth(&[
        "run",
        "--rm",
        "-v",
        "tv:/tv",
        "busybox",
        "sh",
        "-c",
        "echo shared > /tv/f",
    ])
    .ok();
    let r = d
        .docker(&[
            "run",
            "--rm",
            "-v",
            "tv:/tv",
            "busybox",
            "sh",
            "-c",
            "cat /tv/f; df -k /tv | tail -1",
        ])
        .ok();
    assert!(
        r.stdout.starts_with(
            "shared
"
        ) && r.stdout.contains(" 2048 "),
        "{r:?}"
    );
    // The mount survives a daemon restart while containers use it.
    d.restart();
    d.berth(&["rm", "-f", "user-a"]).ok();
    assert_eq!(
        mounts_containing(&data).len(),
        1,
        "unmounted while b uses it"
    );
    d.berth(&["rm", "-f", "user-b"]).ok();
    assert!(
        mounts_containing(&data).is_empty(),
        "still mounted after its last user"
    );
    assert_eq!(volume_names(&d), ["tv"]);
    d.berth(&["volume", "rm", "tv"]).ok();
}

/// Docker's "Back up, restore, or migrate data volumes" with a data container.
#[test]
fn data_container_backup_and_restore() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let backup = host_dir(&d, "backup");
    // The data container never runs.
    d.docker(&[
        "create",
        "-v",
        "/dbdata",
        "--name",
        "dbstore",
        "busybox",
        "/bin/true",
    ])
    .ok();
    d.berth(&[
        "run",
        "--rm",
        "--volumes-from",
        "dbstore",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /dbdata/db && echo 'row 1' > /dbdata/db/table && chown -R 33:33 /dbdata/db",
    ])
    .ok();
    // Two containers reach the same data; a third through a chain.
    d.docker(&[
        "run",
        "--name",
        "db1",
        "--volumes-from",
        "dbstore",
        "busybox",
        "sh",
        "-c",
        "echo 'row 2' >> /dbdata/db/table",
    ])
    .ok();
    let seen = d
        .berth(&[
            "run",
            "--name",
            "db2",
            "--volumes-from",
            "dbstore",
            "busybox",
            "cat",
            "/dbdata/db/table",
        ])
        .ok()
        .stdout;
    assert_eq!(seen, "row 1\nrow 2\n");
    let chained = d
        .berth(&[
            "run",
            "--rm",
            "--volumes-from",
            "db1",
            "busybox",
            "cat",
            "/dbdata/db/table",
        ])
        .ok()
        .stdout;
    assert_eq!(chained, seen);

    // Back up into a bind-mounted host directory.
    d.docker(&[
        "run",
        "--rm",
        "--volumes-from",
        "dbstore",
        "-v",
        &format!("{backup}:/backup"),
        "busybox",
        "tar",
        "cf",
        "/backup/backup.tar",
        "/dbdata",
    ])
    .ok();
    assert!(std::path::Path::new(&backup).join("backup.tar").is_file());

    // Restore into a new container's new volume.
    d.berth(&[
        "create",
        "-v",
        "/dbdata",
        "--name",
        "dbstore2",
        "busybox",
        "/bin/true",
    ])
    .ok();
    d.berth(&[
        "run",
        "--rm",
        "--volumes-from",
        "dbstore2",
        "-v",
        &format!("{backup}:/backup"),
        "busybox",
        "sh",
        "-c",
        "cd /dbdata && tar xf /backup/backup.tar --strip 1",
    ])
    .ok();
    let restored = d
        .docker(&[
            "run",
            "--rm",
            "--volumes-from",
            "dbstore2",
            "busybox",
            "sh",
            "-c",
            "cat /dbdata/db/table; stat -c %u:%g /dbdata/db/table",
        ])
        .ok()
        .stdout;
    assert_eq!(restored, "row 1\nrow 2\n33:33\n");
    let old = d.inspect("dbstore")["Mounts"][0]["Name"].clone();
    let new = d.inspect("dbstore2")["Mounts"][0]["Name"].clone();
    assert_ne!(old, new);

    // The data outlives every container but the last `rm -v`.
    d.berth(&["rm", "-f", "db1", "db2"]).ok();
    d.berth(&["rm", "dbstore"]).ok();
    assert!(volume_names(&d).contains(&old.as_str().unwrap().to_string()));
    d.berth(&["rm", "-v", "dbstore2"]).ok();
    assert!(!volume_names(&d).contains(&new.as_str().unwrap().to_string()));
}

#[test]
fn volumes_survive_a_daemon_restart() {
    if !can_run() {
        return;
    }
    let mut d = Berthd::start();
    d.berth(&["volume", "create", "--label", "a=b", "persist"])
        .ok();
    d.berth(&[
        "run",
        "--name",
        "writer",
        "-v",
        "persist:/p",
        "busybox",
        "sh",
        "-c",
        "echo kept > /p/f",
    ])
    .ok();
    let before = d.berth(&["volume", "inspect", "persist"]).ok().stdout;
    d.restart();
    assert_eq!(
        d.berth(&["volume", "inspect", "persist"]).ok().stdout,
        before
    );
    let r = d.berth(&["volume", "rm", "persist"]);
    assert!(r.stderr.contains("volume is in use"), "{r:?}");
    let r = d
        .berth(&["run", "--rm", "-v", "persist:/p", "busybox", "cat", "/p/f"])
        .ok();
    assert_eq!(r.stdout, "kept\n");
    assert_eq!(d.inspect("writer")["Mounts"][0]["Name"], "persist");
}

/// `berth create` sends what `docker create` sends for every storage flag,
/// and both get the same mounts.
#[test]
fn berth_and_docker_create_send_the_same_mounts() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let host = host_dir(&d, "same");
    d.berth(&["create", "--name", "source", "-v", "/from", "busybox"])
        .ok();
    let bind = format!("{host}:/h:ro");
    let flags = [
        "-v", "named:/data", "-v", "/anon", "-v", &bind, "--mount",
        "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=0700", "--mount",
        "type=volume,src=mv,dst=/mv,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-nocopy,volume-label=a=b",
        "--mount", "type=bind,src=/tmp,dst=/bt,readonly,bind-propagation=rshared",
        "--volumes-from", "source:ro", "--tmpfs", "/run2:size=1m",
    ];
    let view = |name: &str| {
        let c = d.inspect(name);
        let h = &c["HostConfig"];
        let mut binds: Vec<String> = serde_json::from_value(h["Binds"].clone()).unwrap();
        binds.sort();
        let mut mounts = c["Mounts"].clone();
        for m in mounts.as_array_mut().unwrap() {
            if m["Destination"] == "/anon" {
                m["Name"] = Value::Null;
                m["Source"] = Value::Null;
            }
        }
        serde_json::json!({
            "Binds": binds,
            "Mounts": h["Mounts"],
            "Tmpfs": h["Tmpfs"],
            "VolumesFrom": h["VolumesFrom"],
            "VolumeDriver": h["VolumeDriver"],
            "Volumes": c["Config"]["Volumes"],
            "MountPoints": mounts,
        })
    };
    let mut args = vec!["create", "--name", "by-docker"];
    args.extend(flags);
    args.push("busybox");
    d.docker(&args).ok();
    args[2] = "by-berth";
    d.berth(&args).ok();
    let (theirs, ours) = (view("by-docker"), view("by-berth"));
    assert_eq!(theirs, ours);
    assert_eq!(ours["MountPoints"].as_array().unwrap().len(), 7, "{ours}");
}
