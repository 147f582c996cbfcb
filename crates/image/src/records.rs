//! Image records (`images/<id-hex>.json`): what the store knows about an image
//! beyond its config blob, written atomically.

use crate::digest::hex_of;
use crate::error::{Error, IoContext};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageRecord {
    /// `sha256:<hex>` of the config blob.
    pub id: String,
    /// Parent image ID (from a `Parent` in an archive's manifest), `""` for none.
    #[serde(default)]
    pub parent: String,
    /// When a tag was last set by `tag` or `import` (RFC 3339), Docker's `Metadata.LastTagTime`.
    #[serde(default)]
    pub last_tag_time: Option<String>,
    /// Removed with `force` while a container still used it: invisible to names
    /// and listings, but its config and layers stay for that container until a
    /// later `remove`/`prune` finds it unused.
    #[serde(default)]
    pub hidden: bool,
}

pub struct Records {
    dir: PathBuf,
}

impl Records {
    pub fn open(root: &Path) -> Result<Records, Error> {
        let dir = root.join("images");
        fs::create_dir_all(&dir).ctx(|| format!("create {}", dir.display()))?;
        crate::tmp::sweep(&dir);
        Ok(Records { dir })
    }

    fn path(&self, id: &str) -> Result<PathBuf, Error> {
        let hex = hex_of(id).ok_or_else(|| Error::Corrupt(format!("bad image id {id:?}")))?;
        Ok(self.dir.join(format!("{hex}.json")))
    }

    /// Every readable record.
    pub fn load_all(&self) -> Vec<ImageRecord> {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        rd.flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|e| fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice::<ImageRecord>(&b).ok())
            .filter(|r| hex_of(&r.id).is_some())
            .collect()
    }

    pub fn write(&self, rec: &ImageRecord) -> Result<(), Error> {
        let p = self.path(&rec.id)?;
        let data = serde_json::to_vec(rec).map_err(|e| Error::Corrupt(e.to_string()))?;
        berth_util::fs::write_atomic(&p, &data).ctx(|| format!("write {}", p.display()))
    }

    pub fn remove(&self, id: &str) -> Result<(), Error> {
        let p = self.path(id)?;
        match fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
                context: format!("remove {}", p.display()),
                source: e,
            }),
            _ => Ok(()),
        }
    }
}
