//! `HostConfig.NetworkMode` as a value: the default bridge, `host`, `none`,
//! `container:<name|id>` or the name or ID of a network.

use super::record::{BRIDGE, HOST, NONE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetMode<'a> {
    /// `""`, `default` or `bridge`.
    Bridge,
    Host,
    None,
    /// Shares the network namespace of another container.
    Container(&'a str),
    /// A network by name or ID (may also name `bridge`, `host` or `none`
    /// by ID).
    Named(&'a str),
}

impl<'a> NetMode<'a> {
    pub fn of(mode: &'a str) -> Self {
        match mode {
            "" | "default" | BRIDGE => NetMode::Bridge,
            HOST => NetMode::Host,
            NONE => NetMode::None,
            m => match m.strip_prefix("container:") {
                Some(c) => NetMode::Container(c),
                None => NetMode::Named(m),
            },
        }
    }

    /// The network to attach to at create, by name or ID; `None` for
    /// `container:` modes, which have no network of their own.
    pub fn network(self) -> Option<&'a str> {
        match self {
            NetMode::Bridge => Some(BRIDGE),
            NetMode::Host => Some(HOST),
            NetMode::None => Some(NONE),
            NetMode::Container(_) => None,
            NetMode::Named(n) => Some(n),
        }
    }
}

/// Whether the container's resolv.conf points at the embedded DNS server:
/// its primary network is a user-defined one.
pub fn embedded_dns(mode: &str) -> bool {
    matches!(NetMode::of(mode), NetMode::Named(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(NetMode::of(""), NetMode::Bridge);
        assert_eq!(NetMode::of("default"), NetMode::Bridge);
        assert_eq!(NetMode::of("bridge"), NetMode::Bridge);
        assert_eq!(NetMode::of("host"), NetMode::Host);
        assert_eq!(NetMode::of("none"), NetMode::None);
        assert_eq!(NetMode::of("container:web"), NetMode::Container("web"));
        assert_eq!(NetMode::of("mynet"), NetMode::Named("mynet"));
        assert_eq!(NetMode::of("container:x").network(), None);
        assert_eq!(NetMode::of("").network(), Some("bridge"));
        assert!(embedded_dns("mynet") && !embedded_dns("bridge") && !embedded_dns("host"));
    }
}
