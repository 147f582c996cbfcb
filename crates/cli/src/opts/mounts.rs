//! Storage options of `run`/`create`: `-v` split into `Binds` (with a
//! source) and anonymous `Volumes`, `--mount` CSV into API `Mounts`, and
//! `--tmpfs path[:opts]`.

use serde_json::{json, Map, Value};

/// Result of the `-v` values.
#[derive(Debug, Default)]
pub struct Volumes {
    pub binds: Vec<String>,
    pub anonymous: Vec<String>,
}

/// Classifies `-v` values as docker does: a value with a source part is a
/// bind (relative `./x` sources made absolute), a lone path is anonymous.
pub fn volumes(values: &[String]) -> Result<Volumes, String> {
    let mut out = Volumes::default();
    for v in values {
        if v.is_empty() {
            return Err("invalid empty volume spec".into());
        }
        let parts: Vec<&str> = v.split(':').collect();
        if parts.len() == 1 {
            if !v.starts_with('/') {
                return Err(format!("invalid volume specification: '{v}': invalid mount config for type \"volume\": invalid mount path: '{v}' mount path must be absolute"));
            }
            out.anonymous.push(v.clone());
            continue;
        }
        if parts.len() > 3 {
            return Err(format!("invalid spec: {v}: too many colons"));
        }
        let mut host = parts[0].to_string();
        if host.starts_with('.') {
            if let Ok(cwd) = std::env::current_dir() {
                host = normalize(&cwd.join(&host));
            }
        }
        let mut bind = host;
        for p in &parts[1..] {
            bind.push(':');
            bind.push_str(p);
        }
        out.binds.push(bind);
    }
    Ok(out)
}

fn normalize(p: &std::path::Path) -> String {
    let mut out: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    format!("/{}", out.join("/"))
}

/// Parses `--tmpfs` values into the `Tmpfs` map.
pub fn tmpfs(values: &[String]) -> Value {
    let mut m = Map::new();
    for t in values {
        let (k, v) = t.split_once(':').unwrap_or((t, ""));
        m.insert(k.to_string(), json!(v));
    }
    Value::Object(m)
}

fn parse_bool(k: &str, v: &str) -> Result<bool, String> {
    match v.to_lowercase().as_str() {
        "" | "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(format!("invalid value for {k}: {v}")),
    }
}

/// Parses one `--mount` value into an API mount object.
pub fn mount(spec: &str) -> Result<Value, String> {
    let mut typ = "volume".to_string();
    let mut m = Map::new();
    let mut bind = Map::new();
    let mut vol = Map::new();
    let mut tmp = Map::new();
    let mut labels = Map::new();
    let mut driver_opts = Map::new();
    for field in spec.split(',') {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_lowercase(), v.trim().to_string()),
            None => (field.trim().to_lowercase(), String::new()),
        };
        let has_value = field.contains('=');
        match k.as_str() {
            "type" => typ = v,
            "source" | "src" => {
                m.insert("Source".into(), json!(v));
            }
            "target" | "dst" | "destination" => {
                m.insert("Target".into(), json!(v));
            }
            "readonly" | "ro" => {
                m.insert("ReadOnly".into(), json!(parse_bool(&k, &v)?));
            }
            "consistency" => {
                m.insert("Consistency".into(), json!(v));
            }
            "bind-propagation" => {
                bind.insert("Propagation".into(), json!(v));
            }
            "bind-nonrecursive" => {
                bind.insert("NonRecursive".into(), json!(parse_bool(&k, &v)?));
            }
            "bind-create-host-path" => {
                bind.insert("CreateMountpoint".into(), json!(parse_bool(&k, &v)?));
            }
            "volume-nocopy" => {
                vol.insert("NoCopy".into(), json!(parse_bool(&k, &v)?));
            }
            "volume-subpath" => {
                vol.insert("Subpath".into(), json!(v));
            }
            "volume-label" => {
                let (lk, lv) = v.split_once('=').unwrap_or((&v, ""));
                labels.insert(lk.to_string(), json!(lv));
            }
            "volume-driver" => {
                vol.insert("DriverConfig".into(), json!({"Name": v}));
            }
            "volume-opt" => {
                let (ok, ov) = v.split_once('=').unwrap_or((&v, ""));
                driver_opts.insert(ok.to_string(), json!(ov));
            }
            "tmpfs-size" => {
                let n = crate::fmt::units::ram_in_bytes(&v)
                    .map_err(|e| format!("invalid value for {k}: {v}: {e}"))?;
                tmp.insert("SizeBytes".into(), json!(n));
            }
            "tmpfs-mode" => {
                let n = u32::from_str_radix(&v, 8)
                    .map_err(|_| format!("invalid value for {k}: {v}"))?;
                tmp.insert("Mode".into(), json!(n));
            }
            _ if !has_value && k.is_empty() => {}
            _ => return Err(format!("unexpected key '{k}' in '{field}'")),
        }
    }
    if !["bind", "volume", "tmpfs", "npipe", "cluster", "image"].contains(&typ.as_str()) {
        return Err(format!("invalid mount type: {typ}"));
    }
    if !m.contains_key("Target") {
        return Err("target is required".into());
    }
    m.insert("Type".into(), json!(typ));
    if !labels.is_empty() {
        vol.insert("Labels".into(), Value::Object(labels));
    }
    if !driver_opts.is_empty() {
        let dc = vol.entry("DriverConfig").or_insert_with(|| json!({}));
        if let Some(o) = dc.as_object_mut() {
            o.insert("Options".into(), Value::Object(driver_opts));
        }
    }
    if !bind.is_empty() {
        if typ != "bind" {
            return Err(format!(
                "cannot mix 'bind-*' options with mount type '{typ}'"
            ));
        }
        m.insert("BindOptions".into(), Value::Object(bind));
    }
    if !vol.is_empty() {
        if typ != "volume" {
            return Err(format!(
                "cannot mix 'volume-*' options with mount type '{typ}'"
            ));
        }
        m.insert("VolumeOptions".into(), Value::Object(vol));
    }
    if !tmp.is_empty() {
        if typ != "tmpfs" {
            return Err(format!(
                "cannot mix 'tmpfs-*' options with mount type '{typ}'"
            ));
        }
        m.insert("TmpfsOptions".into(), Value::Object(tmp));
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_volumes() {
        let v = volumes(&["/data".into(), "/h:/c:ro".into(), "named:/x".into()]).unwrap();
        assert_eq!(v.anonymous, vec!["/data"]);
        assert_eq!(v.binds, vec!["/h:/c:ro", "named:/x"]);
        assert!(volumes(&["a:b:c:d".into()]).is_err());
    }

    #[test]
    fn parses_mounts() {
        let m = mount("type=bind,source=/a,target=/b,readonly,bind-propagation=rprivate").unwrap();
        assert_eq!(
            m,
            json!({"Type":"bind","Source":"/a","Target":"/b","ReadOnly":true,"BindOptions":{"Propagation":"rprivate"}})
        );
        let m = mount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777").unwrap();
        assert_eq!(
            m,
            json!({"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1048576,"Mode":1023}})
        );
        assert!(mount("type=bind,source=/a").is_err());
        assert!(mount("type=volume,target=/a,bind-propagation=shared").is_err());
        assert_eq!(
            tmpfs(&["/run:size=1m".into(), "/x".into()]),
            json!({"/run":"size=1m","/x":""})
        );
    }
}
