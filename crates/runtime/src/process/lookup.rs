//! Finding the executable inside the container before reporting ready, with
//! runc's wording and Docker's exit codes (127 not found, 126 cannot run).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::failure::InitError;
use crate::error::errno_text;

/// PATH used when the spec's environment has none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The value of `PATH` in a `KEY=value` list (the last one wins).
pub fn path_of(env: &[String]) -> Option<&str> {
    env.iter().rev().find_map(|e| e.strip_prefix("PATH="))
}

fn exit_code_for(errno: i32) -> i32 {
    if errno == libc::ENOENT {
        127
    } else {
        126
    }
}

/// Checks that `path` is a file we may execute; the errno if not.
fn check_executable(path: &Path) -> Result<(), i32> {
    let meta = std::fs::metadata(path).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    if meta.is_dir() {
        return Err(libc::EISDIR);
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(libc::EACCES);
    }
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| libc::EINVAL)?;
    // SAFETY: c is a valid NUL-terminated path.
    let rc = unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::X_OK, libc::AT_EACCESS) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EACCES));
    }
    Ok(())
}

/// Resolves `arg0` like Go's `exec.LookPath` in runc: a name with a slash
/// is used as is, any other is searched in `path`.
pub fn find_executable(arg0: &str, path: Option<&str>) -> Result<PathBuf, InitError> {
    if arg0.contains('/') {
        let p = Path::new(arg0);
        return match std::fs::metadata(p) {
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(libc::EIO);
                Err(InitError::exec(
                    format!("exec: {arg0:?}: stat {arg0}: {}", errno_text(errno)),
                    exit_code_for(errno),
                ))
            }
            Ok(_) => match check_executable(p) {
                Ok(()) => Ok(p.to_path_buf()),
                Err(errno) => Err(InitError::exec(
                    format!("exec: {arg0:?}: {}", errno_text(errno)),
                    exit_code_for(errno),
                )),
            },
        };
    }
    if !arg0.is_empty() {
        for dir in path.unwrap_or(DEFAULT_PATH).split(':') {
            let dir = if dir.is_empty() { "." } else { dir };
            let candidate = Path::new(dir).join(arg0);
            if check_executable(&candidate).is_ok() {
                return Ok(candidate);
            }
        }
    }
    Err(InitError::exec(
        format!("exec: {arg0:?}: executable file not found in $PATH"),
        127,
    ))
}

/// The error for a failed `execve` of `path`.
pub fn exec_failed(path: &Path, errno: i32) -> InitError {
    let mut e = InitError::exec(
        format!("exec {}: {}", path.display(), errno_text(errno)),
        exit_code_for(errno),
    );
    e.errno = errno;
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn exe(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        fs::write(&p, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn searches_path_and_skips_non_executables() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        exe(a.path(), "tool", 0o644);
        let good = exe(b.path(), "tool", 0o755);
        let path = format!("{}:{}", a.path().display(), b.path().display());
        assert_eq!(find_executable("tool", Some(&path)).unwrap(), good);
    }

    #[test]
    fn runc_messages_and_codes() {
        let d = tempfile::tempdir().unwrap();
        let e = find_executable("nosuch", Some(&d.path().display().to_string())).unwrap_err();
        assert_eq!(
            e.message,
            "exec: \"nosuch\": executable file not found in $PATH"
        );
        assert_eq!(e.exit_code, Some(127));

        let missing = d.path().join("x");
        let m = missing.display().to_string();
        let e = find_executable(&m, None).unwrap_err();
        assert_eq!(
            e.message,
            format!("exec: \"{m}\": stat {m}: no such file or directory")
        );
        assert_eq!(e.exit_code, Some(127));

        let dir = d.path().display().to_string();
        let e = find_executable(&dir, None).unwrap_err();
        assert_eq!(e.message, format!("exec: \"{dir}\": is a directory"));
        assert_eq!(e.exit_code, Some(126));

        let plain = exe(d.path(), "plain", 0o644).display().to_string();
        let e = find_executable(&plain, None).unwrap_err();
        assert_eq!(e.message, format!("exec: \"{plain}\": permission denied"));
        assert_eq!(e.exit_code, Some(126));
    }

    #[test]
    fn path_of_takes_last() {
        let env = vec!["PATH=/a".to_string(), "X=1".into(), "PATH=/b".into()];
        assert_eq!(path_of(&env), Some("/b"));
        assert_eq!(path_of(&[]), None);
    }

    #[test]
    fn exec_failure_codes() {
        let e = exec_failed(Path::new("/bin/x"), libc::ENOEXEC);
        assert_eq!(e.message, "exec /bin/x: exec format error");
        assert_eq!(e.exit_code, Some(126));
        assert_eq!(
            exec_failed(Path::new("/x"), libc::ENOENT).exit_code,
            Some(127)
        );
    }
}
