//! Joining a container path to the rootfs without leaving it: symlinks in
//! the image are resolved as if the rootfs were `/`.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

const MAX_SYMLINKS: u32 = 255;

fn components(p: &Path) -> impl Iterator<Item = OsString> + '_ {
    p.components().filter_map(|c| match c {
        Component::Normal(n) => Some(n.to_os_string()),
        Component::ParentDir => Some(OsString::from("..")),
        _ => None,
    })
}

/// `root` + `unsafe_path`, with every existing symlink on the way resolved
/// inside `root`; `..` never climbs above `root`.
pub fn secure_join(root: &Path, unsafe_path: &str) -> io::Result<PathBuf> {
    let mut queue: VecDeque<OsString> = components(Path::new(unsafe_path)).collect();
    let mut resolved = PathBuf::new();
    let mut links = 0;
    while let Some(part) = queue.pop_front() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let candidate = resolved.join(&part);
        let full = root.join(&candidate);
        match std::fs::symlink_metadata(&full) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                let target = std::fs::read_link(&full)?;
                if target.is_absolute() {
                    resolved = PathBuf::new();
                }
                let rest: Vec<OsString> = components(&target).collect();
                for c in rest.into_iter().rev() {
                    queue.push_front(c);
                }
            }
            _ => resolved = candidate,
        }
    }
    Ok(root.join(resolved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_stay_inside_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        symlink("/etc", root.join("abs")).unwrap();
        symlink("../../../../etc", root.join("rel")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        assert_eq!(secure_join(root, "/abs/x").unwrap(), root.join("etc/x"));
        assert_eq!(secure_join(root, "rel/x").unwrap(), root.join("etc/x"));
        assert_eq!(secure_join(root, "/../../x").unwrap(), root.join("x"));
        assert_eq!(secure_join(root, "/a/b/../c").unwrap(), root.join("a/c"));
        assert_eq!(secure_join(root, "/").unwrap(), root.to_path_buf());
        assert!(secure_join(root, "/loop").is_err());
    }
}
