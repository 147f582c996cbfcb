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
pub mod exec;
pub mod filters;
pub mod fsops;
pub mod images;
pub mod lifecycle;
pub mod logs;
pub mod model;
mod names;
pub mod network;
pub mod observe;
pub mod oci;
mod orphans;
pub mod prune;
pub mod restart;
mod shim;
pub mod signal;
pub mod store;
pub mod system;
mod trash;
pub mod update;
pub mod views;
pub mod volumes;

pub use config::DaemonConfig;
pub use daemon::Daemon;
pub use error::{Error, Kind, Result};
