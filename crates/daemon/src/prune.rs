//! `POST /containers/prune`: removes every container that is not running
//! (paused and restarting ones count as running), filtered by `until` and
//! `label` / `label!`, and reports what went.

use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::filters::{label_matches, Filters};
use crate::model::Container;
use berth_util::time::{now_nanos, parse_rfc3339, parse_timestamp};
use std::collections::BTreeMap;
use std::sync::Arc;

const PRUNE_FILTERS: &[&str] = &["until", "label", "label!"];

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PruneReport {
    pub deleted: Vec<String>,
    pub reclaimed: u64,
}

/// The parsed filters of a container prune.
struct PruneFilter {
    f: Filters,
    /// Only containers created before this (nanoseconds).
    until: Option<i128>,
}

impl PruneFilter {
    fn parse(raw: &str, now: i128) -> Result<PruneFilter> {
        let f = Filters::parse(raw, PRUNE_FILTERS)?;
        let until = match f.get("until") {
            [] => None,
            [one] => Some(parse_timestamp(one, now).ok_or_else(|| {
                Error::invalid(format!(
                    "failed to parse value as time or duration: \"{one}\""
                ))
            })?),
            _ => return Err(Error::invalid("more than one until filter specified")),
        };
        Ok(PruneFilter { f, until })
    }

    /// Docker's `matchLabels` plus the `until` cut-off.
    fn keeps(&self, c: &Container) -> bool {
        let labels = c.config.labels.as_ref();
        let created = parse_rfc3339(&c.created).unwrap_or(0);
        let not_excluded = !self.f.has("label!")
            || !self
                .f
                .get("label!")
                .iter()
                .all(|l| label_matches(labels, l));
        self.until.is_none_or(|u| created <= u)
            && self.f.get("label").iter().all(|l| label_matches(labels, l))
            && not_excluded
    }
}

impl Daemon {
    /// `POST /containers/prune`.
    pub async fn prune_containers(self: &Arc<Self>, filters: &str) -> Result<PruneReport> {
        let filter = PruneFilter::parse(filters, now_nanos())?;
        let mut report = PruneReport::default();
        let mut candidates: Vec<Container> = self
            .containers
            .all()
            .iter()
            .map(|e| e.lock().clone())
            .filter(|c| !c.state.running && filter.keeps(c))
            .collect();
        candidates.sort_by(|a, b| b.created.cmp(&a.created));
        for c in candidates {
            // A container started meanwhile is refused by `remove`, and kept.
            if self.remove(&c.id, false).await.is_ok() {
                report.deleted.push(c.id);
            }
        }
        let mut attrs = BTreeMap::new();
        attrs.insert("reclaimed".to_string(), report.reclaimed.to_string());
        self.events.emit("container", "prune", "", attrs);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, HostConfig, State};

    fn container(created: &str, labels: &[(&str, &str)]) -> Container {
        Container {
            id: "x".into(),
            created: created.into(),
            path: "sh".into(),
            args: vec![],
            state: State::default(),
            image: String::new(),
            name: "/x".into(),
            restart_count: 0,
            config: Config {
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Config::default()
            },
            host_config: HostConfig::default(),
            has_been_manually_stopped: false,
            mount_points: Vec::new(),
        }
    }

    #[test]
    fn until_and_labels() {
        let now = parse_rfc3339("2026-11-23T12:00:00Z").unwrap();
        let old = container("2026-11-23T10:00:00Z", &[("env", "test")]);
        let new = container("2026-11-23T11:59:00Z", &[("env", "prod")]);
        let f = PruneFilter::parse(r#"{"until":["1h"]}"#, now).unwrap();
        assert!(f.keeps(&old) && !f.keeps(&new));
        let f = PruneFilter::parse(r#"{"label":["env=test"]}"#, now).unwrap();
        assert!(f.keeps(&old) && !f.keeps(&new));
        let f = PruneFilter::parse(r#"{"label!":["env=test"]}"#, now).unwrap();
        assert!(!f.keeps(&old) && f.keeps(&new));
        let f = PruneFilter::parse(r#"{"label":["env"]}"#, now).unwrap();
        assert!(f.keeps(&old) && f.keeps(&new));
        assert!(PruneFilter::parse(r#"{"until":["x"]}"#, now).is_err());
        assert!(PruneFilter::parse(r#"{"until":["1h","2h"]}"#, now).is_err());
        assert_eq!(
            PruneFilter::parse(r#"{"status":["exited"]}"#, now)
                .err()
                .map(|e| e.message),
            Some("invalid filter 'status'".to_string())
        );
    }
}
