//! Template functions: Go's builtins (`eq`, `len`, `index`, `printf`, …) and
//! the ones docker adds (`json`, `join`, `split`, `title`, `lower`, `upper`,
//! `pad`, `truncate`), plus docker's header variants that leave column names
//! untouched.

use super::printf::{sprint, sprintf, sprintln};
use super::value::{ObjKind, Value};

/// Which function table applies: rows, or the header line of a table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Normal,
    Header,
}

const NAMES: &[&str] = &[
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt",
    "le", "gt", "ge", "html", "js", "urlquery", "call", "json", "split", "join", "title", "lower",
    "upper", "pad", "truncate",
];

/// Whether `name` is a known function.
pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

fn want(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

fn as_str(v: &Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            kind_name(other)
        )),
    }
}

fn as_int(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        other => other.as_i64().ok_or_else(|| {
            format!(
                "wrong type for value; expected int; got {}",
                kind_name(other)
            )
        }),
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Str(_) => "string",
        Value::Int(_) => "int",
        Value::Float(_) | Value::Number(_) => "float64",
        Value::Bool(_) => "bool",
        Value::List(_) => "[]interface {}",
        Value::Object(..) => "map[string]interface {}",
        Value::Nil | Value::NilOf(_) | Value::Missing => "<nil>",
        Value::Method(_) => "func",
    }
}

/// Calls function `name`.
pub fn call(name: &str, args: &[Value], mode: Mode) -> Result<Value, String> {
    if mode == Mode::Header {
        if let "json" | "split" | "join" | "title" | "lower" | "upper" | "truncate" = name {
            return Ok(match args.first() {
                Some(Value::Str(s)) => Value::Str(s.clone()),
                Some(v) => Value::Str(v.to_go_string()),
                None => Value::str(""),
            });
        }
    }
    match name {
        "not" => {
            want(name, args, 1)?;
            Ok(Value::Bool(!args[0].truthy()))
        }
        "and" | "or" => {
            let is_and = name == "and";
            let mut last = Value::Missing;
            for a in args {
                last = a.clone();
                if a.truthy() != is_and {
                    return Ok(last);
                }
            }
            Ok(last)
        }
        "len" => {
            want(name, args, 1)?;
            match &args[0] {
                Value::Str(s) => Ok(Value::Int(s.len() as i64)),
                Value::List(l) => Ok(Value::Int(l.len() as i64)),
                Value::Object(_, f) => Ok(Value::Int(f.len() as i64)),
                Value::NilOf(_) => Ok(Value::Int(0)),
                other => Err(format!("len of type {}", kind_name(other))),
            }
        }
        "index" => index(args),
        "slice" => slice(args),
        "print" => Ok(Value::Str(sprint(args))),
        "println" => Ok(Value::Str(sprintln(args))),
        "printf" => {
            let Some(f) = args.first() else {
                return Err("wrong number of args for printf: want at least 1 got 0".into());
            };
            Ok(Value::Str(sprintf(&as_str(f)?, &args[1..])))
        }
        "eq" => {
            if args.len() < 2 {
                return Err("missing argument for comparison".into());
            }
            for b in &args[1..] {
                if compare(&args[0], b)? == std::cmp::Ordering::Equal {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            want(name, args, 2)?;
            if name != "ne" && !ordered(&args[0]) {
                return Err("invalid type for comparison".into());
            }
            let o = compare(&args[0], &args[1])?;
            use std::cmp::Ordering::*;
            Ok(Value::Bool(match name {
                "ne" => o != Equal,
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            }))
        }
        "html" => Ok(Value::Str(
            sprint(args)
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&#34;")
                .replace('\'', "&#39;"),
        )),
        "js" => Ok(Value::Str(
            sprint(args)
                .replace('\\', "\\\\")
                .replace('\'', "\\'")
                .replace('"', "\\\"")
                .replace('<', "\\u003C")
                .replace('>', "\\u003E"),
        )),
        "urlquery" => Ok(Value::Str(urlquery(&sprint(args)))),
        "call" => match args.first() {
            Some(Value::Method(m)) => m(&args[1..]),
            _ => Err("call of non-function".into()),
        },
        "json" => {
            want(name, args, 1)?;
            Ok(Value::Str(args[0].to_json()))
        }
        "split" => {
            want(name, args, 2)?;
            let s = as_str(&args[0])?;
            let sep = as_str(&args[1])?;
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| Value::Str(c.to_string())).collect()
            } else {
                s.split(sep.as_str()).map(Value::str).collect()
            };
            Ok(Value::List(parts))
        }
        "join" => {
            want(name, args, 2)?;
            let sep = as_str(&args[1])?;
            match &args[0] {
                Value::Nil | Value::NilOf(_) | Value::Missing => Ok(Value::str("")),
                Value::List(l) => Ok(Value::Str(
                    l.iter()
                        .map(Value::to_go_string)
                        .collect::<Vec<_>>()
                        .join(&sep),
                )),
                Value::Object(ObjKind::Map, f) => {
                    let mut vals: Vec<String> = f.iter().map(|(_, v)| v.to_go_string()).collect();
                    vals.sort();
                    Ok(Value::Str(vals.join(&sep)))
                }
                other => Err(format!("expected slice, got {}", kind_name(other))),
            }
        }
        "title" => {
            want(name, args, 1)?;
            Ok(Value::Str(title(&as_str(&args[0])?)))
        }
        "lower" => {
            want(name, args, 1)?;
            Ok(Value::Str(as_str(&args[0])?.to_lowercase()))
        }
        "upper" => {
            want(name, args, 1)?;
            Ok(Value::Str(as_str(&args[0])?.to_uppercase()))
        }
        "pad" => {
            want(name, args, 3)?;
            let s = as_str(&args[0])?;
            if s.is_empty() {
                return Ok(Value::Str(s));
            }
            let pre = as_int(&args[1])?.max(0) as usize;
            let post = as_int(&args[2])?.max(0) as usize;
            Ok(Value::Str(format!(
                "{}{s}{}",
                " ".repeat(pre),
                " ".repeat(post)
            )))
        }
        "truncate" => {
            want(name, args, 2)?;
            let s = as_str(&args[0])?;
            let n = as_int(&args[1])?.max(0) as usize;
            if s.len() < n {
                return Ok(Value::Str(s));
            }
            let mut end = n;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Ok(Value::Str(s[..end].to_string()))
        }
        _ => Err(format!("function {name:?} not defined")),
    }
}

fn ordered(v: &Value) -> bool {
    matches!(
        v,
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Number(_)
    )
}

fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Ok(x.cmp(y)),
        (
            Value::Nil | Value::NilOf(_) | Value::Missing,
            Value::Nil | Value::NilOf(_) | Value::Missing,
        ) => Ok(Ordering::Equal),
        // A pointer, map or slice against nil: unequal.
        (Value::Nil | Value::NilOf(_), _) => Ok(Ordering::Less),
        (_, Value::Nil | Value::NilOf(_)) => Ok(Ordering::Greater),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal)),
            _ => Err("incompatible types for comparison".into()),
        },
    }
}

fn index(args: &[Value]) -> Result<Value, String> {
    let Some(mut cur) = args.first().cloned() else {
        return Err("wrong number of args for index: want at least 1 got 0".into());
    };
    for k in &args[1..] {
        cur = match (&cur, k) {
            (Value::List(l), _) => {
                let i = k
                    .as_i64()
                    .ok_or("cannot index slice/array with type string")?;
                if i < 0 || i as usize >= l.len() {
                    return Err(format!("error calling index: index out of range: {i}"));
                }
                l[i as usize].clone()
            }
            (Value::Str(s), _) => {
                let i = k.as_i64().ok_or("cannot index string with non-integer")?;
                match s.as_bytes().get(i as usize) {
                    Some(b) if i >= 0 => Value::Int(*b as i64),
                    _ => return Err(format!("index out of range: {i}")),
                }
            }
            (Value::Object(kind, fields), Value::Str(key)) => {
                match fields.iter().find(|(n, _)| n == key) {
                    Some((_, v)) => v.clone(),
                    None if *kind == ObjKind::Map
                        && fields.iter().all(|(_, v)| matches!(v, Value::Str(_))) =>
                    {
                        Value::str("")
                    }
                    None => Value::Nil,
                }
            }
            (Value::NilOf(_), _) => Value::str(""),
            (Value::Nil | Value::Missing, _) => return Err("index of untyped nil".into()),
            (other, _) => return Err(format!("can't index item of type {}", kind_name(other))),
        };
    }
    Ok(cur)
}

fn slice(args: &[Value]) -> Result<Value, String> {
    let Some(v) = args.first() else {
        return Err("wrong number of args for slice: want at least 1 got 0".into());
    };
    let idx: Vec<usize> = args[1..]
        .iter()
        .map(|a| {
            a.as_i64()
                .filter(|i| *i >= 0)
                .map(|i| i as usize)
                .ok_or("invalid slice index")
        })
        .collect::<Result<_, _>>()?;
    match v {
        Value::Str(s) => {
            let from = idx.first().copied().unwrap_or(0);
            let to = idx.get(1).copied().unwrap_or(s.len());
            s.get(from..to)
                .map(Value::str)
                .ok_or_else(|| format!("index out of range: {to}"))
        }
        Value::List(l) => {
            let from = idx.first().copied().unwrap_or(0);
            let to = idx.get(1).copied().unwrap_or(l.len());
            l.get(from..to)
                .map(|x| Value::List(x.to_vec()))
                .ok_or_else(|| format!("index out of range: {to}"))
        }
        other => Err(format!("can't slice item of type {}", kind_name(other))),
    }
}

/// Go's deprecated `strings.Title`: upper-cases the first letter of each word.
pub fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    out
}

fn urlquery(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_functions() {
        let n = Mode::Normal;
        assert_eq!(
            call("upper", &[Value::str("ab")], n)
                .unwrap()
                .to_go_string(),
            "AB"
        );
        assert_eq!(
            call("title", &[Value::str("hello wOrld-x")], n)
                .unwrap()
                .to_go_string(),
            "Hello WOrld-X"
        );
        assert_eq!(
            call(
                "join",
                &[
                    Value::List(vec![Value::str("a"), Value::str("b")]),
                    Value::str(",")
                ],
                n
            )
            .unwrap()
            .to_go_string(),
            "a,b"
        );
        assert_eq!(
            call("split", &[Value::str("a:b"), Value::str(":")], n)
                .unwrap()
                .to_go_string(),
            "[a b]"
        );
        assert_eq!(
            call("pad", &[Value::str("x"), Value::Int(1), Value::Int(2)], n)
                .unwrap()
                .to_go_string(),
            " x  "
        );
        assert_eq!(
            call("pad", &[Value::str(""), Value::Int(1), Value::Int(2)], n)
                .unwrap()
                .to_go_string(),
            ""
        );
        assert_eq!(
            call("truncate", &[Value::str("abcdef"), Value::Int(3)], n)
                .unwrap()
                .to_go_string(),
            "abc"
        );
        assert_eq!(
            call("json", &[Value::str("<a>")], n)
                .unwrap()
                .to_go_string(),
            "\"<a>\""
        );
        assert_eq!(
            call("upper", &[Value::str("Names")], Mode::Header)
                .unwrap()
                .to_go_string(),
            "Names"
        );
    }

    #[test]
    fn comparisons() {
        let n = Mode::Normal;
        assert!(call(
            "eq",
            &[Value::str("a"), Value::str("b"), Value::str("a")],
            n
        )
        .unwrap()
        .truthy());
        assert!(call("lt", &[Value::Int(1), Value::Number("2".into())], n)
            .unwrap()
            .truthy());
        assert!(call("eq", &[Value::str("a"), Value::Int(1)], n).is_err());
    }
}
