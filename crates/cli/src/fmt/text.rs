//! String helpers of docker's formatters: `Ellipsis`, `TruncateID`, Go's
//! `strconv.Quote`, and docker's `--no-trunc`-aware shortening.

/// Display width of a char: 2 for East Asian wide and full-width ranges.
fn char_width(c: char) -> usize {
    let u = c as u32;
    let wide = matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

/// Width of a string on the terminal.
pub fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// docker's `Ellipsis`: fits `s` in `max` columns, ending with `…` when cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    let chars: Vec<char> = s.chars().collect();
    if max == 1 {
        return chars.first().map(|c| c.to_string()).unwrap_or_default();
    }
    if display_width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in chars {
        let cw = char_width(c);
        if w + cw > max - 1 {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// docker's `TruncateID`: drops an `algo:` prefix and keeps 12 characters.
pub fn truncate_id(id: &str) -> String {
    let id = match id.split_once(':') {
        Some((_, rest)) => rest,
        None => id,
    };
    id.chars().take(12).collect()
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_go_nonprint(c) => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_go_nonprint(c: char) -> bool {
    let u = c as u32;
    (0x80..0xa0).contains(&u)
        || u == 0xad
        || (0x2028..=0x2029).contains(&u)
        || (0xfff9..=0xfffb).contains(&u)
        || (0xd800..=0xdfff).contains(&u)
        || u == 0xfeff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsis_like_docker_ps() {
        // `docker ps` COMMAND column seen here: "sh -c 'echo out; ec…"
        let cmd = "sh -c 'echo out; echo err >&2; exit 3'";
        assert_eq!(go_quote(&ellipsis(cmd, 20)), "\"sh -c 'echo out; ec…\"");
        assert_eq!(ellipsis("sleep 300", 20), "sleep 300");
        assert_eq!(ellipsis("abcdef", 1), "a");
        assert_eq!(ellipsis("你好你好你好", 5), "你好…");
    }

    #[test]
    fn ids_and_quotes() {
        assert_eq!(
            truncate_id("sha256:4b8765de035b3c7e2d851d3d"),
            "4b8765de035b"
        );
        assert_eq!(truncate_id("440ed7b85125644face5bda0"), "440ed7b85125");
        assert_eq!(go_quote("a\"b\n\u{1}"), "\"a\\\"b\\n\\x01\"");
        assert_eq!(go_quote("é…"), "\"é…\"");
    }
}
