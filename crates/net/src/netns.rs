//! Running a closure inside another network namespace: a short-lived thread
//! calls `setns(CLONE_NEWNET)` and does the work; the caller's threads never
//! change namespace. Sockets opened there stay in that namespace.

use std::fs::File;
use std::io;
use std::path::Path;

use nix::sched::{setns, CloneFlags};

/// The namespace could not be opened or entered.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("open network namespace {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("enter network namespace: {0}")]
    Enter(#[source] nix::Error),
    #[error("network namespace worker thread panicked")]
    Panicked,
}

/// Opens a namespace file such as `/proc/<pid>/ns/net` or `/run/netns/<name>`.
pub fn open(path: &Path) -> Result<File, NetnsError> {
    File::open(path).map_err(|source| NetnsError::Open {
        path: path.display().to_string(),
        source,
    })
}

/// Runs `f` on a new thread that has joined the network namespace `ns`.
pub fn run_in<T: Send>(ns: &File, f: impl FnOnce() -> T + Send) -> Result<T, NetnsError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            setns(ns, CloneFlags::CLONE_NEWNET).map_err(NetnsError::Enter)?;
            Ok(f())
        })
        .join()
        .unwrap_or(Err(NetnsError::Panicked))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn runs_in_the_given_namespace() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP: setns needs root");
            return;
        }
        // Joining our own namespace is allowed and observable.
        let ns = open(Path::new("/proc/self/ns/net")).unwrap();
        let want = ns.metadata().unwrap().ino();
        let got = run_in(&ns, || {
            std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
        })
        .unwrap();
        assert_eq!(got, want);
        assert!(open(Path::new("/nonexistent/ns")).is_err());
    }
}
