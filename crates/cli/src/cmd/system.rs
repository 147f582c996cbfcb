//! `version` and `info` / `system info`: docker's client and server
//! sections, same labels and layout, values from `/version` and `/info`.

use super::common::{errln, out, Ctx};
use crate::api::CLIENT_API_VERSION;
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::fmt::{human, tabwriter::TabWriter};
use crate::template::{Mode, ObjKind, Template, Value};
use serde_json::{json, Value as J};

const FORMAT: Flag = Flag::str("format", Some('f'), "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates");

pub const VERSION_SPEC: Spec = Spec {
    path: "version",
    usage: "[OPTIONS]",
    about: "Show the berth version information",
    aliases: "",
    flags: &[&[FORMAT]],
    interspersed: true,
    arity: Arity::None,
};

pub const INFO_SPEC: Spec = Spec {
    path: "info",
    usage: "[OPTIONS]",
    about: "Display system-wide information",
    aliases: "docker system info, docker info",
    flags: &[&[FORMAT]],
    interspersed: true,
    arity: Arity::None,
};

const VERSION_TEMPLATE: &str = "{{with .Client -}}
Client:
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Go version:\t{{.GoVersion}}
 Git commit:\t{{.GitCommit}}
 Built:\t{{.BuildTime}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if ne .Server nil}}{{with .Server}}

Server:{{if ne .Platform.Name \"\"}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name \"Engine\" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details \"ApiVersion\"}} (minimum version {{index .Details \"MinAPIVersion\"}})
  Go version:\t{{index .Details \"GoVersion\"}}
  Git commit:\t{{index .Details \"GitCommit\"}}
  Built:\t{{index .Details \"BuildTime\"}}
  OS/Arch:\t{{index .Details \"Os\"}}/{{index .Details \"Arch\"}}
  Experimental:\t{{index .Details \"Experimental\"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:\t{{$value}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}";

/// Go's `time.ANSIC` layout (`Mon Jan _2 15:04:05 2006`) in UTC.
pub fn ansic(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let iso = berth_util::time::format_rfc3339(secs as i128 * 1_000_000_000);
    let num = |r: std::ops::Range<usize>| {
        iso.get(r)
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let (y, mo, d) = (num(0..4), num(5..7), num(8..10));
    let time = iso.get(11..19).unwrap_or("00:00:00");
    let wd = DAYS[secs.div_euclid(86_400).rem_euclid(7) as usize];
    format!(
        "{wd} {} {d:>2} {time} {y}",
        MONTHS[mo.saturating_sub(1).min(11)]
    )
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

fn build_time() -> String {
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| ansic(d.as_secs() as i64))
        .unwrap_or_else(|| "N/A".into())
}

fn obj(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(
        ObjKind::Struct,
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

pub fn version(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let format = p.string("format");
    let tmpl_src = if format.is_empty() {
        VERSION_TEMPLATE.to_string()
    } else if format == "json" {
        "{{json .}}".into()
    } else {
        format.clone()
    };
    let tmpl = Template::parse(&tmpl_src)
        .map_err(|e| CliError::new(format!("template parsing error: {e}"), 64))?;
    let server = ctx.client.get_json("/version");
    let api = match &server {
        Ok(_) => ctx
            .client
            .version()
            .unwrap_or(CLIENT_API_VERSION)
            .to_string(),
        Err(_) => CLIENT_API_VERSION.to_string(),
    };
    let client = obj(vec![
        ("Version", Value::str(env!("CARGO_PKG_VERSION"))),
        ("APIVersion", Value::Str(api.clone())),
        ("DefaultAPIVersion", Value::str(CLIENT_API_VERSION)),
        ("GitCommit", Value::str(env!("BERTH_GIT_COMMIT"))),
        ("GoVersion", Value::str(env!("BERTH_RUSTC_VERSION"))),
        ("Os", Value::str(std::env::consts::OS)),
        ("Arch", Value::str(go_arch())),
        ("BuildTime", Value::Str(build_time())),
        ("Context", Value::str("default")),
    ]);
    let (server_value, server_json, err) = match server {
        Ok(mut sv) => {
            normalize_server(&mut sv);
            // Templates see Go field names (APIVersion), JSON keeps the tags.
            let mut v =
                Value::parse_json(&sv.to_string()).map_err(|e| CliError::msg(e.to_string()))?;
            if let Value::Object(_, fields) = &mut v {
                for (k, _) in fields.iter_mut().filter(|(k, _)| k == "ApiVersion") {
                    *k = "APIVersion".into();
                }
            }
            (v, sv, None)
        }
        Err(e) => (Value::Nil, J::Null, Some(e)),
    };
    if format == "json" {
        let client_json = json!({
            "Version": env!("CARGO_PKG_VERSION"), "ApiVersion": api, "DefaultAPIVersion": CLIENT_API_VERSION,
            "GitCommit": env!("BERTH_GIT_COMMIT"), "GoVersion": env!("BERTH_RUSTC_VERSION"),
            "Os": std::env::consts::OS, "Arch": go_arch(), "BuildTime": build_time(), "Context": "default",
        });
        let mut s = String::new();
        s.push_str(&format!(
            "{{\"Client\":{client_json},\"Server\":{server_json}}}"
        ));
        out(&format!("{s}\n"));
    } else {
        let data = obj(vec![("Client", client), ("Server", server_value)]);
        let text = tmpl
            .execute(&data, Mode::Normal)
            .map_err(|e| CliError::msg(format!("template: {e}")));
        let mut tw = TabWriter::new(20, 1);
        tw.write(text.as_deref().unwrap_or_default());
        tw.write("\n");
        out(&tw.finish());
        text?;
    }
    match err {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Adds an Engine component when missing and reformats its build time, as
/// docker's `runVersion` does; server fields get their Go names.
fn normalize_server(sv: &mut J) {
    let engine_details = json!({
        "ApiVersion": sv["ApiVersion"], "MinAPIVersion": sv["MinAPIVersion"], "GitCommit": sv["GitCommit"],
        "GoVersion": sv["GoVersion"], "Os": sv["Os"], "Arch": sv["Arch"], "BuildTime": sv["BuildTime"],
        "Experimental": sv["Experimental"].as_bool().unwrap_or(false).to_string(),
    });
    let version = sv["Version"].clone();
    if !sv["Components"].is_array() {
        sv["Components"] = json!([]);
    }
    if let Some(comps) = sv["Components"].as_array_mut() {
        if !comps.iter().any(|c| c["Name"] == "Engine") {
            comps.push(json!({"Name": "Engine", "Version": version, "Details": engine_details}));
        }
        for c in comps.iter_mut().filter(|c| c["Name"] == "Engine") {
            if let Some(bt) = c["Details"]["BuildTime"].as_str() {
                if let Some(n) = berth_util::time::parse_rfc3339(bt) {
                    c["Details"]["BuildTime"] = J::from(ansic(n.div_euclid(1_000_000_000) as i64));
                }
            }
        }
    }
    if !sv["Platform"].is_object() {
        sv["Platform"] = json!({"Name": ""});
    }
}

fn s(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Null => String::new(),
        other => other.to_string(),
    }
}

fn line(o: &mut String, label: &str, v: impl std::fmt::Display) {
    o.push_str(&format!("{label} {v}\n"));
}

fn line_non_empty(o: &mut String, label: &str, v: &str) {
    if !v.is_empty() {
        line(o, label, v);
    }
}

fn strings(v: &J) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default()
}

fn server_info(i: &J) -> String {
    let mut o = String::new();
    line(&mut o, " Containers:", s(&i["Containers"]));
    line(&mut o, "  Running:", s(&i["ContainersRunning"]));
    line(&mut o, "  Paused:", s(&i["ContainersPaused"]));
    line(&mut o, "  Stopped:", s(&i["ContainersStopped"]));
    line(&mut o, " Images:", s(&i["Images"]));
    line_non_empty(&mut o, " Server Version:", &s(&i["ServerVersion"]));
    line_non_empty(&mut o, " Storage Driver:", &s(&i["Driver"]));
    for pair in i["DriverStatus"].as_array().cloned().unwrap_or_default() {
        o.push_str(&format!("  {}: {}\n", s(&pair[0]), s(&pair[1])));
    }
    for pair in i["SystemStatus"].as_array().cloned().unwrap_or_default() {
        o.push_str(&format!(" {}: {}\n", s(&pair[0]), s(&pair[1])));
    }
    line_non_empty(&mut o, " Logging Driver:", &s(&i["LoggingDriver"]));
    line_non_empty(&mut o, " Cgroup Driver:", &s(&i["CgroupDriver"]));
    line_non_empty(&mut o, " Cgroup Version:", &s(&i["CgroupVersion"]));
    o.push_str(" Plugins:\n");
    line(
        &mut o,
        "  Volume:",
        strings(&i["Plugins"]["Volume"]).join(" "),
    );
    line(
        &mut o,
        "  Network:",
        strings(&i["Plugins"]["Network"]).join(" "),
    );
    let auth = strings(&i["Plugins"]["Authorization"]);
    if !auth.is_empty() {
        line(&mut o, "  Authorization:", auth.join(" "));
    }
    line(&mut o, "  Log:", strings(&i["Plugins"]["Log"]).join(" "));
    line(&mut o, " Swarm:", s(&i["Swarm"]["LocalNodeState"]));
    let state = s(&i["Swarm"]["LocalNodeState"]);
    if !state.is_empty() && state != "inactive" && state != "locked" {
        line(&mut o, "  NodeID:", s(&i["Swarm"]["NodeID"]));
        if !s(&i["Swarm"]["Error"]).is_empty() {
            line(&mut o, "  Error:", s(&i["Swarm"]["Error"]));
        }
        line(
            &mut o,
            "  Is Manager:",
            i["Swarm"]["ControlAvailable"].as_bool().unwrap_or(false),
        );
        line(&mut o, "  Node Address:", s(&i["Swarm"]["NodeAddr"]));
    }
    if let Some(rt) = i["Runtimes"].as_object().filter(|r| !r.is_empty()) {
        let mut names: Vec<&String> = rt.keys().collect();
        names.sort();
        line(
            &mut o,
            " Runtimes:",
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        );
        line(&mut o, " Default Runtime:", s(&i["DefaultRuntime"]));
    }
    if s(&i["OSType"]) == "linux" {
        line(&mut o, " Init Binary:", s(&i["InitBinary"]));
        line(
            &mut o,
            " containerd version:",
            s(&i["ContainerdCommit"]["ID"]),
        );
        line(&mut o, " runc version:", s(&i["RuncCommit"]["ID"]));
        line(&mut o, " init version:", s(&i["InitCommit"]["ID"]));
        let sec = strings(&i["SecurityOptions"]);
        if !sec.is_empty() {
            o.push_str(" Security Options:\n");
            for opt in sec {
                let mut name = String::new();
                let mut profile = None;
                for kv in opt.split(',') {
                    match kv.split_once('=') {
                        Some(("name", v)) => name = v.to_string(),
                        Some(("profile", v)) => profile = Some(v.to_string()),
                        _ => {}
                    }
                }
                o.push_str(&format!("  {name}\n"));
                if let Some(p) = profile {
                    o.push_str(&format!("   Profile: {p}\n"));
                }
            }
        }
    }
    if s(&i["OSType"]) == "windows" {
        line(&mut o, " Default Isolation:", s(&i["Isolation"]));
    }
    line_non_empty(&mut o, " Kernel Version:", &s(&i["KernelVersion"]));
    line_non_empty(&mut o, " Operating System:", &s(&i["OperatingSystem"]));
    line_non_empty(&mut o, " OSType:", &s(&i["OSType"]));
    line_non_empty(&mut o, " Architecture:", &s(&i["Architecture"]));
    line(&mut o, " CPUs:", s(&i["NCPU"]));
    line(
        &mut o,
        " Total Memory:",
        human::bytes_size(i["MemTotal"].as_f64().unwrap_or(0.0)),
    );
    line_non_empty(&mut o, " Name:", &s(&i["Name"]));
    line_non_empty(&mut o, " ID:", &s(&i["ID"]));
    line(&mut o, " Docker Root Dir:", s(&i["DockerRootDir"]));
    let debug = i["Debug"].as_bool().unwrap_or(false);
    line(&mut o, " Debug Mode:", debug);
    if debug {
        line(&mut o, "  File Descriptors:", s(&i["NFd"]));
        line(&mut o, "  Goroutines:", s(&i["NGoroutines"]));
        line(&mut o, "  System Time:", s(&i["SystemTime"]));
        line(&mut o, "  EventsListeners:", s(&i["NEventsListener"]));
    }
    line_non_empty(&mut o, " HTTP Proxy:", &s(&i["HttpProxy"]));
    line_non_empty(&mut o, " HTTPS Proxy:", &s(&i["HttpsProxy"]));
    line_non_empty(&mut o, " No Proxy:", &s(&i["NoProxy"]));
    let labels = strings(&i["Labels"]);
    if !labels.is_empty() {
        o.push_str(" Labels:\n");
        for l in labels {
            o.push_str(&format!("  {l}\n"));
        }
    }
    line(
        &mut o,
        " Experimental:",
        i["ExperimentalBuild"].as_bool().unwrap_or(false),
    );
    let reg = &i["RegistryConfig"];
    let cidrs = strings(&reg["InsecureRegistryCIDRs"]);
    let index = reg["IndexConfigs"].as_object().cloned().unwrap_or_default();
    if !cidrs.is_empty() || !index.is_empty() {
        o.push_str(" Insecure Registries:\n");
        let mut names: Vec<&String> = index.keys().collect();
        names.sort();
        for n in names {
            if !index[n]["Secure"].as_bool().unwrap_or(false) {
                o.push_str(&format!("  {}\n", s(&index[n]["Name"])));
            }
        }
        for c in cidrs {
            o.push_str(&format!("  {c}\n"));
        }
    }
    let mirrors = strings(&reg["Mirrors"]);
    if !mirrors.is_empty() {
        o.push_str(" Registry Mirrors:\n");
        for m in mirrors {
            o.push_str(&format!("  {m}\n"));
        }
    }
    line(
        &mut o,
        " Live Restore Enabled:",
        i["LiveRestoreEnabled"].as_bool().unwrap_or(false),
    );
    line_non_empty(&mut o, " Product License:", &s(&i["ProductLicense"]));
    let pools = i["DefaultAddressPools"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !pools.is_empty() {
        o.push_str(" Default Address Pools:\n");
        for p in pools {
            o.push_str(&format!(
                "   Base: {}, Size: {}\n",
                s(&p["Base"]),
                s(&p["Size"])
            ));
        }
    }
    o.push('\n');
    o
}

pub fn info(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let format = p.string("format");
    let server = ctx.client.get_json("/info");
    if !format.is_empty() {
        let src = if format == "json" {
            "{{json .}}".to_string()
        } else {
            format
        };
        let tmpl = Template::parse(&src)
            .map_err(|e| CliError::new(format!("template parsing error: {e}"), 64))?;
        let mut data = server.as_ref().cloned().unwrap_or_else(|_| json!({}));
        if let Some(o) = data.as_object_mut() {
            o.insert(
                "ClientInfo".into(),
                json!({"Debug": false, "Version": env!("CARGO_PKG_VERSION"), "Context": "default", "Plugins": [], "Warnings": null}),
            );
        }
        let v = Value::parse_json(&data.to_string()).map_err(|e| CliError::msg(e.to_string()))?;
        let r = tmpl.execute(&v, Mode::Normal);
        let server = server?;
        let _ = server;
        let text = r.map_err(|e| CliError::msg(format!("template: {e}")))?;
        out(&format!("{text}\n"));
        return Ok(());
    }
    let mut o = format!(
        "Client:\n Version:    {}\n Context:    default\n Debug Mode: false\n\nServer:\n",
        env!("CARGO_PKG_VERSION")
    );
    match server {
        Ok(i) => {
            o.push_str(&server_info(&i));
            out(&o);
            for w in strings(&i["Warnings"]) {
                errln(&w);
            }
            Ok(())
        }
        Err(e) => {
            out(&o);
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansic_matches_go() {
        // `docker version` here: "Thu May  7 21:09:36 2026" for 2026-05-07T21:09:36Z.
        let t = berth_util::time::parse_rfc3339("2026-05-07T21:09:36Z").unwrap();
        assert_eq!(
            ansic((t / 1_000_000_000) as i64),
            "Thu May  7 21:09:36 2026"
        );
        let t = berth_util::time::parse_rfc3339("2025-05-30T12:07:14Z").unwrap();
        assert_eq!(
            ansic((t / 1_000_000_000) as i64),
            "Fri May 30 12:07:14 2025"
        );
    }

    #[test]
    fn info_matches_docker_labels() {
        let i = json!({"Containers": 4, "ContainersRunning": 1, "ContainersPaused": 0, "ContainersStopped": 3, "Images": 2,
            "ServerVersion": "20.10.24", "Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "extfs"]],
            "Plugins": {"Volume": ["local"], "Network": ["bridge"], "Log": ["json-file"]}, "Swarm": {"LocalNodeState": "inactive"},
            "OSType": "linux", "NCPU": 2, "MemTotal": 25276502016u64, "SecurityOptions": ["name=seccomp,profile=default"],
            "RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8"], "IndexConfigs": {"docker.io": {"Name": "docker.io", "Secure": true}}}});
        let o = server_info(&i);
        assert!(o.starts_with(" Containers: 4\n  Running: 1\n  Paused: 0\n  Stopped: 3\n Images: 2\n Server Version: 20.10.24\n Storage Driver: overlay2\n  Backing Filesystem: extfs\n"));
        assert!(o.contains(" Total Memory: 23.54GiB\n"));
        assert!(o.contains(" Security Options:\n  seccomp\n   Profile: default\n"));
        assert!(o.contains(" Insecure Registries:\n  127.0.0.0/8\n Live Restore Enabled: false\n"));
    }
}
