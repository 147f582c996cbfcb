//! docker's `DisplayablePorts`: the PORTS column of `ps`, grouping
//! consecutive exposed ports into ranges and listing host mappings last.

/// One entry of a container's `Ports` in the list API.
#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    pub ip: String,
    pub private: u16,
    pub public: u16,
    pub typ: String,
}

impl Port {
    /// Reads `{"IP","PrivatePort","PublicPort","Type"}`.
    pub fn from_json(v: &serde_json::Value) -> Port {
        Port {
            ip: v["IP"].as_str().unwrap_or("").to_string(),
            private: v["PrivatePort"].as_u64().unwrap_or(0) as u16,
            public: v["PublicPort"].as_u64().unwrap_or(0) as u16,
            typ: v["Type"].as_str().unwrap_or("").to_string(),
        }
    }
}

fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn form_group(key: &str, first: u16, last: u16) -> String {
    let (ip, typ) = match key.rsplit_once('/') {
        Some((ip, typ)) => (ip, typ),
        None => ("", key),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{}->{group}", join_host_port(ip, &group));
    }
    format!("{group}/{typ}")
}

/// Renders the port list as `docker ps` does.
pub fn displayable_ports(ports: &[Port]) -> String {
    let mut ports = ports.to_vec();
    ports.sort_by(|a, b| {
        a.private
            .cmp(&b.private)
            .then_with(|| a.ip.cmp(&b.ip))
            .then_with(|| a.public.cmp(&b.public))
            .then_with(|| a.typ.cmp(&b.typ))
    });
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    let mut result = Vec::new();
    let mut host_mappings = Vec::new();
    for p in &ports {
        let current = p.private;
        let mut key = p.typ.clone();
        if !p.ip.is_empty() {
            if p.public != current {
                host_mappings.push(format!(
                    "{}->{}/{}",
                    join_host_port(&p.ip, &p.public.to_string()),
                    p.private,
                    p.typ
                ));
                continue;
            }
            key = format!("{}/{}", p.ip, p.typ);
        }
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            None => groups.push((key, current, current)),
            Some(g) => {
                if current == g.2.wrapping_add(1) {
                    g.2 = current;
                } else {
                    result.push(form_group(&g.0, g.1, g.2));
                    g.1 = current;
                    g.2 = current;
                }
            }
        }
    }
    for (k, first, last) in &groups {
        result.push(form_group(k, *first, *last));
    }
    result.extend(host_mappings);
    result.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ip: &str, private: u16, public: u16, typ: &str) -> Port {
        Port {
            ip: ip.into(),
            private,
            public,
            typ: typ.into(),
        }
    }

    #[test]
    fn matches_docker_ps_here() {
        // `docker run -p 8080:80 -p 127.0.0.1:9000:9000/udp` as `docker ps` shows it.
        let ports = [
            p("0.0.0.0", 80, 8080, "tcp"),
            p("::", 80, 8080, "tcp"),
            p("127.0.0.1", 9000, 9000, "udp"),
        ];
        assert_eq!(
            displayable_ports(&ports),
            "127.0.0.1:9000->9000/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
        );
    }

    #[test]
    fn groups_exposed_ranges() {
        let ports = [
            p("", 80, 0, "tcp"),
            p("", 81, 0, "tcp"),
            p("", 82, 0, "tcp"),
            p("", 90, 0, "tcp"),
            p("", 53, 0, "udp"),
        ];
        assert_eq!(displayable_ports(&ports), "80-82/tcp, 53/udp, 90/tcp");
    }
}
