//! Resolving `-u user[:group]` the way runc's `GetExecUser` does, against
//! the text of the container's `/etc/passwd` and `/etc/group`: uid, gid,
//! supplementary groups and home directory.

/// The identity the container process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups: the primary gid (as Docker does since the fix
    /// for CVE-2022-36109), `/etc/group` membership (only when no group was
    /// given), then the spec's additional gids.
    pub groups: Vec<u32>,
    /// From `/etc/passwd`, `/` when the user has no entry.
    pub home: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UserError {
    #[error("unable to find user {0}: no matching entries in passwd file")]
    UnknownUser(String),
    #[error("unable to find group {0}: no matching entries in group file")]
    UnknownGroup(String),
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn passwd_entries(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    text.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 7 || line.starts_with('#') {
            return None;
        }
        Some(PasswdEntry {
            name: f[0],
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
            home: f[5],
        })
    })
}

fn group_entries(text: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    text.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 4 || line.starts_with('#') {
            return None;
        }
        Some(GroupEntry {
            name: f[0],
            gid: f[2].parse().ok()?,
            members: f[3].split(',').filter(|m| !m.is_empty()).collect(),
        })
    })
}

/// Resolves `spec` (`name`, `uid`, `name:group`, `uid:gid`, …) against the
/// files' text (empty when a file is missing), then appends
/// `additional_gids`.
pub fn resolve(
    spec: &str,
    additional_gids: &[u32],
    passwd: &str,
    group: &str,
) -> Result<ExecUser, UserError> {
    let (user_arg, group_arg) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user_num: Option<u32> = user_arg.parse().ok();
    let mut out = ExecUser {
        uid: 0,
        gid: 0,
        groups: Vec::new(),
        home: "/".into(),
    };
    let matched = passwd_entries(passwd)
        .find(|e| e.name == user_arg || (user_num.is_some() && Some(e.uid) == user_num));
    let matched_name = match (&matched, user_num) {
        (Some(e), _) => {
            out.uid = e.uid;
            out.gid = e.gid;
            out.home = e.home.to_string();
            Some(e.name)
        }
        (None, Some(uid)) => {
            out.uid = uid;
            None
        }
        (None, None) if user_arg.is_empty() => None,
        (None, None) => return Err(UserError::UnknownUser(user_arg.to_string())),
    };
    match group_arg {
        Some(g) if !g.is_empty() => {
            let num: Option<u32> = g.parse().ok();
            match group_entries(group).find(|e| e.name == g || Some(e.gid) == num) {
                Some(e) => out.gid = e.gid,
                None => match num {
                    Some(gid) => out.gid = gid,
                    None => return Err(UserError::UnknownGroup(g.to_string())),
                },
            }
        }
        _ => {
            if let Some(name) = matched_name {
                out.groups = group_entries(group)
                    .filter(|e| e.members.contains(&name))
                    .map(|e| e.gid)
                    .collect();
            }
        }
    }
    let mut groups = vec![out.gid];
    for gid in out.groups.iter().chain(additional_gids) {
        if !groups.contains(gid) {
            groups.push(*gid);
        }
    }
    out.groups = groups;
    Ok(out)
}

/// The user string for a spec without the `berth.user` annotation: the
/// numeric uid, and the gid when it is not 0 (a gid of 0 is taken as "not
/// given", so the passwd entry's group applies).
pub fn spec_user_string(uid: u32, gid: u32) -> String {
    if gid == 0 {
        uid.to_string()
    } else {
        format!("{uid}:{gid}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        daemon:x:1:1:daemon:/usr/sbin:/bin/false\n\
        www-data:x:33:33:www-data:/var/www:/bin/false\n\
        nobody:x:65534:65534:nobody:/home:/bin/false\n";
    const GROUP: &str = "root:x:0:\ntty:x:5:\nwheel:x:10:root,www-data\n\
        www-data:x:33:\nnogroup:x:65534:\n";

    fn r(spec: &str) -> Result<ExecUser, UserError> {
        resolve(spec, &[], PASSWD, GROUP)
    }

    #[test]
    fn names_and_numbers() {
        let u = r("nobody").unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (65534, 65534, "/home"));
        let u = r("www-data").unwrap();
        assert_eq!((u.uid, u.gid), (33, 33));
        assert_eq!(u.groups, vec![33, 10]);
        let u = r("1234").unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (1234, 0, "/"));
        assert_eq!(u.groups, vec![0]);
        let u = r("0").unwrap();
        assert_eq!(
            (u.uid, u.home.as_str(), u.groups.clone()),
            (0, "/root", vec![0, 10])
        );
    }

    #[test]
    fn explicit_group_skips_membership() {
        let u = r("daemon:tty").unwrap();
        assert_eq!((u.uid, u.gid), (1, 5));
        assert_eq!(u.groups, vec![5]);
        let u = r("www-data:777").unwrap();
        assert_eq!((u.uid, u.gid), (33, 777));
        assert_eq!(u.groups, vec![777]);
        let u = r("1000:1000").unwrap();
        assert_eq!((u.uid, u.gid), (1000, 1000));
    }

    #[test]
    fn unknown_names_fail_with_runc_text() {
        assert_eq!(
            r("foo").unwrap_err().to_string(),
            "unable to find user foo: no matching entries in passwd file"
        );
        assert_eq!(
            r("root:bar").unwrap_err().to_string(),
            "unable to find group bar: no matching entries in group file"
        );
    }

    #[test]
    fn additional_gids_appended_once() {
        let u = resolve("www-data", &[10, 44], PASSWD, GROUP).unwrap();
        assert_eq!(u.groups, vec![33, 10, 44]);
        assert_eq!(spec_user_string(5, 0), "5");
        assert_eq!(spec_user_string(5, 6), "5:6");
    }
}
