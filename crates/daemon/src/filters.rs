//! The API's `filters` query parameter: a JSON object of key → values, in
//! the current (`{"status":["running"]}`) or the legacy
//! (`{"status":{"running":true}}`) form.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    /// Parses the parameter and checks every key against `allowed`.
    pub fn parse(raw: &str, allowed: &[&str]) -> Result<Filters> {
        if raw.trim().is_empty() {
            return Ok(Filters::default());
        }
        let v: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| Error::invalid(format!("invalid filter: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| Error::invalid("invalid filter: not a JSON object"))?;
        let mut map = BTreeMap::new();
        for (k, vals) in obj {
            if !allowed.contains(&k.as_str()) {
                return Err(Error::invalid(format!("invalid filter '{k}'")));
            }
            let list: Vec<String> = match vals {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                serde_json::Value::Object(o) => o
                    .iter()
                    .filter(|(_, b)| b.as_bool() == Some(true))
                    .map(|(s, _)| s.clone())
                    .collect(),
                serde_json::Value::String(s) => vec![s.clone()],
                _ => return Err(Error::invalid(format!("invalid filter '{k}'"))),
            };
            map.insert(k.clone(), list);
        }
        Ok(Filters(map))
    }

    pub fn get(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn has(&self, key: &str) -> bool {
        !self.get(key).is_empty()
    }

    /// True when `key` is absent or any of its values satisfies `f`.
    pub fn any(&self, key: &str, f: impl Fn(&str) -> bool) -> bool {
        let vals = self.get(key);
        vals.is_empty() || vals.iter().any(|v| f(v))
    }
}

/// `label=key` or `label=key=value` against a label map.
pub fn label_matches(labels: Option<&BTreeMap<String, String>>, want: &str) -> bool {
    let Some(labels) = labels else { return false };
    match want.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(want),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_rejects_unknown_keys() {
        let f = Filters::parse(r#"{"status":["running","exited"]}"#, &["status"]).unwrap();
        assert_eq!(f.get("status"), ["running", "exited"]);
        let f = Filters::parse(r#"{"status":{"running":true}}"#, &["status"]).unwrap();
        assert_eq!(f.get("status"), ["running"]);
        let e = Filters::parse(r#"{"nope":["x"]}"#, &["status"]).unwrap_err();
        assert_eq!(e.message, "invalid filter 'nope'");
        assert!(Filters::parse("{", &[]).is_err());
        assert!(f.any("name", |_| false));
    }

    #[test]
    fn labels_match_key_or_pair() {
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), "1".to_string());
        assert!(label_matches(Some(&m), "a"));
        assert!(label_matches(Some(&m), "a=1"));
        assert!(!label_matches(Some(&m), "a=2"));
        assert!(!label_matches(None, "a"));
    }
}
