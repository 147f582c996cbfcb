//! Encoding of one Docker json-file log line:
//! `{"log":"…","stream":"stdout","time":"RFC3339Nano"}\n`.
//!
//! The string escaping is byte-for-byte what dockerd writes (its hand-rolled
//! encoder in `jsonlog`, derived from Go's `encoding/json` with HTML escaping):
//! `"` and `\` are backslash-escaped, `\n` and `\r` get short escapes, every
//! other control byte and `<`, `>`, `&` become `\u00XX`, U+2028 and U+2029
//! become `\u2028`/`\u2029`, and each byte that does not start a valid UTF-8
//! sequence becomes `\ufffd` (one per byte, as Go's `utf8.DecodeRune`).
//! Written by hand because serde_json escapes differently.

use crate::frame::Stream;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the JSON string literal (with quotes) for `s` to `out`.
pub fn push_json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b < 0x80 {
            if b >= 0x20 && !matches!(b, b'\\' | b'"' | b'<' | b'>' | b'&') {
                i += 1;
                continue;
            }
            out.extend_from_slice(&s[start..i]);
            match b {
                b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ]),
            }
            i += 1;
            start = i;
            continue;
        }
        match decode_char(&s[i..]) {
            None => {
                out.extend_from_slice(&s[start..i]);
                out.extend_from_slice(b"\\ufffd");
                i += 1;
                start = i;
            }
            Some(c @ ('\u{2028}' | '\u{2029}')) => {
                out.extend_from_slice(&s[start..i]);
                out.extend_from_slice(b"\\u202");
                out.push(HEX[(c as usize) & 15]);
                i += c.len_utf8();
                start = i;
            }
            Some(c) => i += c.len_utf8(),
        }
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// The character that `s` starts with, if `s` starts with a valid UTF-8 sequence.
fn decode_char(s: &[u8]) -> Option<char> {
    let head = &s[..s.len().min(4)];
    let valid = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    valid.chars().next()
}

/// Appends one complete log line (with its trailing newline) to `out`.
/// `log` is the raw output: a line including its `\n`, or a partial line.
pub fn push_line(out: &mut Vec<u8>, log: &[u8], stream: Stream, time: &str) {
    out.extend_from_slice(b"{\"log\":");
    push_json_string(out, log);
    out.extend_from_slice(b",\"stream\":\"");
    out.extend_from_slice(stream.name().as_bytes());
    out.extend_from_slice(b"\",\"time\":\"");
    out.extend_from_slice(time.as_bytes());
    out.extend_from_slice(b"\"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &[u8]) -> String {
        let mut out = Vec::new();
        push_json_string(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_like_dockerd() {
        // Same bytes and same expected text as a line written by dockerd 20.10.
        assert_eq!(
            esc(b"a\"b\\c\t<>&\x01\x1b[0m\r\n"),
            r#""a\"b\\c\u0009\u003c\u003e\u0026\u0001\u001b[0m\r\n""#
        );
        assert_eq!(esc(b"plain text"), r#""plain text""#);
        assert_eq!(esc(b""), r#""""#);
        assert_eq!(esc(b"\x7f"), "\"\x7f\"");
    }

    #[test]
    fn invalid_utf8_becomes_one_replacement_per_byte() {
        // Truncated 3-byte sequence, then a UTF-16 surrogate encoded in UTF-8.
        assert_eq!(
            esc(b"\xe2\x82x\xed\xa0\x80\n"),
            r#""\ufffd\ufffdx\ufffd\ufffd\ufffd\n""#
        );
        assert_eq!(esc(b"\xff"), r#""\ufffd""#);
        assert_eq!(esc(b"ok\xc3"), r#""ok\ufffd""#);
    }

    #[test]
    fn valid_multibyte_text_is_kept_and_separators_escaped() {
        assert_eq!(esc("héllo €𝄞".as_bytes()), "\"héllo €𝄞\"");
        assert_eq!(esc("\u{2028}z\u{2029}".as_bytes()), r#""\u2028z\u2029""#);
    }

    #[test]
    fn encodes_a_whole_line() {
        let mut out = Vec::new();
        push_line(
            &mut out,
            b"hi\n",
            Stream::Stderr,
            "2026-11-23T16:26:19.123456789Z",
        );
        assert_eq!(
            out,
            b"{\"log\":\"hi\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-23T16:26:19.123456789Z\"}\n"
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["log"], "hi\n");
    }
}
