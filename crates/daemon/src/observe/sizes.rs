//! Container sizes for `size=1` on `GET /containers/json` and
//! `GET /containers/{id}/json`: `SizeRw` is what the container wrote (its
//! overlay upper directory), `SizeRootFs` that plus its image.

use crate::daemon::Daemon;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Bytes under `dir` as Docker's overlay2 counts them: sizes of everything
/// that is not a directory, each inode once; unreadable parts count as 0.
pub fn dir_size(dir: &Path) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(m) = e.metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(e.path());
            } else if m.len() > 0 && seen.insert((m.dev(), m.ino())) {
                total += m.len();
            }
        }
    }
    total
}

/// Rebuilds `obj` with `entries` placed right after the key `after` (at the
/// end when it is missing), keeping Docker's field order.
fn insert_after(obj: &mut Value, after: &str, entries: Vec<(&str, Value)>) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let old = std::mem::take(map);
    let mut pending = Some(entries);
    let mut out = Map::new();
    for (k, v) in old {
        let here = k == after;
        out.insert(k, v);
        if here {
            for (nk, nv) in pending.take().into_iter().flatten() {
                out.insert(nk.to_string(), nv);
            }
        }
    }
    for (nk, nv) in pending.into_iter().flatten() {
        out.insert(nk.to_string(), nv);
    }
    *map = out;
}

impl Daemon {
    /// `(SizeRw, SizeRootFs)` of container `id` based on image `image`.
    /// Walks the upper directory: call from a blocking context.
    pub fn container_sizes(&self, id: &str, image: &str) -> (i64, i64) {
        let rw = dir_size(&self.config.container_dir(id).join("upper")) as i64;
        let image_size = self.images.size(image).unwrap_or(0) as i64;
        (rw, rw + image_size)
    }

    /// Adds `SizeRw` / `SizeRootFs` to list summaries (omitted when zero, as
    /// Docker's `omitempty` does), after `Ports`.
    pub fn add_summary_sizes(&self, list: &mut [Value]) {
        for c in list {
            let id = c["Id"].as_str().unwrap_or_default().to_string();
            let image = c["ImageID"].as_str().unwrap_or_default().to_string();
            let (rw, root) = self.container_sizes(&id, &image);
            let mut add = Vec::new();
            if rw != 0 {
                add.push(("SizeRw", rw.into()));
            }
            if root != 0 {
                add.push(("SizeRootFs", root.into()));
            }
            insert_after(c, "Ports", add);
        }
    }

    /// Adds `SizeRw` and `SizeRootFs` to an inspect object, after `GraphDriver`.
    pub fn add_inspect_sizes(&self, c: &mut Value) {
        let id = c["Id"].as_str().unwrap_or_default().to_string();
        let image = c["Image"].as_str().unwrap_or_default().to_string();
        let (rw, root) = self.container_sizes(&id, &image);
        insert_after(
            c,
            "GraphDriver",
            vec![("SizeRw", rw.into()), ("SizeRootFs", root.into())],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_files_once_and_skips_directories() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::write(d.path().join("a/b/f"), vec![0u8; 1000]).unwrap();
        std::fs::write(d.path().join("g"), vec![0u8; 24]).unwrap();
        std::fs::write(d.path().join(".dockerenv"), b"").unwrap();
        std::fs::hard_link(d.path().join("g"), d.path().join("a/h")).unwrap();
        std::os::unix::fs::symlink("b/f", d.path().join("a/l")).unwrap();
        // The symlink counts with the length of its target path (3), like lstat.
        assert_eq!(dir_size(d.path()), 1000 + 24 + 3);
        assert_eq!(dir_size(&d.path().join("missing")), 0);
    }

    #[test]
    fn inserts_in_dockers_order() {
        let mut v = json!({"Id": "x", "Ports": [], "Labels": {}});
        insert_after(&mut v, "Ports", vec![("SizeRootFs", 5.into())]);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["Id", "Ports", "SizeRootFs", "Labels"]);
        insert_after(&mut v, "Nope", vec![("Z", 1.into())]);
        assert_eq!(v.as_object().unwrap().keys().next_back().unwrap(), "Z");
    }
}
