//! `HostConfig.Binds` entries (`-v src:dst[:mode]`), parsed and checked as
//! Docker's Linux parser does. Only host paths are supported for now; named
//! and anonymous volumes are refused.

use berth_runtime::spec::Mount;

use super::paths::clean;
use super::SpecError;

const VOLUMES_UNSUPPORTED: &str = "volumes are not supported yet";

const PROPAGATION: &[&str] = &[
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];
const DEFAULT_PROPAGATION: &str = "rprivate";

/// A parsed bind mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// Absolute host path, cleaned. Docker creates it as a directory when it
    /// does not exist.
    pub source: String,
    /// Absolute container path, cleaned.
    pub destination: String,
    pub read_only: bool,
    /// `rprivate` unless the mode names another propagation.
    pub propagation: String,
}

impl Bind {
    /// The spec mount: `rbind`, `ro` when read-only, then the propagation.
    pub(crate) fn mount(&self) -> Mount {
        let mut options = vec!["rbind".to_string()];
        if self.read_only {
            options.push("ro".to_string());
        }
        options.push(self.propagation.clone());
        Mount {
            destination: self.destination.clone(),
            kind: "bind".to_string(),
            source: self.source.clone(),
            options,
        }
    }
}

/// Parses one `Binds` entry.
pub fn parse_bind(raw: &str) -> Result<Bind, SpecError> {
    let invalid_spec = || SpecError(format!("invalid volume specification: '{raw}'"));
    let parts: Vec<&str> = raw.split(':').collect();
    let (source, destination, mode) = match parts.as_slice() {
        [""] => return Err(invalid_spec()),
        [_] => return Err(SpecError::new(VOLUMES_UNSUPPORTED)),
        [_, dst] if valid_mode(dst) => return Err(invalid_spec()),
        [src, dst] => (*src, *dst, ""),
        [src, dst, mode] if valid_mode(mode) => (*src, *dst, *mode),
        [_, _, mode] => return Err(SpecError(format!("invalid mode: {mode}"))),
        _ => return Err(invalid_spec()),
    };
    let is_bind = source.starts_with('/');
    let invalid_config = |why: &str| {
        let kind = if is_bind { "bind" } else { "volume" };
        SpecError(format!(
            "invalid volume specification: '{raw}': invalid mount config for type \"{kind}\": {why}"
        ))
    };
    if !destination.starts_with('/') {
        return Err(invalid_config(&format!(
            "invalid mount path: '{destination}' mount path must be absolute"
        )));
    }
    let destination = clean(destination);
    if destination == "/" {
        return Err(invalid_config(
            "invalid specification: destination can't be '/'",
        ));
    }
    let modes: Vec<&str> = mode.split(',').collect();
    if !is_bind {
        return Err(volume_error(source));
    }
    if modes.contains(&"nocopy") {
        return Err(invalid_config("field VolumeOptions must not be specified"));
    }
    Ok(Bind {
        source: clean(source),
        destination,
        read_only: modes.contains(&"ro"),
        propagation: modes
            .iter()
            .find(|m| PROPAGATION.contains(m))
            .unwrap_or(&DEFAULT_PROPAGATION)
            .to_string(),
    })
}

/// Why a non-absolute source cannot be used: volumes are not supported yet,
/// and a relative path is not even a valid volume name.
fn volume_error(name: &str) -> SpecError {
    let mut chars = name.chars();
    let valid = match chars.next() {
        None => true, // anonymous volume
        Some(first) => {
            first.is_ascii_alphanumeric()
                && name.len() > 1
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        }
    };
    if valid {
        return SpecError::new(VOLUMES_UNSUPPORTED);
    }
    SpecError(format!(
        "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
    ))
}

/// Docker's Linux mount modes: at most one each of `rw`/`ro`, `z`/`Z`, a
/// propagation, `nocopy` and a consistency (ignored on Linux).
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let groups: [&[&str]; 5] = [
        &["rw", "ro"],
        &["z", "Z"],
        PROPAGATION,
        &["nocopy"],
        &["consistent", "cached", "delegated"],
    ];
    let mut counts = [0usize; 5];
    for option in mode.split(',') {
        match groups.iter().position(|g| g.contains(&option)) {
            Some(i) => counts[i] += 1,
            None => return false,
        }
    }
    counts.iter().all(|c| *c <= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_modes() {
        let b = parse_bind("/tmp:/hosttmp:ro").unwrap();
        assert_eq!(b.source, "/tmp");
        assert_eq!(b.destination, "/hosttmp");
        assert!(b.read_only);
        assert_eq!(b.mount().options, ["rbind", "ro", "rprivate"]);
        assert_eq!(b.mount().kind, "bind");

        let b = parse_bind("/srv//data/:/data/:z,rshared").unwrap();
        assert_eq!(
            (b.source.as_str(), b.destination.as_str()),
            ("/srv/data", "/data")
        );
        assert_eq!(b.mount().options, ["rbind", "rshared"]);
        assert!(!parse_bind("/a:/b:rw").unwrap().read_only);
        assert!(parse_bind("/a:/b:").is_ok());
    }

    /// Messages as Docker 20.10 answers `POST /containers/create`.
    #[test]
    fn errors() {
        let cases = [
            ("", "invalid volume specification: ''"),
            ("a:b:c:d", "invalid volume specification: 'a:b:c:d'"),
            ("/foo:rw", "invalid volume specification: '/foo:rw'"),
            ("/tmp:/x:rx", "invalid mode: rx"),
            ("/tmp:/x:ro,rw", "invalid mode: ro,rw"),
            (
                "/tmp:rel",
                "invalid volume specification: '/tmp:rel': invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute",
            ),
            (
                "/tmp:/",
                "invalid volume specification: '/tmp:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'",
            ),
            (
                "/tmp:/x:nocopy",
                "invalid volume specification: '/tmp:/x:nocopy': invalid mount config for type \"bind\": field VolumeOptions must not be specified",
            ),
            ("/data", VOLUMES_UNSUPPORTED),
            ("named:/x", VOLUMES_UNSUPPORTED),
            ("named:/x:nocopy", VOLUMES_UNSUPPORTED),
            (
                "./rel:/x",
                "create ./rel: \"./rel\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_bind(raw).unwrap_err().0, want, "{raw}");
        }
    }
}
