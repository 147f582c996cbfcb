//! `port` / `container port`: the published ports of a container from its
//! inspect `NetworkSettings.Ports`, all as `80/tcp -> 0.0.0.0:8080` lines or
//! the host addresses of one private port, in docker's natural sort order.

use crate::api::enc;
use crate::args::{Arity, Parsed, Spec, BIN};
use crate::cmd::common::{outln, Ctx};
use crate::error::{CliError, Result};
use std::cmp::Ordering;

const USAGE: &str = "CONTAINER [PRIVATE_PORT[/PROTO]]";

pub const SPEC: Spec = Spec {
    path: "port",
    usage: USAGE,
    about: "List port mappings or a specific mapping for the container",
    aliases: "docker container port, docker port",
    flags: &[],
    interspersed: true,
    arity: Arity::Min(0),
};

/// Go's `net.JoinHostPort`.
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `fvbommel/sortorder.NaturalLess` as an ordering: runs of digits compare
/// by value (then by fewer leading zeros), digits sort before other bytes,
/// everything else bytewise.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da != db {
            return if da {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        if !da {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
            continue;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let (na, nb) = (i, j);
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let by_len = (i - na).cmp(&(j - nb));
        let by_digits = a[na..i].cmp(&b[nb..j]);
        // Fewer leading zeros first: the position after them is smaller.
        let by_zeros = na.cmp(&nb);
        let o = by_len.then(by_digits).then(by_zeros);
        if o != Ordering::Equal {
            return o;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// The lines `port` prints for an inspect object (`None`: every port).
pub fn lines(
    inspect: &serde_json::Value,
    container: &str,
    private: Option<&str>,
) -> Result<Vec<String>> {
    let ports = &inspect["NetworkSettings"]["Ports"];
    let frontends = |key: &str| -> Vec<(String, String)> {
        ports[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    f["HostIp"].as_str().unwrap_or("").to_string(),
                    f["HostPort"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let mut out = Vec::new();
    match private {
        Some(spec) => {
            let (port, proto) = spec.split_once('/').unwrap_or((spec, ""));
            let proto = if proto.is_empty() { "tcp" } else { proto };
            let why = if port.is_empty() || port.bytes().any(|c| !c.is_ascii_digit()) {
                Some("invalid syntax")
            } else if port.parse::<u16>().is_err() {
                Some("value out of range")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(CliError::msg(format!(
                    "Error: invalid port ({port}): strconv.ParseUint: parsing \"{port}\": {why}"
                )));
            }
            let f = frontends(&format!("{port}/{proto}"));
            if f.is_empty() {
                return Err(CliError::msg(format!(
                    "Error: No public port '{spec}' published for {container}"
                )));
            }
            out.extend(f.iter().map(|(ip, p)| join_host_port(ip, p)));
        }
        None => {
            for key in ports.as_object().into_iter().flat_map(|m| m.keys()) {
                for (ip, p) in frontends(key) {
                    out.push(format!("{key} -> {}", join_host_port(&ip, &p)));
                }
            }
        }
    }
    out.sort_by(|a, b| natural_cmp(a, b));
    Ok(out)
}

fn port(ctx: &Ctx, p: &Parsed, path: &str) -> Result<()> {
    if p.args.is_empty() || p.args.len() > 2 {
        return Err(CliError::msg(format!(
            "{BIN}: '{BIN} {path}' requires at least 1 and at most 2 arguments\n\nUsage:  {BIN} {path} {USAGE}\n\nRun '{BIN} {path} --help' for more information"
        )));
    }
    let container = &p.args[0];
    let inspect = ctx
        .client
        .get_json(&format!("/containers/{}/json", enc(container)))?;
    let lines = lines(&inspect, container, p.args.get(1).map(String::as_str))?;
    if !lines.is_empty() {
        outln(&lines.join("\n"));
    }
    Ok(())
}

pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    port(ctx, p, "port")
}

pub fn run_container(ctx: &Ctx, p: &Parsed) -> Result<()> {
    port(ctx, p, "container port")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inspect() -> serde_json::Value {
        json!({"NetworkSettings": {"Ports": {
            "9876/tcp": [{"HostIp": "0.0.0.0", "HostPort": "1234"}, {"HostIp": "::", "HostPort": "1234"}],
            "7890/tcp": [{"HostIp": "0.0.0.0", "HostPort": "4321"}],
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
            "53/udp": null
        }}})
    }

    #[test]
    fn lists_every_mapping_in_natural_order() {
        assert_eq!(
            lines(&inspect(), "test", None).unwrap(),
            [
                "80/tcp -> 0.0.0.0:8080",
                "7890/tcp -> 0.0.0.0:4321",
                "9876/tcp -> 0.0.0.0:1234",
                "9876/tcp -> [::]:1234"
            ]
        );
        assert!(lines(&json!({"NetworkSettings": {"Ports": {}}}), "t", None)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn one_private_port() {
        assert_eq!(
            lines(&inspect(), "test", Some("7890")).unwrap(),
            ["0.0.0.0:4321"]
        );
        assert_eq!(
            lines(&inspect(), "test", Some("7890/udp"))
                .unwrap_err()
                .message,
            "Error: No public port '7890/udp' published for test"
        );
        assert_eq!(
            lines(&inspect(), "test", Some("53/udp"))
                .unwrap_err()
                .message,
            "Error: No public port '53/udp' published for test"
        );
        assert_eq!(
            lines(&inspect(), "test", Some("abc")).unwrap_err().message,
            "Error: invalid port (abc): strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            lines(&inspect(), "test", Some("70000"))
                .unwrap_err()
                .message,
            "Error: invalid port (70000): strconv.ParseUint: parsing \"70000\": value out of range"
        );
    }

    #[test]
    fn natural_order() {
        let mut v = vec!["a10", "a2", "a02", "b", "1x", "a2b"];
        v.sort_by(|a, b| natural_cmp(a, b));
        // Fewer leading zeros first, before the rest is looked at.
        assert_eq!(v, ["1x", "a2", "a2b", "a02", "a10", "b"]);
    }
}
