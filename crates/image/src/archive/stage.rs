//! Staging of an incoming archive: every regular file is written (and hashed)
//! into a temporary directory under the data root, symlinks and hard links are
//! remembered as aliases, so members can be looked up by path in any order.

use crate::compress;
use crate::digest::HashingWriter;
use crate::error::{Error, IoContext};
use crate::tmp::TempDir;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// One regular member of the archive, on disk.
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub path: PathBuf,
    pub digest: String,
    pub size: u64,
}

/// The members of an archive, by cleaned path (`a/b/c`).
pub struct Staged {
    dir: TempDir,
    files: HashMap<String, StagedFile>,
    /// Symlink and hard-link members: path → cleaned target path.
    aliases: HashMap<String, String>,
}

/// Largest JSON member berth reads into memory.
const MAX_JSON: u64 = 64 << 20;

fn bad(e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("invalid archive: {e}"))
}

fn clean(raw: &[u8], shown: &str) -> Result<String, Error> {
    let comps = crate::unpack::clean(raw)
        .ok_or_else(|| bad(format!("path escapes the archive: {shown}")))?;
    let parts: Vec<&str> = comps
        .iter()
        .map(|c| std::str::from_utf8(c).map_err(|_| bad(format!("non-UTF-8 path {shown}"))))
        .collect::<Result<_, _>>()?;
    Ok(parts.join("/"))
}

impl Staged {
    /// Reads the whole archive `r` (plain or gzip'd tar) into `tmp_root`.
    pub fn read(r: impl Read, tmp_root: &Path) -> Result<Staged, Error> {
        let dir = TempDir::new(tmp_root, "load")?;
        let mut files = HashMap::new();
        let mut aliases = HashMap::new();
        let mut archive = tar::Archive::new(compress::decompressed(r)?);
        for (n, entry) in archive.entries().map_err(bad)?.enumerate() {
            let mut entry = entry.map_err(bad)?;
            let raw = entry.path_bytes().into_owned();
            let shown = String::from_utf8_lossy(&raw).into_owned();
            let path = clean(&raw, &shown)?;
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let file = dir.path().join(n.to_string());
                    let f = File::create(&file).ctx(|| format!("create {}", file.display()))?;
                    let mut w = HashingWriter::new(f);
                    io::copy(&mut entry, &mut w).map_err(bad)?;
                    let (digest, size) = w.hasher.finish();
                    aliases.remove(&path);
                    files.insert(
                        path,
                        StagedFile {
                            path: file,
                            digest,
                            size,
                        },
                    );
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let link = entry
                        .link_name_bytes()
                        .ok_or_else(|| bad(format!("link without target: {shown}")))?
                        .into_owned();
                    let target = if entry.header().entry_type() == tar::EntryType::Link {
                        clean(&link, &shown)?
                    } else {
                        if link.starts_with(b"/") {
                            return Err(bad(format!("absolute symlink in archive: {shown}")));
                        }
                        let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                        let mut joined = parent.as_bytes().to_vec();
                        joined.push(b'/');
                        joined.extend_from_slice(&link);
                        clean(&joined, &shown)?
                    };
                    files.remove(&path);
                    aliases.insert(path, target);
                }
                _ => {}
            }
        }
        Ok(Staged {
            dir,
            files,
            aliases,
        })
    }

    /// The member at `path`, following aliases (bounded, inside the archive).
    pub fn get(&self, path: &str) -> Result<&StagedFile, Error> {
        let mut p = clean(path.as_bytes(), path)?;
        for _ in 0..32 {
            if let Some(f) = self.files.get(&p) {
                return Ok(f);
            }
            match self.aliases.get(&p) {
                Some(t) => p = t.clone(),
                None => break,
            }
        }
        Err(bad(format!("{path} is missing")))
    }

    pub fn has(&self, path: &str) -> bool {
        self.get(path).is_ok()
    }

    /// Reads member `path` (a JSON document) into memory.
    pub fn read_bytes(&self, path: &str) -> Result<Vec<u8>, Error> {
        let f = self.get(path)?;
        if f.size > MAX_JSON {
            return Err(bad(format!("{path} is too large")));
        }
        std::fs::read(&f.path).ctx(|| format!("read {}", f.path.display()))
    }

    /// Parses member `path` as JSON of type `T`.
    pub fn read_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let b = self.read_bytes(path)?;
        serde_json::from_slice(&b).map_err(|e| bad(format!("{path}: {e}")))
    }

    /// The staging directory (for diagnostics and tests).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
