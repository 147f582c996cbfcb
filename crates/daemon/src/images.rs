//! Image operations that need the daemon's view: list filters, and `rmi` /
//! `image prune`, which must know which containers use an image.

use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::filters::{label_matches, Filters};
use serde_json::Value;
use std::collections::BTreeMap;

const IMAGE_FILTERS: &[&str] = &["dangling", "reference", "before", "since", "label", "until"];

/// Shell-style pattern match (`*`, `?`), as Go's `path.Match` for references.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) && (p[pi] != '*') {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            if t[mark] == '/' {
                return false;
            }
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn tags(img: &Value) -> Vec<String> {
    img["RepoTags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn reference_matches(img: &Value, pattern: &str) -> bool {
    tags(img).iter().any(|t| {
        let repo = t.rsplit_once(':').map_or(t.as_str(), |(r, _)| r);
        glob(pattern, t) || glob(pattern, repo)
    })
}

impl Daemon {
    /// `GET /images/json`.
    pub fn list_images(&self, all: bool, filters: &str) -> Result<Vec<Value>> {
        let _ = all;
        let f = Filters::parse(filters, IMAGE_FILTERS)?;
        let created_of = |key: &str| -> Result<i64> {
            let v = self.images.inspect(key)?;
            let t = v["Created"]
                .as_str()
                .and_then(berth_util::time::parse_rfc3339)
                .unwrap_or(0);
            Ok((t / 1_000_000_000) as i64)
        };
        let before = f.get("before").first().map(|k| created_of(k)).transpose()?;
        let after = f.get("since").first().map(|k| created_of(k)).transpose()?;
        for d in f.get("dangling") {
            if !matches!(d.as_str(), "true" | "false" | "1" | "0") {
                return Err(Error::invalid(format!("Invalid filter 'dangling=\"{d}\"'")));
            }
        }
        let mut list = self.images.list();
        let counts = self.image_use_counts();
        list.retain(|img| {
            let dangling = tags(img).is_empty();
            let labels: Option<BTreeMap<String, String>> =
                serde_json::from_value(img["Labels"].clone()).ok();
            let created = img["Created"].as_i64().unwrap_or(0);
            f.any("dangling", |v| (v == "true" || v == "1") == dangling)
                && f.any("reference", |p| reference_matches(img, p))
                && f.get("label")
                    .iter()
                    .all(|l| label_matches(labels.as_ref(), l))
                && before.is_none_or(|b| created < b)
                && after.is_none_or(|a| created > a)
        });
        for img in &mut list {
            let id = img["Id"].as_str().unwrap_or_default().to_string();
            img["Containers"] = counts.get(&id).copied().unwrap_or(0).into();
        }
        list.sort_by(|a, b| b["Created"].as_i64().cmp(&a["Created"].as_i64()));
        Ok(list)
    }

    fn image_use_counts(&self) -> BTreeMap<String, i64> {
        let mut m = BTreeMap::new();
        for e in self.containers.all() {
            *m.entry(e.lock().image.clone()).or_insert(0) += 1;
        }
        m
    }

    /// `DELETE /images/{name}`.
    pub fn remove_image(
        &self,
        name: &str,
        force: bool,
        prune: bool,
    ) -> Result<Vec<berth_image::Deleted>> {
        let in_use = |id: &str| self.container_using_image(id);
        Ok(self.images.remove(name, force, prune, &in_use)?)
    }

    /// `POST /images/prune`.
    pub fn prune_images(&self, filters: &str) -> Result<(Vec<berth_image::Deleted>, u64)> {
        let f = Filters::parse(filters, IMAGE_FILTERS)?;
        let all = f.get("dangling").iter().any(|v| v == "false" || v == "0");
        let in_use = |id: &str| self.container_using_image(id);
        Ok(self.images.prune(all, &in_use)?)
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_like_path_match() {
        assert!(glob("busy*", "busybox"));
        assert!(glob("busybox:*", "busybox:latest"));
        assert!(glob("b?sybox", "busybox"));
        assert!(!glob("busy*", "debian"));
        assert!(!glob("*", "library/busybox"));
        assert!(glob("*/busybox", "library/busybox"));
    }
}
