//! The files Docker generates for every container and bind-mounts into it:
//! `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`.

use crate::model::HostConfig;

/// `/etc/hostname`.
pub fn hostname(name: &str) -> String {
    format!("{name}\n")
}

/// `/etc/hosts`: Docker's loopback block, the container's own address when it
/// has one, then `--add-host` entries. Host networking copies the host's file.
pub fn hosts(host: &HostConfig, host_hosts: &str, own: Option<(&str, &str)>) -> String {
    let own: Vec<String> = own
        .into_iter()
        .map(|(ip, name)| format!("{ip}\t{name}"))
        .collect();
    hosts_with(host, host_hosts, &[], &own)
}

/// `/etc/hosts` as Docker writes it at start: the loopback block (or the
/// host's file with host networking), `--add-host` entries, `links` lines,
/// then the container's own `ip\tnames` lines.
pub fn hosts_with(host: &HostConfig, host_hosts: &str, links: &[String], own: &[String]) -> String {
    let mut out = if host.network_mode == "host" {
        host_hosts.to_string()
    } else {
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n".to_string()
    };
    for entry in host.extra_hosts.iter().flatten() {
        if let Some((name, ip)) = entry.split_once(':').or_else(|| entry.split_once('=')) {
            out.push_str(&format!("{ip}\t{name}\n"));
        }
    }
    for line in links.iter().chain(own) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `/etc/resolv.conf` from the host's, with `--dns*` overrides. Loopback
/// resolvers are unreachable from a private network namespace, so they are
/// dropped there and Docker's public defaults used if none remain.
pub fn resolv_conf(host: &HostConfig, host_resolv: &str) -> String {
    let embedded = crate::network::embedded_dns(&host.network_mode);
    resolv_conf_with(host, host_resolv, embedded)
}

/// `/etc/resolv.conf`; with `embedded` (user-defined networks) the only
/// nameserver is the embedded DNS server, which forwards to the others,
/// and `ndots:0` is added unless `--dns-option` says otherwise.
pub fn resolv_conf_with(host: &HostConfig, host_resolv: &str, embedded: bool) -> String {
    let private_net = host.network_mode != "host";
    let mut servers = Vec::new();
    let mut search = Vec::new();
    let mut options = Vec::new();
    for line in host_resolv.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(ip) = words.next() {
                    let loopback = ip.starts_with("127.") || ip == "::1";
                    if !(private_net && loopback) {
                        servers.push(ip.to_string());
                    }
                }
            }
            Some("search") | Some("domain") => search = words.map(str::to_string).collect(),
            Some("options") => options = words.map(str::to_string).collect(),
            _ => {}
        }
    }
    if let Some(d) = host.dns.as_ref().filter(|d| !d.is_empty()) {
        servers = d.clone();
    } else if servers.is_empty() {
        servers = vec!["8.8.8.8".into(), "8.8.4.4".into()];
    }
    if let Some(s) = host.dns_search.as_ref().filter(|s| !s.is_empty()) {
        search = s.iter().filter(|s| s.as_str() != ".").cloned().collect();
    }
    if let Some(o) = host.dns_options.as_ref().filter(|o| !o.is_empty()) {
        options = o.clone();
    } else if embedded && !options.iter().any(|o| o.starts_with("ndots:")) {
        options.push("ndots:0".into());
    }
    if embedded {
        servers = vec![crate::network::EMBEDDED_DNS.to_string()];
    }
    let mut out = String::new();
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    for s in &servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_loopback_resolvers_in_private_namespace() {
        let h = HostConfig::default();
        let r = resolv_conf(&h, "nameserver 127.0.0.53\nsearch corp\n");
        assert_eq!(r, "search corp\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        let host = HostConfig {
            network_mode: "host".into(),
            ..Default::default()
        };
        assert_eq!(
            resolv_conf(&host, "nameserver 127.0.0.53\n"),
            "nameserver 127.0.0.53\n"
        );
    }

    #[test]
    fn dns_flags_override() {
        let h = HostConfig {
            dns: Some(vec!["1.1.1.1".into()]),
            dns_search: Some(vec!["a.b".into()]),
            dns_options: Some(vec!["ndots:2".into()]),
            ..Default::default()
        };
        assert_eq!(
            resolv_conf(&h, "nameserver 10.0.0.1\n"),
            "search a.b\nnameserver 1.1.1.1\noptions ndots:2\n"
        );
    }

    #[test]
    fn hosts_has_loopback_and_extra_hosts() {
        let h = HostConfig {
            extra_hosts: Some(vec!["db:10.1.2.3".into()]),
            ..Default::default()
        };
        let s = hosts(&h, "", None);
        assert!(s.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(s.ends_with("10.1.2.3\tdb\n"));
    }

    #[test]
    fn embedded_dns_on_user_networks() {
        let h = HostConfig {
            network_mode: "mynet".into(),
            ..Default::default()
        };
        assert_eq!(
            resolv_conf(&h, "nameserver 10.0.0.1\nsearch corp\n"),
            "search corp\nnameserver 127.0.0.11\noptions ndots:0\n"
        );
        let with_opts = HostConfig {
            dns_options: Some(vec!["ndots:2".into()]),
            ..h
        };
        assert_eq!(
            resolv_conf_with(&with_opts, "", true),
            "nameserver 127.0.0.11\noptions ndots:2\n"
        );
    }

    #[test]
    fn hosts_order_matches_docker() {
        let h = HostConfig {
            extra_hosts: Some(vec!["foo:1.2.3.4".into()]),
            ..Default::default()
        };
        let s = hosts_with(
            &h,
            "",
            &["172.17.0.2\tdb abc refdb".into()],
            &["172.17.0.4\tmyh.example.com myh".into()],
        );
        assert!(s.ends_with(
            "1.2.3.4\tfoo\n172.17.0.2\tdb abc refdb\n172.17.0.4\tmyh.example.com myh\n"
        ));
    }
}
