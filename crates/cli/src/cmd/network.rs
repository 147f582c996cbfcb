//! `network create`, `ls`/`list`, `rm`/`remove`, `prune`, `connect` and
//! `disconnect` (`network inspect` is in `inspect.rs` with the other
//! inspect commands): docker's flags, output and errors.

use super::common::{filters_json, out, outln, Ctx, FILTER_FLAG, FORMAT_HELP};
use super::images::confirm;
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::fmt::{table, text};
use crate::opts::kv::to_map;
use crate::template::{value::Method, ObjKind, Value};
use serde_json::{json, Value as J};
use std::rc::Rc;

const CREATE_FLAGS: &[Flag] = &[
    Flag::bool("attachable", None, "Enable manual container attachment"),
    Flag::list(
        "aux-address",
        None,
        "Auxiliary IPv4 or IPv6 addresses used by Network driver",
    )
    .typ("map")
    .default("map[]"),
    Flag::str(
        "config-from",
        None,
        "The network from which to copy the configuration",
    ),
    Flag::bool("config-only", None, "Create a configuration only network"),
    Flag::str("driver", Some('d'), "Driver to manage the Network").default("\"bridge\""),
    Flag::list(
        "gateway",
        None,
        "IPv4 or IPv6 Gateway for the master subnet",
    )
    .typ("strings"),
    Flag::bool("ingress", None, "Create swarm routing-mesh network"),
    Flag::bool("internal", None, "Restrict external access to the network"),
    Flag::list("ip-range", None, "Allocate container ip from a sub-range").typ("strings"),
    Flag::str("ipam-driver", None, "IP Address Management Driver").default("\"default\""),
    Flag::list("ipam-opt", None, "Set IPAM driver specific options")
        .typ("map")
        .default("map[]"),
    Flag::bool("ipv4", None, "Enable or disable IPv4 address assignment").default("true"),
    Flag::bool("ipv6", None, "Enable or disable IPv6 address assignment"),
    Flag::list("label", None, "Set metadata on a network"),
    Flag::list("opt", Some('o'), "Set driver specific options")
        .typ("map")
        .default("map[]"),
    Flag::str("scope", None, "Control the network's scope"),
    Flag::list(
        "subnet",
        None,
        "Subnet in CIDR format that represents a network segment",
    )
    .typ("strings"),
];

pub const CREATE_SPEC: Spec = Spec {
    path: "network create",
    usage: "[OPTIONS] NETWORK",
    about: "Create a network",
    aliases: "",
    flags: &[CREATE_FLAGS],
    interspersed: true,
    arity: Arity::Exact(1),
};

/// docker/cli's `consolidateIpam`: one pool per subnet, with the ranges
/// and gateways that fall in it.
fn ipam_pools(subnets: &[String], ranges: &[String], gateways: &[String]) -> Result<Vec<J>> {
    if subnets.len() < ranges.len() || subnets.len() < gateways.len() {
        return Err(CliError::msg(
            "every ip-range or gateway must have a corresponding subnet",
        ));
    }
    let contains = |subnet: &str, ip: &str| -> bool {
        let (Some((net, len)), Ok(addr)) = (
            subnet.split_once('/'),
            ip.split('/')
                .next()
                .unwrap_or("")
                .parse::<std::net::Ipv4Addr>(),
        ) else {
            return false;
        };
        let (Ok(net), Ok(len)) = (net.parse::<std::net::Ipv4Addr>(), len.parse::<u32>()) else {
            return false;
        };
        let mask = if len == 0 {
            0
        } else {
            u32::MAX << (32 - len.min(32))
        };
        u32::from(net) & mask == u32::from(addr) & mask
    };
    let mut pools: Vec<J> = subnets
        .iter()
        .map(|s| json!({"Subnet": s, "AuxiliaryAddresses": {}}))
        .collect();
    for (list, key) in [(ranges, "IPRange"), (gateways, "Gateway")] {
        for v in list {
            let pool = pools
                .iter_mut()
                .find(|p| contains(p["Subnet"].as_str().unwrap_or(""), v))
                .ok_or_else(|| {
                    CliError::msg(format!(
                        "no matching subnet for {}",
                        if key == "IPRange" {
                            format!("range {v}")
                        } else {
                            format!("gateway {v}")
                        }
                    ))
                })?;
            if !pool[key].is_null() {
                return Err(CliError::msg(format!(
                    "cannot configure multiple {} for the same subnet",
                    if key == "IPRange" {
                        "ranges"
                    } else {
                        "gateways"
                    }
                )));
            }
            pool[key] = json!(v);
        }
    }
    Ok(pools)
}

pub fn create(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let pools = ipam_pools(&p.list("subnet"), &p.list("ip-range"), &p.list("gateway"))?;
    let body = json!({
        "Name": p.args[0],
        "CheckDuplicate": true,
        "Driver": p.str("driver").unwrap_or("bridge"),
        "Scope": p.string("scope"),
        "EnableIPv6": p.bool("ipv6"),
        "IPAM": {
            "Driver": p.str("ipam-driver").unwrap_or("default"),
            "Options": to_map(&p.list("ipam-opt")),
            "Config": pools,
        },
        "Internal": p.bool("internal"),
        "Attachable": p.bool("attachable"),
        "Ingress": p.bool("ingress"),
        "ConfigOnly": p.bool("config-only"),
        "Options": to_map(&p.list("opt")),
        "Labels": to_map(&p.list("label")),
    });
    let v = ctx.client.post_json("/networks/create", &body)?;
    outln(v["Id"].as_str().unwrap_or(""));
    Ok(())
}

const LS_FLAGS: &[Flag] = &[
    Flag {
        help: "Provide filter values (e.g. \"driver=bridge\")",
        ..FILTER_FLAG
    },
    Flag::str("format", None, FORMAT_HELP),
    Flag::bool("no-trunc", None, "Do not truncate the output"),
    Flag::bool("quiet", Some('q'), "Only display network IDs"),
];

pub const LS_SPEC: Spec = Spec {
    path: "network ls",
    usage: "[OPTIONS]",
    about: "List networks",
    aliases: "docker network ls, docker network list",
    flags: &[LS_FLAGS],
    interspersed: true,
    arity: Arity::None,
};

const HEADERS: &[(&str, &str)] = &[
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv4", "IPV4"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

/// Go's `time.Time.String()` of an RFC 3339 time, in UTC.
fn go_time(rfc3339: &str) -> String {
    let Some(nanos) = berth_util::time::parse_rfc3339(rfc3339) else {
        return String::new();
    };
    let s = berth_util::time::format_rfc3339(nanos);
    format!(
        "{} +0000 UTC",
        s.trim_end_matches('Z').replacen('T', " ", 1)
    )
}

/// docker's `networkContext` row.
fn row(n: &J, trunc: bool) -> Value {
    let s = |k: &str| n[k].as_str().unwrap_or("").to_string();
    let b = |k: &str| n[k].as_bool().unwrap_or(false).to_string();
    let id = if trunc {
        text::truncate_id(&s("Id"))
    } else {
        s("Id")
    };
    let labels = n["Labels"].as_object().cloned().unwrap_or_default();
    let mut joined: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    joined.sort();
    let label: Method = Rc::new(move |args: &[Value]| {
        let key = args.first().map(Value::to_go_string).unwrap_or_default();
        Ok(Value::str(
            labels.get(&key).and_then(J::as_str).unwrap_or(""),
        ))
    });
    let ipv4 = b("EnableIPv4");
    Value::Object(
        ObjKind::Context("*formatter.networkContext"),
        vec![
            ("CreatedAt".into(), Value::Str(go_time(&s("Created")))),
            ("Driver".into(), Value::Str(s("Driver"))),
            ("ID".into(), Value::Str(id)),
            ("IPv4".into(), Value::Str(ipv4)),
            ("IPv6".into(), Value::Str(b("EnableIPv6"))),
            ("Internal".into(), Value::Str(b("Internal"))),
            ("Labels".into(), Value::Str(joined.join(","))),
            ("Name".into(), Value::Str(s("Name"))),
            ("Scope".into(), Value::Str(s("Scope"))),
            ("Label".into(), Value::Method(label)),
        ],
    )
}

pub fn ls(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let path = match filters_json(&p.list("filter"))? {
        Some(f) => format!("/networks?filters={}", enc(&f)),
        None => "/networks".to_string(),
    };
    let resp = ctx.client.get_json(&path)?;
    let mut nets: Vec<J> = resp.as_array().cloned().unwrap_or_default();
    nets.sort_by(|a, b| {
        super::observe::port::natural_cmp(
            a["Name"].as_str().unwrap_or(""),
            b["Name"].as_str().unwrap_or(""),
        )
    });
    let given = p.string("format");
    let format = match given.as_str() {
        "" | "table" if p.bool("quiet") => "{{.ID}}".to_string(),
        "" | "table" => "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}".to_string(),
        _ => given,
    };
    let trunc = !p.bool("no-trunc");
    let rows: Vec<Value> = nets.iter().map(|n| row(n, trunc)).collect();
    out(&table::render(&format, &rows, &table::header(HEADERS))?);
    Ok(())
}

const RM_FLAGS: &[Flag] = &[Flag::bool(
    "force",
    Some('f'),
    "Do not error if the network does not exist",
)];

pub const RM_SPEC: Spec = Spec {
    path: "network rm",
    usage: "NETWORK [NETWORK...]",
    about: "Remove one or more networks",
    aliases: "docker network rm, docker network remove",
    flags: &[RM_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub fn rm(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let mut errs = Vec::new();
    for name in &p.args {
        match ctx.client.delete(&format!("/networks/{}", enc(name))) {
            Ok(_) => outln(name),
            Err(e) if p.bool("force") && e.status() == Some(404) => {}
            Err(e) => errs.push(e.to_string()),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(CliError::msg(errs.join("\n")))
    }
}

const PRUNE_FLAGS: &[Flag] = &[
    Flag::list(
        "filter",
        None,
        "Provide filter values (e.g. \"until=<timestamp>\")",
    )
    .typ("filter"),
    Flag::bool("force", Some('f'), "Do not prompt for confirmation"),
];

pub const PRUNE_SPEC: Spec = Spec {
    path: "network prune",
    usage: "[OPTIONS]",
    about: "Remove all unused networks",
    aliases: "",
    flags: &[PRUNE_FLAGS],
    interspersed: true,
    arity: Arity::None,
};

pub fn prune(ctx: &Ctx, p: &Parsed) -> Result<()> {
    if !p.bool("force")
        && !confirm(
            "WARNING! This will remove all custom networks not used by at least one container.",
        )
    {
        return Ok(());
    }
    let path = match filters_json(&p.list("filter"))? {
        Some(f) => format!("/networks/prune?filters={}", enc(&f)),
        None => "/networks/prune".to_string(),
    };
    let report: J = serde_json::from_slice(&ctx.client.post(&path)?).unwrap_or(J::Null);
    let deleted = report["NetworksDeleted"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !deleted.is_empty() {
        let mut text = String::from("Deleted Networks:\n");
        for d in &deleted {
            text.push_str(d.as_str().unwrap_or(""));
            text.push('\n');
        }
        out(&text);
    }
    Ok(())
}

const CONNECT_FLAGS: &[Flag] = &[
    Flag::list("alias", None, "Add network-scoped alias for the container").typ("strings"),
    Flag::list("driver-opt", None, "driver options for the network").typ("strings"),
    Flag::int(
        "gw-priority",
        None,
        "Highest gw-priority provides the default gateway. Accepts positive and negative values.",
    )
    .default("0"),
    Flag::str("ip", None, "IPv4 address (e.g., \"172.30.100.104\")"),
    Flag::str("ip6", None, "IPv6 address (e.g., \"2001:db8::33\")"),
    Flag::list("link", None, "Add link to another container"),
    Flag::list(
        "link-local-ip",
        None,
        "Add a link-local address for the container",
    )
    .typ("strings"),
];

pub const CONNECT_SPEC: Spec = Spec {
    path: "network connect",
    usage: "[OPTIONS] NETWORK CONTAINER",
    about: "Connect a container to a network",
    aliases: "",
    flags: &[CONNECT_FLAGS],
    interspersed: true,
    arity: Arity::Exact(2),
};

pub fn connect(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let mut ep = json!({
        "Aliases": p.list("alias"),
        "Links": p.list("link"),
    });
    let (ip, ip6) = (p.string("ip"), p.string("ip6"));
    if !ip.is_empty() || !ip6.is_empty() {
        ep["IPAMConfig"] =
            json!({"IPv4Address": ip, "IPv6Address": ip6, "LinkLocalIPs": p.list("link-local-ip")});
    }
    let body = json!({"Container": p.args[1], "EndpointConfig": ep});
    ctx.client
        .post_json(&format!("/networks/{}/connect", enc(&p.args[0])), &body)?;
    Ok(())
}

const DISCONNECT_FLAGS: &[Flag] = &[Flag::bool(
    "force",
    Some('f'),
    "Force the container to disconnect from a network",
)];

pub const DISCONNECT_SPEC: Spec = Spec {
    path: "network disconnect",
    usage: "[OPTIONS] NETWORK CONTAINER",
    about: "Disconnect a container from a network",
    aliases: "",
    flags: &[DISCONNECT_FLAGS],
    interspersed: true,
    arity: Arity::Exact(2),
};

pub fn disconnect(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let body = json!({"Container": p.args[1], "Force": p.bool("force")});
    ctx.client
        .post_json(&format!("/networks/{}/disconnect", enc(&p.args[0])), &body)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Mode, Template};

    /// `docker network ls --no-trunc --format '{{json .}}'` against Docker 20.10.
    #[test]
    fn json_rows_match_docker() {
        let n = json!({"Name":"bridge","Id":"64380f1f37a0be9a5cfb0b9c52fa848c8e12d63e7c532408f14689b7c8f809e3","Created":"2026-11-23T16:28:46.783202418Z","Scope":"local","Driver":"bridge","EnableIPv6":false,"Internal":false,"Labels":{}});
        let got = Template::parse("{{json .}}")
            .unwrap()
            .execute(&row(&n, false), Mode::Normal)
            .unwrap();
        assert_eq!(
            got,
            r#"{"CreatedAt":"2026-11-23 16:28:46.783202418 +0000 UTC","Driver":"bridge","ID":"64380f1f37a0be9a5cfb0b9c52fa848c8e12d63e7c532408f14689b7c8f809e3","IPv4":"false","IPv6":"false","Internal":"false","Labels":"","Name":"bridge","Scope":"local"}"#
        );
        let table = table::render(
            "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
            &[row(&n, true)],
            &table::header(HEADERS),
        )
        .unwrap();
        assert_eq!(
            table,
            "NETWORK ID     NAME      DRIVER    SCOPE\n64380f1f37a0   bridge    bridge    local\n"
        );
    }

    #[test]
    fn ipam_pools_consolidate() {
        let pools = ipam_pools(
            &["10.1.0.0/16".into(), "10.2.0.0/16".into()],
            &["10.2.1.0/24".into()],
            &["10.1.0.254".into()],
        )
        .unwrap();
        assert_eq!(pools[0]["Gateway"], "10.1.0.254");
        assert_eq!(pools[1]["IPRange"], "10.2.1.0/24");
        assert!(ipam_pools(&[], &[], &["10.0.0.1".into()]).is_err());
        assert!(ipam_pools(&["10.1.0.0/16".into()], &[], &["10.9.0.1".into()]).is_err());
    }
}
