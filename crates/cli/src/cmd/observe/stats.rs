//! `stats` / `container stats`: one collector thread per container reads the
//! daemon's stats stream; the table is printed once (`--no-stream`) or
//! redrawn every half second with docker's ANSI sequences (cursor home,
//! erase to end of line, erase below). Without names it shows the running
//! containers (`-a`: all) and follows `start`/`create`/`die` events.

use super::stats_calc::{entry, row, StatsEntry, DEFAULT_FORMAT, HEADERS};
use crate::api::{enc, Client};
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::cmd::common::{out, Ctx, FORMAT_HELP};
use crate::error::{CliError, Result};
use crate::fmt::table;
use crate::http::Body;
use std::io::{BufRead, BufReader};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

const FLAGS: &[Flag] = &[
    Flag::bool(
        "all",
        Some('a'),
        "Show all containers (default shows just running)",
    ),
    Flag::str("format", None, FORMAT_HELP),
    Flag::bool(
        "no-stream",
        None,
        "Disable streaming stats and only pull the first result",
    ),
    Flag::bool("no-trunc", None, "Do not truncate output"),
];

pub const SPEC: Spec = Spec {
    path: "stats",
    usage: "[OPTIONS] [CONTAINER...]",
    about: "Display a live stream of container(s) resource usage statistics",
    aliases: "docker container stats, docker stats",
    flags: &[FLAGS],
    interspersed: true,
    arity: Arity::Min(0),
};

/// How long a collector waits for a sample before showing `--`.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the live table is redrawn.
const REDRAW: Duration = Duration::from_millis(500);

/// One container on the board.
struct Slot {
    entry: StatsEntry,
    error: Option<String>,
    /// Whether its first sample (or failure) arrived.
    first: bool,
}

/// The containers shown, in the order they were added.
#[derive(Default)]
struct Board {
    slots: Mutex<Vec<Slot>>,
    first_seen: Condvar,
}

impl Board {
    fn lock(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a container; false when it is already shown.
    fn add(&self, container: &str) -> bool {
        let mut s = self.lock();
        if s.iter().any(|x| x.entry.container == container) {
            return false;
        }
        s.push(Slot {
            entry: StatsEntry {
                container: container.to_string(),
                ..Default::default()
            },
            error: None,
            first: false,
        });
        true
    }

    fn remove(&self, container: &str) {
        self.lock().retain(|x| x.entry.container != container);
        self.first_seen.notify_all();
    }

    fn update(&self, container: &str, f: impl FnOnce(&mut Slot)) {
        let mut s = self.lock();
        if let Some(slot) = s.iter_mut().find(|x| x.entry.container == container) {
            f(slot);
            slot.first = true;
        }
        self.first_seen.notify_all();
    }

    fn set(&self, container: &str, e: StatsEntry) {
        self.update(container, |s| {
            s.entry = e;
            s.error = None;
        });
    }

    /// Keeps the last values but marks them invalid (docker's `SetError`).
    fn fail(&self, container: &str, err: String) {
        self.update(container, |s| {
            s.entry.invalid = true;
            s.error = Some(err);
        });
    }

    /// Zeroes the values and marks them invalid (docker's `SetErrorAndReset`).
    fn reset(&self, container: &str, err: String) {
        self.update(container, |s| {
            s.entry = StatsEntry {
                container: s.entry.container.clone(),
                name: s.entry.name.clone(),
                id: s.entry.id.clone(),
                invalid: true,
                ..Default::default()
            };
            s.error = Some(err);
        });
    }

    /// Blocks until every container shown has had its first result.
    fn wait_first(&self) {
        let mut s = self.lock();
        while s.iter().any(|x| !x.first) {
            s = self.first_seen.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn errors(&self) -> Vec<String> {
        self.lock().iter().filter_map(|s| s.error.clone()).collect()
    }

    fn entries(&self) -> Vec<StatsEntry> {
        self.lock().iter().map(|s| s.entry.clone()).collect()
    }
}

/// Reads `container`'s stats until the stream ends (after one sample
/// without `stream`), keeping its slot current.
fn collect(client: Client, board: Arc<Board>, container: String, stream: bool) {
    let path = format!(
        "/containers/{}/stats?stream={}",
        enc(&container),
        if stream { "1" } else { "0" }
    );
    let resp = match client.request("GET", &path, Body::Empty, &[]) {
        Ok(r) => r,
        Err(e) => return board.fail(&container, e.to_string()),
    };
    let (tx, rx) = mpsc::channel::<std::result::Result<StatsEntry, String>>();
    let name = container.clone();
    thread::spawn(move || {
        let mut reader = BufReader::new(resp);
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) => {
                    let _ = tx.send(Err("EOF".into()));
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            }
            let sent = match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(v) => tx.send(Ok(entry(&name, &v))),
                Err(e) => tx.send(Err(e.to_string())),
            };
            if sent.is_err() || !stream {
                return;
            }
        }
    });
    loop {
        match rx.recv_timeout(SAMPLE_TIMEOUT) {
            Ok(Ok(e)) => board.set(&container, e),
            Ok(Err(e)) => {
                board.fail(&container, e);
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                board.reset(&container, "timeout waiting for stats".into())
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if !stream {
            return;
        }
    }
}

fn start_collector(ctx_client: &Client, board: &Arc<Board>, container: &str, stream: bool) {
    if board.add(container) {
        let (c, b, n) = (ctx_client.clone(), board.clone(), container.to_string());
        thread::spawn(move || collect(c, b, n, stream));
    }
}

fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

/// Adds and removes containers as their events arrive.
fn follow_events(client: Client, board: Arc<Board>, all: bool, stream: bool) -> Result<()> {
    let filters = enc(r#"{"type":{"container":true}}"#);
    let resp = client.request(
        "GET",
        &format!("/events?filters={filters}"),
        Body::Empty,
        &[],
    )?;
    thread::spawn(move || {
        let mut reader = BufReader::new(resp);
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            if let Ok(ev) = serde_json::from_str::<serde_json::Value>(&line) {
                let id = short(ev["Actor"]["ID"].as_str().unwrap_or(""));
                match ev["Action"].as_str().unwrap_or("") {
                    _ if id.is_empty() => {}
                    "start" => start_collector(&client, &board, &id, stream),
                    "create" if all => start_collector(&client, &board, &id, stream),
                    "die" if !all => board.remove(&id),
                    _ => {}
                }
            }
            line.clear();
        }
    });
    Ok(())
}

fn render(board: &Board, format: &str, trunc: bool) -> Result<String> {
    let rows: Vec<_> = board.entries().iter().map(|e| row(e, trunc)).collect();
    Ok(table::render(format, &rows, &table::header(HEADERS))?)
}

/// A frame of the live view: cursor home, each line cleared to its end,
/// and everything below the table cleared.
pub fn frame(text: &str) -> String {
    let mut f = String::from("\x1b[H");
    for line in text.split('\n') {
        f.push_str(line);
        f.push_str("\x1b[K\n");
    }
    f.push_str("\x1b[J");
    f
}

pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let all = p.bool("all");
    let stream = !p.bool("no-stream");
    let trunc = !p.bool("no-trunc");
    let format = match p.string("format") {
        f if f.is_empty() || f == "table" => DEFAULT_FORMAT.to_string(),
        f => f,
    };
    // Negotiate once, before the collectors clone the client.
    ctx.client.version()?;
    let board = Arc::new(Board::default());
    let show_all = p.args.is_empty();
    if show_all {
        if stream {
            follow_events(ctx.client.clone(), board.clone(), all, stream)?;
        }
        let list = ctx.client.get_json(if all {
            "/containers/json?all=1"
        } else {
            "/containers/json"
        })?;
        for c in list.as_array().into_iter().flatten() {
            let id = short(c["Id"].as_str().unwrap_or(""));
            start_collector(&ctx.client, &board, &id, stream);
        }
        board.wait_first();
    } else {
        for name in &p.args {
            start_collector(&ctx.client, &board, name, stream);
        }
        board.wait_first();
        let errs = board.errors();
        if !errs.is_empty() {
            return Err(CliError::msg(errs.join("\n")));
        }
    }
    if !stream {
        out(&render(&board, &format, trunc)?);
        return Ok(());
    }
    loop {
        out(&frame(&render(&board, &format, trunc)?));
        if !show_all && board.entries().is_empty() {
            return Ok(());
        }
        thread::sleep(REDRAW);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_redraw_in_place() {
        assert_eq!(
            frame("A   B\n1   2\n"),
            "\x1b[HA   B\x1b[K\n1   2\x1b[K\n\x1b[K\n\x1b[J"
        );
    }

    #[test]
    fn board_keeps_order_and_waits_for_firsts() {
        let b = Arc::new(Board::default());
        assert!(b.add("a"));
        assert!(b.add("b"));
        assert!(!b.add("a"));
        let b2 = b.clone();
        let t = thread::spawn(move || {
            b2.set(
                "b",
                StatsEntry {
                    container: "b".into(),
                    pids: 3,
                    ..Default::default()
                },
            );
            b2.reset("a", "timeout waiting for stats".into());
        });
        b.wait_first();
        t.join().unwrap();
        let e = b.entries();
        assert_eq!(e[0].container, "a");
        assert!(e[0].invalid);
        assert_eq!(e[1].pids, 3);
        assert_eq!(b.errors(), ["timeout waiting for stats"]);
        b.remove("a");
        assert_eq!(b.entries().len(), 1);
    }
}
