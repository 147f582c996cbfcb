//! Legacy links (`--link name:alias`) on the default bridge: parsing and
//! the stored form (`/target:/parent/alias`, as Docker keeps it in
//! `HostConfig.Links`), the variables the linking container gets
//! (`ALIAS_PORT_80_TCP_ADDR`, `ALIAS_NAME`, `ALIAS_ENV_…`), its /etc/hosts
//! line, and the extra `/parent/alias` names `ps` shows for the target.

use std::net::Ipv4Addr;

use berth_net::Proto;

use crate::model::HostConfig;

/// One link: the container linked to and the name it has for the linker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub target: String,
    pub alias: String,
}

/// Why a `--link` value cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid link format {0:?}: use name:alias")]
pub struct LinkError(pub String);

/// Parses `name:alias`, `name`, or the stored `/name:/parent/alias`.
pub fn parse(s: &str) -> Result<Link, LinkError> {
    let (target, alias) = s.split_once(':').unwrap_or((s, s));
    let target = target.trim_start_matches('/');
    let alias = alias.rsplit('/').next().unwrap_or(alias);
    if target.is_empty() || alias.is_empty() || target.contains('/') {
        return Err(LinkError(s.to_string()));
    }
    Ok(Link {
        target: target.to_string(),
        alias: alias.to_string(),
    })
}

impl Link {
    /// Docker's stored form: `/target:/parent/alias`.
    pub fn stored(&self, parent: &str) -> String {
        format!(
            "/{}:/{}/{}",
            self.target,
            parent.trim_start_matches('/'),
            self.alias
        )
    }
}

/// The raw `HostConfig.Links` values.
pub fn raw(host: &HostConfig) -> Vec<String> {
    host.extra
        .get("Links")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The container's links; unparsable entries (never stored) are skipped.
pub fn of(host: &HostConfig) -> Vec<Link> {
    raw(host).iter().filter_map(|s| parse(s).ok()).collect()
}

/// `db` → `DB`, `my-db` → `MY_DB`.
fn env_prefix(alias: &str) -> String {
    alias
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// What the linker learns about the target.
pub struct Target<'a> {
    pub name: &'a str,
    pub id: &'a str,
    pub ip: Ipv4Addr,
    /// Exposed ports, sorted.
    pub ports: &'a [(u16, Proto)],
    /// The target's environment (`K=V`).
    pub env: &'a [String],
}

/// The variables a link adds to the linking container `parent`.
pub fn env(link: &Link, parent: &str, t: &Target) -> Vec<String> {
    let p = env_prefix(&link.alias);
    let mut out = Vec::new();
    if let Some((port, proto)) = t.ports.first() {
        out.push(format!("{p}_PORT={proto}://{}:{port}", t.ip));
    }
    for (port, proto) in t.ports {
        let k = format!("{p}_PORT_{port}_{}", proto.as_str().to_ascii_uppercase());
        out.push(format!("{k}={proto}://{}:{port}", t.ip));
        out.push(format!("{k}_ADDR={}", t.ip));
        out.push(format!("{k}_PORT={port}"));
        out.push(format!("{k}_PROTO={proto}"));
    }
    out.push(format!(
        "{p}_NAME=/{}/{}",
        parent.trim_start_matches('/'),
        link.alias
    ));
    for e in t.env {
        let (k, v) = e.split_once('=').unwrap_or((e, ""));
        if k != "HOME" && k != "PATH" {
            out.push(format!("{p}_ENV_{k}={v}"));
        }
    }
    out
}

/// The linker's /etc/hosts line for the target: `ip alias shortid name`.
pub fn hosts_line(link: &Link, t: &Target) -> String {
    let mut names = vec![link.alias.as_str()];
    let short = t.id.get(..12).unwrap_or(t.id);
    let name = t.name.trim_start_matches('/');
    for n in [short, name] {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    format!("{}\t{}", t.ip, names.join(" "))
}

/// The `/parent/alias` names of `target` (without `/`) given every
/// container as (name, HostConfig).
pub fn names_of<'a>(
    target: &str,
    all: impl Iterator<Item = (&'a str, &'a HostConfig)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (parent, host) in all {
        for l in of(host) {
            if l.target == target {
                out.push(format!("/{}/{}", parent.trim_start_matches('/'), l.alias));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_forms() {
        let l = parse("db:data").unwrap();
        assert_eq!((l.target.as_str(), l.alias.as_str()), ("db", "data"));
        assert_eq!(parse("db").unwrap().alias, "db");
        assert_eq!(parse("/db:/web/data").unwrap(), l);
        assert_eq!(l.stored("/web"), "/db:/web/data");
        assert!(parse(":x").is_err());
        assert!(parse("a/b:c").is_err());
    }

    #[test]
    fn env_and_hosts_match_docker() {
        let t = Target {
            name: "/refdb",
            id: "3068b027d53ba481b6dca3c454c2a8bea4c46697b1fe28cb21eaa05a74b0885f",
            ip: Ipv4Addr::new(172, 17, 0, 2),
            ports: &[(5432, Proto::Tcp)],
            env: &["PATH=/bin".into(), "FOO=bar".into(), "HOME=/root".into()],
        };
        let l = parse("refdb:db").unwrap();
        assert_eq!(
            env(&l, "/naughty_archimedes", &t),
            [
                "DB_PORT=tcp://172.17.0.2:5432",
                "DB_PORT_5432_TCP=tcp://172.17.0.2:5432",
                "DB_PORT_5432_TCP_ADDR=172.17.0.2",
                "DB_PORT_5432_TCP_PORT=5432",
                "DB_PORT_5432_TCP_PROTO=tcp",
                "DB_NAME=/naughty_archimedes/db",
                "DB_ENV_FOO=bar",
            ]
        );
        assert_eq!(hosts_line(&l, &t), "172.17.0.2\tdb 3068b027d53b refdb");
        let same = parse("refdb").unwrap();
        assert_eq!(hosts_line(&same, &t), "172.17.0.2\trefdb 3068b027d53b");
        assert!(
            env(&parse("my-db").unwrap(), "/p", &t).contains(&"MY_DB_NAME=/p/my-db".to_string())
        );
    }

    #[test]
    fn ps_names() {
        let mut web = HostConfig::default();
        web.extra
            .insert("Links".into(), json!(["/refdb:/refweb/db"]));
        let db = HostConfig::default();
        let all = [("/refweb", &web), ("/refdb", &db)];
        assert_eq!(names_of("refdb", all.into_iter()), ["/refweb/db"]);
        assert!(names_of("refweb", all.into_iter()).is_empty());
    }
}
