//! `GET /containers/{id}/logs`: reads the json-file log the shim writes and
//! streams it as Docker does (frames for non-tty containers, raw for tty),
//! following new lines until the container stops when asked to. Rotated
//! files (`--log-opt max-size`/`max-file`) are read oldest first and
//! followed across rotations ([`files`]); [`opts`] validates the options.

mod files;
pub mod opts;

use crate::daemon::Daemon;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Nanoseconds since the epoch; 0 = from the start.
    pub since: i128,
    /// Nanoseconds since the epoch; 0 = no end.
    pub until: i128,
    pub timestamps: bool,
    /// `None` = all lines.
    pub tail: Option<usize>,
    pub details: bool,
}

#[derive(Deserialize)]
struct Line {
    log: String,
    stream: String,
    time: String,
    #[serde(default)]
    attrs: Option<std::collections::BTreeMap<String, String>>,
}

/// Docker's stream frame: `[stream, 0, 0, 0, len_be32]` + payload.
pub fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&[stream, 0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

struct Encoder {
    opts: LogOptions,
    tty: bool,
    /// `--details` prefix of lines that carry no `attrs` of their own.
    attrs: String,
}

impl Encoder {
    /// One json-file line to the bytes a client receives, or None when filtered out.
    fn encode(&self, raw: &str) -> Option<Vec<u8>> {
        let line: Line = serde_json::from_str(raw).ok()?;
        let stream = if line.stream == "stderr" { 2 } else { 1 };
        if (stream == 1 && !self.opts.stdout) || (stream == 2 && !self.opts.stderr) {
            return None;
        }
        let t = berth_util::time::parse_rfc3339(&line.time).unwrap_or(0);
        if (self.opts.since > 0 && t < self.opts.since)
            || (self.opts.until > 0 && t > self.opts.until)
        {
            return None;
        }
        let mut payload = String::new();
        if self.opts.timestamps {
            payload.push_str(&berth_util::time::format_rfc3339_fixed(t));
            payload.push(' ');
        }
        if self.opts.details {
            match &line.attrs {
                Some(a) => payload.push_str(&crate::observe::logattrs::details_prefix(a)),
                None => payload.push_str(&self.attrs),
            }
            payload.push(' ');
        }
        payload.push_str(&line.log);
        Some(if self.tty {
            payload.into_bytes()
        } else {
            frame(stream, payload.as_bytes())
        })
    }
}

impl Daemon {
    /// Starts streaming a container's log; chunks arrive on the receiver and
    /// the channel closes at the end.
    pub fn logs(
        self: &Arc<Self>,
        key: &str,
        opts: LogOptions,
    ) -> Result<(mpsc::Receiver<Vec<u8>>, bool)> {
        let entry = self.containers.get(key)?;
        let (tty, attrs) = {
            let rec = entry.lock();
            let attrs = crate::observe::logattrs::log_attrs(&rec);
            (
                rec.config.tty,
                crate::observe::logattrs::details_prefix(&attrs),
            )
        };
        let path = self
            .config
            .container_dir(&entry.id)
            .join(format!("{}-json.log", entry.id));
        let (tx, rx) = mpsc::channel(64);
        let follow = opts.follow;
        let enc = Encoder { opts, tty, attrs };
        tokio::spawn(async move {
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(_) if follow => loop {
                    if !entry.snapshot().running {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if let Ok(f) = std::fs::File::open(&path) {
                        break f;
                    }
                },
                Err(_) => return,
            };
            let mut follower = match files::Follower::new(path, file) {
                Ok(f) => f,
                Err(_) => return,
            };
            let first = match follower.read_all() {
                Ok(l) => l,
                Err(_) => return,
            };
            let skip = enc.opts.tail.map_or(0, |n| first.len().saturating_sub(n));
            for l in &first[skip..] {
                if let Some(b) = enc.encode(l) {
                    if tx.send(b).await.is_err() {
                        return;
                    }
                }
            }
            if !follow {
                return;
            }
            let mut rx_state = entry.subscribe();
            loop {
                let stopped = !rx_state.borrow().running;
                let lines = follower.read_new().unwrap_or_default();
                for l in &lines {
                    if let Some(b) = enc.encode(l) {
                        if tx.send(b).await.is_err() {
                            return;
                        }
                    }
                }
                if stopped {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = rx_state.changed() => {}
                    _ = tx.closed() => return,
                }
            }
        });
        Ok((rx, tty))
    }
}

/// Parses `tail=` (a number or `all`).
pub fn parse_tail(s: &str) -> Result<Option<usize>> {
    match s {
        "" | "all" => Ok(None),
        n => n
            .parse::<i64>()
            .map(|v| if v < 0 { None } else { Some(v as usize) })
            .map_err(|_| Error::invalid(format!("invalid value for \"tail\": {s:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_frames_and_filters() {
        let enc = Encoder {
            opts: LogOptions {
                stdout: true,
                stderr: false,
                ..Default::default()
            },
            tty: false,
            attrs: String::new(),
        };
        let out = enc
            .encode(r#"{"log":"hi\n","stream":"stdout","time":"2026-11-23T16:26:19.5Z"}"#)
            .unwrap();
        assert_eq!(out, [&[1u8, 0, 0, 0, 0, 0, 0, 3][..], b"hi\n"].concat());
        assert!(enc
            .encode(r#"{"log":"e\n","stream":"stderr","time":"2026-11-23T16:26:19.5Z"}"#)
            .is_none());
    }

    #[test]
    fn timestamps_prefix_lines() {
        let enc = Encoder {
            opts: LogOptions {
                stdout: true,
                timestamps: true,
                ..Default::default()
            },
            tty: true,
            attrs: String::new(),
        };
        let out = enc
            .encode(r#"{"log":"hi\n","stream":"stdout","time":"2026-11-23T16:26:19.5Z"}"#)
            .unwrap();
        assert_eq!(out, b"2026-11-23T16:26:19.500000000Z hi\n");
        assert_eq!(parse_tail("all").unwrap(), None);
        assert_eq!(parse_tail("3").unwrap(), Some(3));
        assert!(parse_tail("x").is_err());
    }

    #[test]
    fn details_prefix_each_line() {
        let mut enc = Encoder {
            opts: LogOptions {
                stdout: true,
                details: true,
                timestamps: true,
                ..Default::default()
            },
            tty: true,
            attrs: "a=1".into(),
        };
        let plain = r#"{"log":"hi\n","stream":"stdout","time":"2026-11-23T16:26:19.5Z"}"#;
        let out = enc.encode(plain).unwrap();
        assert_eq!(out, b"2026-11-23T16:26:19.500000000Z a=1 hi\n");
        let own = r#"{"log":"hi\n","stream":"stdout","attrs":{"tag":"x y"},"time":"2026-11-23T16:26:19.5Z"}"#;
        let out = enc.encode(own).unwrap();
        assert_eq!(out, b"2026-11-23T16:26:19.500000000Z tag=x+y hi\n");
        // Docker keeps the separating space when there are no attributes.
        enc.attrs.clear();
        enc.opts.timestamps = false;
        assert_eq!(enc.encode(plain).unwrap(), b" hi\n");
    }
}
