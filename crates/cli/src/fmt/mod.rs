//! Output formatting shared by the commands: humanized sizes and durations,
//! Go float and string rendering, JSON as Go encodes it, docker's tabwriter,
//! port lists, and the table/template formatter for list commands.

pub mod human;
pub mod json;
pub mod ports;
pub mod table;
pub mod tabwriter;
pub mod text;
pub mod units;
