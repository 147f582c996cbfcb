//! The files of one json-file log: the live `<id>-json.log` and the rotated
//! `<id>-json.log.1` (newest) … `.N` (oldest) the shim keeps, read oldest
//! first, and a follower that stays on the log across rotations (it notices
//! that the live name points to another inode, finishes its file and moves
//! to the one written after it) and truncations (`max-file` 1).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `<path>.<n>`, the n-th rotated file.
fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Identity of an open file.
fn inode(file: &File) -> io::Result<(u64, u64)> {
    let m = file.metadata()?;
    Ok((m.dev(), m.ino()))
}

fn inode_at(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The rotated files that exist, newest (`.1`) first.
fn rotated_files(path: &Path) -> Vec<PathBuf> {
    (1..)
        .map(|n| rotated(path, n))
        .take_while(|p| p.exists())
        .collect()
}

/// Complete lines from the current position; a trailing partial line is left
/// for the next call.
fn read_lines(reader: &mut BufReader<File>) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            break;
        }
        if !line.ends_with('\n') {
            reader.seek(SeekFrom::Current(-(n as i64)))?;
            break;
        }
        out.push(line);
    }
    Ok(out)
}

/// Reads a log from its oldest kept line on and follows it.
pub struct Follower {
    path: PathBuf,
    reader: BufReader<File>,
    inode: (u64, u64),
}

impl Follower {
    /// Starts on `live`, the open live log at `path`.
    pub fn new(path: PathBuf, live: File) -> io::Result<Follower> {
        let inode = inode(&live)?;
        Ok(Follower {
            path,
            reader: BufReader::new(live),
            inode,
        })
    }

    /// Every line kept: the rotated files oldest first, then the live one.
    pub fn read_all(&mut self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for p in rotated_files(&self.path).iter().rev() {
            let Ok(f) = File::open(p) else { continue };
            // Rotated since we opened it: the live reader reads it below.
            if inode(&f)? == self.inode {
                continue;
            }
            out.extend(read_lines(&mut BufReader::new(f))?);
        }
        out.extend(self.read_new()?);
        Ok(out)
    }

    /// Lines written since the last call, across rotations.
    pub fn read_new(&mut self) -> io::Result<Vec<String>> {
        let mut out = read_lines(&mut self.reader)?;
        while let Some(next) = self.successor() {
            self.inode = inode(&next)?;
            self.reader = BufReader::new(next);
            out.extend(read_lines(&mut self.reader)?);
        }
        let len = self.reader.get_ref().metadata()?.len();
        if len < self.reader.stream_position()? {
            // Truncated in place (max-file 1): start over.
            self.reader.seek(SeekFrom::Start(0))?;
            out.extend(read_lines(&mut self.reader)?);
        }
        Ok(out)
    }

    /// The file written after ours when ours is no longer the live log.
    fn successor(&self) -> Option<File> {
        if inode_at(&self.path)? == self.inode {
            return None;
        }
        let older = rotated_files(&self.path);
        let next = match older.iter().position(|p| inode_at(p) == Some(self.inode)) {
            Some(0) => self.path.clone(),
            Some(i) => older[i - 1].clone(),
            // Ours is gone (we fell behind): continue with the oldest kept.
            None => older.last().cloned().unwrap_or_else(|| self.path.clone()),
        };
        File::open(next).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Rotation as the shim does it, with max-file 3.
    fn rotate(path: &Path) {
        let _ = std::fs::remove_file(rotated(path, 2));
        let _ = std::fs::rename(rotated(path, 1), rotated(path, 2));
        std::fs::rename(path, rotated(path, 1)).unwrap();
    }

    #[test]
    fn reads_rotated_files_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        for text in ["a\n", "b\n", "c\n", "d\n"] {
            append(&path, text);
            rotate(&path);
        }
        append(&path, "e\n");
        let mut f = Follower::new(path.clone(), File::open(&path).unwrap()).unwrap();
        assert_eq!(f.read_all().unwrap(), ["c\n", "d\n", "e\n"]);
        assert!(f.read_new().unwrap().is_empty());
    }

    #[test]
    fn follows_across_rotations_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        append(&path, "1\n");
        let mut f = Follower::new(path.clone(), File::open(&path).unwrap()).unwrap();
        assert_eq!(f.read_all().unwrap(), ["1\n"]);
        append(&path, "2\n");
        rotate(&path);
        append(&path, "3\n");
        rotate(&path);
        append(&path, "4\npart");
        // Two rotations between reads: nothing is skipped.
        assert_eq!(f.read_new().unwrap(), ["2\n", "3\n", "4\n"]);
        append(&path, "ial\n");
        assert_eq!(f.read_new().unwrap(), ["partial\n"]);
        // max-file 1: the shim empties the live file.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&path, "5\n");
        assert_eq!(f.read_new().unwrap(), ["5\n"]);
    }
}
