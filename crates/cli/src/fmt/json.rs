//! JSON the way Go writes it: string escaping of encoding/json (optionally
//! with HTML escaping) and `json.Indent` of raw API bodies, which keeps the
//! daemon's key order and number text.

/// Appends `s` as a JSON string literal with Go's escaping.
pub fn write_go_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Indent(dst, src, "", indent)`: whitespace between tokens is
/// dropped, empty arrays and objects stay `[]`/`{}`.
pub fn indent(src: &[u8], indent: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() * 2);
    let mut depth = 0usize;
    let mut need_indent = false;
    let mut in_str = false;
    let mut esc = false;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        for _ in 0..depth {
            out.extend_from_slice(indent.as_bytes());
        }
    };
    for &c in src {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            continue;
        }
        if need_indent && c != b']' && c != b'}' {
            need_indent = false;
            depth += 1;
            newline(&mut out, depth);
        }
        match c {
            b'"' => {
                in_str = true;
                out.push(c);
            }
            b'{' | b'[' => {
                out.push(c);
                need_indent = true;
            }
            b',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            b':' => {
                out.push(c);
                out.push(b' ');
            }
            b'}' | b']' => {
                if need_indent {
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_like_go() {
        let src = br#"[{"Id":"x","Args":[],"Cfg":{"A":[1, 2],"B":{}},"S":"a,b:{c}"}
]"#;
        let want = "[\n    {\n        \"Id\": \"x\",\n        \"Args\": [],\n        \"Cfg\": {\n            \"A\": [\n                1,\n                2\n            ],\n            \"B\": {}\n        },\n        \"S\": \"a,b:{c}\"\n    }\n]";
        assert_eq!(String::from_utf8(indent(src, "    ")).unwrap(), want);
    }

    #[test]
    fn escapes_like_encoding_json() {
        let mut s = String::new();
        write_go_string(&mut s, "<a>&\"\n\u{1}", true);
        assert_eq!(s, r#""\u003ca\u003e\u0026\"\n\u0001""#);
        let mut s = String::new();
        write_go_string(&mut s, "<a>", false);
        assert_eq!(s, r#""<a>""#);
    }
}
