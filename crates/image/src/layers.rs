//! The layer store: `layers/<chain-id-hex>/diff` holds one unpacked layer,
//! `layers/<chain-id-hex>/layer.json` its record. A layer is unpacked once into
//! a temporary directory, its DiffID checked, and renamed into place whole.

use crate::compress::{self, Compression};
use crate::digest::{hex_of, HashingReader};
use crate::error::{Error, IoContext};
use crate::tmp::TempDir;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const RECORD: &str = "layer.json";

/// What is known about one unpacked layer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerMeta {
    /// sha256 of the uncompressed tar.
    pub diff_id: String,
    /// Chain ID of the layer below, `""` for a base layer.
    #[serde(default)]
    pub parent: String,
    /// Unpacked size (sum of non-directory sizes, hard links once).
    pub size: u64,
    /// Length of the uncompressed tar.
    pub tar_size: u64,
    /// Digest of the blob the layer was unpacked from.
    pub blob: String,
    /// Compression of that blob: `none` or `gzip`.
    pub compression: String,
}

pub struct Layers {
    dir: PathBuf,
}

impl Layers {
    pub fn open(root: &Path) -> Result<Layers, Error> {
        let dir = root.join("layers");
        fs::create_dir_all(&dir).ctx(|| format!("create {}", dir.display()))?;
        crate::tmp::sweep(&dir);
        Ok(Layers { dir })
    }

    fn dir_of(&self, chain: &str) -> Result<PathBuf, Error> {
        let hex = hex_of(chain).ok_or_else(|| Error::Corrupt(format!("bad chain id {chain:?}")))?;
        Ok(self.dir.join(hex))
    }

    /// The unpacked directory of layer `chain`.
    pub fn diff_dir(&self, chain: &str) -> Result<PathBuf, Error> {
        Ok(self.dir_of(chain)?.join("diff"))
    }

    /// `layers/<hex>` of `chain` (for `merged`/`work` names in inspect output).
    pub fn layer_dir(&self, chain: &str) -> Result<PathBuf, Error> {
        self.dir_of(chain)
    }

    /// Every complete layer on disk, by chain ID.
    pub fn load_all(&self) -> HashMap<String, LayerMeta> {
        let mut out = HashMap::new();
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return out;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !crate::digest::is_hex64(&name) {
                continue;
            }
            let meta = fs::read(e.path().join(RECORD))
                .ok()
                .and_then(|b| serde_json::from_slice::<LayerMeta>(&b).ok());
            if let Some(m) = meta {
                out.insert(format!("sha256:{name}"), m);
            }
        }
        out
    }

    /// Unpacks `blob_path` (plain or gzip'd tar, content digest `blob`) as layer
    /// `chain` on top of `parent`, checking that its DiffID is `diff_id`.
    pub fn create(
        &self,
        chain: &str,
        parent: &str,
        diff_id: &str,
        blob_path: &Path,
        blob: &str,
    ) -> Result<LayerMeta, Error> {
        let final_dir = self.dir_of(chain)?;
        let tmp = TempDir::new(&self.dir, "tmp")?;
        let diff = tmp.path().join("diff");
        fs::create_dir(&diff).ctx(|| format!("create {}", diff.display()))?;
        let f = File::open(blob_path).ctx(|| format!("open {}", blob_path.display()))?;
        let mut br = BufReader::new(f);
        let compression = Compression::sniff(br.fill_buf().ctx(|| "read layer".to_string())?);
        let mut hashing = HashingReader::new(compress::decompressed(br)?);
        crate::unpack::unpack(&mut hashing, &diff)?;
        let (got, tar_size) = hashing
            .drain_and_finish()
            .map_err(|e| Error::invalid(format!("invalid layer: {e}")))?;
        if got != diff_id {
            return Err(Error::invalid(format!(
                "invalid layer: diff id mismatch: the image config says {diff_id}, the layer is {got}"
            )));
        }
        let meta = LayerMeta {
            diff_id: diff_id.to_string(),
            parent: parent.to_string(),
            size: du(&diff)?,
            tar_size,
            blob: blob.to_string(),
            compression: compression.as_str().to_string(),
        };
        let rec = serde_json::to_vec(&meta).map_err(|e| Error::Corrupt(e.to_string()))?;
        berth_util::fs::write_atomic(&tmp.path().join(RECORD), &rec)
            .ctx(|| "write layer record".to_string())?;
        match fs::rename(tmp.path(), &final_dir) {
            Ok(()) => tmp.keep(),
            // Someone else unpacked the same layer meanwhile: theirs wins.
            Err(_) if final_dir.join(RECORD).exists() => {}
            Err(e) => {
                return Err(Error::Io {
                    context: format!("store layer {}", final_dir.display()),
                    source: e,
                })
            }
        }
        Ok(meta)
    }

    /// Deletes layer `chain` from disk (renamed away first so it vanishes at once).
    pub fn remove(&self, chain: &str) -> Result<(), Error> {
        let dir = self.dir_of(chain)?;
        let gone = self
            .dir
            .join(format!(".del-{}", berth_util::id::random_hex(8)));
        match fs::rename(&dir, &gone) {
            Ok(()) => fs::remove_dir_all(&gone).ctx(|| format!("remove {}", gone.display())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::Io {
                context: format!("remove {}", dir.display()),
                source: e,
            }),
        }
    }
}

/// Disk usage as Docker's overlay2 reports it: the sizes of everything that is
/// not a directory, each inode once.
pub fn du(dir: &Path) -> Result<u64, Error> {
    let mut seen = HashSet::new();
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).ctx(|| format!("read {}", d.display()))? {
            let e = e.ctx(|| format!("read {}", d.display()))?;
            let m = e
                .metadata()
                .ctx(|| format!("lstat {}", e.path().display()))?;
            if m.is_dir() {
                stack.push(e.path());
            } else if m.len() > 0 && seen.insert(m.ino()) {
                total += m.len();
            }
        }
    }
    Ok(total)
}
