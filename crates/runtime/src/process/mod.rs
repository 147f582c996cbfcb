//! The container init process: how it is cloned, what it talks with its
//! parent, and what it does between `clone` and `execve`.

pub(crate) mod clone;
pub(crate) mod failure;
pub(crate) mod init;
pub(crate) mod lookup;
pub(crate) mod plan;
pub(crate) mod sync;
