//! Values a template works on, printed the way Go's fmt prints them
//! (`map[a:b]`, `[x y]`, `<nil>`, `<no value>`), converted from JSON with
//! key order kept, and encoded back to JSON the way Go's encoding/json does.

use std::fmt::Write as _;
use std::rc::Rc;

/// A method of a row context (docker's `.Label "key"`), called with the arguments.
pub type Method = Rc<dyn Fn(&[Value]) -> Result<Value, String>>;

/// How an object prints and encodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ObjKind {
    /// A Go struct decoded from JSON: fields in order, `{a b}` when printed,
    /// a missing field is an error.
    Struct,
    /// A Go map: `map[k:v]` with sorted keys, missing keys print `<no value>`.
    Map,
    /// A docker formatter context (ps/images rows): JSON with sorted keys and
    /// HTML escaping, missing fields are errors naming `type`.
    Context(&'static str),
}

/// Which Go type a JSON `null` had: it prints as that type's nil does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NilKind {
    /// A nil slice: `[]`.
    Slice,
    /// A nil map: `map[]`.
    Map,
}

/// A template value.
#[derive(Clone)]
pub enum Value {
    Missing,
    /// A nil pointer or interface: `<nil>`.
    Nil,
    /// A nil slice or map.
    NilOf(NilKind),
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A JSON number kept as written.
    Number(String),
    Str(String),
    List(Vec<Value>),
    Object(ObjKind, Vec<(String, Value)>),
    Method(Method),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_go_string())
    }
}

/// Field names that are pointers in Docker's types (a null prints `<nil>`);
/// other nulls are nil slices, or nil maps for [`MAP_FIELDS`].
const POINTER_FIELDS: &[&str] = &[
    "Health",
    "Healthcheck",
    "IPAMConfig",
    "MemorySwappiness",
    "PidsLimit",
    "OomKillDisable",
    "Init",
    "Node",
    "Platform",
    "Error",
    "BindOptions",
    "VolumeOptions",
    "TmpfsOptions",
    "DriverConfig",
    "ManifestDescriptor",
    "Descriptor",
];

/// Whether a field is a pointer in Docker's types: absent or null, it is `<nil>`.
pub fn is_pointer_field(name: &str) -> bool {
    POINTER_FIELDS.contains(&name)
}

/// Whether a field is a map in Docker's types.
pub fn is_map_field(name: &str) -> bool {
    MAP_FIELDS.contains(&name)
}

/// Field names whose JSON objects are Go maps in Docker's types.
const MAP_FIELDS: &[&str] = &[
    "Labels",
    "Networks",
    "Ports",
    "ExposedPorts",
    "Volumes",
    "Options",
    "Tmpfs",
    "Sysctls",
    "PortBindings",
    "DriverOpts",
    "StorageOpt",
    "Data",
    "Annotations",
    "Details",
    "Runtimes",
    "Plugins",
];

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// Parses JSON text keeping the key order of objects (Go structs print
    /// and encode their fields in declaration order, which the API keeps).
    pub fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
        let mut v: Value = serde_json::from_str(text)?;
        v.mark_maps(ObjKind::Struct, "");
        Ok(v)
    }

    fn mark_maps(&mut self, kind: ObjKind, own_name: &str) {
        match self {
            Value::List(l) => l.iter_mut().for_each(|x| x.mark_maps(ObjKind::Struct, "")),
            Value::Object(k, fields) => {
                *k = kind;
                for (name, x) in fields.iter_mut() {
                    let is_map = MAP_FIELDS.contains(&name.as_str())
                        || (own_name == "LogConfig" && name == "Config");
                    if matches!(x, Value::Nil) && !is_pointer_field(name) {
                        let nil = if is_map && kind == ObjKind::Struct {
                            NilKind::Map
                        } else {
                            NilKind::Slice
                        };
                        *x = Value::NilOf(nil);
                        continue;
                    }
                    let child = if kind == ObjKind::Struct && is_map {
                        ObjKind::Map
                    } else {
                        ObjKind::Struct
                    };
                    x.mark_maps(child, name);
                }
            }
            _ => {}
        }
    }

    /// Go's truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Missing | Value::Nil | Value::NilOf(_) => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Number(n) => n.parse::<f64>().map(|f| f != 0.0).unwrap_or(true),
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Object(ObjKind::Map, f) => !f.is_empty(),
            Value::Object(..) | Value::Method(_) => true,
        }
    }

    /// Looks up a field of an object.
    #[cfg(test)]
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(_, fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Numeric view for comparisons and `index`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Number(n) => n.parse().ok(),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        }
    }

    /// Go's `%v` rendering.
    pub fn to_go_string(&self) -> String {
        let mut s = String::new();
        self.write_go(&mut s);
        s
    }

    fn write_go(&self, out: &mut String) {
        match self {
            Value::Missing => out.push_str("<no value>"),
            Value::Nil => out.push_str("<nil>"),
            Value::NilOf(NilKind::Slice) => out.push_str("[]"),
            Value::NilOf(NilKind::Map) => out.push_str("map[]"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&crate::fmt::human::go_float_v(*f)),
            Value::Number(n) => out.push_str(n),
            Value::Str(s) => out.push_str(s),
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.write_go(out);
                }
                out.push(']');
            }
            Value::Object(ObjKind::Map, fields) => {
                let mut sorted: Vec<&(String, Value)> = fields.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                out.push_str("map[");
                for (i, (k, v)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_go(out);
                }
                out.push(']');
            }
            Value::Object(_, fields) => {
                out.push('{');
                for (i, (_, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.write_go(out);
                }
                out.push('}');
            }
            Value::Method(_) => out.push_str("<func>"),
        }
    }

    /// Go's encoding/json output (no HTML escaping unless a context asks for it).
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s, false);
        s
    }

    fn write_json(&self, out: &mut String, html: bool) {
        match self {
            Value::Missing | Value::Nil | Value::NilOf(_) | Value::Method(_) => {
                out.push_str("null")
            }
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&crate::fmt::human::go_float_json(*f)),
            Value::Number(n) => out.push_str(n),
            Value::Str(s) => crate::fmt::json::write_go_string(out, s, html),
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out, html);
                }
                out.push(']');
            }
            Value::Object(kind, fields) => {
                let html = html || matches!(kind, ObjKind::Context(_));
                let mut entries: Vec<&(String, Value)> = fields
                    .iter()
                    .filter(|(_, v)| !matches!(v, Value::Method(_)))
                    .collect();
                if *kind != ObjKind::Struct {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                }
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    crate::fmt::json::write_go_string(out, k, html);
                    out.push(':');
                    v.write_json(out, html);
                }
                out.push('}');
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.to_string()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.to_string()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(crate::fmt::human::go_float_json(n)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::List(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out: Vec<(String, Value)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            if let Some(slot) = out.iter_mut().find(|(name, _)| *name == k) {
                slot.1 = v;
            } else {
                out.push((k, v));
            }
        }
        Ok(Value::Object(ObjKind::Struct, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_go() {
        let v = Value::parse_json(
            r#"{"Env":["A=1","B=2"],"Labels":{"z":"1","a":"2"},"State":{"Running":true,"Pid":12}}"#,
        )
        .unwrap();
        assert_eq!(v.field("Env").unwrap().to_go_string(), "[A=1 B=2]");
        assert_eq!(v.field("Labels").unwrap().to_go_string(), "map[a:2 z:1]");
        assert_eq!(v.field("State").unwrap().to_go_string(), "{true 12}");
        assert_eq!(
            v.field("State").unwrap().to_json(),
            r#"{"Running":true,"Pid":12}"#
        );
        assert_eq!(v.field("Labels").unwrap().to_json(), r#"{"a":"2","z":"1"}"#);
        let v = Value::parse_json(
            r#"{"Binds":null,"Labels":null,"Health":null,"Ports":{"80/tcp":null}}"#,
        )
        .unwrap();
        assert_eq!(v.field("Binds").unwrap().to_go_string(), "[]");
        assert_eq!(v.field("Labels").unwrap().to_go_string(), "map[]");
        assert_eq!(v.field("Health").unwrap().to_go_string(), "<nil>");
        assert_eq!(v.field("Ports").unwrap().to_go_string(), "map[80/tcp:[]]");
        assert_eq!(v.field("Binds").unwrap().to_json(), "null");
    }

    #[test]
    fn context_json_escapes_html() {
        let v = Value::Object(
            ObjKind::Context("x"),
            vec![("b".into(), Value::str("<none>")), ("a".into(), Value::Nil)],
        );
        assert_eq!(v.to_json(), r#"{"a":null,"b":"\u003cnone\u003e"}"#);
    }
}
