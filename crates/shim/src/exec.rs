//! Exec'd processes, supervised by the container's shim (see "Daemon ↔ shim
//! contract" in docs/ARCHITECTURE.md):
//!
//! - `exec <id> <stdin> <stdout> <stderr>` starts the process described by
//!   `<bundle>/exec-<id>.json` (written by the daemon, removed here) through
//!   `berth_runtime::exec`, answers `ok <pid>` or `error <msg>`, and with
//!   any stream asked for the connection then carries its stdio like an
//!   attach stream (Docker frames unless it has a tty) and is closed once
//!   the process has ended and its output is read;
//! - `exec-wait <id>` answers `exit <code>` once that process has ended (at
//!   once when it already has; a start failure is an exit with 126/127);
//! - `exec-resize <id> <rows> <cols>` sizes its tty.
//!
//! Exec'd processes never stop the container; those left when the
//! container ends are killed and reaped.

use crate::client::{Client, ExecLink, Phase};
use crate::exec_session::{Output, Session};
use crate::frame::{self, Stream};
use crate::request::Attach;
use crate::stdio::{self, StdioError};
use berth_runtime::{Bundle, CreateError, ExecConfig, Running};
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::time::Instant;

/// Exit codes of ended execs kept for a late `exec-wait`.
const KEEP_EXITS: usize = 256;

/// Reads per output per wakeup, as for the container's own output.
const READS_PER_WAKEUP: usize = 4;

/// Exit code of an exec that could not start for another reason than the
/// executable (Docker's default).
const START_FAILED: i32 = 126;

/// Why an exec'd process did not start.
#[derive(Debug, thiserror::Error)]
enum StartError {
    /// The runtime's words (runc's for 126/127).
    #[error("{0}")]
    Runtime(#[from] CreateError),
    #[error("{0}")]
    Stdio(#[from] StdioError),
}

impl StartError {
    fn exit_code(&self) -> i32 {
        match self {
            StartError::Runtime(CreateError::Exec { exit_code, .. }) => *exit_code,
            _ => START_FAILED,
        }
    }
}

/// A poll entry of an exec'd process: (session index, what).
#[derive(Debug, Clone, Copy)]
pub enum ExecSlot {
    Output(usize, Stream),
    Stdin(usize),
    Pidfd(usize),
}

#[derive(Default)]
pub struct Execs {
    sessions: Vec<Session>,
    /// (exec id, exit code) of ended execs, oldest first.
    exits: VecDeque<(String, i32)>,
}

impl Execs {
    /// Adds the descriptors to poll.
    pub fn poll_set(&self, add: &mut dyn FnMut(RawFd, libc::c_short, ExecSlot)) {
        for (i, s) in self.sessions.iter().enumerate() {
            for st in Stream::ALL {
                if let Some(fd) = &s.io.outputs[st.index()] {
                    add(fd.as_raw_fd(), libc::POLLIN, ExecSlot::Output(i, st));
                }
            }
            if let Some(fd) = s.stdin_waiting() {
                add(fd, libc::POLLOUT, ExecSlot::Stdin(i));
            }
            if let Some(fd) = s.pidfd() {
                add(fd, libc::POLLIN, ExecSlot::Pidfd(i));
            }
        }
    }

    pub fn dispatch(&mut self, slot: ExecSlot, clients: &mut [Client], buf: &mut [u8]) {
        match slot {
            ExecSlot::Output(i, st) => {
                let Some(s) = self.sessions.get_mut(i) else {
                    return;
                };
                for _ in 0..READS_PER_WAKEUP {
                    match s.read(st, buf) {
                        Output::Data(n) => deliver(s, st, &buf[..n], clients),
                        Output::Again | Output::Ended => return,
                    }
                }
            }
            ExecSlot::Stdin(i) => {
                if let Some(s) = self.sessions.get_mut(i) {
                    s.flush_input();
                }
            }
            ExecSlot::Pidfd(i) => {
                if let Some(s) = self.sessions.get_mut(i) {
                    s.reap();
                }
            }
        }
    }

    /// Serves `exec`: starts the process and answers `client`; `input` is
    /// what the client sent after the request line.
    pub fn start(
        &mut self,
        running: &Running,
        bundle_dir: &Path,
        id: String,
        attach: Attach,
        client: &mut Client,
        input: &[u8],
    ) {
        if self.sessions.iter().any(|s| s.id == id) || self.exit_of(&id).is_some() {
            return client.answer(&format!("error exec {id} already started"));
        }
        match spawn(running, bundle_dir, &id, attach) {
            Ok(session) => {
                let line = format!("ok {}\n", session.pid());
                if attach.stdin || attach.stdout || attach.stderr {
                    client.enlarge_send_buffer();
                    client.send(line.as_bytes(), &[]);
                    client.phase = Phase::ExecAttached(ExecLink {
                        id: id.clone(),
                        attach,
                    });
                } else {
                    client.answer(line.trim_end());
                }
                self.sessions.push(session);
                if attach.stdin {
                    self.input(&id, input);
                }
            }
            Err(e) => {
                client.answer(&format!("error {}", e.to_string().replace('\n', " ")));
                self.record_exit(id, e.exit_code());
            }
        }
    }

    /// Serves `exec-wait`: answers now when the exit is known, else later.
    pub fn wait(&self, id: String, client: &mut Client) {
        match self.exit_of(&id) {
            Some(code) => client.answer(&format!("exit {code}")),
            None => client.phase = Phase::ExecWaiter(id),
        }
    }

    /// Serves `exec-resize`.
    pub fn resize(&self, id: &str, rows: u16, cols: u16) -> String {
        match self.sessions.iter().find(|s| s.id == id) {
            None => format!("error exec {id} is not running"),
            Some(s) => match s.resize(rows, cols) {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("error {e}"),
            },
        }
    }

    /// Input from the client attached to exec `id`.
    pub fn input(&mut self, id: &str, data: &[u8]) {
        if let Some(s) = self.sessions.iter_mut().find(|s| s.id == id) {
            s.write_input(data);
        }
    }

    /// The input of the client attached to exec `id` has ended.
    pub fn input_ended(&mut self, id: &str) {
        if let Some(s) = self.sessions.iter_mut().find(|s| s.id == id) {
            s.end_input();
        }
    }

    /// Whether exec `id` takes more input now (its stdin is not busy).
    pub fn takes_input(&self, id: &str) -> bool {
        self.sessions
            .iter()
            .find(|s| s.id == id)
            .is_none_or(Session::takes_input)
    }

    /// The earliest moment an ended process's output drain is given up.
    pub fn deadline(&self) -> Option<Instant> {
        self.sessions.iter().filter_map(Session::deadline).min()
    }

    /// Retires the sessions that have ended: their streams close, their
    /// waiters hear the exit code.
    pub fn collect(&mut self, clients: &mut [Client]) {
        let mut i = 0;
        while i < self.sessions.len() {
            match self.sessions[i].finished() {
                Some(code) => {
                    let s = self.sessions.swap_remove(i);
                    close_streams(&s.id, clients);
                    self.record_exit(s.id, code);
                }
                None => i += 1,
            }
        }
        self.answer_waiters(clients);
    }

    /// The container has ended: every exec'd process left is killed and
    /// reaped, every stream closed, every waiter answered.
    pub fn finish(&mut self, clients: &mut [Client]) {
        for mut s in std::mem::take(&mut self.sessions) {
            s.kill();
            close_streams(&s.id, clients);
            let code = s.exit_code().unwrap_or(128 + libc::SIGKILL);
            self.record_exit(s.id, code);
        }
        self.answer_waiters(clients);
        for c in clients.iter_mut() {
            if let Phase::ExecWaiter(id) = &c.phase {
                let line = format!("error no exec {id} in this container");
                c.answer(&line);
            }
        }
    }

    fn exit_of(&self, id: &str) -> Option<i32> {
        self.exits.iter().find(|(i, _)| i == id).map(|(_, c)| *c)
    }

    fn record_exit(&mut self, id: String, code: i32) {
        if self.exits.len() == KEEP_EXITS {
            self.exits.pop_front();
        }
        self.exits.push_back((id, code));
    }

    fn answer_waiters(&self, clients: &mut [Client]) {
        for c in clients.iter_mut() {
            let code = match &c.phase {
                Phase::ExecWaiter(id) => self.exit_of(id),
                _ => None,
            };
            if let Some(code) = code {
                c.answer(&format!("exit {code}"));
            }
        }
    }
}

/// Loads the exec's config (removing the file) and the container's bundle,
/// makes the stdio and starts the process.
fn spawn(
    running: &Running,
    bundle_dir: &Path,
    id: &str,
    attach: Attach,
) -> Result<Session, StartError> {
    let path = bundle_dir.join(format!("exec-{id}.json"));
    let config = ExecConfig::load(&path);
    let _ = std::fs::remove_file(&path);
    let config = config?;
    let bundle = Bundle::load(bundle_dir)?;
    let (stdio, io) = stdio::create(config.process.terminal, attach.stdin)?;
    let mut process = berth_runtime::exec(running, &bundle, &config, stdio)?;
    let io = match io {
        Some(io) => io,
        None => stdio::from_console(process.take_console())?,
    };
    Ok(Session::new(id.to_string(), process, io))
}

/// Sends output of `s` to the client attached to its exec, if it asked
/// for that stream.
fn deliver(s: &Session, st: Stream, data: &[u8], clients: &mut [Client]) {
    let head = frame::header(st, data.len());
    let head: &[u8] = if s.io.tty { &[] } else { &head };
    for c in clients.iter_mut() {
        if let Phase::ExecAttached(l) = &c.phase {
            if l.id == s.id && l.attach.wants(st) {
                c.send(head, data);
            }
        }
    }
}

/// Closes the stream of exec `id` once its queued output is written.
fn close_streams(id: &str, clients: &mut [Client]) {
    for c in clients.iter_mut() {
        if matches!(&c.phase, Phase::ExecAttached(l) if l.id == id) {
            c.phase = Phase::Closing;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    fn client() -> (Client, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        (Client::new(a).unwrap(), b)
    }

    fn read_all(mut peer: UnixStream) -> String {
        let mut s = String::new();
        peer.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn waiters_hear_known_exits_at_once_and_the_rest_at_the_end() {
        let mut execs = Execs::default();
        execs.record_exit("a".into(), 3);
        let (mut early, early_peer) = client();
        execs.wait("a".into(), &mut early);
        assert!(early.finished());
        drop(early);
        assert_eq!(read_all(early_peer), "exit 3\n");

        let (late, late_peer) = client();
        let (never, never_peer) = client();
        let mut clients = vec![late, never];
        execs.wait("b".into(), &mut clients[0]);
        execs.wait("c".into(), &mut clients[1]);
        assert_eq!(clients[0].phase, Phase::ExecWaiter("b".into()));
        execs.record_exit("b".into(), 127);
        execs.collect(&mut clients);
        assert!(clients[0].finished() && !clients[1].finished());
        execs.finish(&mut clients);
        drop(clients);
        assert_eq!(read_all(late_peer), "exit 127\n");
        assert_eq!(read_all(never_peer), "error no exec c in this container\n");
    }

    #[test]
    fn the_exit_book_is_bounded() {
        let mut execs = Execs::default();
        for i in 0..KEEP_EXITS + 10 {
            execs.record_exit(format!("e{i}"), 0);
        }
        assert_eq!(execs.exits.len(), KEEP_EXITS);
        assert!(execs.exit_of("e0").is_none());
        assert_eq!(execs.exit_of(&format!("e{}", KEEP_EXITS + 9)), Some(0));
    }

    #[test]
    fn unknown_execs_take_input_and_refuse_resize() {
        let execs = Execs::default();
        assert!(execs.takes_input("x"));
        assert_eq!(execs.resize("x", 1, 2), "error exec x is not running");
    }
}
