//! v2 cpuset controller: the same `cpuset.cpus` and `cpuset.mems` files as
//! v1 (there is no parent copy to do: v2 inherits effective values).

pub use crate::cgroups::v1::cpuset::apply;
