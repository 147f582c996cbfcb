//! Lexer for Go's text/template syntax: splits a template into text and the
//! tokens of `{{ … }}` actions, handling `{{-`/`-}}` trim markers and
//! `{{/* comments */}}`.

use super::TemplateError;

/// One token with its byte offset in the template text.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub pos: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Text(String),
    LeftDelim,
    RightDelim,
    /// `.Field` (the name without the dot).
    Field(String),
    /// A lone `.`.
    Dot,
    /// `$name` (with the `$`), or `$` alone.
    Variable(String),
    Ident(String),
    Str(String),
    Number(String),
    Char(char),
    Bool(bool),
    Nil,
    LParen,
    RParen,
    Pipe,
    Declare,
    Assign,
    Comma,
    Space,
    Eof,
}

/// Splits `src` into tokens.
pub fn lex(src: &str) -> Result<Vec<Token>, TemplateError> {
    let mut out = Vec::new();
    let mut i = 0;
    let b = src.as_bytes();
    let mut trim_next_text = false;
    while i < b.len() {
        let start = i;
        let open = src[i..].find("{{").map(|o| i + o);
        let text_end = open.unwrap_or(b.len());
        let mut text = &src[start..text_end];
        if trim_next_text {
            text = text.trim_start_matches(is_space);
            trim_next_text = false;
        }
        let Some(open) = open else {
            if !text.is_empty() {
                out.push(Token {
                    kind: Tok::Text(text.to_string()),
                    pos: start,
                });
            }
            break;
        };
        // Left trim marker: "{{- " trims the text before.
        let mut j = open + 2;
        if b.get(j) == Some(&b'-') && b.get(j + 1).is_some_and(|c| is_space(*c as char)) {
            text = text.trim_end_matches(is_space);
            j += 1;
        }
        if !text.is_empty() {
            out.push(Token {
                kind: Tok::Text(text.to_string()),
                pos: start,
            });
        }
        // Comment.
        let after_ws = skip_spaces(b, j);
        if src[after_ws..].starts_with("/*") {
            let Some(end) = src[after_ws..].find("*/") else {
                return Err(TemplateError::parse(line_of(src, open), "unclosed comment"));
            };
            let mut k = after_ws + end + 2;
            k = skip_spaces(b, k);
            if src[k..].starts_with("-}}") {
                trim_next_text = true;
                k += 3;
            } else if src[k..].starts_with("}}") {
                k += 2;
            } else {
                return Err(TemplateError::parse(
                    line_of(src, open),
                    "comment ends before closing delimiter",
                ));
            }
            i = k;
            continue;
        }
        out.push(Token {
            kind: Tok::LeftDelim,
            pos: open,
        });
        i = lex_action(src, j, &mut out, &mut trim_next_text)?;
    }
    out.push(Token {
        kind: Tok::Eof,
        pos: src.len(),
    });
    Ok(out)
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_space(b[i] as char) {
        i += 1;
    }
    i
}

/// 1-based line number of byte offset `pos`.
pub fn line_of(src: &str, pos: usize) -> usize {
    1 + src[..pos.min(src.len())].matches('\n').count()
}

fn lex_action(
    src: &str,
    mut i: usize,
    out: &mut Vec<Token>,
    trim_next: &mut bool,
) -> Result<usize, TemplateError> {
    let b = src.as_bytes();
    loop {
        if i >= b.len() {
            return Err(TemplateError::parse(line_of(src, i), "unclosed action"));
        }
        let c = b[i] as char;
        if is_space(c) {
            let s = i;
            i = skip_spaces(b, i);
            if src[i..].starts_with("-}}") {
                *trim_next = true;
                out.push(Token {
                    kind: Tok::RightDelim,
                    pos: i,
                });
                return Ok(i + 3);
            }
            out.push(Token {
                kind: Tok::Space,
                pos: s,
            });
            continue;
        }
        if src[i..].starts_with("}}") {
            out.push(Token {
                kind: Tok::RightDelim,
                pos: i,
            });
            return Ok(i + 2);
        }
        let pos = i;
        let kind = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '|' => {
                i += 1;
                Tok::Pipe
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            ':' => {
                if b.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Tok::Declare
                } else {
                    return Err(TemplateError::parse(line_of(src, i), "expected :="));
                }
            }
            '=' => {
                i += 1;
                Tok::Assign
            }
            '"' => {
                let (s, n) = lex_quoted(src, i)?;
                i = n;
                Tok::Str(s)
            }
            '`' => {
                let Some(end) = src[i + 1..].find('`') else {
                    return Err(TemplateError::parse(
                        line_of(src, i),
                        "unterminated raw quoted string",
                    ));
                };
                let s = src[i + 1..i + 1 + end].to_string();
                i = i + 2 + end;
                Tok::Str(s)
            }
            '\'' => {
                let (s, n) = lex_char(src, i)?;
                i = n;
                Tok::Char(s)
            }
            '$' => {
                let n = ident_end(b, i + 1);
                let name = src[i..n].to_string();
                i = n;
                Tok::Variable(name)
            }
            '.' => {
                if b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
                    let n = number_end(b, i);
                    let s = src[i..n].to_string();
                    i = n;
                    Tok::Number(s)
                } else {
                    let n = ident_end(b, i + 1);
                    if n == i + 1 {
                        i += 1;
                        Tok::Dot
                    } else {
                        let name = src[i + 1..n].to_string();
                        i = n;
                        Tok::Field(name)
                    }
                }
            }
            '0'..='9' | '-' | '+' => {
                let n = number_end(b, i);
                if n == i {
                    return Err(TemplateError::parse(
                        line_of(src, i),
                        &format!("unexpected {c:?} in command"),
                    ));
                }
                let s = src[i..n].to_string();
                i = n;
                Tok::Number(s)
            }
            _ if c == '_' || c.is_alphabetic() || !c.is_ascii() => {
                let n = ident_end(b, i);
                if n == i {
                    return Err(TemplateError::parse(
                        line_of(src, i),
                        &format!(
                            "unrecognized character in action: {:?}",
                            &src[i..].chars().next().unwrap_or(' ')
                        ),
                    ));
                }
                let word = &src[i..n];
                i = n;
                match word {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    "nil" => Tok::Nil,
                    _ => Tok::Ident(word.to_string()),
                }
            }
            _ => {
                return Err(TemplateError::parse(
                    line_of(src, i),
                    &format!("unrecognized character in action: {c:?}"),
                ))
            }
        };
        out.push(Token { kind, pos });
    }
}

fn ident_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        let c = b[i];
        if c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80 {
            i += 1;
        } else {
            break;
        }
    }
    i
}

fn number_end(b: &[u8], mut i: usize) -> usize {
    let start = i;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
        // Exponent sign.
        if (b[i] == b'e' || b[i] == b'E' || b[i] == b'p' || b[i] == b'P')
            && i + 1 < b.len()
            && (b[i + 1] == b'-' || b[i + 1] == b'+')
        {
            i += 1;
        }
        i += 1;
    }
    if i == digits_start {
        start
    } else {
        i
    }
}

fn lex_quoted(src: &str, start: usize) -> Result<(String, usize), TemplateError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + off + 1)),
            '\n' => break,
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut hex = String::new();
                        for _ in 0..n {
                            if let Some((_, h)) = chars.next() {
                                hex.push(h);
                            }
                        }
                        let v = u32::from_str_radix(&hex, 16).map_err(|_| {
                            TemplateError::parse(line_of(src, start), "invalid syntax")
                        })?;
                        out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                    _ => return Err(TemplateError::parse(line_of(src, start), "invalid syntax")),
                }
            }
            _ => out.push(c),
        }
    }
    Err(TemplateError::parse(
        line_of(src, start),
        "unterminated quoted string",
    ))
}

fn lex_char(src: &str, start: usize) -> Result<(char, usize), TemplateError> {
    let rest = &src[start + 1..];
    let Some(end) = rest.find('\'') else {
        return Err(TemplateError::parse(
            line_of(src, start),
            "unterminated character constant",
        ));
    };
    let body = &rest[..end];
    let c = if let Some(esc) = body.strip_prefix('\\') {
        match esc {
            "n" => '\n',
            "t" => '\t',
            "\\" => '\\',
            "r" => '\r',
            _ => return Err(TemplateError::parse(line_of(src, start), "invalid syntax")),
        }
    } else {
        let mut it = body.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => c,
            _ => return Err(TemplateError::parse(line_of(src, start), "invalid syntax")),
        }
    };
    Ok((c, start + 1 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn lexes_fields_and_text() {
        assert_eq!(
            kinds("a {{.ID}}\t{{json .}}"),
            vec![
                Tok::Text("a ".into()),
                Tok::LeftDelim,
                Tok::Field("ID".into()),
                Tok::RightDelim,
                Tok::Text("\t".into()),
                Tok::LeftDelim,
                Tok::Ident("json".into()),
                Tok::Space,
                Tok::Dot,
                Tok::RightDelim,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn trims_and_comments() {
        assert_eq!(
            kinds("a  {{- /* c */ -}}  b"),
            vec![Tok::Text("a".into()), Tok::Text("b".into()), Tok::Eof]
        );
        assert_eq!(
            kinds("{{$x := \"a\\n\"}}"),
            vec![
                Tok::LeftDelim,
                Tok::Variable("$x".into()),
                Tok::Space,
                Tok::Declare,
                Tok::Space,
                Tok::Str("a\n".into()),
                Tok::RightDelim,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn reports_unclosed_action() {
        assert!(lex("{{.ID").is_err());
    }
}
