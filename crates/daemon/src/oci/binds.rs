//! `HostConfig.Binds` entries (`-v [src:]dst[:mode]`), parsed as Docker's
//! Linux parser does: an absolute source is a bind mount, any other source
//! names a volume, no source declares an anonymous volume. Each entry is
//! turned into the API mount it stands for and checked like one.

use super::SpecError;
use crate::volumes::spec::{
    declare, valid_mode, BindOptions, Declared, DriverConfig, MountSpec, VolumeOptions,
    PROPAGATIONS,
};

/// Parses one `Binds` entry; `volume_driver` is `HostConfig.VolumeDriver`.
/// The declared mount's `Mode` is the mode as written.
pub fn parse_bind(raw: &str, volume_driver: &str) -> Result<Declared, SpecError> {
    let invalid_spec = || SpecError(format!("invalid volume specification: '{raw}'"));
    let parts: Vec<&str> = raw.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [""] | ["", ..] => return Err(invalid_spec()),
        [dst] => ("", *dst, ""),
        [_, dst] if valid_mode(dst) => return Err(invalid_spec()),
        [src, dst] => (*src, *dst, ""),
        [src, dst, mode] if valid_mode(mode) => (*src, *dst, *mode),
        [_, _, mode] => return Err(SpecError(format!("invalid mode: {mode}"))),
        _ => return Err(invalid_spec()),
    };
    let modes: Vec<&str> = mode.split(',').filter(|m| !m.is_empty()).collect();
    let is_bind = source.starts_with('/');
    let mut spec = MountSpec {
        kind: if is_bind { "bind" } else { "volume" }.to_string(),
        source: source.to_string(),
        target: target.to_string(),
        read_only: modes.contains(&"ro"),
        ..MountSpec::default()
    };
    if !is_bind && !volume_driver.is_empty() {
        spec.volume_options = Some(VolumeOptions {
            driver_config: Some(DriverConfig {
                name: volume_driver.to_string(),
                options: None,
            }),
            ..VolumeOptions::default()
        });
    }
    if modes.contains(&"nocopy") {
        spec.volume_options
            .get_or_insert_with(Default::default)
            .no_copy = true;
    }
    if let Some(p) = modes.iter().find(|m| PROPAGATIONS.contains(m)) {
        spec.bind_options = Some(BindOptions {
            propagation: p.to_string(),
            ..BindOptions::default()
        });
    }
    let mut declared = declare(&spec, false)
        .map_err(|e| SpecError(format!("invalid volume specification: '{raw}': {e}")))?;
    declared.point.mode = mode.to_string();
    declared.create_source = is_bind;
    Ok(declared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volumes::MountKind;

    #[test]
    fn binds_and_modes() {
        let b = parse_bind("/tmp:/hosttmp:ro", "").unwrap();
        assert_eq!(b.point.kind, MountKind::Bind);
        assert_eq!(b.point.source, "/tmp");
        assert_eq!(b.point.destination, "/hosttmp");
        assert!(!b.point.rw && b.create_source);
        assert_eq!(b.point.mode, "ro");
        assert_eq!(b.point.propagation, "rprivate");

        let b = parse_bind("/srv//data/:/data/:z,rshared", "").unwrap();
        assert_eq!(
            (b.point.source.as_str(), b.point.destination.as_str()),
            ("/srv/data", "/data")
        );
        assert_eq!(b.point.propagation, "rshared");
        assert!(parse_bind("/a:/b:rw", "").unwrap().point.rw);
        assert!(parse_bind("/a:/b:", "").is_ok());
    }

    #[test]
    fn volumes_named_and_anonymous() {
        let v = parse_bind("data:/x:ro", "").unwrap();
        assert_eq!(v.point.kind, MountKind::Volume);
        assert_eq!(v.point.name, "data");
        assert!(!v.point.rw && v.copy_data && !v.point.anonymous);
        assert_eq!(v.point.mode, "ro");
        let v = parse_bind("data:/x:nocopy", "").unwrap();
        assert!(!v.copy_data);
        assert_eq!(v.point.mode, "nocopy");
        let v = parse_bind("/anon", "").unwrap();
        assert!(v.point.anonymous && v.point.name.is_empty());
        let v = parse_bind("data:/x", "foo").unwrap();
        assert_eq!(v.volume.driver, "foo");
        // The volume name is checked when the volume is created.
        assert!(parse_bind("./rel:/x", "").is_ok());
    }

    /// Messages as Docker 20.10 answers `POST /containers/create`.
    #[test]
    fn errors() {
        let cases = [
            ("", "invalid volume specification: ''"),
            (":/x", "invalid volume specification: ':/x'"),
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
            (
                "x",
                "invalid volume specification: 'x': invalid mount config for type \"volume\": invalid mount path: 'x' mount path must be absolute",
            ),
            (
                "vvv:/x:shared",
                "invalid volume specification: 'vvv:/x:shared': invalid mount config for type \"volume\": field BindOptions must not be specified",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_bind(raw, "").unwrap_err().0, want, "{raw}");
        }
    }
}
