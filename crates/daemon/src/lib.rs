//! berth-daemon: the only owner of state. Container records, names, the
//! lifecycle (create, start, stop, kill, wait, remove), OCI spec generation,
//! shim supervision and events; it composes `berth-image` and `berth-runtime`
//! and knows nothing about HTTP.

#![recursion_limit = "256"]

pub mod config;
pub mod daemon;
pub mod error;
mod etc_files;
pub mod events;
pub mod filters;
pub mod images;
pub mod lifecycle;
pub mod logs;
pub mod model;
mod names;
pub mod oci;
mod shim;
pub mod signal;
pub mod store;
pub mod system;
pub mod views;

pub use config::DaemonConfig;
pub use daemon::Daemon;
pub use error::{Error, Kind, Result};
