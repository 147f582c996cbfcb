//! Content-addressed blobs (`blobs/sha256/<hex>`): configs and layers as
//! loaded. A blob becomes visible only by rename after its digest was checked.

use crate::digest::{self, hex_of};
use crate::error::{Error, IoContext};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

pub struct Blobs {
    dir: PathBuf,
}

impl Blobs {
    pub fn open(root: &Path) -> Result<Blobs, Error> {
        let dir = root.join("blobs").join("sha256");
        fs::create_dir_all(&dir).ctx(|| format!("create {}", dir.display()))?;
        crate::tmp::sweep(&dir);
        Ok(Blobs { dir })
    }

    /// Path of the blob with digest `d` (which must be `sha256:<hex>`).
    pub fn path(&self, d: &str) -> Result<PathBuf, Error> {
        let hex = hex_of(d).ok_or_else(|| Error::invalid(format!("invalid digest {d:?}")))?;
        Ok(self.dir.join(hex))
    }

    pub fn read(&self, d: &str) -> Result<Vec<u8>, Error> {
        let p = self.path(d)?;
        fs::read(&p).ctx(|| format!("read blob {}", p.display()))
    }

    pub fn open_blob(&self, d: &str) -> Result<File, Error> {
        let p = self.path(d)?;
        File::open(&p).ctx(|| format!("open blob {}", p.display()))
    }

    /// Stores `data` as blob `d` after checking that it hashes to `d`.
    pub fn put_bytes(&self, d: &str, data: &[u8]) -> Result<(), Error> {
        let got = digest::sha256(data);
        if got != d {
            return Err(Error::invalid(format!(
                "content does not match its digest: expected {d}, got {got}"
            )));
        }
        let p = self.path(d)?;
        if p.exists() {
            return Ok(());
        }
        berth_util::fs::write_atomic(&p, data).ctx(|| format!("write blob {}", p.display()))
    }

    /// Moves `file` (on the same filesystem, already hashed to `d` by the
    /// caller while it was written) into place as blob `d`.
    pub fn adopt(&self, file: &Path, d: &str) -> Result<(), Error> {
        let p = self.path(d)?;
        if p.exists() {
            return Ok(());
        }
        File::open(file)
            .and_then(|f| f.sync_all())
            .ctx(|| format!("sync {}", file.display()))?;
        fs::rename(file, &p).ctx(|| format!("store blob {}", p.display()))
    }

    pub fn remove(&self, d: &str) {
        if let Ok(p) = self.path(d) {
            let _ = fs::remove_file(p);
        }
    }
}
