//! Dockerfile instructions given as `--change` to `docker import` (and commit):
//! CMD ENTRYPOINT ENV EXPOSE HEALTHCHECK LABEL ONBUILD STOPSIGNAL USER VOLUME
//! WORKDIR, in JSON (exec) or shell form, applied to an [`ImageConfig`].
//! Quotes and backslash escapes are processed as Docker does; `$VAR`
//! substitution is not done.

use crate::config::{HealthConfig, ImageConfig};
use crate::error::Error;
use serde_json::Value;

fn bad(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

/// Applies `changes` in order to `cfg`.
pub fn apply(cfg: &mut ImageConfig, changes: &[String]) -> Result<(), Error> {
    let mut cmd_set = false;
    for change in changes {
        for line in change.lines() {
            apply_line(cfg, line.trim(), &mut cmd_set)?;
        }
    }
    Ok(())
}

fn apply_line(cfg: &mut ImageConfig, line: &str, cmd_set: &mut bool) -> Result<(), Error> {
    if line.is_empty() || line.starts_with('#') {
        return Ok(());
    }
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    };
    let instr = word.to_ascii_uppercase();
    match instr.as_str() {
        "CMD" => {
            cfg.cmd = Some(command(cfg, rest));
            *cmd_set = true;
        }
        "ENTRYPOINT" => {
            let ep = command(cfg, rest);
            cfg.entrypoint = if ep.is_empty() || (json_array(rest).is_none() && rest.is_empty()) {
                None
            } else {
                Some(ep)
            };
            if !*cmd_set {
                cfg.cmd = None;
            }
        }
        "ENV" => {
            let env = cfg.env.get_or_insert_with(Vec::new);
            for (k, v) in pairs("ENV", rest)? {
                let prefix = format!("{k}=");
                match env.iter_mut().find(|e| e.starts_with(&prefix)) {
                    Some(e) => *e = format!("{k}={v}"),
                    None => env.push(format!("{k}={v}")),
                }
            }
        }
        "LABEL" => {
            let labels = cfg.labels.get_or_insert_with(Default::default);
            for (k, v) in pairs("LABEL", rest)? {
                labels.insert(k, v);
            }
        }
        "EXPOSE" => {
            let ports = cfg.exposed_ports.get_or_insert_with(Default::default);
            for w in words(rest)? {
                for p in port_specs(&w)? {
                    ports.insert(p, Value::Object(Default::default()));
                }
            }
        }
        "VOLUME" => {
            let list = match json_array(rest) {
                Some(v) => v,
                None => words(rest)?,
            };
            if list.is_empty() || list.iter().any(|v| v.trim().is_empty()) {
                return Err(bad("VOLUME specified can not be an empty string"));
            }
            let vols = cfg.volumes.get_or_insert_with(Default::default);
            for v in list {
                vols.insert(v, Value::Object(Default::default()));
            }
        }
        "USER" => cfg.user = Some(one_word("USER", rest)?).filter(|u| !u.is_empty()),
        "STOPSIGNAL" => cfg.stop_signal = Some(one_word("STOPSIGNAL", rest)?),
        "WORKDIR" => {
            let w = one_word("WORKDIR", rest)?;
            let base = cfg.working_dir.clone().unwrap_or_else(|| "/".into());
            let joined = if w.starts_with('/') {
                w
            } else {
                format!("{base}/{w}")
            };
            cfg.working_dir = Some(clean_path(&joined));
        }
        "ONBUILD" => {
            let trigger = rest
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            match trigger.as_str() {
                "" => return Err(bad("ONBUILD requires at least one argument")),
                "ONBUILD" => {
                    return Err(bad("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"))
                }
                "FROM" | "MAINTAINER" => {
                    return Err(bad(format!(
                        "{trigger} isn't allowed as an ONBUILD trigger"
                    )))
                }
                _ => cfg
                    .on_build
                    .get_or_insert_with(Vec::new)
                    .push(rest.to_string()),
            }
        }
        "HEALTHCHECK" => cfg.healthcheck = Some(healthcheck(rest)?),
        _ => return Err(bad(format!("{instr} is not a valid change command"))),
    }
    Ok(())
}

fn json_array(s: &str) -> Option<Vec<String>> {
    if s.starts_with('[') {
        serde_json::from_str(s).ok()
    } else {
        None
    }
}

/// Exec form as given, shell form wrapped in the image's shell (`/bin/sh -c`).
fn command(cfg: &ImageConfig, rest: &str) -> Vec<String> {
    match json_array(rest) {
        Some(v) => v,
        None => {
            let mut v = cfg
                .shell
                .clone()
                .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]);
            v.push(rest.to_string());
            v
        }
    }
}

/// Splits on unquoted whitespace, removing quotes and backslash escapes.
fn words(s: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(bad(
                            "unexpected end of statement while looking for matching single-quote",
                        )),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$')) => cur.push(x),
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x);
                            }
                            None => return Err(bad("unexpected end of statement while looking for matching double-quote")),
                        },
                        Some(x) => cur.push(x),
                        None => return Err(bad("unexpected end of statement while looking for matching double-quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// `k=v k2="v 2"` pairs, or the legacy `key value with spaces` form.
fn pairs(instr: &str, rest: &str) -> Result<Vec<(String, String)>, Error> {
    let first = rest.split_whitespace().next().unwrap_or("");
    if first.is_empty() {
        return Err(bad(format!("{instr} requires at least one argument")));
    }
    if !first.contains('=') {
        let (k, v) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let v = v.trim();
        if v.is_empty() {
            return Err(bad(format!("{instr} must have two arguments")));
        }
        return Ok(vec![(k.to_string(), words(v)?.join(" "))]);
    }
    words(rest)?
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some(("", _)) => Err(bad(format!("{instr} names can not be blank"))),
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(bad(format!(
                "Syntax error - can't find = in {w:?}. Must be of the form: name=value"
            ))),
        })
        .collect()
}

fn one_word(instr: &str, rest: &str) -> Result<String, Error> {
    let w = words(rest)?;
    match w.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(bad(format!("{instr} requires exactly one argument"))),
    }
}

fn clean_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    format!("/{}", out.join("/"))
}

/// `80`, `80/tcp`, `53/udp`, `8000-8002/tcp` → `["80/tcp"]`, ….
fn port_specs(spec: &str) -> Result<Vec<String>, Error> {
    let (ports, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(bad(format!("invalid proto: {proto}")));
    }
    let num = |s: &str| -> Result<u16, Error> {
        s.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(format!("invalid containerPort: {ports}")))
    };
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(ports)?, num(ports)?),
    };
    if hi < lo {
        return Err(bad(format!("invalid port range: {ports}")));
    }
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

/// Go duration (`30s`, `1m30s`, `500ms`, `1h`) in nanoseconds.
fn duration(s: &str) -> Result<i64, Error> {
    let err = || bad(format!("time: invalid duration {s:?}"));
    let mut total: f64 = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return Err(err());
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        let value: f64 = rest[..n].parse().map_err(|_| err())?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(err()),
        };
        total += value * unit;
        rest = &rest[u..];
    }
    Ok(total as i64)
}

fn healthcheck(rest: &str) -> Result<HealthConfig, Error> {
    let mut hc = HealthConfig::default();
    let mut rest = rest.trim();
    while let Some(opt) = rest.strip_prefix("--") {
        let (flag, after) = opt.split_once(char::is_whitespace).unwrap_or((opt, ""));
        let (name, value) = flag
            .split_once('=')
            .ok_or_else(|| bad(format!("HEALTHCHECK flag --{flag} needs a value")))?;
        match name {
            "interval" => hc.interval = Some(duration(value)?),
            "timeout" => hc.timeout = Some(duration(value)?),
            "start-period" => hc.start_period = Some(duration(value)?),
            "start-interval" => hc.start_interval = Some(duration(value)?),
            "retries" => {
                hc.retries = Some(
                    value
                        .parse()
                        .map_err(|_| bad(format!("invalid retries {value:?}")))?,
                )
            }
            _ => return Err(bad(format!("unknown flag: --{name}"))),
        }
        rest = after.trim();
    }
    let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    hc.test = Some(match word.to_ascii_uppercase().as_str() {
        "NONE" if args.trim().is_empty() => vec!["NONE".into()],
        "CMD" => match json_array(args.trim()) {
            Some(v) => std::iter::once("CMD".to_string()).chain(v).collect(),
            None => vec!["CMD-SHELL".into(), args.trim().to_string()],
        },
        _ => return Err(bad("Unknown type in HEALTHCHECK (try CMD)")),
    });
    Ok(hc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(changes: &[&str]) -> Result<ImageConfig, Error> {
        let mut c = ImageConfig::default();
        apply(
            &mut c,
            &changes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )?;
        Ok(c)
    }

    #[test]
    fn applies_docker_change_instructions() {
        let c = run(&[
            r#"CMD ["/bin/sh", "-c", "echo hi"]"#,
            "ENTRYPOINT /entry.sh --flag",
            r#"ENV A=1 B="two words" C=x\ y"#,
            "ENV LEGACY value with  spaces",
            "ENV A=3",
            r#"LABEL org.x="y z" k=v"#,
            "EXPOSE 80 53/udp 8000-8001",
            r#"VOLUME ["/data", "/logs"]"#,
            "VOLUME /more",
            "USER 1000:1000",
            "WORKDIR /srv",
            "WORKDIR app/../web",
            "STOPSIGNAL SIGKILL",
            "ONBUILD RUN echo x",
            "HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://localhost/",
        ])
        .unwrap();
        assert_eq!(c.cmd.unwrap(), ["/bin/sh", "-c", "echo hi"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "/entry.sh --flag"]);
        assert_eq!(
            c.env.unwrap(),
            ["A=3", "B=two words", "C=x y", "LEGACY=value with spaces"]
        );
        let labels = c.labels.unwrap();
        assert_eq!(labels["org.x"], "y z");
        assert_eq!(labels["k"], "v");
        let ports: Vec<_> = c.exposed_ports.unwrap().into_keys().collect();
        assert_eq!(ports, ["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
        let vols: Vec<_> = c.volumes.unwrap().into_keys().collect();
        assert_eq!(vols, ["/data", "/logs", "/more"]);
        assert_eq!(c.user.as_deref(), Some("1000:1000"));
        assert_eq!(c.working_dir.as_deref(), Some("/srv/web"));
        assert_eq!(c.stop_signal.as_deref(), Some("SIGKILL"));
        assert_eq!(c.on_build.unwrap(), ["RUN echo x"]);
        let hc = c.healthcheck.unwrap();
        assert_eq!(hc.test.unwrap(), ["CMD-SHELL", "curl -f http://localhost/"]);
        assert_eq!((hc.interval, hc.retries), (Some(30_000_000_000), Some(3)));
        // ENTRYPOINT alone drops an inherited CMD, as Docker does.
        let c = run(&["ENTRYPOINT [\"/e\"]"]).unwrap();
        assert_eq!(
            (c.entrypoint.unwrap(), c.cmd),
            (vec!["/e".to_string()], None)
        );
        assert_eq!(duration("1m30.5s").unwrap(), 90_500_000_000);
    }

    #[test]
    fn rejects_bad_changes() {
        for bad in [
            "RUN echo",
            "FROM x",
            "ENV",
            "ENV =x",
            "EXPOSE abc",
            "EXPOSE 80/xyz",
            "VOLUME",
            "ENV A=\"unterminated",
            "ONBUILD ONBUILD RUN x",
            "WORKDIR a b",
            "HEALTHCHECK --bogus=1 CMD x",
        ] {
            assert!(run(&[bad]).is_err(), "{bad}");
        }
        assert_eq!(
            run(&["ADD x y"]).unwrap_err().to_string(),
            "ADD is not a valid change command"
        );
    }
}
