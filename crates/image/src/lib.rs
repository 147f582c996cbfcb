//! berth-image: the image store. Content-addressed blobs, shared unpacked
//! layers (overlay lowerdirs), image records and references; docker-archive
//! and OCI-layout load and save, `import` of a rootfs tar, `commit` of a
//! container's changes, Docker's `rmi` and prune rules, and the Engine API's
//! JSON views of images.
//!
//! On disk under the data root (see docs/ARCHITECTURE.md):
//! `blobs/sha256/<hex>`, `layers/<chain-id-hex>/{diff,layer.json}`,
//! `images/<id-hex>.json`, `repositories.json`, and `tmp/` for staging.
//! Every API is blocking; call it from `spawn_blocking`.

pub mod archive;
mod blobs;
mod changes;
mod commit;
pub mod compress;
pub mod config;
pub mod digest;
mod error;
mod import;
mod layers;
mod records;
pub mod reference;
mod refstore;
mod remove;
mod store;
mod tmp;
pub mod unpack;
mod views;

pub use archive::load::Loaded;
pub use commit::CommitRequest;
pub use config::{HealthConfig, ImageConfig};
pub use error::{Error, ErrorKind};
pub use reference::Reference;
pub use remove::Deleted;
pub use store::Store;

#[cfg(test)]
mod testutil;
