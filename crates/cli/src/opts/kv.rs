//! Small option parsers of `run`/`create`: env and label files, `-e`
//! lookups, `--ulimit`, `--restart`, `--device`, `--log-opt`,
//! `--security-opt`, `--add-host`, `--dns`, `-a`, each with docker's errors.

use serde_json::{json, Map, Value};

/// docker's kvfile parser; `lookup` resolves names given without `=`.
pub fn parse_kv_file(path: &str, lookup: bool) -> Result<Vec<String>, String> {
    let data = std::fs::read(path).map_err(|e| format!("open {path}: {}", io_text(&e)))?;
    let text = String::from_utf8(data)
        .map_err(|_| format!("invalid env file ({path}): invalid utf8 bytes"))?;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = if i == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, has_value) = match line.split_once('=') {
            Some((k, _)) => (k, true),
            None => (line, false),
        };
        if key.is_empty() {
            return Err(format!(
                "invalid env file ({path}): no variable name on line '{line}'"
            ));
        }
        if key.contains([' ', '\t']) {
            return Err(format!(
                "invalid env file ({path}): variable '{key}' contains whitespaces"
            ));
        }
        if has_value {
            out.push(line.to_string());
        } else if lookup {
            if let Ok(v) = std::env::var(line) {
                out.push(format!("{key}={v}"));
            }
        }
    }
    Ok(out)
}

/// The text Go prints for common I/O errors.
pub fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    }
}

/// `-e` validation: `NAME` alone takes the value from our environment.
pub fn env_value(v: &str) -> Result<String, String> {
    let (k, has_value) = match v.split_once('=') {
        Some((k, _)) => (k, true),
        None => (v, false),
    };
    if k.is_empty() {
        return Err(format!("invalid environment variable: {v}"));
    }
    if has_value {
        return Ok(v.to_string());
    }
    Ok(match std::env::var(k) {
        Ok(val) => format!("{k}={val}"),
        Err(_) => v.to_string(),
    })
}

/// `["a=b", "c"]` → `{"a":"b","c":""}`.
pub fn to_map(values: &[String]) -> Value {
    let mut m = Map::new();
    for v in values {
        let (k, val) = v.split_once('=').unwrap_or((v, ""));
        m.insert(k.to_string(), json!(val));
    }
    Value::Object(m)
}

/// `--ulimit nofile=1024:2048`.
pub fn ulimit(v: &str) -> Result<Value, String> {
    let (name, limits) = v
        .split_once('=')
        .ok_or_else(|| format!("invalid ulimit argument: {v}"))?;
    let known = [
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    ];
    if !known.contains(&name) {
        return Err(format!("invalid ulimit type: {name}"));
    }
    let parse = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| format!("invalid ulimit value: {s}"))
    };
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (parse(s)?, parse(h)?),
        None => {
            let s = parse(limits)?;
            (s, s)
        }
    };
    if soft > hard {
        return Err(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        ));
    }
    Ok(json!({"Name": name, "Hard": hard, "Soft": soft}))
}

/// `--restart no|always|unless-stopped|on-failure[:N]`.
pub fn restart_policy(v: &str) -> Result<Value, String> {
    if v.is_empty() {
        return Ok(json!({"Name": "no", "MaximumRetryCount": 0}));
    }
    let (name, count) = match v.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (v, None),
    };
    let retries = match count {
        Some(c) => c.parse::<i64>().map_err(|_| {
            format!("invalid restart policy format: maximum retry count must be an integer: {c}")
        })?,
        None => 0,
    };
    match name {
        "no" | "always" | "unless-stopped" if count.is_some() => {
            Err(format!("invalid restart policy format: maximum retry count cannot be used with restart policy '{name}'"))
        }
        "no" | "always" | "unless-stopped" | "on-failure" => Ok(json!({"Name": name, "MaximumRetryCount": retries})),
        _ => Err(format!("invalid restart policy format: unknown policy '{name}'")),
    }
}

/// `--device /dev/x[:/dev/y][:rwm]`.
pub fn device(v: &str) -> Result<Value, String> {
    let parts: Vec<&str> = v.split(':').collect();
    let is_perm = |s: &str| !s.is_empty() && s.chars().all(|c| "rwm".contains(c));
    let (src, dst, perm) = match parts.as_slice() {
        [s] => (*s, *s, "rwm"),
        [s, p] if is_perm(p) => (*s, *s, *p),
        [s, d] => (*s, *d, "rwm"),
        [s, d, p] if is_perm(p) => (*s, *d, *p),
        _ => return Err(format!("invalid device specification: {v}")),
    };
    if !dst.starts_with('/') {
        return Err(format!("bad format for path: {dst}"));
    }
    Ok(json!({"PathOnHost": src, "PathInContainer": dst, "CgroupPermissions": perm}))
}

/// `--log-opt` values with the driver check.
pub fn log_opts(driver: &str, opts: &[String]) -> Result<Value, String> {
    if driver == "none" && !opts.is_empty() {
        return Err("invalid logging opts for driver none".into());
    }
    Ok(to_map(opts))
}

/// `--security-opt`: `seccomp=<file>` is replaced by the file's JSON.
pub fn security_opts(opts: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for o in opts {
        if o == "no-new-privileges" {
            out.push(o.clone());
            continue;
        }
        if o == "systempaths=unconfined" {
            out.push(o.clone());
            continue;
        }
        let (k, v) = o
            .split_once('=')
            .or_else(|| o.split_once(':'))
            .ok_or_else(|| format!("invalid --security-opt: {o:?}"))?;
        if k == "seccomp" && v != "unconfined" && v != "builtin" {
            let f = std::fs::read(v).map_err(|e| {
                format!(
                    "opening seccomp profile ({v}) failed: open {v}: {}",
                    io_text(&e)
                )
            })?;
            let parsed: Value = serde_json::from_slice(&f)
                .map_err(|e| format!("compacting json for seccomp profile ({v}) failed: {e}"))?;
            out.push(format!("seccomp={parsed}"));
        } else {
            out.push(format!("{k}={v}"));
        }
    }
    Ok(out)
}

/// `--add-host host:ip` (also `host=ip`), kept as `host:ip`.
pub fn extra_host(v: &str) -> Result<String, String> {
    let (host, ip) = v
        .split_once('=')
        .or_else(|| v.split_once(':'))
        .ok_or_else(|| format!("bad format for add-host: {v:?}"))?;
    if host.is_empty() {
        return Err(format!("bad format for add-host: {v:?}"));
    }
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if ip != "host-gateway" && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address in add-host: {ip:?}"));
    }
    Ok(format!("{host}:{ip}"))
}

/// `--dns` must be an IP address.
pub fn dns(v: &str) -> Result<String, String> {
    match v
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
    {
        Ok(_) => Ok(v.to_string()),
        Err(_) => Err(format!("IP address is not correctly formatted: {v}")),
    }
}

/// `-a` accepts stdin/stdout/stderr in any case.
pub fn attach(v: &str) -> Result<String, String> {
    let l = v.to_lowercase();
    if matches!(l.as_str(), "stdin" | "stdout" | "stderr") {
        Ok(l)
    } else {
        Err("valid streams are STDIN, STDOUT and STDERR".into())
    }
}

/// docker's `NormalizeCapability`: upper case with a `CAP_` prefix.
fn normalize_cap(c: &str) -> String {
    let c = c.trim().to_uppercase();
    if c == "ALL" || c == "RESET" || c.starts_with("CAP_") {
        c
    } else {
        format!("CAP_{c}")
    }
}

/// docker's `EffectiveCapAddCapDrop`: normalized, sorted, `ALL` absorbing.
pub fn effective_caps(add: &[String], drop: &[String]) -> (Vec<String>, Vec<String>) {
    let set = |v: &[String]| {
        let mut s: Vec<String> = v.iter().map(|c| normalize_cap(c)).collect();
        s.sort();
        s.dedup();
        if s.iter().any(|c| c == "ALL") {
            s = vec!["ALL".into()];
        }
        s
    };
    let (a, d) = (set(add), set(drop));
    let cap_drop: Vec<String> = d
        .iter()
        .filter(|c| !a.contains(c) && *c != "RESET")
        .cloned()
        .collect();
    let cap_add: Vec<String> = a.into_iter().filter(|c| c != "RESET").collect();
    (cap_add, cap_drop)
}

/// `--blkio-weight-device path:weight`.
pub fn weight_device(v: &str) -> Result<Value, String> {
    let (path, w) = v
        .split_once(':')
        .filter(|(p, _)| p.starts_with("/dev/"))
        .ok_or_else(|| format!("bad format: {v}"))?;
    let w: u16 = w
        .parse()
        .map_err(|_| format!("invalid weight for device: {v}"))?;
    if w > 0 && !(10..=1000).contains(&w) {
        return Err(format!("invalid weight for device: {v}"));
    }
    Ok(json!({"Path": path, "Weight": w}))
}

/// `--device-{read,write}-{bps,iops} path:rate`.
pub fn throttle_device(v: &str, bytes: bool) -> Result<Value, String> {
    let (path, r) = v
        .split_once(':')
        .filter(|(p, _)| p.starts_with("/dev/"))
        .ok_or_else(|| format!("bad format: {v}"))?;
    let rate = if bytes {
        crate::fmt::units::ram_in_bytes(r)
            .map_err(|_| format!("invalid rate for device: {v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb"))?
    } else {
        r.parse::<i64>().map_err(|_| format!("invalid rate for device: {v}. The correct format is <device-path>:<number>. Number must be a positive integer"))?
    };
    Ok(json!({"Path": path, "Rate": rate}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulimits_and_restart() {
        assert_eq!(
            ulimit("nofile=1024:2048").unwrap(),
            json!({"Name":"nofile","Hard":2048,"Soft":1024})
        );
        assert_eq!(
            ulimit("nproc=10").unwrap(),
            json!({"Name":"nproc","Hard":10,"Soft":10})
        );
        assert!(ulimit("bogus=1").is_err());
        assert!(ulimit("nofile=5:1").is_err());
        assert_eq!(
            restart_policy("on-failure:3").unwrap(),
            json!({"Name":"on-failure","MaximumRetryCount":3})
        );
        assert!(restart_policy("always:3").is_err());
        assert!(restart_policy("sometimes").is_err());
    }

    #[test]
    fn kv_files_and_hosts() {
        let p = std::env::temp_dir().join(format!("berth-cli-env-{}", std::process::id()));
        std::fs::write(&p, "# c\n\nA=1\n  B=two words\nPATH\nNOPE_NOT_SET_X\n").unwrap();
        let got = parse_kv_file(p.to_str().unwrap(), true);
        std::fs::remove_file(&p).unwrap();
        let got = got.unwrap();
        assert_eq!(got[0], "A=1");
        assert_eq!(got[1], "B=two words");
        assert!(got[2].starts_with("PATH="));
        assert_eq!(got.len(), 3);
        assert_eq!(extra_host("db:10.0.0.1").unwrap(), "db:10.0.0.1");
        assert!(extra_host("db:nope").is_err());
        assert!(dns("8.8.8.8").is_ok() && dns("x").is_err());
        assert_eq!(device("/dev/fuse").unwrap()["CgroupPermissions"], "rwm");
        assert_eq!(
            device("/dev/a:/dev/b:r").unwrap()["PathInContainer"],
            "/dev/b"
        );
    }

    #[test]
    fn capabilities_and_throttles() {
        let (a, d) = effective_caps(
            &["net_admin".into(), "CAP_SYS_TIME".into()],
            &["chown".into(), "NET_ADMIN".into()],
        );
        assert_eq!(a, vec!["CAP_NET_ADMIN", "CAP_SYS_TIME"]);
        assert_eq!(d, vec!["CAP_CHOWN"]);
        let (a, _) = effective_caps(&["all".into(), "x".into()], &[]);
        assert_eq!(a, vec!["ALL"]);
        assert_eq!(
            throttle_device("/dev/sda:1mb", true).unwrap(),
            json!({"Path": "/dev/sda", "Rate": 1048576})
        );
        assert!(throttle_device("sda:1", false).is_err());
        assert_eq!(
            weight_device("/dev/sda:200").unwrap(),
            json!({"Path": "/dev/sda", "Weight": 200})
        );
        assert!(weight_device("/dev/sda:5").is_err());
    }
}
