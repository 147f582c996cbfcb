//! `HostConfig.SecurityOpt`, parsed as Docker's daemon does: `key=value`
//! (or the deprecated `key:value`) for `seccomp`, `no-new-privileges`,
//! `apparmor` and `label`; AppArmor and SELinux are accepted and ignored.

use super::SpecError;

/// Which seccomp profile the container asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SeccompChoice {
    /// Docker's default profile.
    Default,
    Unconfined,
    /// A profile's JSON (the docker CLI sends the file's content).
    Custom(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecurityOpts {
    pub no_new_privileges: bool,
    pub seccomp: SeccompChoice,
}

pub(crate) fn parse(opts: &[String]) -> Result<SecurityOpts, SpecError> {
    let mut parsed = SecurityOpts {
        no_new_privileges: false,
        seccomp: SeccompChoice::Default,
    };
    for opt in opts {
        match opt.as_str() {
            "no-new-privileges" => {
                parsed.no_new_privileges = true;
                continue;
            }
            "disable" => continue,
            _ => {}
        }
        let separator = if opt.contains('=') { '=' } else { ':' };
        let Some((key, value)) = opt.split_once(separator) else {
            return Err(SpecError(format!("invalid --security-opt 1: {opt:?}")));
        };
        let invalid = || SpecError(format!("invalid --security-opt 2: {opt:?}"));
        match key {
            "label" | "apparmor" => {}
            "seccomp" => {
                parsed.seccomp = match value {
                    "" | "builtin" => SeccompChoice::Default,
                    "unconfined" => SeccompChoice::Unconfined,
                    json => SeccompChoice::Custom(json.to_string()),
                }
            }
            "no-new-privileges" => {
                parsed.no_new_privileges = parse_bool(value).ok_or_else(invalid)?
            }
            _ => return Err(invalid()),
        }
    }
    Ok(parsed)
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(opts: &[&str]) -> Result<SecurityOpts, SpecError> {
        parse(&opts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn no_new_privileges_forms() {
        assert!(!p(&[]).unwrap().no_new_privileges);
        for opt in [
            "no-new-privileges",
            "no-new-privileges:true",
            "no-new-privileges=1",
        ] {
            assert!(p(&[opt]).unwrap().no_new_privileges, "{opt}");
        }
        assert!(
            !p(&["no-new-privileges", "no-new-privileges=false"])
                .unwrap()
                .no_new_privileges
        );
        assert_eq!(
            p(&["no-new-privileges:maybe"]).unwrap_err().0,
            r#"invalid --security-opt 2: "no-new-privileges:maybe""#
        );
    }

    #[test]
    fn seccomp_choices() {
        assert_eq!(p(&[]).unwrap().seccomp, SeccompChoice::Default);
        assert_eq!(
            p(&["seccomp=unconfined"]).unwrap().seccomp,
            SeccompChoice::Unconfined
        );
        assert_eq!(
            p(&["seccomp:unconfined"]).unwrap().seccomp,
            SeccompChoice::Unconfined
        );
        assert_eq!(
            p(&["seccomp=builtin"]).unwrap().seccomp,
            SeccompChoice::Default
        );
        let json = r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","a":"b=c"}"#;
        assert_eq!(
            p(&[json]).unwrap().seccomp,
            SeccompChoice::Custom(r#"{"defaultAction":"SCMP_ACT_ALLOW","a":"b=c"}"#.into())
        );
    }

    #[test]
    fn apparmor_and_label_ignored_unknown_rejected() {
        assert!(p(&[
            "apparmor=unconfined",
            "label=disable",
            "label:type:x",
            "disable"
        ])
        .is_ok());
        assert_eq!(
            p(&["foo"]).unwrap_err().0,
            r#"invalid --security-opt 1: "foo""#
        );
        assert_eq!(
            p(&["foo=bar"]).unwrap_err().0,
            r#"invalid --security-opt 2: "foo=bar""#
        );
        assert_eq!(
            p(&["systempaths=unconfined"]).unwrap_err().0,
            r#"invalid --security-opt 2: "systempaths=unconfined""#
        );
    }
}
