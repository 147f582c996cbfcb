//! Read-only views of containers in the Engine API's shapes: the summary of
//! `GET /containers/json` (with its filters) and `GET /containers/{id}/json`.

use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::filters::{label_matches, Filters};
use crate::model::{Container, State};
use berth_util::time::{human_duration, parse_rfc3339, since, ZERO};
use serde_json::{json, Value};

const PS_FILTERS: &[&str] = &[
    "id",
    "name",
    "status",
    "label",
    "ancestor",
    "exited",
    "before",
    "since",
    "network",
    "volume",
    "publish",
    "expose",
    "health",
    "isolation",
    "is-task",
];
const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

/// Docker's `State.String()`: "Up 2 seconds", "Exited (0) 3 minutes ago", "Created".
pub fn status_text(s: &State) -> String {
    let ago = |t: &str| human_duration(since(parse_rfc3339(t).unwrap_or(0)));
    if s.running {
        if s.paused {
            return format!("Up {} (Paused)", ago(&s.started_at));
        }
        if s.restarting {
            return format!("Restarting ({}) {} ago", s.exit_code, ago(&s.finished_at));
        }
        return format!("Up {}", ago(&s.started_at));
    }
    match s.status.as_str() {
        "removing" => "Removal In Progress".into(),
        "dead" => "Dead".into(),
        _ if s.started_at == ZERO => "Created".into(),
        _ if s.finished_at == ZERO => String::new(),
        _ => format!("Exited ({}) {} ago", s.exit_code, ago(&s.finished_at)),
    }
}

fn created_unix(c: &Container) -> i64 {
    (parse_rfc3339(&c.created).unwrap_or(0) / 1_000_000_000) as i64
}

/// `Path` and `Args` as `ps` shows them: arguments with spaces single-quoted.
fn command(c: &Container) -> String {
    let mut out = c.path.clone();
    for a in &c.args {
        out.push(' ');
        if a.contains(' ') {
            out.push_str(&format!("'{a}'"));
        } else {
            out.push_str(a);
        }
    }
    out
}

fn summary(c: &Container) -> Value {
    json!({
        "Id": c.id,
        "Names": [c.name],
        "Image": c.config.image,
        "ImageID": c.image,
        "Command": command(c),
        "Created": created_unix(c),
        "Ports": [],
        "Labels": c.config.labels.clone().unwrap_or_default(),
        "State": c.state.status,
        "Status": status_text(&c.state),
        "HostConfig": {"NetworkMode": if c.host_config.network_mode.is_empty() { "default" } else { &c.host_config.network_mode }},
        "NetworkSettings": {"Networks": {}},
        "Mounts": crate::volumes::mounts_json(&c.mount_points),
    })
}

impl Daemon {
    /// `GET /containers/json`.
    pub fn list_containers(
        &self,
        all: bool,
        limit: Option<usize>,
        filters: &str,
    ) -> Result<Vec<Value>> {
        let f = Filters::parse(filters, PS_FILTERS)?;
        for s in f.get("status") {
            if !STATUSES.contains(&s.as_str()) {
                return Err(Error::invalid(format!("invalid filter 'status={s}'")));
            }
        }
        let mut recs: Vec<Container> = self
            .containers
            .all()
            .iter()
            .map(|e| e.lock().clone())
            .collect();
        recs.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
        let created_of =
            |key: &str| -> Result<String> { Ok(self.containers.get(key)?.lock().created.clone()) };
        let before = f.get("before").first().map(|k| created_of(k)).transpose()?;
        let after = f.get("since").first().map(|k| created_of(k)).transpose()?;
        let ancestors: Vec<String> = f
            .get("ancestor")
            .iter()
            .filter_map(|a| self.images.resolve(a).ok())
            .collect();
        let all = all || f.has("status") || f.has("exited") || limit.is_some();
        let mut out = Vec::new();
        for c in &recs {
            let name = c.name.trim_start_matches('/');
            let keep = (all || c.state.running)
                && f.any("id", |v| c.id.starts_with(v))
                && f.any("name", |v| name.contains(v.trim_start_matches('/')))
                && f.any("status", |v| v == c.state.status)
                && f.any("volume", |v| {
                    crate::volumes::mounts_match(&c.mount_points, v)
                })
                && f.get("label")
                    .iter()
                    .all(|l| label_matches(c.config.labels.as_ref(), l))
                && (!f.has("ancestor") || ancestors.contains(&c.image))
                && f.any("exited", |v| {
                    c.state.status == "exited" && v.parse::<i32>().ok() == Some(c.state.exit_code)
                })
                && before.as_ref().is_none_or(|t| &c.created < t)
                && after.as_ref().is_none_or(|t| &c.created > t);
            if keep
                && f.any("network", |v| self.container_on_network(c, v))
                && self.ports_filter_match(c, f.get("publish"), f.get("expose"))
            {
                let mut v = summary(c);
                self.network_summary(&mut v, c, &recs);
                out.push(v);
            }
        }
        if let Some(n) = limit.filter(|n| *n > 0) {
            out.truncate(n);
        }
        Ok(out)
    }

    /// `GET /containers/{id}/json`.
    pub fn inspect_container(&self, key: &str) -> Result<Value> {
        let entry = self.containers.get(key)?;
        let c = entry.lock().clone();
        let dir = self.config.container_dir(&c.id);
        // Docker shows null, not [], when no exec is running.
        let running_execs = self.execs.running_ids(&c.id);
        let exec_ids = if running_execs.is_empty() {
            serde_json::Value::Null
        } else {
            json!(running_execs)
        };
        let lower = self
            .images
            .layer_dirs(&c.image)
            .map(|v| {
                v.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(":")
            })
            .unwrap_or_default();
        let mut host =
            serde_json::to_value(&c.host_config).map_err(|e| Error::internal(e.to_string()))?;
        if host["NetworkMode"] == "" {
            host["NetworkMode"] = "default".into();
        }
        Ok(json!({
            "Id": c.id,
            "Created": c.created,
            "Path": c.path,
            "Args": c.args,
            "State": c.state,
            "Image": c.image,
            "ResolvConfPath": dir.join("resolv.conf"),
            "HostnamePath": dir.join("hostname"),
            "HostsPath": dir.join("hosts"),
            "LogPath": dir.join(format!("{}-json.log", c.id)),
            "Name": c.name,
            "RestartCount": c.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": exec_ids,
            "HostConfig": host,
            "GraphDriver": {
                "Data": {
                    "LowerDir": lower,
                    "MergedDir": dir.join("rootfs"),
                    "UpperDir": dir.join("upper"),
                    "WorkDir": dir.join("work"),
                },
                "Name": "overlay2",
            },
            "Mounts": crate::volumes::mounts_json(&c.mount_points),
            "Config": c.config,
            "NetworkSettings": self.network_settings(&c),
        }))
    }

    /// Counts for `info`: (total, running, paused, stopped).
    pub fn container_counts(&self) -> (usize, usize, usize, usize) {
        let all = self.containers.all();
        let running = all.iter().filter(|e| e.lock().state.running).count();
        let paused = all.iter().filter(|e| e.lock().state.paused).count();
        (all.len(), running - paused, paused, all.len() - running)
    }

    /// The ID of a container using an image, if any (for `rmi`).
    pub fn container_using_image(&self, image_id: &str) -> Option<String> {
        self.containers
            .all()
            .iter()
            .find(|e| e.lock().image == image_id)
            .map(|e| e.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_texts() {
        let mut s = State::default();
        assert_eq!(status_text(&s), "Created");
        s.started_at = "2020-01-01T00:00:00Z".into();
        s.finished_at = berth_util::time::now_rfc3339();
        s.status = "exited".into();
        s.exit_code = 3;
        assert_eq!(status_text(&s), "Exited (3) Less than a second ago");
        s.running = true;
        s.status = "running".into();
        s.started_at = berth_util::time::now_rfc3339();
        assert_eq!(status_text(&s), "Up Less than a second");
    }
}
