//! berth's nftables table (`table ip berth`): the text of its skeleton and of
//! the per-network and per-container elements, and running scripts through
//! `nft -f -` (one fork per batch; a batch is atomic).
//!
//! Everything that varies lives in sets and maps, so the base chains hold
//! only fixed rules: re-creating the skeleton (flush + add in one batch) is
//! idempotent, adding an element twice is a no-op, and removal uses the
//! "add then delete in one batch" idiom, which succeeds whether or not the
//! element existed. Nothing ever depends on rule handles.
//!
//! ```text
//! map ports          host ip . proto . host port  →  container ip . port   (DNAT)
//! set bridges        every berth bridge
//! set internal       bridges of --internal networks (no forwarding in or out)
//! set same_bridge    "br" . "br" for every bridge (traffic staying on a bridge)
//! set masq_subnets   subnets of non-internal networks (masquerade on the way out)
//! set on_bridge      subnet . bridge (no masquerade while staying on the bridge)
//! ```

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use crate::ipnet::Ipv4Net;
use crate::ports::PortBinding;

/// The table berth owns (family `ip`).
pub const TABLE: &str = "berth";

/// `nft` could not be run or refused a script.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error("run nft: {0} (install the nftables package)")]
    Spawn(#[source] std::io::Error),
    #[error("nft: {0}")]
    Failed(String),
}

impl NftError {
    /// Whether nft failed because the table (or an object) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, NftError::Failed(m) if m.contains("No such file or directory"))
    }
}

/// The table, its sets and chains, and the fixed rules.
pub fn skeleton() -> String {
    let t = TABLE;
    let mut s = format!("add table ip {t}\n");
    for (kind, name, def) in [
        ("map", "ports", "type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; flags interval;"),
        ("set", "bridges", "type ifname;"),
        ("set", "internal", "type ifname;"),
        ("set", "same_bridge", "type ifname . ifname;"),
        ("set", "masq_subnets", "type ipv4_addr; flags interval;"),
        ("set", "on_bridge", "type ipv4_addr . ifname; flags interval;"),
    ] {
        let _ = writeln!(s, "add {kind} ip {t} {name} {{ {def} }}");
    }
    let chains = [
        (
            "prerouting",
            "type nat hook prerouting priority dstnat; policy accept;",
        ),
        (
            "output",
            "type nat hook output priority -100; policy accept;",
        ),
        (
            "postrouting",
            "type nat hook postrouting priority srcnat; policy accept;",
        ),
        (
            "forward",
            "type filter hook forward priority filter; policy accept;",
        ),
        (
            "input",
            "type filter hook input priority filter; policy accept;",
        ),
        ("publish", ""),
    ];
    for (name, def) in chains {
        if def.is_empty() {
            let _ = writeln!(s, "add chain ip {t} {name}");
        } else {
            let _ = writeln!(s, "add chain ip {t} {name} {{ {def} }}");
        }
        let _ = writeln!(s, "flush chain ip {t} {name}");
    }
    for (chain, rule) in [
        // published ports, for traffic from outside and from this host
        ("prerouting", "fib daddr type local jump publish"),
        ("output", "fib daddr type local jump publish"),
        ("publish", "meta l4proto { tcp, udp, sctp } dnat ip to ip daddr . meta l4proto . th dport map @ports"),
        // a container reaching a published port of its own bridge (hairpin)
        ("postrouting", "oifname @bridges ct status dnat ip saddr . oifname @on_bridge masquerade"),
        ("postrouting", "ip saddr . oifname @on_bridge return"),
        ("postrouting", "ip saddr @masq_subnets masquerade"),
        // 127.0.0.1:port published: the DNATed packet leaves with source 127.0.0.1
        ("postrouting", "ip saddr 127.0.0.0/8 oifname @bridges masquerade"),
        ("forward", "iifname . oifname @same_bridge accept"),
        ("forward", "iifname @internal drop"),
        ("forward", "oifname @internal drop"),
        // published ports are reachable from every network, as with Docker
        ("forward", "ct status dnat accept"),
        // isolation between berth networks
        ("forward", "iifname @bridges oifname @bridges drop"),
        // route_localnet on bridges must not open the host's 127.0.0.1 to
        // containers; replies to loopback-published connections (de-NATed
        // back to 127.0.0.1) must pass
        ("input", "iifname @bridges ip daddr 127.0.0.0/8 ct status & dnat == 0 drop"),
    ] {
        let _ = writeln!(s, "add rule ip {t} {chain} {rule}");
    }
    s
}

/// The elements one network contributes.
fn network_elements(bridge: &str, subnet: Ipv4Net, internal: bool) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("bridges", format!("\"{bridge}\"")),
        ("same_bridge", format!("\"{bridge}\" . \"{bridge}\"")),
        ("on_bridge", format!("{subnet} . \"{bridge}\"")),
    ];
    if internal {
        v.push(("internal", format!("\"{bridge}\"")));
    } else {
        v.push(("masq_subnets", subnet.to_string()));
    }
    v
}

/// Adds a network's elements (idempotent), and removes those of the other
/// value of `internal` in case the flag changed.
pub fn network_add(bridge: &str, subnet: Ipv4Net, internal: bool) -> String {
    let stale = network_elements(bridge, subnet, !internal)
        .into_iter()
        .skip(3);
    let mut s: String = stale.map(|(set, e)| remove_element(set, &e, &e)).collect();
    for (set, e) in network_elements(bridge, subnet, internal) {
        let _ = writeln!(s, "add element ip {TABLE} {set} {{ {e} }}");
    }
    s
}

/// Removes a network's elements, whichever of them exist (both variants of
/// `internal`).
pub fn network_remove(bridge: &str, subnet: Ipv4Net) -> String {
    let mut all = network_elements(bridge, subnet, true);
    all.extend(network_elements(bridge, subnet, false).into_iter().skip(3));
    all.into_iter()
        .map(|(set, e)| remove_element(set, &e, &e))
        .collect()
}

/// Deletes an element whether or not it exists: adding it first makes the
/// delete valid, and the batch is atomic. `full` is the element with its
/// data (maps), `key` the key alone.
fn remove_element(set: &str, full: &str, key: &str) -> String {
    format!(
        "add element ip {TABLE} {set} {{ {full} }}\ndelete element ip {TABLE} {set} {{ {key} }}\n"
    )
}

fn port_key(b: &PortBinding) -> String {
    let ip = b
        .host_ip
        .map_or_else(|| "0.0.0.0/0".to_string(), |ip| ip.to_string());
    format!("{ip} . {} . {}", b.proto, b.host_port)
}

/// The comment that marks a container's elements: the first 12
/// alphanumeric characters of its ID.
pub fn owner_comment(owner: &str) -> String {
    owner
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .collect()
}

fn port_element(owner: &str, ip: Ipv4Addr, b: &PortBinding) -> String {
    format!(
        "{} comment \"{}\" : {ip} . {}",
        port_key(b),
        owner_comment(owner),
        b.container_port
    )
}

/// DNAT elements for a container's resolved bindings.
pub fn ports_add(owner: &str, ip: Ipv4Addr, bindings: &[PortBinding]) -> String {
    bindings
        .iter()
        .filter(|b| b.host_port != 0)
        .map(|b| {
            format!(
                "add element ip {TABLE} ports {{ {} }}\n",
                port_element(owner, ip, b)
            )
        })
        .collect()
}

/// Removes a container's DNAT elements, whichever of them exist.
pub fn ports_remove(owner: &str, ip: Ipv4Addr, bindings: &[PortBinding]) -> String {
    bindings
        .iter()
        .filter(|b| b.host_port != 0)
        .map(|b| remove_element("ports", &port_element(owner, ip, b), &port_key(b)))
        .collect()
}

/// Runs `script` with `nft -f -` as one atomic batch.
pub fn run(script: &str) -> Result<(), NftError> {
    nft(&["-f", "-"], script).map(|_| ())
}

/// `nft list table ip berth`.
pub fn list_table() -> Result<String, NftError> {
    nft(&["list", "table", "ip", TABLE], "")
}

/// Deletes the whole table; no error when it does not exist.
pub fn delete_table() -> Result<(), NftError> {
    match nft(&["delete", "table", "ip", TABLE], "") {
        Err(e) if e.is_not_found() => Ok(()),
        r => r.map(|_| ()),
    }
}

/// The bridge names in set `bridges` (empty when there is no table).
pub fn listed_bridges() -> Result<Vec<String>, NftError> {
    let out = match nft(&["-j", "list", "set", "ip", TABLE, "bridges"], "") {
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        r => r?,
    };
    Ok(bridges_from_json(&out))
}

fn bridges_from_json(text: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    v["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["set"]["elem"].as_array())
        .flatten()
        .filter_map(|e| e.as_str().map(str::to_string))
        .collect()
}

fn nft(args: &[&str], stdin: &str) -> Result<String, NftError> {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(if stdin.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NftError::Spawn)?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).map_err(NftError::Spawn)?;
    }
    let out = child.wait_with_output().map_err(NftError::Spawn)?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .find(|l| l.contains("Error"))
            .unwrap_or(err.trim());
        return Err(NftError::Failed(first.trim().to_string()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::parse_publish;

    #[test]
    fn skeleton_is_idempotent_text() {
        let s = skeleton();
        assert!(s.starts_with("add table ip berth\n"));
        // every base chain is flushed before its rules are added
        for chain in [
            "prerouting",
            "output",
            "postrouting",
            "forward",
            "input",
            "publish",
        ] {
            let flush = s.find(&format!("flush chain ip berth {chain}\n")).unwrap();
            let first_rule = s.find(&format!("add rule ip berth {chain} ")).unwrap();
            assert!(flush < first_rule, "{chain}");
        }
        assert!(s.contains("dnat ip to ip daddr . meta l4proto . th dport map @ports"));
        assert!(!s.contains("insert"));
    }

    #[test]
    fn network_text() {
        let n: Ipv4Net = "10.213.1.0/24".parse().unwrap();
        let add = network_add("bt1", n, false);
        assert_eq!(
            add,
            "add element ip berth internal { \"bt1\" }\n\
             delete element ip berth internal { \"bt1\" }\n\
             add element ip berth bridges { \"bt1\" }\n\
             add element ip berth same_bridge { \"bt1\" . \"bt1\" }\n\
             add element ip berth on_bridge { 10.213.1.0/24 . \"bt1\" }\n\
             add element ip berth masq_subnets { 10.213.1.0/24 }\n"
        );
        let internal = network_add("bt1", n, true);
        assert!(internal.contains("add element ip berth internal { \"bt1\" }"));
        assert!(internal.contains("delete element ip berth masq_subnets { 10.213.1.0/24 }"));
        assert!(!internal.contains("add element ip berth masq_subnets { 10.213.1.0/24 }\nadd"));
        let rm = network_remove("bt1", n);
        assert_eq!(rm.matches("delete element").count(), 5);
        assert!(rm.contains("delete element ip berth masq_subnets { 10.213.1.0/24 }"));
        assert!(rm.contains("delete element ip berth internal { \"bt1\" }"));
    }

    #[test]
    fn port_text() {
        let mut b = parse_publish("8080:80").unwrap();
        b.extend(parse_publish("127.0.0.1:5353:53/udp").unwrap());
        b.extend(parse_publish("90").unwrap()); // unresolved: skipped
        let ip = Ipv4Addr::new(10, 213, 1, 2);
        let add = ports_add("0123456789abcdef", ip, &b);
        assert_eq!(
            add,
            "add element ip berth ports { 0.0.0.0/0 . tcp . 8080 comment \"0123456789ab\" : 10.213.1.2 . 80 }\n\
             add element ip berth ports { 127.0.0.1 . udp . 5353 comment \"0123456789ab\" : 10.213.1.2 . 53 }\n"
        );
        let rm = ports_remove("0123456789abcdef", ip, &b);
        assert!(rm.contains("delete element ip berth ports { 0.0.0.0/0 . tcp . 8080 }\n"));
        assert_eq!(rm.matches("add element").count(), 2);
        // an owner cannot inject nft syntax through the comment
        assert!(ports_add("x\" } ; flush ruleset", ip, &b).contains("comment \"xflushrulese\""));
    }

    #[test]
    fn bridges_json() {
        let j = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"family": "ip", "name": "bridges", "table": "berth", "type": "ifname", "handle": 2, "elem": ["bt1", "berth0"]}}]}"#;
        assert_eq!(bridges_from_json(j), vec!["bt1", "berth0"]);
        assert!(bridges_from_json("{}").is_empty());
    }
}
