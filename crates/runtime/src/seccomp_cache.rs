//! The container's seccomp program, compiled once per profile: libseccomp
//! takes milliseconds to turn Docker's ~350-syscall profile into BPF, so
//! the program is kept in a cache directory (the `berth.seccomp-cache`
//! annotation; the daemon points it at `<exec-root>/seccomp`) under the
//! SHA-256 of everything that determines it (this format's version,
//! libseccomp's version, the machine and kernel release, the profile).
//! Later containers with the same profile read the program instead of
//! building it (crun's checksum cache).
//!
//! A cache file is the program followed by the SHA-256 of the program.
//! Files are written to a temporary name and renamed, without fsync: a
//! file torn by a crash fails the trailing checksum, and a file that fails
//! it (or cannot be read) is simply compiled and written again. A cache
//! that cannot be written costs time, never the container.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::seccomp::SeccompError;
use crate::seccomp_bpf::{self, BpfProgram};
use crate::spec::{Seccomp, Spec};

/// Annotation: the directory of compiled seccomp programs.
pub const ANNOTATION: &str = "berth.seccomp-cache";

/// Bumped whenever the key or the file layout changes.
const FORMAT: &str = "berth-seccomp-cache-v1";

const SUM_LEN: usize = 32;

/// The spec's seccomp program, from the annotation's cache when it has
/// it; `None` when the spec has no seccomp profile.
pub fn program_for(spec: &Spec) -> Result<Option<BpfProgram>, SeccompError> {
    let Some(profile) = &spec.linux.seccomp else {
        return Ok(None);
    };
    let program = match spec.annotations.get(ANNOTATION).filter(|d| !d.is_empty()) {
        Some(dir) => cached(Path::new(dir), profile)?,
        None => seccomp_bpf::compile(profile)?,
    };
    Ok(Some(program))
}

/// The program for `profile` from `dir`, compiled and stored on a miss.
pub fn cached(dir: &Path, profile: &Seccomp) -> Result<BpfProgram, SeccompError> {
    let path = entry_path(dir, profile);
    if let Some(p) = path.as_deref().and_then(read_entry) {
        return Ok(p);
    }
    let program = seccomp_bpf::compile(profile)?;
    if let Some(path) = &path {
        let _ = write_entry(dir, path, &program);
    }
    Ok(program)
}

/// `<dir>/<key>.bpf`; `None` when the profile cannot be serialised.
fn entry_path(dir: &Path, profile: &Seccomp) -> Option<PathBuf> {
    let json = serde_json::to_vec(profile).ok()?;
    let mut h = Sha256::new();
    h.update(FORMAT.as_bytes());
    h.update(b"\n");
    if let Ok(v) = libseccomp::ScmpVersion::current() {
        h.update(format!("libseccomp {}.{}.{}\n", v.major, v.minor, v.micro).as_bytes());
    }
    h.update(machine_and_release().as_bytes());
    h.update(&json);
    Some(dir.join(format!("{}.bpf", hex(&h.finalize()))))
}

/// `uname -m -r`: the filter's syscall numbers are the machine's, and
/// libseccomp adapts some actions to what the running kernel supports.
fn machine_and_release() -> String {
    // SAFETY: utsname is plain bytes; uname fills it.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: u is a valid utsname to fill.
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {}\n", field(&u.machine), field(&u.release))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cache entry whose checksum holds.
fn read_entry(path: &Path) -> Option<BpfProgram> {
    let bytes = fs::read(path).ok()?;
    let split = bytes.len().checked_sub(SUM_LEN)?;
    let (program, sum) = bytes.split_at(split);
    if Sha256::digest(program).as_slice() != sum {
        return None;
    }
    BpfProgram::from_bytes(program)
}

fn write_entry(dir: &Path, path: &Path, program: &BpfProgram) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut bytes = program.to_bytes();
    let sum = Sha256::digest(&bytes);
    bytes.extend_from_slice(&sum);
    let tmp = path.with_extension(format!(
        "tmp-{}-{}",
        std::process::id(),
        berth_util::id::random_hex(4)
    ));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&bytes))
        .and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp_bpf::tests::small_profile;

    fn spec_with(profile: Seccomp, dir: Option<&Path>) -> Spec {
        let mut spec = Spec::default();
        spec.linux.seccomp = Some(profile);
        if let Some(d) = dir {
            spec.annotations
                .insert(ANNOTATION.into(), d.display().to_string());
        }
        spec
    }

    fn entries(dir: &Path) -> Vec<PathBuf> {
        fs::read_dir(dir)
            .map(|r| r.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn no_profile_no_program() {
        assert!(program_for(&Spec::default()).unwrap().is_none());
    }

    #[test]
    fn compiles_once_then_reads_the_same_program() {
        let d = tempfile::tempdir().unwrap();
        let cache = d.path().join("seccomp");
        let spec = spec_with(small_profile(), Some(&cache));
        let first = program_for(&spec).unwrap().unwrap();
        let files = entries(&cache);
        assert_eq!(files.len(), 1, "one entry, no temporary file left");
        let uncached = seccomp_bpf::compile(&small_profile()).unwrap();
        assert_eq!(first.to_bytes(), uncached.to_bytes());
        // A hit returns the stored program (changing nothing on disk).
        let before = fs::metadata(&files[0]).unwrap().modified().unwrap();
        let second = program_for(&spec).unwrap().unwrap();
        assert_eq!(second.to_bytes(), first.to_bytes());
        assert_eq!(fs::metadata(&files[0]).unwrap().modified().unwrap(), before);
        // Another profile is another entry.
        let mut other = small_profile();
        other.syscalls.pop();
        program_for(&spec_with(other, Some(&cache))).unwrap();
        assert_eq!(entries(&cache).len(), 2);
    }

    #[test]
    fn torn_or_foreign_entries_are_rebuilt() {
        let d = tempfile::tempdir().unwrap();
        let profile = small_profile();
        let good = cached(d.path(), &profile).unwrap().to_bytes();
        let path = entries(d.path()).pop().unwrap();
        // Torn: half the file.
        let full = fs::read(&path).unwrap();
        fs::write(&path, &full[..full.len() / 2]).unwrap();
        assert_eq!(cached(d.path(), &profile).unwrap().to_bytes(), good);
        assert_eq!(fs::read(&path).unwrap(), full);
        // Tampered instruction: checksum fails, rebuilt.
        let mut bad = full.clone();
        bad[0] ^= 0xff;
        fs::write(&path, &bad).unwrap();
        assert_eq!(cached(d.path(), &profile).unwrap().to_bytes(), good);
        assert_eq!(fs::read(&path).unwrap(), full);
    }

    #[test]
    fn unwritable_cache_still_gives_the_program() {
        let d = tempfile::tempdir().unwrap();
        let not_a_dir = d.path().join("file");
        fs::write(&not_a_dir, b"").unwrap();
        let spec = spec_with(small_profile(), Some(&not_a_dir.join("seccomp")));
        assert!(program_for(&spec).unwrap().is_some());
    }
}
