//! The control socket's listening end: bound with mode 0600 after a stale
//! socket of a dead shim is removed, and unlinked at exit only if it is
//! still the one this shim bound (a successor may already own the path).

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SocketError {
    #[error("create socket directory {path}: {source}")]
    Dir { path: PathBuf, source: io::Error },
    #[error("another shim is serving {0}")]
    InUse(PathBuf),
    #[error("remove stale socket {path}: {source}")]
    Stale { path: PathBuf, source: io::Error },
    #[error("bind {path}: {source}")]
    Bind { path: PathBuf, source: io::Error },
}

pub struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
    /// Device and inode of the socket file this shim created.
    identity: (u64, u64),
}

impl ControlSocket {
    /// Binds `path` (mode 0600), creating its directory (mode 0700) if needed.
    pub fn bind(path: &Path) -> Result<ControlSocket, SocketError> {
        if let Some(dir) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| SocketError::Dir {
                    path: dir.to_path_buf(),
                    source,
                })?;
        }
        if UnixStream::connect(path).is_ok() {
            return Err(SocketError::InUse(path.to_path_buf()));
        }
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(SocketError::Stale {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
        let bind_err = |source| SocketError::Bind {
            path: path.to_path_buf(),
            source,
        };
        // The shim is single-threaded: the umask change is seen by nothing else.
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
        let bound = UnixListener::bind(path);
        nix::sys::stat::umask(old);
        let listener = bound.map_err(bind_err)?;
        // Again by path: the umask alone is not enough when another thread
        // (only ever in tests) changes it meanwhile.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let meta = std::fs::symlink_metadata(path).map_err(bind_err)?;
        Ok(ControlSocket {
            listener,
            path: path.to_path_buf(),
            identity: (meta.dev(), meta.ino()),
        })
    }

    pub fn fd(&self) -> RawFd {
        self.listener.as_raw_fd()
    }

    /// The next pending connection, if any.
    pub fn accept(&self) -> io::Result<Option<UnixStream>> {
        match self.listener.accept() {
            Ok((sock, _)) => Ok(Some(sock)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stops listening and unlinks the socket file if it is still ours.
    pub fn remove(self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path) {
            if (meta.dev(), meta.ino()) == self.identity {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_private_replaces_stale_and_refuses_live() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/c.sock");
        // A stale socket file: bound once, listener gone.
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        drop(UnixListener::bind(&path).unwrap());
        let sock = ControlSocket::bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(
            ControlSocket::bind(&path),
            Err(SocketError::InUse(_))
        ));
        // The probe of the refused bind and this client are both pending.
        let _client = UnixStream::connect(&path).unwrap();
        assert!(sock.accept().unwrap().is_some());
        assert!(sock.accept().unwrap().is_some());
        assert!(sock.accept().unwrap().is_none());
        sock.remove();
        assert!(!path.exists());
    }

    #[test]
    fn leaves_a_successors_socket_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sock");
        let sock = ControlSocket::bind(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let successor = UnixListener::bind(&path).unwrap();
        sock.remove();
        assert!(path.exists());
        drop(successor);
    }
}
