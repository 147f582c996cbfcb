//! Translation of `run`/`create` flags into the Engine API's container
//! configuration.

pub mod container;
pub mod kv;
pub mod mounts;
pub mod ports;
