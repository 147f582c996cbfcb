//! The process's user and groups, and its OOM score. Numeric `uid:gid` goes
//! straight into `process.user`; anything that needs the container's
//! `/etc/passwd` or `/etc/group` (a name, or a bare uid whose primary group
//! Docker looks up) is passed to the runtime as an annotation.

use berth_image::ImageConfig;
use berth_runtime::spec::{User, ANNOTATION_USER};

use super::SpecError;
use crate::model::{Config, HostConfig};

/// Annotation carrying the `--group-add` entries that are group names
/// (comma-separated) for the runtime to resolve against `/etc/group`.
pub const ANNOTATION_GROUP_ADD: &str = "berth.group-add";

/// `process.user` plus the annotations the runtime must resolve.
#[derive(Debug)]
pub(crate) struct ResolvedUser {
    pub user: User,
    pub annotations: Vec<(String, String)>,
}

/// The user of the container's process: `Config.User`, else the image's.
pub(crate) fn resolve(
    config: &Config,
    hc: &HostConfig,
    image: &ImageConfig,
) -> Result<ResolvedUser, SpecError> {
    let raw = if config.user.is_empty() {
        image.user.as_deref().unwrap_or("")
    } else {
        config.user.as_str()
    };
    let mut user = User::default();
    let mut annotations = Vec::new();
    let (name, group) = match raw.split_once(':') {
        Some((n, g)) => (n, Some(g)),
        None => (raw, None),
    };
    match (name.parse::<u32>(), group.map(str::parse::<u32>)) {
        _ if raw.is_empty() => user.additional_gids.push(0),
        (Ok(uid), Some(Ok(gid))) => {
            user.uid = uid;
            user.gid = gid;
            user.additional_gids.push(gid);
        }
        // A bare uid keeps its primary group from /etc/passwd when listed there.
        (Ok(uid), None) => {
            user.uid = uid;
            annotations.push((ANNOTATION_USER.to_string(), raw.to_string()));
        }
        _ => annotations.push((ANNOTATION_USER.to_string(), raw.to_string())),
    }

    let mut group_names = Vec::new();
    for g in hc.group_add.as_deref().unwrap_or(&[]) {
        match g.parse::<u32>() {
            Ok(gid) => user.additional_gids.push(gid),
            Err(_) if g.is_empty() => {
                return Err(SpecError::new("invalid empty --group-add entry"))
            }
            Err(_) => group_names.push(g.as_str()),
        }
    }
    if !group_names.is_empty() {
        annotations.push((ANNOTATION_GROUP_ADD.to_string(), group_names.join(",")));
    }
    Ok(ResolvedUser { user, annotations })
}

/// `HostConfig.OomScoreAdj`, in the kernel's range as Docker checks.
pub(crate) fn oom_score_adj(hc: &HostConfig) -> Result<i32, SpecError> {
    if !(-1000..=1000).contains(&hc.oom_score_adj) {
        return Err(SpecError(format!(
            "Invalid value {}, range for oom score adj is [-1000, 1000]",
            hc.oom_score_adj
        )));
    }
    Ok(hc.oom_score_adj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(user: &str, image_user: &str, group_add: &[&str]) -> ResolvedUser {
        let config = Config {
            user: user.into(),
            ..Config::default()
        };
        let hc = HostConfig {
            group_add: Some(group_add.iter().map(|s| s.to_string()).collect()),
            ..HostConfig::default()
        };
        let image = ImageConfig {
            user: Some(image_user.to_string()).filter(|u| !u.is_empty()),
            ..ImageConfig::default()
        };
        resolve(&config, &hc, &image).unwrap()
    }

    fn annotation(r: &ResolvedUser, key: &str) -> Option<String> {
        r.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn default_is_root() {
        let r = run("", "", &[]);
        assert_eq!((r.user.uid, r.user.gid), (0, 0));
        assert_eq!(r.user.additional_gids, vec![0]);
        assert!(r.annotations.is_empty());
    }

    #[test]
    fn numeric_uid_gid_goes_straight_in() {
        let r = run("1000:1001", "", &["5", "7"]);
        assert_eq!((r.user.uid, r.user.gid), (1000, 1001));
        assert_eq!(r.user.additional_gids, vec![1001, 5, 7]);
        assert!(r.annotations.is_empty());
    }

    #[test]
    fn bare_uid_is_resolved_by_the_runtime() {
        let r = run("65534", "", &[]);
        assert_eq!(r.user.uid, 65534);
        assert_eq!(annotation(&r, ANNOTATION_USER).as_deref(), Some("65534"));
    }

    #[test]
    fn names_go_to_annotations() {
        for raw in ["nobody", "nobody:nogroup", "1000:staff", "app:10"] {
            let r = run(raw, "", &[]);
            assert_eq!(annotation(&r, ANNOTATION_USER).as_deref(), Some(raw));
        }
        let r = run("", "daemon", &["wheel", "12", "audio"]);
        assert_eq!(annotation(&r, ANNOTATION_USER).as_deref(), Some("daemon"));
        assert_eq!(
            annotation(&r, ANNOTATION_GROUP_ADD).as_deref(),
            Some("wheel,audio")
        );
        assert_eq!(r.user.additional_gids, vec![12]);
    }

    #[test]
    fn container_user_wins_over_image() {
        let r = run("1:2", "daemon", &[]);
        assert_eq!((r.user.uid, r.user.gid), (1, 2));
        assert!(r.annotations.is_empty());
    }

    #[test]
    fn oom_range() {
        let mut hc = HostConfig {
            oom_score_adj: 500,
            ..HostConfig::default()
        };
        assert_eq!(oom_score_adj(&hc).unwrap(), 500);
        hc.oom_score_adj = 2000;
        assert_eq!(
            oom_score_adj(&hc).unwrap_err().0,
            "Invalid value 2000, range for oom score adj is [-1000, 1000]"
        );
    }
}
