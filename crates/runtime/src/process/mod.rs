//! The container's processes: how they are cloned, what they talk with
//! their parent, and what they do between `clone` and `execve` (the init,
//! and the steps it shares with exec'd processes).

pub(crate) mod clone;
pub(crate) mod console;
pub(crate) mod failure;
pub(crate) mod init;
pub(crate) mod launch;
pub(crate) mod lookup;
pub(crate) mod plan;
pub(crate) mod sync;
