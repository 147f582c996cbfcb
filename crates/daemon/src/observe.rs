//! Observing containers without changing them: resource usage samples
//! (`stats`), their processes (`top`), disk usage (`system df`, `size=1`),
//! and the log attributes `logs --details` shows. Each concern has its own
//! module; this one only gathers them.

pub mod df;
pub(crate) mod host;
pub mod logattrs;
mod sizes;
pub mod stats;
pub mod top;
