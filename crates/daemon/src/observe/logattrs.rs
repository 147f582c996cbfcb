//! The extra attributes of a container's json-file log (`--log-opt labels=`,
//! `env=`, `tag=`) and the `key=value,…` prefix `logs --details` prints
//! before each line (keys sorted, both sides query-escaped as Go's
//! `url.QueryEscape`; an empty prefix still leaves its separating space).
//! `labels-regex` / `env-regex` and tag templates beyond plain `{{.Field}}`
//! references are not supported.

use crate::model::Container;
use std::collections::BTreeMap;

/// The attributes Docker's json-file driver records for `c`.
pub fn log_attrs(c: &Container) -> BTreeMap<String, String> {
    let opts = &c.host_config.log_config.config;
    let mut out = BTreeMap::new();
    let labels = c.config.labels.clone().unwrap_or_default();
    for l in opts
        .get("labels")
        .map(String::as_str)
        .unwrap_or("")
        .split(',')
    {
        if let Some(v) = labels.get(l) {
            out.insert(l.to_string(), v.clone());
        }
    }
    let env: BTreeMap<&str, &str> = c
        .config
        .env
        .iter()
        .flatten()
        .filter_map(|e| e.split_once('='))
        .collect();
    for k in opts.get("env").map(String::as_str).unwrap_or("").split(',') {
        if let Some(v) = env.get(k) {
            out.insert(k.to_string(), v.to_string());
        }
    }
    if let Some(t) = opts.get("tag").filter(|t| !t.is_empty()) {
        let tag = expand_tag(t, c);
        if !tag.is_empty() {
            out.insert("tag".into(), tag);
        }
    }
    out
}

/// A tag template with Docker's `{{.Field}}` references replaced.
fn expand_tag(template: &str, c: &Container) -> String {
    let hex = c.image.strip_prefix("sha256:").unwrap_or(&c.image);
    let field = |name: &str| -> Option<String> {
        Some(match name {
            "ID" => c.id.chars().take(12).collect(),
            "FullID" => c.id.clone(),
            "Name" => c.name.trim_start_matches('/').to_string(),
            "ImageID" => hex.chars().take(12).collect(),
            "ImageFullID" => c.image.clone(),
            "ImageName" => c.config.image.clone(),
            "DaemonName" => "berth".to_string(),
            _ => return None,
        })
    };
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = rest[start + 2..start + len].trim();
        match inner.strip_prefix('.').and_then(field) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `k=v,k2=v2` (sorted by key) as `logs --details` shows attributes.
pub fn details_prefix(attrs: &BTreeMap<String, String>) -> String {
    attrs
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, HostConfig, State};

    fn container() -> Container {
        let mut host = HostConfig::default();
        host.log_config.config = BTreeMap::from([
            ("labels".to_string(), "a,b,missing".to_string()),
            ("env".to_string(), "FOO".to_string()),
            (
                "tag".to_string(),
                "{{.Name}}/{{ .ID }}/{{.Nope}}".to_string(),
            ),
        ]);
        Container {
            id: "0123456789abcdef0123".into(),
            created: String::new(),
            path: "echo".into(),
            args: vec![],
            state: State::default(),
            image: "sha256:4b8765de035b3c7e".into(),
            name: "/obsdet1".into(),
            restart_count: 0,
            config: Config {
                labels: Some(BTreeMap::from([
                    ("a".to_string(), "1".to_string()),
                    ("b".to_string(), "x y".to_string()),
                    ("c".to_string(), "no".to_string()),
                ])),
                env: Some(vec!["FOO=bar".into(), "PATH=/bin".into()]),
                ..Default::default()
            },
            host_config: host,
            has_been_manually_stopped: false,
            mount_points: Vec::new(),
        }
    }

    #[test]
    fn prefix_matches_docker_logs_details() {
        // `docker run --label a=1 --label 'b=x y' --log-opt labels=a,b
        //  -e FOO=bar --log-opt env=FOO` then `docker logs --details`.
        let mut attrs = log_attrs(&container());
        assert_eq!(attrs["tag"], "obsdet1/0123456789ab/{{.Nope}}");
        attrs.remove("tag");
        assert_eq!(details_prefix(&attrs), "FOO=bar,a=1,b=x+y");
        assert_eq!(details_prefix(&BTreeMap::new()), "");
        assert_eq!(query_escape("a/b=c,d"), "a%2Fb%3Dc%2Cd");
    }

    #[test]
    fn no_options_no_attributes() {
        let mut c = container();
        c.host_config.log_config.config.clear();
        assert!(log_attrs(&c).is_empty());
    }
}
