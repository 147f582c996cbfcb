//! Go's `fmt.Sprintf`, `Sprint` and `Sprintln` for template values: the verbs
//! `%v %s %q %d %t %f %g %e %x %X %o %b %c %%` with flags, width and precision.

use super::value::Value;
use crate::fmt::text::go_quote;

/// `fmt.Sprint`: spaces between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Value::Str(_)) && !matches!(args[i - 1], Value::Str(_)) {
            out.push(' ');
        }
        out.push_str(&a.to_go_string());
    }
    out
}

/// `fmt.Sprintln`: always spaces, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(Value::to_go_string).collect();
    format!("{}\n", parts.join(" "))
}

#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    zero: bool,
    space: bool,
    sharp: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut it = format.chars().peekable();
    let mut argi = 0;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = it.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                '#' => spec.sharp = true,
                _ => break,
            }
            it.next();
        }
        spec.width = read_num(&mut it, args, &mut argi);
        if it.peek() == Some(&'.') {
            it.next();
            spec.prec = Some(read_num(&mut it, args, &mut argi).unwrap_or(0));
        }
        let Some(verb) = it.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(argi) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argi += 1;
        let body = format_one(verb, arg, &spec);
        out.push_str(&pad(
            &body,
            &spec,
            matches!(verb, 'd' | 'f' | 'g' | 'e' | 'x' | 'X' | 'o' | 'b'),
        ));
    }
    if argi < args.len() {
        let extra: Vec<String> = args[argi..]
            .iter()
            .map(|a| format!("{}={}", go_type(a), a.to_go_string()))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

fn read_num(
    it: &mut std::iter::Peekable<std::str::Chars<'_>>,
    args: &[Value],
    argi: &mut usize,
) -> Option<usize> {
    if it.peek() == Some(&'*') {
        it.next();
        let v = args
            .get(*argi)
            .and_then(Value::as_i64)
            .map(|n| n.max(0) as usize);
        *argi += 1;
        return v;
    }
    let mut n: Option<usize> = None;
    while let Some(d) = it.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0) * 10 + d as usize);
        it.next();
    }
    n
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Str(_) => "string",
        Value::Int(_) => "int",
        Value::Float(_) | Value::Number(_) => "float64",
        Value::Bool(_) => "bool",
        Value::List(_) => "[]interface {}",
        Value::Object(..) => "map[string]interface {}",
        _ => "<nil>",
    }
}

fn format_one(verb: char, arg: &Value, spec: &Spec) -> String {
    let bad = || format!("%!{verb}({}={})", go_type(arg), arg.to_go_string());
    match verb {
        'v' => {
            if spec.sharp {
                if let Value::Str(s) = arg {
                    return go_quote(s);
                }
            }
            let s = arg.to_go_string();
            if spec.plus && matches!(arg, Value::Int(_)) {
                return signed(arg.as_i64().unwrap_or(0), spec);
            }
            s
        }
        's' => match arg {
            Value::Str(s) => truncate_prec(s, spec.prec),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => bad(),
            other => truncate_prec(&other.to_go_string(), spec.prec),
        },
        'q' => match arg {
            Value::Str(s) => go_quote(s),
            Value::Int(i) => char::from_u32(*i as u32)
                .map(|c| format!("{c:?}"))
                .unwrap_or_else(bad),
            _ => bad(),
        },
        't' => match arg {
            Value::Bool(b) => b.to_string(),
            _ => bad(),
        },
        'd' => match arg.as_i64() {
            Some(i) if !matches!(arg, Value::Float(_)) => signed(i, spec),
            _ => bad(),
        },
        'c' => match arg.as_i64() {
            Some(i) => char::from_u32(i as u32)
                .map(String::from)
                .unwrap_or_default(),
            None => bad(),
        },
        'x' | 'X' | 'o' | 'b' => match arg {
            Value::Str(s) if verb == 'x' || verb == 'X' => {
                let h: String = s.bytes().map(|b| format!("{b:02x}")).collect();
                if verb == 'X' {
                    h.to_uppercase()
                } else {
                    h
                }
            }
            _ => match arg.as_i64() {
                Some(i) => {
                    let mag = i.unsigned_abs();
                    let body = match verb {
                        'x' => format!("{mag:x}"),
                        'X' => format!("{mag:X}"),
                        'o' => format!("{mag:o}"),
                        _ => format!("{mag:b}"),
                    };
                    let prefix = if spec.sharp {
                        match verb {
                            'x' => "0x",
                            'X' => "0X",
                            'o' => "0",
                            _ => "",
                        }
                    } else {
                        ""
                    };
                    format!("{}{prefix}{body}", if i < 0 { "-" } else { "" })
                }
                None => bad(),
            },
        },
        'f' | 'F' | 'e' | 'g' => match arg.as_f64() {
            Some(f) => {
                let s = match verb {
                    'e' => crate::fmt::human::go_float_e(f, spec.prec.unwrap_or(6)),
                    'g' => match spec.prec {
                        Some(p) => crate::fmt::human::go_float_g(f, p.max(1)),
                        None => crate::fmt::human::go_float_v(f),
                    },
                    _ => format!("{:.*}", spec.prec.unwrap_or(6), f),
                };
                if spec.plus && f >= 0.0 {
                    format!("+{s}")
                } else {
                    s
                }
            }
            None => bad(),
        },
        _ => format!("%!{verb}({}={})", go_type(arg), arg.to_go_string()),
    }
}

fn signed(i: i64, spec: &Spec) -> String {
    let mut s = i.unsigned_abs().to_string();
    if let Some(p) = spec.prec {
        while s.len() < p {
            s.insert(0, '0');
        }
    }
    if i < 0 {
        format!("-{s}")
    } else if spec.plus {
        format!("+{s}")
    } else if spec.space {
        format!(" {s}")
    } else {
        s
    }
}

fn truncate_prec(s: &str, prec: Option<usize>) -> String {
    match prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

fn pad(body: &str, spec: &Spec, numeric: bool) -> String {
    let Some(w) = spec.width else {
        return body.to_string();
    };
    let n = body.chars().count();
    if n >= w {
        return body.to_string();
    }
    let fill = w - n;
    if spec.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let (sign, digits) = match body.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("", body),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_common_verbs() {
        let a = [Value::str("ab"), Value::Int(7), Value::Float(1.5)];
        assert_eq!(sprintf("%s-%d-%v", &a), "ab-7-1.5");
        assert_eq!(sprintf("[%5s|%-4d|%.2f]", &a), "[   ab|7   |1.50]");
        assert_eq!(
            sprintf("%q %03d", &[Value::str("x\"y"), Value::Int(5)]),
            "\"x\\\"y\" 005"
        );
        assert_eq!(sprintf("%d", &[Value::str("x")]), "%!d(string=x)");
        assert_eq!(sprintf("%s %s", &[Value::str("x")]), "x %!s(MISSING)");
        assert_eq!(
            sprint(&[Value::Int(1), Value::Int(2), Value::str("a"), Value::Int(3)]),
            "1 2a3"
        );
        assert_eq!(sprintln(&[Value::str("a"), Value::str("b")]), "a b\n");
    }
}
