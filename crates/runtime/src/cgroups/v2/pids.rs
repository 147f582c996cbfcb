//! v2 pids controller: `pids.max`, same file and values as v1.

pub use crate::cgroups::v1::pids::apply;
