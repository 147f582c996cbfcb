//! Networking end to end: the default bridge, published ports, user
//! networks with their DNS, links, `container:` mode, connect and
//! disconnect, `network` commands and API errors, events, and what
//! survives a daemon restart — through `berth` and the docker CLI. Every
//! daemon runs in its own network namespace; traffic only goes to loopback
//! and to addresses in namespaces the test created.

use berth_e2e::netns::{Netns, HOST_ADDR, OUTSIDE_ADDR};
use berth_e2e::{can_run, Berthd};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// `GET /hostname` from a busybox httpd serving /etc, from inside `ns`.
fn http_get(ns: &Netns, addr: &str) -> Option<String> {
    let addr: SocketAddr = addr.parse().ok()?;
    ns.run(move || {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
        s.write_all(b"GET /hostname HTTP/1.0\r\n\r\n").ok()?;
        let mut r = String::new();
        s.read_to_string(&mut r).ok()?;
        r.split_once("\r\n\r\n").map(|(_, b)| b.trim().to_string())
    })
}

fn inspect_net(d: &Berthd, name: &str) -> serde_json::Value {
    let out = d.berth(&["network", "inspect", name]).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(&out).expect("network inspect JSON");
    v[0].clone()
}

fn short(id: &str) -> String {
    id.trim().chars().take(12).collect()
}

/// A detached busybox httpd serving /etc on port 80.
fn httpd(d: &Berthd, args: &[&str]) -> String {
    let mut a = vec!["run", "-d"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]);
    d.berth(&a).ok().stdout.trim().to_string()
}

fn ip_of(d: &Berthd, name: &str, net: &str) -> String {
    d.inspect(name)["NetworkSettings"]["Networks"][net]["IPAddress"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// `ip -o link` in the daemon's namespace.
fn links(d: &Berthd) -> String {
    d.netns.exec("ip", &["-o", "link"]).ok().stdout
}

/// The `ports` map of berth's nftables table.
fn port_map(d: &Berthd) -> String {
    d.netns
        .exec("nft", &["list", "map", "ip", "berth", "ports"])
        .stdout
}

#[test]
fn default_bridge_files_and_modes() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let ls = d.berth(&["network", "ls"]).ok().stdout;
    let names: Vec<&str> = ls
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(names, ["bridge", "host", "none"], "{ls}");
    assert!(
        ls.starts_with("NETWORK ID     NAME      DRIVER    SCOPE\n"),
        "{ls}"
    );
    let dl = d
        .docker(&[
            "network",
            "ls",
            "--format",
            "{{.Name}} {{.Driver}} {{.Scope}}",
        ])
        .ok()
        .stdout;
    assert_eq!(
        dl,
        "bridge bridge local\nhost host local\nnone null local\n"
    );

    let web = httpd(
        &d,
        &[
            "--name",
            "web",
            "-h",
            "myh",
            "--domainname",
            "example.com",
            "--add-host",
            "foo:1.2.3.4",
            "--dns",
            "9.9.9.9",
            "--dns-search",
            "a.b",
            "--dns-option",
            "ndots:2",
        ],
    );
    let i = d.inspect("web");
    let ns = &i["NetworkSettings"];
    let ip = ns["IPAddress"].as_str().unwrap().to_string();
    let bridge_id = d
        .berth(&["network", "inspect", "-f", "{{.Id}}", "bridge"])
        .ok()
        .stdout;
    assert_eq!(ns["Networks"]["bridge"]["NetworkID"], bridge_id.trim());
    assert_eq!(ns["Networks"]["bridge"]["IPAddress"], ip.as_str());
    assert_eq!(ns["IPPrefixLen"], 16);
    assert!(ns["Gateway"].as_str().unwrap().ends_with(".1"), "{ns}");
    let octets: Vec<u8> = ip.split('.').map(|o| o.parse().unwrap()).collect();
    let mac = format!(
        "02:42:{:02x}:{:02x}:{:02x}:{:02x}",
        octets[0], octets[1], octets[2], octets[3]
    );
    assert_eq!(ns["MacAddress"], mac.as_str());
    assert_eq!(ns["Networks"]["bridge"]["EndpointID"], ns["EndpointID"]);
    assert_eq!(ns["Ports"], serde_json::json!({}));

    let hosts = std::fs::read_to_string(i["HostsPath"].as_str().unwrap()).unwrap();
    assert!(hosts.starts_with("127.0.0.1\tlocalhost\n"), "{hosts}");
    assert!(
        hosts.ends_with(&format!("1.2.3.4\tfoo\n{ip}\tmyh.example.com myh\n")),
        "{hosts}"
    );
    let resolv = std::fs::read_to_string(i["ResolvConfPath"].as_str().unwrap()).unwrap();
    assert_eq!(resolv, "search a.b\nnameserver 9.9.9.9\noptions ndots:2\n");

    // Containers on the default bridge reach each other by address, not by
    // name (no embedded DNS there).
    let got = d
        .berth(&[
            "run",
            "--rm",
            "busybox",
            "timeout",
            "5",
            "wget",
            "-qO-",
            &format!("http://{ip}/hostname"),
        ])
        .ok()
        .stdout;
    assert_eq!(got, "myh\n");
    let r = d
        .berth(&["run", "--rm", "busybox", "cat", "/etc/resolv.conf"])
        .ok();
    assert!(!r.stdout.contains("127.0.0.11"), "{r:?}");

    // The host reaches the container directly.
    assert!(d.eventually(Duration::from_secs(5), || http_get(
        &d.netns,
        &format!("{ip}:80")
    )
    .as_deref()
        == Some("myh")));

    // none: only loopback; host: the daemon's namespace.
    let none = d
        .berth(&[
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "ip",
            "-o",
            "link",
        ])
        .ok()
        .stdout;
    assert_eq!(none.lines().count(), 1, "{none}");
    assert!(none.contains(": lo:"), "{none}");
    let host = d
        .berth(&[
            "run",
            "--rm",
            "--network",
            "host",
            "busybox",
            "ip",
            "-o",
            "link",
        ])
        .ok()
        .stdout;
    assert!(host.contains("berth0"), "{host}");
    d.berth(&[
        "create",
        "--name",
        "n0",
        "--network",
        "none",
        "busybox",
        "true",
    ])
    .ok();
    let n0 = d.inspect("n0");
    assert_eq!(n0["HostConfig"]["NetworkMode"], "none");
    assert!(n0["NetworkSettings"]["Networks"]["none"]["NetworkID"].is_string());
    let dc = d
        .docker(&[
            "run", "--rm", "busybox", "ip", "-o", "-4", "addr", "show", "eth0",
        ])
        .ok()
        .stdout;
    assert!(dc.contains("/16"), "{dc}");

    // Removal leaves no veth and no addresses behind.
    assert!(links(&d).contains("veth"));
    d.berth(&["rm", "-f", &web, "n0"]).ok();
    assert!(
        d.eventually(Duration::from_secs(5), || !links(&d).contains("veth")),
        "{}",
        links(&d)
    );
    // Its address is handed out again once the cleanup is done.
    assert!(d.eventually(Duration::from_secs(5), || {
        d.berth(&[
            "run", "--rm", "busybox", "ip", "-o", "-4", "addr", "show", "eth0",
        ])
        .ok()
        .stdout
        .contains(&format!("inet {ip}/"))
    }));
}

#[test]
fn published_ports() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let web = httpd(
        &d,
        &[
            "--name",
            "web",
            "-p",
            "8080:80",
            "-p",
            "127.0.0.1::81",
            "--expose",
            "90",
        ],
    );
    let port = d.berth(&["port", "web"]).ok().stdout;
    let mut lines = port.lines();
    assert_eq!(lines.next(), Some("80/tcp -> 0.0.0.0:8080"));
    let loopback: u16 = lines
        .next()
        .and_then(|l| l.strip_prefix("81/tcp -> 127.0.0.1:"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{port}"));
    assert_eq!(
        d.docker(&["port", "web", "80"]).ok().stdout,
        "0.0.0.0:8080\n"
    );
    let ps = d.berth(&["ps", "--format", "{{.Ports}}"]).ok().stdout;
    assert_eq!(
        ps.trim(),
        format!("90/tcp, 0.0.0.0:8080->80/tcp, 127.0.0.1:{loopback}->81/tcp")
    );
    assert_eq!(d.docker(&["ps", "--format", "{{.Ports}}"]).ok().stdout, ps);
    let i = d.inspect("web");
    assert_eq!(
        i["NetworkSettings"]["Ports"],
        serde_json::json!({
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
            "81/tcp": [{"HostIp": "127.0.0.1", "HostPort": loopback.to_string()}],
            "90/tcp": null,
        })
    );
    let (_, list) = d.get("/containers/json");
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let mut ports = list[0]["Ports"].as_array().unwrap().clone();
    ports.sort_by_key(|p| p["PrivatePort"].as_u64());
    assert_eq!(
        serde_json::Value::Array(ports),
        serde_json::json!([
            {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"IP": "127.0.0.1", "PrivatePort": 81, "PublicPort": loopback, "Type": "tcp"},
            {"PrivatePort": 90, "Type": "tcp"},
        ])
    );

    let ps_q = |f: &str| d.berth(&["ps", "-q", "--filter", f]).ok().stdout;
    assert_eq!(ps_q("publish=8080"), format!("{}\n", short(&web)));
    assert_eq!(ps_q("expose=90/tcp"), format!("{}\n", short(&web)));
    assert_eq!(ps_q("publish=80"), "");
    assert_eq!(ps_q("network=bridge"), format!("{}\n", short(&web)));
    assert_eq!(ps_q("network=none"), "");

    // Loopback and the host's other addresses answer; so does the host
    // address from another container (hairpin through the bridge).
    let hostname = short(&web);
    assert!(d.eventually(Duration::from_secs(5), || http_get(
        &d.netns,
        "127.0.0.1:8080"
    )
    .as_deref()
        == Some(hostname.as_str())));
    let gateway = i["NetworkSettings"]["Gateway"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        http_get(&d.netns, &format!("{gateway}:8080")).as_deref(),
        Some(hostname.as_str())
    );
    let via_host = d
        .berth(&[
            "run",
            "--rm",
            "busybox",
            "timeout",
            "5",
            "wget",
            "-qO-",
            &format!("http://{gateway}:8080/hostname"),
        ])
        .ok()
        .stdout;
    assert_eq!(via_host.trim(), hostname);

    // Taken ports: by another container, and by a program of the host.
    let r = d.berth(&[
        "run", "-d", "--name", "clash", "-p", "8080:80", "busybox", "sleep", "60",
    ]);
    assert_eq!(r.code, 125, "{r:?}");
    assert!(
        r.stderr
            .contains("driver failed programming external connectivity on endpoint clash (")
            && r.stderr
                .contains("Bind for 0.0.0.0:8080 failed: port is already allocated"),
        "{r:?}"
    );
    let clash = d.inspect("clash");
    assert_eq!(clash["State"]["Status"], "created");
    assert!(
        clash["State"]["Error"]
            .as_str()
            .unwrap()
            .starts_with("driver failed programming"),
        "{clash}"
    );
    let held = d.netns.run(|| TcpListener::bind("0.0.0.0:0").unwrap());
    let held_port = held.local_addr().unwrap().port().to_string();
    let r = d.docker(&[
        "run",
        "-d",
        "-p",
        &format!("{held_port}:80"),
        "busybox",
        "sleep",
        "60",
    ]);
    assert_eq!(r.code, 125, "{r:?}");
    assert!(r.stderr.contains("address already in use"), "{r:?}");
    drop(held);

    // -P publishes every exposed port on a free host port.
    d.berth(&[
        "run", "-d", "--name", "all", "-P", "--expose", "5000", "--expose", "6000/udp", "busybox",
        "sleep", "60",
    ])
    .ok();
    let all = d.berth(&["port", "all"]).ok().stdout;
    assert!(
        all.contains("5000/tcp -> 0.0.0.0:") && all.contains("6000/udp -> 0.0.0.0:"),
        "{all}"
    );

    // Stopping withdraws the ports; starting again publishes them.
    d.berth(&["stop", "-t", "1", "web"]).ok();
    assert_eq!(
        d.inspect("web")["NetworkSettings"]["Ports"],
        serde_json::json!({})
    );
    assert!(
        d.eventually(Duration::from_secs(5), || !port_map(&d).contains(". 8080 ")),
        "{}",
        port_map(&d)
    );
    assert_eq!(http_get(&d.netns, "127.0.0.1:8080"), None);
    d.berth(&["start", "web"]).ok();
    assert!(d.eventually(Duration::from_secs(5), || http_get(
        &d.netns,
        "127.0.0.1:8080"
    )
    .as_deref()
        == Some(hostname.as_str())));
    // A removed container's port is free at once.
    d.berth(&["rm", "-f", "web"]).ok();
    d.berth(&[
        "run", "-d", "--name", "again", "-p", "8080:80", "busybox", "sleep", "60",
    ])
    .ok();
    d.berth(&["rm", "-f", "again", "all", "clash"]).ok();
    assert!(
        d.eventually(Duration::from_secs(5), || !port_map(&d).contains("comment")),
        "{}",
        port_map(&d)
    );
}

#[test]
fn user_networks_resolve_names_and_are_isolated() {
    if !can_run() {
        return;
    }
    let d = Berthd::start_with_outside();
    d.berth(&[
        "network",
        "create",
        "--subnet",
        "10.77.0.0/24",
        "--gateway",
        "10.77.0.254",
        "--ip-range",
        "10.77.0.128/25",
        "--label",
        "k=v",
        "-o",
        "com.docker.network.bridge.name=bt-front",
        "front",
    ])
    .ok();
    d.docker(&["network", "create", "back"]).ok();
    d.berth(&[
        "network",
        "create",
        "--internal",
        "--subnet",
        "10.78.0.0/24",
        "isolated",
    ])
    .ok();
    let front = inspect_net(&d, "front");
    assert_eq!(
        front["IPAM"]["Config"],
        serde_json::json!([{"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.254", "IPRange": "10.77.0.128/25"}])
    );
    assert_eq!(front["Labels"], serde_json::json!({"k": "v"}));
    assert_eq!(
        front["Options"]["com.docker.network.bridge.name"],
        "bt-front"
    );
    assert!(links(&d).contains("bt-front"));
    let back = inspect_net(&d, "back");
    assert!(!back["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap()
        .is_empty());

    let web = httpd(
        &d,
        &[
            "--name",
            "web",
            "--network",
            "front",
            "--network-alias",
            "www",
            "--ip",
            "10.77.0.50",
        ],
    );
    let w = d.inspect("web");
    let ep = &w["NetworkSettings"]["Networks"]["front"];
    assert_eq!(ep["IPAddress"], "10.77.0.50");
    assert_eq!(ep["Gateway"], "10.77.0.254");
    assert_eq!(ep["IPAMConfig"]["IPv4Address"], "10.77.0.50");
    assert_eq!(ep["Aliases"], serde_json::json!(["www"]));
    assert_eq!(
        ep["DNSNames"],
        serde_json::json!(["web", "www", short(&web)])
    );
    assert_eq!(w["NetworkSettings"]["IPAddress"], "");
    let members = inspect_net(&d, "front")["Containers"].clone();
    assert_eq!(members[&web]["Name"], "web");
    assert_eq!(members[&web]["IPv4Address"], "10.77.0.50/24");

    // Names, aliases, short IDs and name.network, from the embedded DNS.
    let script = format!(
        "cat /etc/resolv.conf; for n in web www {} web.front; do timeout 5 wget -qO- http://$n/hostname; done; ip -o -4 addr show eth0",
        short(&web)
    );
    let out = d
        .berth(&[
            "run",
            "--rm",
            "--network",
            "front",
            "busybox",
            "sh",
            "-c",
            &script,
        ])
        .ok()
        .stdout;
    let host = short(&web);
    assert_eq!(
        out.lines().take(6).collect::<Vec<_>>(),
        [
            "nameserver 127.0.0.11",
            "options ndots:0",
            &host,
            &host,
            &host,
            &host
        ],
        "{out}"
    );
    assert!(out.contains("inet 10.77.0.128/24"), "{out}");

    // Other networks neither resolve nor reach it.
    let r = d.berth(&["run", "--rm", "--network", "back", "busybox", "sh", "-c", "nslookup web >/dev/null 2>&1 && echo resolved; timeout 2 wget -qO- http://10.77.0.50/hostname || echo unreachable"]).ok();
    assert_eq!(r.stdout, "unreachable\n", "{r:?}");

    // --internal: no route out, no forwarding; names still answered.
    d.berth(&[
        "run",
        "-d",
        "--name",
        "inner",
        "--network",
        "isolated",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let r = d.berth(&[
        "run", "--rm", "--network", "isolated", "busybox", "sh", "-c",
        &format!("ip route; nslookup inner >/dev/null && echo named; nslookup nosuchname.example >/dev/null || echo nx; ping -c1 -W1 {OUTSIDE_ADDR} >/dev/null || echo cut"),
    ]).ok();
    assert!(!r.stdout.contains("default"), "{r:?}");
    assert!(r.stdout.ends_with("named\nnx\ncut\n"), "{r:?}");
    // A normal network does get out (NAT to the daemon namespace's address).
    let r = d.berth(&[
        "run",
        "--rm",
        "--network",
        "back",
        "busybox",
        "ping",
        "-c1",
        "-W2",
        &OUTSIDE_ADDR.to_string(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");

    let r = d.berth(&["network", "rm", "front"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr.trim(),
        format!(
            "Error response from daemon: error while removing network: network front id {} has active endpoints",
            front["Id"].as_str().unwrap()
        )
    );
    d.berth(&["rm", "-f", "web", "inner"]).ok();
    assert_eq!(
        d.berth(&["network", "rm", "front", "back"]).ok().stdout,
        "front\nback\n"
    );
    assert!(!links(&d).contains("bt-front"));
    d.docker(&["network", "rm", "isolated"]).ok();
    assert_eq!(
        d.berth(&["network", "ls", "-q"])
            .ok()
            .stdout
            .lines()
            .count(),
        3
    );
}

#[test]
fn connect_disconnect_and_container_mode() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let web = httpd(&d, &["--name", "web"]);
    d.berth(&["network", "create", "app"]).ok();
    d.berth(&["network", "connect", "--alias", "api", "app", "web"])
        .ok();
    let nets = d.inspect("web")["NetworkSettings"]["Networks"].clone();
    let app_ip = nets["app"]["IPAddress"].as_str().unwrap().to_string();
    assert!(
        !app_ip.is_empty() && nets["bridge"]["IPAddress"] != "",
        "{nets}"
    );
    assert_eq!(nets["app"]["Aliases"], serde_json::json!(["api"]));
    // container: mode shares the namespace (and sees both interfaces).
    let addrs = d
        .berth(&[
            "run",
            "--rm",
            "--network",
            "container:web",
            "busybox",
            "ip",
            "-o",
            "-4",
            "addr",
        ])
        .ok()
        .stdout;
    assert!(
        addrs.contains(" eth1 ") && addrs.contains(&format!("inet {app_ip}/")),
        "{addrs}"
    );
    let r = d.berth(&[
        "run",
        "--rm",
        "--network",
        "container:web",
        "-h",
        "x",
        "busybox",
        "true",
    ]);
    assert_eq!(r.code, 125);
    assert!(
        r.stderr
            .contains("conflicting options: hostname and the network mode"),
        "{r:?}"
    );
    let got = d
        .berth(&[
            "run",
            "--rm",
            "--network",
            "app",
            "busybox",
            "timeout",
            "5",
            "wget",
            "-qO-",
            "http://api/hostname",
        ])
        .ok()
        .stdout;
    assert_eq!(got.trim(), short(&web));

    let r = d.berth(&["network", "connect", "app", "web"]);
    assert_eq!(
        r.stderr.trim(),
        "Error response from daemon: endpoint with name web already exists in network app"
    );
    d.docker(&["network", "disconnect", "app", "web"]).ok();
    let nets = d.inspect("web")["NetworkSettings"]["Networks"].clone();
    assert!(nets.get("app").is_none(), "{nets}");
    let addrs = d
        .berth(&[
            "run",
            "--rm",
            "--network",
            "container:web",
            "busybox",
            "ip",
            "-o",
            "link",
        ])
        .ok()
        .stdout;
    assert!(!addrs.contains("eth1"), "{addrs}");
    let r = d.berth(&["network", "disconnect", "app", "web"]);
    assert_eq!(
        r.stderr.trim(),
        format!("Error response from daemon: container {web} is not connected to network app")
    );

    // A stopped container can be connected; the network applies at start.
    d.berth(&["create", "--name", "later", "busybox", "sleep", "60"])
        .ok();
    d.berth(&["network", "connect", "--ip", "", "app", "later"])
        .ok();
    d.berth(&["start", "later"]).ok();
    assert_ne!(ip_of(&d, "later", "app"), "");
    d.berth(&["stop", "-t", "0", "web"]).ok();
    let r = d.berth(&[
        "run",
        "--rm",
        "--network",
        "container:web",
        "busybox",
        "true",
    ]);
    assert_eq!(r.code, 125);
    assert!(
        r.stderr
            .contains("cannot join network of a non running container"),
        "{r:?}"
    );

    // Events of the network's life.
    let since = d
        .berth(&["network", "inspect", "-f", "{{.Created}}", "app"])
        .ok()
        .stdout;
    d.berth(&["rm", "-f", "later"]).ok();
    d.berth(&["network", "rm", "app"]).ok();
    let until = berth_e2e_now();
    let ev = d
        .berth(&[
            "events",
            "--since",
            since.trim(),
            "--until",
            &until,
            "--filter",
            "type=network",
            "--format",
            "{{.Action}}",
        ])
        .ok()
        .stdout;
    let actions: Vec<&str> = ev.lines().collect();
    for want in ["connect", "disconnect", "destroy"] {
        assert!(actions.contains(&want), "{ev}");
    }
}

/// Now as Unix seconds (for `--until`).
fn berth_e2e_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    (now.as_secs() + 1).to_string()
}

#[test]
fn links_on_the_default_bridge() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let db = d
        .berth(&[
            "run", "-d", "--name", "db", "-e", "FOO=bar", "--expose", "5432", "busybox", "sleep",
            "60",
        ])
        .ok()
        .stdout;
    let ip = ip_of(&d, "db", "bridge");
    let out = d
        .berth(&[
            "run",
            "--rm",
            "--name",
            "app",
            "--link",
            "db:data",
            "busybox",
            "sh",
            "-c",
            "env | grep ^DATA_ | sort; tail -2 /etc/hosts",
        ])
        .ok()
        .stdout;
    let want = format!(
        "DATA_ENV_FOO=bar\nDATA_NAME=/app/data\nDATA_PORT=tcp://{ip}:5432\nDATA_PORT_5432_TCP=tcp://{ip}:5432\nDATA_PORT_5432_TCP_ADDR={ip}\nDATA_PORT_5432_TCP_PORT=5432\nDATA_PORT_5432_TCP_PROTO=tcp\n{ip}\tdata {} db\n",
        short(&db)
    );
    assert!(out.starts_with(&want), "{out}\nwant:\n{want}");
    d.berth(&[
        "run", "-d", "--name", "web", "--link", "db:d", "busybox", "sleep", "60",
    ])
    .ok();
    assert_eq!(
        d.inspect("web")["HostConfig"]["Links"],
        serde_json::json!(["/db:/web/d"])
    );
    let names = d
        .berth(&["ps", "--no-trunc", "--format", "{{.Names}}"])
        .ok()
        .stdout;
    assert_eq!(names, "web\ndb,web/d\n");
    d.berth(&["stop", "-t", "0", "db"]).ok();
    d.berth(&["stop", "-t", "0", "web"]).ok();
    let r = d.berth(&["start", "web"]);
    assert!(
        r.stderr
            .contains("Cannot link to a non running container: /db AS /web/d"),
        "{r:?}"
    );
    let r = d.berth(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--link",
        "db",
        "busybox",
        "true",
    ]);
    assert!(
        r.stderr
            .contains("conflicting options: host type networking can't be used with links"),
        "{r:?}"
    );
}

#[test]
fn network_commands_and_errors() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let err = |args: &[&str]| {
        let r = d.berth(args);
        assert_ne!(r.code, 0, "{args:?}: {r:?}");
        r.stderr.trim().to_string()
    };
    assert_eq!(
        err(&["network", "rm", "bridge"]),
        "Error response from daemon: bridge is a pre-defined network and cannot be removed"
    );
    assert_eq!(
        err(&["network", "inspect", "nope"]),
        "Error response from daemon: network nope not found"
    );
    d.berth(&["network", "create", "--subnet", "10.90.0.0/16", "n1"])
        .ok();
    assert_eq!(
        err(&["network", "create", "n1"]),
        "Error response from daemon: network with name n1 already exists"
    );
    assert_eq!(
        err(&["network", "create", "--subnet", "10.90.1.0/24", "n2"]),
        "Error response from daemon: Pool overlaps with other one on this address space"
    );
    assert!(
        err(&["run", "--rm", "--network", "nonet", "busybox", "true"])
            .contains("network nonet not found")
    );
    assert!(
        err(&["run", "--rm", "--ip", "172.17.0.9", "busybox", "true"])
            .contains("user specified IP address is supported on user defined networks only")
    );
    assert!(
        err(&["run", "--rm", "--network-alias", "x", "busybox", "true"]).contains(
            "network-scoped alias is supported only for containers in user defined networks"
        )
    );
    let r = d
        .berth(&[
            "run",
            "-d",
            "--name",
            "ua",
            "--network",
            "n1",
            "--ip",
            "10.90.0.9",
            "busybox",
            "sleep",
            "60",
        ])
        .ok();
    drop(r);
    assert!(err(&[
        "run",
        "--rm",
        "--network",
        "n1",
        "--ip",
        "10.90.0.9",
        "busybox",
        "true"
    ])
    .contains("Address already in use"));

    // ls: quiet, filters, formats, docker's view.
    d.berth(&["network", "create", "--label", "tier=db", "n3"])
        .ok();
    assert_eq!(
        d.berth(&["network", "ls", "-q"])
            .ok()
            .stdout
            .lines()
            .count(),
        5
    );
    assert_eq!(
        d.berth(&[
            "network",
            "ls",
            "-f",
            "label=tier=db",
            "--format",
            "{{.Name}}"
        ])
        .ok()
        .stdout,
        "n3\n"
    );
    assert_eq!(
        d.berth(&[
            "network",
            "ls",
            "-f",
            "type=custom",
            "--format",
            "{{.Name}}"
        ])
        .ok()
        .stdout,
        "n1\nn3\n"
    );
    assert_eq!(
        d.docker(&["network", "ls", "-f", "name=n", "--format", "{{.Name}}"])
            .ok()
            .stdout,
        "n1\nn3\nnone\n"
    );
    let id = d
        .docker(&["network", "inspect", "-f", "{{.Id}}", "n3"])
        .ok()
        .stdout;
    assert_eq!(
        d.berth(&["network", "ls", "--no-trunc", "-f", "name=n3", "-q"])
            .ok()
            .stdout,
        id
    );

    // prune keeps networks with running containers.
    let out = d.berth(&["network", "prune", "-f"]).ok().stdout;
    assert_eq!(out, "Deleted Networks:\nn3\n");
    assert_eq!(
        d.berth(&["network", "ls", "-f", "type=custom", "-q"])
            .ok()
            .stdout
            .lines()
            .count(),
        1
    );
    d.berth(&["rm", "-f", "ua"]).ok();
    d.docker(&["network", "prune", "-f"]).ok();
    assert_eq!(
        d.berth(&["network", "ls", "-q"])
            .ok()
            .stdout
            .lines()
            .count(),
        3
    );
}

#[test]
fn daemon_restart_keeps_connectivity_without_duplicating_rules() {
    if !can_run() {
        return;
    }
    let mut d = Berthd::start_with_outside();
    let web = httpd(&d, &["--name", "web", "-p", "8080:80"]);
    d.berth(&["network", "create", "n"]).ok();
    d.berth(&[
        "run",
        "-d",
        "--name",
        "named",
        "--network",
        "n",
        "busybox",
        "sleep",
        "120",
    ])
    .ok();
    let host = short(&web);
    let from_outside =
        |d: &Berthd| http_get(d.outside.as_ref().unwrap(), &format!("{HOST_ADDR}:8080"));
    assert!(
        d.eventually(Duration::from_secs(5), || from_outside(&d).as_deref()
            == Some(host.as_str()))
    );

    // Other containers reach the published port through the host's
    // outward address too.
    let via_host = d
        .berth(&[
            "run",
            "--rm",
            "busybox",
            "timeout",
            "5",
            "wget",
            "-qO-",
            &format!("http://{HOST_ADDR}:8080/hostname"),
        ])
        .ok()
        .stdout;
    assert_eq!(via_host.trim(), host);

    // Containers reach the outside, masqueraded behind the host address.
    let listener = d
        .outside
        .as_ref()
        .unwrap()
        .run(|| TcpListener::bind(format!("{OUTSIDE_ADDR}:9999")).unwrap());
    let accepted = std::thread::spawn(move || {
        let (mut s, peer) = listener.accept().unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).unwrap();
        (peer.ip().to_string(), buf)
    });
    d.berth(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        &format!("echo hi | nc {OUTSIDE_ADDR} 9999"),
    ])
    .ok();
    let (peer, msg) = accepted.join().unwrap();
    assert_eq!(
        (peer.as_str(), msg.as_str()),
        (HOST_ADDR.to_string().as_str(), "hi\n")
    );

    let rules = |d: &Berthd| {
        d.netns
            .exec("nft", &["list", "table", "ip", "berth"])
            .ok()
            .stdout
    };
    let before = rules(&d);
    d.restart();
    assert_eq!(rules(&d), before);
    assert_eq!(from_outside(&d).as_deref(), Some(host.as_str()));
    // Reservations are back: the port is still taken.
    let r = d.berth(&["run", "--rm", "-p", "8080:80", "busybox", "true"]);
    assert!(r.stderr.contains("port is already allocated"), "{r:?}");
    // The DNS server of the surviving container is back.
    let r = d
        .berth(&[
            "run",
            "--rm",
            "--network",
            "n",
            "busybox",
            "nslookup",
            "named",
        ])
        .ok();
    assert!(r.stdout.contains("Name:\tnamed"), "{r:?}");
    // New containers get fresh addresses, not the survivors'.
    let named_ip = ip_of(&d, "named", "n");
    let fresh = d
        .berth(&[
            "run",
            "--rm",
            "--network",
            "n",
            "busybox",
            "ip",
            "-o",
            "-4",
            "addr",
            "show",
            "eth0",
        ])
        .ok()
        .stdout;
    assert!(!fresh.contains(&format!("inet {named_ip}/")), "{fresh}");
    assert_eq!(rules(&d), before);

    // Everything goes with the containers and networks.
    d.berth(&["rm", "-f", "web", "named"]).ok();
    d.berth(&["network", "rm", "n"]).ok();
    assert!(
        d.eventually(Duration::from_secs(5), || !port_map(&d).contains("comment")),
        "{}",
        port_map(&d)
    );
    assert_eq!(from_outside(&d), None);
    let clean = |l: &str| !l.contains("veth") && !l.contains("br-");
    assert!(
        d.eventually(Duration::from_secs(5), || clean(&links(&d))),
        "{}",
        links(&d)
    );
}

/// Network API shapes the docker CLI relies on.
#[test]
fn network_api_shapes() {
    if !can_run() {
        return;
    }
    let d = Berthd::start();
    let (code, body) = d.request(
        "POST",
        "/v1.41/networks/create",
        Some(r#"{"Name":"api1","IPAM":{"Config":[{"Subnet":"10.66.0.0/24"}]}}"#),
    );
    assert_eq!(code, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = created["Id"].as_str().unwrap().to_string();
    assert_eq!(created["Warning"], "");
    let (code, body) = d.get(&format!("/networks/{}", &id[..6]));
    assert_eq!(code, 200);
    let n: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(n["Name"], "api1");
    assert_eq!(n["Driver"], "bridge");
    assert_eq!(n["Scope"], "local");
    let (code, body) = d.get("/networks?filters=%7B%22driver%22%3A%5B%22null%22%5D%7D");
    assert_eq!(code, 200);
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["Name"], "none");
    let (code, _) = d.request(
        "POST",
        "/networks/create",
        Some(r#"{"Name":"x","Driver":"overlay"}"#),
    );
    assert_eq!(code, 404);
    let (code, body) = d.request("POST", "/networks/prune", None);
    assert_eq!(
        (code, body.trim()),
        (200, "{\"NetworksDeleted\":[\"api1\"]}")
    );
    let (code, body) = d.request("POST", "/networks/prune", None);
    assert_eq!((code, body.trim()), (200, "{\"NetworksDeleted\":null}"));
}
