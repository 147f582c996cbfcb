//! Docker's JSON message streams (pull, load, import, push): one JSON object
//! per message, shown as docker shows them on a non-terminal (status lines,
//! `stream` text as is, progress bars left out), `error` ending the stream.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};

/// Errors of a message stream.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// An `{"error": …}` message.
    #[error("{0}")]
    Remote(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads messages from `r`, printing them to `out`; `on_aux` sees `aux`
/// payloads and `status` values for callers that collect results.
pub fn display(
    r: impl Read,
    out: &mut dyn Write,
    mut on_msg: impl FnMut(&Value),
) -> Result<(), MessageError> {
    let mut reader = BufReader::new(r);
    let mut pending = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        pending.extend_from_slice(&line);
        // A message may span reads; decode once it is complete JSON.
        let Ok(v) = serde_json::from_slice::<Value>(&pending) else {
            if pending.iter().all(u8::is_ascii_whitespace) {
                pending.clear();
            }
            continue;
        };
        pending.clear();
        show(&v, out)?;
        on_msg(&v);
    }
    Ok(())
}

fn show(v: &Value, out: &mut dyn Write) -> Result<(), MessageError> {
    if let Some(e) = v
        .get("errorDetail")
        .and_then(|d| d.get("message"))
        .and_then(Value::as_str)
    {
        return Err(MessageError::Remote(e.to_string()));
    }
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        return Err(MessageError::Remote(e.to_string()));
    }
    let progress = v
        .get("progressDetail")
        .is_some_and(|p| p.as_object().is_some_and(|o| !o.is_empty()))
        || v.get("progress")
            .and_then(Value::as_str)
            .is_some_and(|p| !p.is_empty());
    let stream = v.get("stream").and_then(Value::as_str).unwrap_or("");
    if progress && stream.is_empty() {
        return Ok(());
    }
    let status = v.get("status").and_then(Value::as_str).unwrap_or("");
    let id = v.get("id").and_then(Value::as_str).unwrap_or("");
    if v.get("aux").is_some() && status.is_empty() && stream.is_empty() {
        return Ok(());
    }
    let mut s = String::new();
    if !id.is_empty() {
        s.push_str(&format!("{id}: "));
    }
    if let Some(from) = v.get("from").and_then(Value::as_str) {
        s.push_str(&format!("(from {from}) "));
    }
    if !stream.is_empty() {
        s.push_str(stream);
    } else {
        s.push_str(status);
        s.push('\n');
    }
    out.write_all(s.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_messages_and_errors() {
        let input = b"{\"stream\":\"Loaded image: busybox:latest\\n\"}\n{\"status\":\"Pulling\",\"id\":\"abc\"}\n{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1},\"id\":\"abc\"}\n";
        let mut out = Vec::new();
        let mut seen = 0;
        display(&input[..], &mut out, |_| seen += 1).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Loaded image: busybox:latest\nabc: Pulling\n"
        );
        assert_eq!(seen, 3);
        let input = b"{\"errorDetail\":{\"message\":\"boom\"},\"error\":\"boom\"}\n";
        let err = display(&input[..], &mut Vec::new(), |_| {}).unwrap_err();
        assert_eq!(err.to_string(), "boom");
    }
}
