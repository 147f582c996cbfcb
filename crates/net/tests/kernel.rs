//! Root tests against the kernel. Each test builds its own world of network
//! namespaces: a "host" namespace (where the bridges, the nftables table and
//! the sysctls live; every library call runs in it), "container" namespaces,
//! and an "outside" namespace reachable from the host over a veth (to see
//! masquerading). The host's real interfaces, docker0 and berth0 are never
//! touched; dropping the guard deletes every namespace and process.

use std::fs::File;
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use berth_net::{
    cleanup_all, connect, disconnect, ensure_bridge, netns, nft, parse_publish, publish,
    remove_network, unpublish, Ipam, NetworkConfig,
};

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let ok =
        unsafe { libc::geteuid() } == 0 && Command::new("nft").arg("--version").output().is_ok();
    if !ok {
        eprintln!("SKIP: berth-net kernel tests need root, ip, nft and busybox");
    }
    ok
}

/// Namespaces and processes of one test; all removed on drop.
struct World {
    tag: String,
    namespaces: Vec<String>,
    children: Vec<Child>,
    host: File,
}

impl World {
    fn new() -> World {
        let tag = berth_util::id::random_hex(3);
        let mut w = World {
            host: File::open("/proc/self/ns/net").unwrap(),
            tag,
            namespaces: Vec::new(),
            children: Vec::new(),
        };
        let host = w.netns("h");
        w.host = File::open(format!("/run/netns/{host}")).unwrap();
        w
    }

    /// Creates namespace `bt<tag><suffix>` with `lo` up and returns its name.
    fn netns(&mut self, suffix: &str) -> String {
        let name = format!("bt{}{suffix}", self.tag);
        sh(&["ip", "netns", "add", &name]);
        self.namespaces.push(name.clone());
        sh(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        name
    }

    fn host_ns(&self) -> String {
        self.namespaces[0].clone()
    }

    /// Runs `f` in the host namespace.
    fn on_host<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        netns::run_in(&self.host, f).unwrap()
    }

    fn spawn_in(&mut self, ns: &str, cmd: &[&str]) {
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.children.push(child);
    }

    fn network(&self, n: u8, internal: bool) -> NetworkConfig {
        let subnet = format!("10.213.{n}.0/24").parse().unwrap();
        NetworkConfig {
            name: format!("net{n}"),
            id: format!("{}{n}", self.tag),
            bridge: format!("bt{}b{n}", self.tag),
            subnet,
            gateway: Ipv4Addr::new(10, 213, n, 1),
            ip_range: None,
            internal,
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn sh(cmd: &[&str]) {
    let st = Command::new(cmd[0]).args(&cmd[1..]).status().unwrap();
    assert!(st.success(), "{cmd:?}");
}

/// Runs a command in namespace `ns`; true if it succeeded.
fn ok_in(ns: &str, cmd: &[&str]) -> bool {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(cmd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn output_in(ns: &str, cmd: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(cmd)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ping(ns: &str, ip: &str) -> bool {
    ok_in(ns, &["busybox", "ping", "-c1", "-W1", ip])
}

/// `GET /` from namespace `ns` to `addr` ("ip:port"); the body, or "" if
/// nothing answered within a few seconds.
fn http_get(ns: &str, addr: &str) -> String {
    http_get_within(ns, addr, Duration::from_secs(5))
}

fn http_get_within(ns: &str, addr: &str, wait: Duration) -> String {
    let file = File::open(ns_path(ns)).unwrap();
    netns::run_in(&file, || {
        let addr: std::net::SocketAddr = addr.parse().unwrap();
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
                let mut resp = String::new();
                let _ = s.read_to_string(&mut resp);
                if let Some((_, body)) = resp.split_once("\r\n\r\n") {
                    return body.to_string();
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        String::new()
    })
    .unwrap()
}

fn ns_path(ns: &str) -> PathBuf {
    PathBuf::from(format!("/run/netns/{ns}"))
}

#[test]
fn bridge_connect_publish_isolate_teardown() {
    if !root() {
        return;
    }
    let mut w = World::new();
    let host = w.host_ns();
    let c1 = w.netns("c1");
    let c2 = w.netns("c2");
    let c3 = w.netns("c3");
    let out = w.netns("o");
    // "outside": 10.213.9.2, reachable from the host only; it has no route
    // back to the bridge subnets, so only masqueraded traffic gets answers.
    sh(&[
        "ip", "-n", &host, "link", "add", "vo", "type", "veth", "peer", "name", "vo", "netns", &out,
    ]);
    sh(&[
        "ip",
        "-n",
        &host,
        "addr",
        "add",
        "10.213.9.1/24",
        "dev",
        "vo",
    ]);
    sh(&[
        "ip",
        "-n",
        &out,
        "addr",
        "add",
        "10.213.9.2/24",
        "dev",
        "vo",
    ]);
    sh(&["ip", "-n", &host, "link", "set", "vo", "up"]);
    sh(&["ip", "-n", &out, "link", "set", "vo", "up"]);

    let net1 = w.network(1, false);
    let net2 = w.network(2, false);
    let net3 = w.network(3, true);
    let mut ipam1 = Ipam::new(net1.subnet, Some(net1.gateway), None).unwrap();
    let ip1 = ipam1.allocate("ctr1", None).unwrap();
    assert_eq!(ip1, Ipv4Addr::new(10, 213, 1, 2));

    w.on_host(|| {
        let t = Instant::now();
        ensure_bridge(&net1).unwrap();
        eprintln!("first ensure_bridge {:?}", t.elapsed());
        for n in [&net2, &net3] {
            ensure_bridge(n).unwrap();
        }
        // a second ensure changes nothing
        let before = nft::list_table().unwrap();
        ensure_bridge(&net1).unwrap();
        assert_eq!(nft::list_table().unwrap(), before);
    });

    // connect + publish, timed
    let ports = parse_publish("8080:80").unwrap();
    let (ep1, published, took) = w.on_host(|| {
        let t = Instant::now();
        let ep = connect(&net1, &ns_path(&c1), "ctr1", ip1, "eth0").unwrap();
        let connected = t.elapsed();
        let p = publish("ctr1", ip1, &ports).unwrap();
        (ep, p, (connected, t.elapsed()))
    });
    eprintln!("connect {:?}, connect+publish {:?}", took.0, took.1);
    assert_eq!(ep1.mac, "02:42:0a:d5:01:02");
    assert_eq!(published[0].host_port, 8080);
    let links = output_in(&c1, &["ip", "-o", "addr", "show", "dev", "eth0"]);
    assert!(links.contains("inet 10.213.1.2/24"), "{links}");
    assert!(output_in(&c1, &["ip", "link", "show", "eth0"]).contains("02:42:0a:d5:01:02"));
    assert!(output_in(&c1, &["ip", "route"]).contains("default via 10.213.1.1 dev eth0"));
    assert!(ping(&c1, "10.213.1.1"), "container → gateway");
    assert!(ping(&c1, "10.213.9.2"), "container → outside (masquerade)");

    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("index.html"), "hello from c1\n").unwrap();
    let dir = www.path().to_str().unwrap().to_string();
    w.spawn_in(&c1, &["busybox", "httpd", "-f", "-p", "80", "-h", &dir]);
    assert_eq!(
        http_get(&host, "10.213.1.1:8080"),
        "hello from c1\n",
        "via the bridge address"
    );
    assert_eq!(
        http_get(&host, "127.0.0.1:8080"),
        "hello from c1\n",
        "via loopback"
    );
    assert_eq!(
        http_get(&out, "10.213.9.1:8080"),
        "hello from c1\n",
        "from outside"
    );

    // hairpin: the container reaches itself through its published port
    assert_eq!(http_get(&c1, "10.213.1.1:8080"), "hello from c1\n");

    // the same port for another container: Docker's error
    let err = w.on_host(|| publish("ctr2", Ipv4Addr::new(10, 213, 2, 2), &ports).unwrap_err());
    assert_eq!(
        err.to_string(),
        "Bind for 0.0.0.0:8080 failed: port is already allocated"
    );
    // publishing again for the same container is idempotent
    w.on_host(|| assert_eq!(publish("ctr1", ip1, &published).unwrap(), published));
    // a key that another container holds without a reservation in this
    // process (as after a daemon restart): Docker's error all the same
    let err = w.on_host(|| {
        berth_net::alloc::release("ctr1");
        let e = publish("ctr2", Ipv4Addr::new(10, 213, 2, 2), &ports).unwrap_err();
        publish("ctr1", ip1, &published).unwrap();
        e
    });
    assert_eq!(
        err.to_string(),
        "Bind for 0.0.0.0:8080 failed: port is already allocated"
    );
    // a daemon restart: ensure_bridge again keeps the published ports
    let before = w.on_host(|| nft::list_table().unwrap());
    w.on_host(|| ensure_bridge(&net1).unwrap());
    let after = w.on_host(|| nft::list_table().unwrap());
    assert_eq!(before, after);
    assert!(after.contains(". tcp . 8080 "), "{after}");
    assert_eq!(http_get(&host, "127.0.0.1:8080"), "hello from c1\n");

    // isolation: a container of network 2 cannot reach network 1 directly,
    // but can use the published port; internal network 3 has no way out
    let ep2 = w.on_host(|| {
        connect(
            &net2,
            &ns_path(&c2),
            "ctr2",
            Ipv4Addr::new(10, 213, 2, 2),
            "eth0",
        )
        .unwrap()
    });
    let ep3 = w.on_host(|| {
        connect(
            &net3,
            &ns_path(&c3),
            "ctr3",
            Ipv4Addr::new(10, 213, 3, 2),
            "eth0",
        )
        .unwrap()
    });
    assert_eq!(ep3.gateway, None);
    assert!(ping(&c2, "10.213.2.1"));
    assert!(
        !ping(&c2, "10.213.1.2"),
        "network 2 → network 1 must be dropped"
    );
    assert_eq!(
        http_get(&c2, "10.213.2.1:8080"),
        "hello from c1\n",
        "published port from another network"
    );
    assert!(ping(&c3, "10.213.3.1"), "internal → its gateway");
    assert!(!output_in(&c3, &["ip", "route"]).contains("default"));
    // even with a route, nothing is forwarded out of an internal network
    sh(&[
        "ip",
        "-n",
        &c3,
        "route",
        "add",
        "default",
        "via",
        "10.213.3.1",
    ]);
    assert!(
        !ping(&c3, "10.213.9.2"),
        "internal → outside must be dropped"
    );
    assert!(
        !ping(&c3, "10.213.1.2"),
        "internal → network 1 must be dropped"
    );
    let table = w.on_host(|| nft::list_table().unwrap());
    assert!(
        table.contains("0.0.0.0/0 . tcp . 8080 comment \"ctr1\" : 10.213.1.2 . 80"),
        "{table}"
    );
    assert!(table.contains(&format!("\"{}\"", net1.bridge)), "{table}");
    assert!(table.contains("10.213.3.0/24 . "), "{table}");
    assert_eq!(
        table.matches("fib daddr type local jump publish").count(),
        2,
        "{table}"
    );

    // teardown: endpoint, ports, networks
    w.on_host(|| {
        unpublish("ctr1", ip1, &published).unwrap();
        unpublish("ctr1", ip1, &published).unwrap(); // idempotent
        disconnect(&ep1.host_veth).unwrap();
        disconnect(&ep1.host_veth).unwrap();
        disconnect(&ep2.host_veth).unwrap();
        let t = nft::list_table().unwrap();
        assert!(!t.contains("8080"), "{t}");
        for n in [&net1, &net2, &net3] {
            remove_network(n).unwrap();
        }
        let t = nft::list_table().unwrap();
        assert!(!t.contains("elements"), "{t}");
        cleanup_all().unwrap();
        cleanup_all().unwrap();
        assert!(nft::list_table().unwrap_err().is_not_found());
    });
    ipam1.release_owner("ctr1");
    let links = output_in(&host, &["ip", "-o", "link"]);
    assert!(
        !links.contains("veth") && !links.contains(&net1.bridge),
        "{links}"
    );
    assert!(!links.contains(&ep3.host_veth), "{links}");
    assert!(output_in(&c1, &["ip", "-o", "link"]).lines().count() == 1);
}

#[test]
fn loopback_only_binding_and_udp() {
    if !root() {
        return;
    }
    let mut w = World::new();
    let host = w.host_ns();
    let c = w.netns("c");
    let net = w.network(5, false);
    let ip = Ipv4Addr::new(10, 213, 5, 2);
    let mut ports = parse_publish("127.0.0.1:9090:80").unwrap();
    ports.extend(parse_publish("127.0.0.1::5353/udp").unwrap());
    let published = w.on_host(|| {
        ensure_bridge(&net).unwrap();
        connect(&net, &ns_path(&c), "ctr5", ip, "eth0").unwrap();
        publish("ctr5", ip, &ports).unwrap()
    });
    assert!(published[1].host_port >= 1024, "{published:?}");
    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("index.html"), "five\n").unwrap();
    let dir = www.path().to_str().unwrap().to_string();
    w.spawn_in(&c, &["busybox", "httpd", "-f", "-p", "80", "-h", &dir]);
    assert_eq!(http_get(&host, "127.0.0.1:9090"), "five\n");
    // bound to 127.0.0.1 only: not on the bridge address
    assert_eq!(
        http_get_within(&host, "10.213.5.1:9090", Duration::from_millis(300)),
        ""
    );

    // udp: a datagram to the published port arrives in the container
    let cns = File::open(ns_path(&c)).unwrap();
    let port = published[1].host_port;
    let received = std::thread::scope(|s| {
        let rx = s.spawn(|| {
            netns::run_in(&cns, || {
                let sock = std::net::UdpSocket::bind("0.0.0.0:5353").unwrap();
                sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = [0u8; 64];
                let n = sock.recv(&mut buf).unwrap_or(0);
                String::from_utf8_lossy(&buf[..n]).into_owned()
            })
            .unwrap()
        });
        w.on_host(|| {
            let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            for _ in 0..20 {
                sock.send_to(b"ping", ("127.0.0.1", port)).unwrap();
                std::thread::sleep(Duration::from_millis(100));
                if rx.is_finished() {
                    break;
                }
            }
        });
        rx.join().unwrap()
    });
    assert_eq!(received, "ping");
    w.on_host(|| cleanup_all().unwrap());
}
