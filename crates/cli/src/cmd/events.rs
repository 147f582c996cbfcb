//! `berth events` / `system events`: streams `GET /events` and prints each
//! event as docker does (`<time> <type> <action> <id> (k=v, …)` with the
//! attributes sorted by key) or through a `--format` template.

use super::common::{filters_json, out, Ctx, FILTER_FLAG};
use crate::api::enc;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::template::{Mode, ObjKind, Template, Value};
use berth_util::time::{format_rfc3339_fixed, now_nanos, parse_duration, parse_timestamp};
use serde_json::Value as J;
use std::io::BufRead;
use std::rc::Rc;

const FLAGS: &[Flag] = &[
    FILTER_FLAG,
    Flag::str("format", None, "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates"),
    Flag::str("since", None, "Show all events created since timestamp"),
    Flag::str("until", None, "Stream events until this timestamp"),
];

pub const SPEC: Spec = Spec {
    path: "events",
    usage: "[OPTIONS]",
    about: "Get real time events from the server",
    aliases: "docker system events, docker events",
    flags: &[FLAGS],
    interspersed: true,
    arity: Arity::None,
};

/// docker's `GetTimestamp`: a duration counts back from now (whole
/// seconds), anything else is sent as `seconds.nanoseconds`.
fn api_timestamp(v: &str, now: i128) -> Result<String> {
    let bad = || CliError::msg(format!("failed to parse value as time or duration: {v:?}"));
    if v != "0" {
        if let Some(d) = parse_duration(v) {
            return Ok((now - d.as_nanos() as i128)
                .div_euclid(1_000_000_000)
                .to_string());
        }
    }
    let n = parse_timestamp(v, now).ok_or_else(bad)?;
    Ok(format!(
        "{}.{:09}",
        n.div_euclid(1_000_000_000),
        n.rem_euclid(1_000_000_000)
    ))
}

/// The default line: `2026-11-23T16:26:19.123456789Z container start <id> (image=busybox, name=web)`.
pub fn pretty_line(e: &J) -> String {
    let nanos = e["timeNano"].as_i64().unwrap_or(0);
    let secs = e["time"].as_i64().unwrap_or(0);
    let mut s = String::new();
    if nanos != 0 {
        s.push_str(&format_rfc3339_fixed(nanos as i128));
        s.push(' ');
    } else if secs != 0 {
        s.push_str(&format_rfc3339_fixed(secs as i128 * 1_000_000_000));
        s.push(' ');
    }
    let str_of = |v: &J| v.as_str().unwrap_or("").to_string();
    s.push_str(&format!(
        "{} {} {}",
        str_of(&e["Type"]),
        str_of(&e["Action"]),
        str_of(&e["Actor"]["ID"])
    ));
    if let Some(attrs) = e["Actor"]["Attributes"]
        .as_object()
        .filter(|a| !a.is_empty())
    {
        let mut pairs: Vec<(&String, String)> = attrs.iter().map(|(k, v)| (k, str_of(v))).collect();
        pairs.sort();
        let list: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        s.push_str(&format!(" ({})", list.join(", ")));
    }
    s
}

/// An event as templates see docker's `events.Message`: fields under their
/// JSON names in its order (so `{{json .}}` prints what docker prints), and
/// the Go names that differ (`.Status`, `.ID`, `.From`, `.Scope`, `.Time`,
/// `.TimeNano`) as methods, which JSON leaves out.
fn template_value(e: &J) -> Value {
    let text = |v: &J| Value::str(v.as_str().unwrap_or(""));
    let int = |v: &J| Value::Int(v.as_i64().unwrap_or(0));
    let mut attrs: Vec<(String, Value)> = e["Actor"]["Attributes"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
        .unwrap_or_default();
    attrs.sort_by(|a, b| a.0.cmp(&b.0));
    let actor = Value::Object(
        ObjKind::Struct,
        vec![
            ("ID".into(), text(&e["Actor"]["ID"])),
            ("Attributes".into(), Value::Object(ObjKind::Map, attrs)),
        ],
    );
    let mut fields = Vec::new();
    // `omitempty` in docker's type.
    for key in ["status", "id", "from"] {
        if e[key].as_str().is_some_and(|s| !s.is_empty()) {
            fields.push((key.to_string(), text(&e[key])));
        }
    }
    fields.push(("Type".into(), text(&e["Type"])));
    fields.push(("Action".into(), text(&e["Action"])));
    fields.push(("Actor".into(), actor));
    fields.push(("scope".into(), text(&e["scope"])));
    fields.push(("time".into(), int(&e["time"])));
    fields.push(("timeNano".into(), int(&e["timeNano"])));
    for (go, value) in [
        ("Status", text(&e["status"])),
        ("ID", text(&e["id"])),
        ("From", text(&e["from"])),
        ("Scope", text(&e["scope"])),
        ("Time", int(&e["time"])),
        ("TimeNano", int(&e["timeNano"])),
    ] {
        fields.push((
            go.into(),
            Value::Method(Rc::new(move |_| Ok(value.clone()))),
        ));
    }
    Value::Object(ObjKind::Struct, fields)
}

/// The `--format` template, checked against an empty event as docker does.
fn template(format: &str) -> Result<Option<Template>> {
    let src = match format {
        "" => return Ok(None),
        "json" => "{{json .}}",
        other => other,
    };
    let bad = |e: String| CliError::new(format!("Error parsing format: {e}"), 64);
    let t = Template::parse(src).map_err(|e| bad(e.to_string()))?;
    t.execute(&template_value(&J::Null), Mode::Normal)
        .map_err(|e| bad(e.to_string()))?;
    Ok(Some(t))
}

pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let tmpl = template(&p.string("format"))?;
    let now = now_nanos();
    let mut q = Vec::new();
    for key in ["since", "until"] {
        if let Some(v) = p.str(key).filter(|v| !v.is_empty()) {
            q.push(format!("{key}={}", enc(&api_timestamp(v, now)?)));
        }
    }
    if let Some(f) = filters_json(&p.list("filter"))? {
        q.push(format!("filters={}", enc(&f)));
    }
    let mut path = "/events".to_string();
    if !q.is_empty() {
        path = format!("{path}?{}", q.join("&"));
    }
    let resp = ctx
        .client
        .request("GET", &path, crate::http::Body::Empty, &[])?;
    let reader = std::io::BufReader::new(resp);
    for line in reader.lines() {
        let line = line.map_err(|e| CliError::msg(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: J = serde_json::from_str(&line)
            .map_err(|e| CliError::msg(format!("error decoding daemon response: {e}")))?;
        let text = match &tmpl {
            None => pretty_line(&e),
            Some(t) => t
                .execute(&template_value(&e), Mode::Normal)
                .map_err(|e| CliError::msg(e.to_string()))?,
        };
        out(&format!("{text}\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rename_event() -> J {
        json!({
            "Type": "container", "Action": "rename",
            "Actor": {"ID": "0197e25e3586", "Attributes": {"oldName": "/mgp5", "name": "mgp6", "image": "busybox"}},
            "scope": "local", "time": 1795453496i64, "timeNano": 1795453496269224948i64,
            "status": "rename", "id": "0197e25e3586", "from": "busybox"
        })
    }

    #[test]
    fn default_line_sorts_attributes() {
        assert_eq!(
            pretty_line(&rename_event()),
            "2026-11-23T17:04:56.269224948Z container rename 0197e25e3586 (image=busybox, name=mgp6, oldName=/mgp5)"
        );
        let bare = json!({"Type": "image", "Action": "pull", "Actor": {"ID": "x", "Attributes": {}}, "time": 1795453496i64, "timeNano": 0});
        assert_eq!(
            pretty_line(&bare),
            "2026-11-23T17:04:56.000000000Z image pull x"
        );
    }

    #[test]
    fn json_and_go_field_templates() {
        let v = template_value(&rename_event());
        let run = |src: &str| {
            Template::parse(src)
                .unwrap()
                .execute(&v, Mode::Normal)
                .unwrap()
        };
        assert_eq!(
            run("{{json .}}"),
            r#"{"status":"rename","id":"0197e25e3586","from":"busybox","Type":"container","Action":"rename","Actor":{"ID":"0197e25e3586","Attributes":{"image":"busybox","name":"mgp6","oldName":"/mgp5"}},"scope":"local","time":1795453496,"timeNano":1795453496269224948}"#
        );
        assert_eq!(
            run("{{.Status}} {{.ID}} {{.Type}} {{.Actor.Attributes.name}} {{.Time}}"),
            "rename 0197e25e3586 container mgp6 1795453496"
        );
        assert!(template("{{.Bogus}}").is_err());
        assert_eq!(template("{{").err().map(|e| e.code), Some(64));
        assert!(template("json").unwrap().is_some());
    }

    #[test]
    fn timestamps_for_the_api() {
        let now = 1_795_453_496_269_224_948i128;
        assert_eq!(api_timestamp("10s", now).unwrap(), "1795453486");
        assert_eq!(
            api_timestamp("2026-11-23T17:04:56.5Z", now).unwrap(),
            "1795453496.500000000"
        );
        assert_eq!(
            api_timestamp("1795453496", now).unwrap(),
            "1795453496.000000000"
        );
        assert!(api_timestamp("bogus", now).is_err());
    }
}
