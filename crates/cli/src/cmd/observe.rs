//! Commands that observe containers without changing them: `stats`, `top`,
//! `port` and `system df`, each in its own module.

pub mod df;
pub mod port;
pub mod stats;
mod stats_calc;
pub mod top;
