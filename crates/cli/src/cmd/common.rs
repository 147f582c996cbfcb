//! Pieces several commands share: the command context, `--filter` values,
//! the `--format` flag text, output helpers, and docker's "familiar" image
//! reference form.

use crate::api::Client;
use crate::args::Flag;
use crate::error::{CliError, Result};
use std::io::Write;

/// What every command gets.
pub struct Ctx {
    pub client: Client,
}

/// Help text of `--format` on list commands.
pub const FORMAT_HELP: &str = "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

/// `-f/--filter` on list commands.
pub const FILTER_FLAG: Flag = Flag::list(
    "filter",
    Some('f'),
    "Filter output based on conditions provided",
)
.typ("filter")
.check(check_filter);

fn check_filter(v: &str) -> std::result::Result<(), String> {
    if v.contains('=') {
        Ok(())
    } else {
        Err("bad format of filter (expected name=value)".into())
    }
}

/// Turns `key=value` filters into the API's `{"key":{"value":true}}` JSON.
pub fn filters_json(values: &[String]) -> Result<Option<String>> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut m = serde_json::Map::new();
    for v in values {
        let Some((k, val)) = v.split_once('=') else {
            return Err(CliError::new(
                format!("bad format of filter (expected name=value): {v}"),
                125,
            ));
        };
        let k = k.trim().to_lowercase();
        let entry = m.entry(k).or_insert_with(|| serde_json::json!({}));
        if let Some(o) = entry.as_object_mut() {
            o.insert(val.trim().to_string(), serde_json::Value::Bool(true));
        }
    }
    Ok(Some(serde_json::Value::Object(m).to_string()))
}

/// Writes to stdout, ignoring a closed pipe.
pub fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

/// Writes a line to stdout.
pub fn outln(s: &str) {
    out(&format!("{s}\n"));
}

/// Writes a line to stderr.
pub fn errln(s: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{s}");
}

/// docker's familiar form of a reference: `docker.io/library/` dropped.
pub fn familiar(reference: &str) -> String {
    if let Some(r) = reference.strip_prefix("docker.io/library/") {
        return r.to_string();
    }
    if let Some(r) = reference.strip_prefix("docker.io/") {
        return r.to_string();
    }
    reference.to_string()
}

/// Splits `name[:tag]` (a colon after the last `/`), defaulting the tag to `latest`.
pub fn split_tag(reference: &str) -> (String, String) {
    let (name, _digest) = match reference.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (reference, None),
    };
    let slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    match name[slash..].rfind(':') {
        Some(i) => (
            name[..slash + i].to_string(),
            name[slash + i + 1..].to_string(),
        ),
        None => (name.to_string(), "latest".to_string()),
    }
}

/// Reference with `:latest` added when it has neither tag nor digest.
pub fn with_latest(reference: &str) -> String {
    if reference.contains('@') {
        return reference.to_string();
    }
    let (name, tag) = split_tag(reference);
    format!("{name}:{tag}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(split_tag("busybox"), ("busybox".into(), "latest".into()));
        assert_eq!(
            split_tag("localhost:5000/x:1"),
            ("localhost:5000/x".into(), "1".into())
        );
        assert_eq!(
            split_tag("localhost:5000/x"),
            ("localhost:5000/x".into(), "latest".into())
        );
        assert_eq!(with_latest("nosuchimg"), "nosuchimg:latest");
        assert_eq!(
            familiar("docker.io/library/busybox:latest"),
            "busybox:latest"
        );
    }

    #[test]
    fn filters() {
        let got: serde_json::Value = serde_json::from_str(
            &filters_json(&["status=exited".into(), "label=a=b".into()])
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            got,
            serde_json::json!({"label":{"a=b":true},"status":{"exited":true}})
        );
        assert!(filters_json(&["bad".into()]).is_err());
    }
}
