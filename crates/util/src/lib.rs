//! Small pieces every berth crate needs and no crate owns: crash-safe file
//! writes, RFC 3339 timestamps without a date library, random identifiers.

pub mod fs;
pub mod id;
pub mod time;
/// `BERTH_TRACE` phase timestamps (off by default).
pub mod trace;
