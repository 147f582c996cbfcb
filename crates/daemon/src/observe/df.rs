//! `GET /system/df`: disk usage of images (with the size they share with
//! other images and how many containers use them), containers (with their
//! sizes), volumes and the build cache, as Docker's `DiskUsage`.

use super::sizes::dir_size;
use crate::daemon::Daemon;
use crate::error::{Error, Result};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// What `type=` asked for; everything when it is absent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DfTypes {
    pub containers: bool,
    pub images: bool,
    pub volumes: bool,
    pub build_cache: bool,
}

impl DfTypes {
    pub fn parse(types: &[String]) -> Result<DfTypes> {
        if types.is_empty() {
            return Ok(DfTypes {
                containers: true,
                images: true,
                volumes: true,
                build_cache: true,
            });
        }
        let mut t = DfTypes {
            containers: false,
            images: false,
            volumes: false,
            build_cache: false,
        };
        for typ in types {
            match typ.as_str() {
                "container" => t.containers = true,
                "image" => t.images = true,
                "volume" => t.volumes = true,
                "build-cache" => t.build_cache = true,
                other => return Err(Error::invalid(format!("unknown object type: {other}"))),
            }
        }
        Ok(t)
    }
}

/// Size of an unpacked layer: its record's `size` (see docs/ARCHITECTURE.md,
/// `layers/<chain-id>/layer.json`), or a walk of its `diff` directory.
fn layer_size(diff: &Path) -> u64 {
    diff.parent()
        .and_then(|d| std::fs::read(d.join("layer.json")).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["size"].as_u64())
        .unwrap_or_else(|| dir_size(diff))
}

/// Fills `SharedSize` (layers used by more than one image) and returns the
/// size of all layers together. `layers` has each image's layer keys.
fn shared_sizes(images: &mut [Value], layers: &[Vec<String>], sizes: &HashMap<String, u64>) -> u64 {
    let mut refs: HashMap<&str, usize> = HashMap::new();
    for l in layers.iter().flatten() {
        *refs.entry(l).or_insert(0) += 1;
    }
    for (img, ls) in images.iter_mut().zip(layers) {
        let shared: u64 = ls
            .iter()
            .filter(|l| refs.get(l.as_str()).copied().unwrap_or(0) > 1)
            .filter_map(|l| sizes.get(l))
            .sum();
        img["SharedSize"] = shared.into();
    }
    refs.keys().filter_map(|l| sizes.get(*l)).sum()
}

impl Daemon {
    /// The image summaries with `Containers` and `SharedSize`, and `LayersSize`.
    fn df_images(&self) -> (Vec<Value>, u64) {
        let mut users: BTreeMap<String, i64> = BTreeMap::new();
        for e in self.containers.all() {
            *users.entry(e.lock().image.clone()).or_insert(0) += 1;
        }
        let mut images = self.images.list();
        let mut sizes = HashMap::new();
        let mut layers = Vec::new();
        for img in images.iter_mut() {
            let id = img["Id"].as_str().unwrap_or_default().to_string();
            img["Containers"] = users.get(&id).copied().unwrap_or(0).into();
            let dirs = self.images.layer_dirs(&id).unwrap_or_default();
            let mut keys = Vec::new();
            for d in dirs {
                let key = d.display().to_string();
                sizes.entry(key.clone()).or_insert_with(|| layer_size(&d));
                keys.push(key);
            }
            layers.push(keys);
        }
        let total = shared_sizes(&mut images, &layers, &sizes);
        (images, total)
    }

    /// Volumes with their `UsageData`: how many containers use each, and
    /// the bytes under its data directory.
    fn df_volumes(&self) -> Result<Vec<Value>> {
        let list = self.list_volumes("")?;
        let mut out = Vec::new();
        for mut v in list["Volumes"].as_array().cloned().unwrap_or_default() {
            let name = v["Name"].as_str().unwrap_or_default().to_string();
            let refs = self.volume_users(&name).len();
            let size = dir_size(&self.volumes.data_path(&name));
            v["UsageData"] = json!({"RefCount": refs, "Size": size});
            out.push(v);
        }
        Ok(out)
    }

    /// `GET /system/df`. Walks every container's rw layer: call from a
    /// blocking context.
    pub fn disk_usage(&self, types: DfTypes) -> Result<Value> {
        let (images, layers_size) = if types.images {
            let (i, s) = self.df_images();
            (Value::Array(i), s)
        } else {
            (Value::Null, 0)
        };
        let containers = if types.containers {
            let mut list = self.list_containers(true, None, "")?;
            self.add_summary_sizes(&mut list);
            Value::Array(list)
        } else {
            Value::Null
        };
        let volumes = if types.volumes {
            Value::Array(self.df_volumes()?)
        } else {
            Value::Null
        };
        let build_cache = if types.build_cache {
            json!([])
        } else {
            Value::Null
        };
        Ok(json!({
            "LayersSize": layers_size,
            "Images": images,
            "Containers": containers,
            "Volumes": volumes,
            "BuildCache": build_cache,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_size_counts_layers_of_several_images() {
        let mut images = vec![json!({"Id": "a"}), json!({"Id": "b"}), json!({"Id": "c"})];
        let layers = vec![
            vec!["base".to_string(), "a1".to_string()],
            vec!["base".to_string()],
            vec!["c1".to_string()],
        ];
        let sizes = HashMap::from([
            ("base".to_string(), 100),
            ("a1".to_string(), 10),
            ("c1".to_string(), 7),
        ]);
        assert_eq!(shared_sizes(&mut images, &layers, &sizes), 117);
        assert_eq!(images[0]["SharedSize"], 100);
        assert_eq!(images[1]["SharedSize"], 100);
        assert_eq!(images[2]["SharedSize"], 0);
    }

    #[test]
    fn parses_types() {
        assert!(DfTypes::parse(&[]).unwrap().build_cache);
        let t = DfTypes::parse(&["image".into()]).unwrap();
        assert!(t.images && !t.containers);
        assert_eq!(
            DfTypes::parse(&["x".into()]).unwrap_err().message,
            "unknown object type: x"
        );
    }

    #[test]
    fn layer_size_prefers_the_record() {
        let d = tempfile::tempdir().unwrap();
        let diff = d.path().join("diff");
        std::fs::create_dir_all(&diff).unwrap();
        std::fs::write(diff.join("f"), b"12345").unwrap();
        assert_eq!(layer_size(&diff), 5);
        std::fs::write(d.path().join("layer.json"), r#"{"size": 42}"#).unwrap();
        assert_eq!(layer_size(&diff), 42);
    }
}
