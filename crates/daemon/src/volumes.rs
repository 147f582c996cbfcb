//! Volumes and container mounts.
//!
//! The `local` driver's named and anonymous volumes live in
//! `<data-root>/volumes/<name>/` (record `volume.json`, content `_data`);
//! this module owns them, their API operations and events, and the
//! resolution of a container's `-v`, `--mount`, `--volumes-from` and image
//! `VOLUME`s into the mount points recorded with the container at create
//! (see `docs/ARCHITECTURE.md`, "Volumes and mounts").

mod copyup;
mod local;
mod mountpoint;
mod name;
mod ops;
mod resolve;
pub mod spec;
mod store;

pub use mountpoint::{mounts_json, mounts_match, MountKind, MountPoint};
pub use ops::MountPlan;
pub use store::{CreateRequest, Volume, VolumeError, Volumes, ANONYMOUS_LABEL};

impl From<VolumeError> for crate::error::Error {
    fn from(e: VolumeError) -> Self {
        use crate::error::Kind;
        let kind = match &e {
            VolumeError::Invalid { .. } => Kind::InvalidArgument,
            VolumeError::NoDriver { .. } | VolumeError::NotFound(_) => Kind::NotFound,
            VolumeError::InUse { .. } => Kind::Conflict,
            VolumeError::Mount { .. } | VolumeError::Io { .. } => Kind::Internal,
        };
        crate::error::Error::new(kind, e.to_string())
    }
}
