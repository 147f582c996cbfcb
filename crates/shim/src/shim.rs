//! The shim's one `poll(2)` loop, from a created container to its exit:
//! serves control connections, copies container output to the json-file
//! log and to attached clients, feeds attach input to the container's stdin,
//! and when the init exits drains the output (bounded), records the exit,
//! answers every `wait` and returns.
//!
//! No threads and no async runtime: one 32 KiB buffer is reused for every
//! read, so an idle shim holds almost nothing beyond its descriptors.

use crate::client::{Client, Phase};
use crate::exec::{ExecSlot, Execs};
use crate::exit::{self, ExitStatus};
use crate::frame::{self, Stream};
use crate::logfile::LogFile;
use crate::request::{self, Request};
use crate::socket::ControlSocket;
use crate::stdio::{self, ShimIo};
use crate::{diag, memory};
use berth_runtime::{CreateError, Created, Running};
use berth_util::trace::mark as trace;
use nix::errno::Errno;
use std::ops::Range;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Size of the one read buffer.
const BUF_SIZE: usize = 32 * 1024;

/// How long output is still read after the init exited: its pipes may be
/// held open by orphaned grandchildren that nobody will ever stop.
pub(crate) const DRAIN: Duration = Duration::from_millis(100);

/// How long the last output and the answers may take to reach clients.
const FLUSH: Duration = Duration::from_secs(2);

/// Reads per output per wakeup, so one chatty stream cannot starve the rest.
const READS_PER_WAKEUP: usize = 4;

/// Connections beyond this are closed at once.
const MAX_CLIENTS: usize = 128;

/// Exit code recorded when `start` fails for a reason other than the
/// executable (Docker's generic start failure code).
const START_FAILED: i32 = 128;

/// The container's init, as far as the shim drives it.
enum Init {
    Created(Created),
    Running(Running),
    /// Never ran, or the start failed: nothing left to wait for or clean.
    Gone,
}

/// What the loop keeps between wakeups.
pub struct Shim {
    bundle: PathBuf,
    socket: Option<ControlSocket>,
    init: Init,
    /// The exit status and when it became known.
    exit: Option<(ExitStatus, Instant)>,
    io: ShimIo,
    /// Attach input the container's stdin has not taken yet.
    stdin_pending: Vec<u8>,
    /// Close the container's stdin once `stdin_pending` is written.
    stdin_close: bool,
    /// Close the container's stdin when an attach client's input ends.
    stdin_once: bool,
    log: LogFile,
    log_failed: bool,
    clients: Vec<Client>,
    /// Exec'd processes (`crate::exec`).
    execs: Execs,
    buf: Vec<u8>,
}

/// A poll entry's meaning.
#[derive(Clone, Copy)]
enum Slot {
    Listener,
    Output(Stream),
    Stdin,
    Pidfd,
    Client(usize),
    Exec(ExecSlot),
}

impl Shim {
    pub fn new(
        bundle: PathBuf,
        socket: ControlSocket,
        created: Created,
        io: ShimIo,
        log: LogFile,
        stdin_once: bool,
    ) -> Shim {
        Shim {
            bundle,
            socket: Some(socket),
            init: Init::Created(created),
            exit: None,
            io,
            stdin_pending: Vec::new(),
            stdin_close: false,
            stdin_once,
            log,
            log_failed: false,
            clients: Vec::new(),
            execs: Execs::default(),
            buf: vec![0; BUF_SIZE],
        }
    }

    /// Runs until the container has exited and everything is recorded.
    pub fn run(mut self) {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut slots: Vec<Slot> = Vec::new();
        while !self.done() {
            fds.clear();
            slots.clear();
            self.poll_set(&mut fds, &mut slots);
            let deadline = self.exit.map(|(_, at)| at + DRAIN);
            let timeout = match deadline.into_iter().chain(self.execs.deadline()).min() {
                Some(at) => at
                    .saturating_duration_since(Instant::now())
                    .as_millis()
                    .clamp(1, i32::MAX as u128) as i32,
                None => -1,
            };
            // SAFETY: `fds` is a valid array of `fds.len()` pollfd entries.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
            if n < 0 {
                let err = Errno::last();
                if err != Errno::EINTR {
                    diag::log(&format!("poll: {err}"));
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            for (pfd, slot) in fds.iter().zip(&slots) {
                if pfd.revents != 0 {
                    self.dispatch(*slot, pfd.revents);
                }
            }
            self.execs.collect(&mut self.clients);
            self.clients.retain(|c| !c.finished());
        }
        self.finish();
    }

    fn poll_set(&self, fds: &mut Vec<libc::pollfd>, slots: &mut Vec<Slot>) {
        let mut add = |fd: RawFd, events: libc::c_short, slot: Slot| {
            fds.push(libc::pollfd {
                fd,
                events,
                revents: 0,
            });
            slots.push(slot);
        };
        if let Some(sock) = &self.socket {
            add(sock.fd(), libc::POLLIN, Slot::Listener);
        }
        for s in Stream::ALL {
            if let Some(fd) = &self.io.outputs[s.index()] {
                add(fd.as_raw_fd(), libc::POLLIN, Slot::Output(s));
            }
        }
        if let Some(fd) = &self.io.stdin {
            if !self.stdin_pending.is_empty() {
                add(fd.as_raw_fd(), libc::POLLOUT, Slot::Stdin);
            }
        }
        if let (Init::Running(r), None) = (&self.init, &self.exit) {
            add(r.pidfd().as_raw_fd(), libc::POLLIN, Slot::Pidfd);
        }
        self.execs
            .poll_set(&mut |fd, events, s| add(fd, events, Slot::Exec(s)));
        // Attach input waits while the container's stdin is still busy.
        let take_input = self.stdin_pending.is_empty();
        for (i, c) in self.clients.iter().enumerate() {
            let mut events = 0;
            let ready = match &c.phase {
                Phase::Attached(_) => take_input,
                Phase::ExecAttached(l) => self.execs.takes_input(&l.id),
                _ => true,
            };
            if c.reading && ready {
                events |= libc::POLLIN;
            }
            if c.has_queued() {
                events |= libc::POLLOUT;
            }
            // Listed even without events, so that a hang-up is noticed.
            add(c.fd(), events, Slot::Client(i));
        }
    }

    fn dispatch(&mut self, slot: Slot, revents: libc::c_short) {
        match slot {
            Slot::Listener => self.accept(),
            Slot::Output(s) => self.read_output(s),
            Slot::Stdin => self.flush_stdin(),
            Slot::Pidfd => self.reap(),
            Slot::Client(i) => self.serve_client(i, revents),
            Slot::Exec(s) => self.execs.dispatch(s, &mut self.clients, &mut self.buf),
        }
    }

    /// The init has exited and its output is drained or given up on.
    fn done(&self) -> bool {
        match self.exit {
            Some((_, at)) => self.io.outputs.iter().all(Option::is_none) || at.elapsed() >= DRAIN,
            None => false,
        }
    }

    fn accept(&mut self) {
        let Some(sock) = &self.socket else {
            return;
        };
        loop {
            match sock.accept() {
                Ok(Some(conn)) if self.clients.len() < MAX_CLIENTS => match Client::new(conn) {
                    Ok(c) => self.clients.push(c),
                    Err(e) => diag::log(&format!("accept: {e}")),
                },
                Ok(Some(_)) => diag::log("too many connections: one refused"),
                Ok(None) => return,
                Err(e) => {
                    // EMFILE and the like: leave the rest in the backlog.
                    diag::log(&format!("accept: {e}"));
                    return;
                }
            }
        }
    }

    // ---- container output ----

    fn read_output(&mut self, s: Stream) {
        for _ in 0..READS_PER_WAKEUP {
            let Some(fd) = &self.io.outputs[s.index()] else {
                return;
            };
            match nix::unistd::read(fd.as_raw_fd(), &mut self.buf) {
                Ok(0) | Err(Errno::EIO) => {
                    // EIO: every pty slave is closed, the tty's end of file.
                    self.end_output(s);
                    return;
                }
                Ok(n) => self.deliver(s, n),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return,
                Err(e) => {
                    diag::log(&format!("read container {}: {e}", s.name()));
                    self.end_output(s);
                    return;
                }
            }
        }
    }

    /// Sends the first `n` bytes of the buffer, read from `s`, to the log
    /// and to every client attached to `s`.
    fn deliver(&mut self, s: Stream, n: usize) {
        let data = &self.buf[..n];
        let time = berth_util::time::now_rfc3339();
        if let Err(e) = self.log.write(s, data, &time) {
            log_error(&mut self.log_failed, e);
        }
        let head = frame::header(s, n);
        let head: &[u8] = if self.io.tty { &[] } else { &head };
        for c in &mut self.clients {
            if let Phase::Attached(a) = c.phase {
                if a.wants(s) {
                    c.send(head, data);
                }
            }
        }
    }

    fn end_output(&mut self, s: Stream) {
        self.io.outputs[s.index()] = None;
        let time = berth_util::time::now_rfc3339();
        if let Err(e) = self.log.finish(s, &time) {
            log_error(&mut self.log_failed, e);
        }
    }

    // ---- container input ----

    /// Passes the buffer's bytes in `range` (attach input) to the container's
    /// stdin; dropped if the container has none.
    fn write_stdin(&mut self, range: Range<usize>) {
        if self.stdin_close {
            return;
        }
        let written = match &self.io.stdin {
            None => return,
            Some(fd) if self.stdin_pending.is_empty() => write_some(fd, &self.buf[range.clone()]),
            Some(_) => Ok(0),
        };
        match written {
            Ok(n) => self
                .stdin_pending
                .extend_from_slice(&self.buf[range.start + n..range.end]),
            Err(()) => self.close_stdin(),
        }
    }

    /// Writes input the container's stdin did not take earlier.
    fn flush_stdin(&mut self) {
        let Some(fd) = &self.io.stdin else {
            return;
        };
        match write_some(fd, &self.stdin_pending) {
            Ok(n) => {
                self.stdin_pending.drain(..n);
            }
            Err(()) => return self.close_stdin(),
        }
        if self.stdin_pending.is_empty() {
            self.stdin_pending = Vec::new();
            if self.stdin_close {
                self.close_stdin();
            }
        }
    }

    fn close_stdin(&mut self) {
        self.io.stdin = None;
        self.stdin_pending = Vec::new();
    }

    // ---- control connections ----

    fn serve_client(&mut self, i: usize, revents: libc::c_short) {
        if revents & libc::POLLOUT != 0 {
            self.clients[i].flush();
        }
        let c = &mut self.clients[i];
        if c.dead {
            return;
        }
        let readable = revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0;
        if !c.reading {
            // Its input ended earlier; a hang-up now means it is gone.
            if revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                c.dead = true;
            }
            return;
        }
        if !readable {
            return;
        }
        match c.read(&mut self.buf) {
            Ok(0) => self.client_input_ended(i),
            Ok(n) => self.client_input(i, n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => c.dead = true,
        }
    }

    /// Handles `n` bytes the client sent, now at the start of the buffer.
    fn client_input(&mut self, i: usize, n: usize) {
        match &mut self.clients[i].phase {
            Phase::Request(line) => {
                let data = &self.buf[..n];
                match data.iter().position(|&b| b == b'\n') {
                    Some(pos) if line.len() + pos < request::MAX_LINE => {
                        line.extend_from_slice(&data[..pos]);
                        let line = std::mem::take(line);
                        self.handle_request(i, &line, pos + 1..n);
                    }
                    None if line.len() + n < request::MAX_LINE => line.extend_from_slice(data),
                    _ => self.clients[i].answer("error request line too long"),
                }
            }
            Phase::Attached(a) if a.stdin => self.write_stdin(0..n),
            Phase::ExecAttached(l) if l.attach.stdin => {
                let id = l.id.clone();
                self.execs.input(&id, &self.buf[..n]);
            }
            // Anything else a client sends is not asked for: dropped.
            _ => {}
        }
    }

    fn client_input_ended(&mut self, i: usize) {
        let c = &mut self.clients[i];
        c.reading = false;
        match &c.phase {
            Phase::Request(line) if line.is_empty() => c.dead = true,
            Phase::Request(line) => {
                // A last line without its newline is still a request.
                let line = line.clone();
                self.handle_request(i, &line, 0..0);
            }
            // On a tty the input ending (a client detaching) leaves the
            // container's stdin open, as Docker does.
            Phase::Attached(a) if a.stdin && self.stdin_once && !self.io.tty => {
                self.stdin_close = true;
                self.flush_stdin();
            }
            Phase::ExecAttached(l) if l.attach.stdin => {
                let id = l.id.clone();
                self.execs.input_ended(&id);
            }
            _ => {}
        }
    }

    /// Serves one request line; `rest` is the range of the buffer that the
    /// client sent after it (attach input).
    fn handle_request(&mut self, i: usize, line: &[u8], rest: Range<usize>) {
        let text = String::from_utf8_lossy(line);
        let req = match request::parse(&text) {
            Ok(r) => r,
            Err(e) => return self.clients[i].answer(&format!("error {e}")),
        };
        let answer = match req {
            Request::Start => {
                trace("shim.start-request");
                let a = self.start();
                trace("shim.started");
                a
            }
            Request::Kill(sig) => self.kill(sig),
            Request::Wait => {
                // Answered in `finish`, even when the exit is already known:
                // only after the cgroup and the socket are gone.
                self.clients[i].phase = Phase::Waiter;
                return;
            }
            Request::Attach(a) => {
                if self.exit.is_some() {
                    "error container is not running".to_string()
                } else {
                    let c = &mut self.clients[i];
                    c.enlarge_send_buffer();
                    c.send(b"ok\n", &[]);
                    c.phase = Phase::Attached(a);
                    if a.stdin {
                        self.write_stdin(rest);
                    }
                    return;
                }
            }
            Request::Resize { rows, cols } => self.resize(rows, cols),
            Request::Exec { id, attach } => match (&self.init, &self.exit) {
                (Init::Running(r), None) => {
                    let input = &self.buf[rest];
                    let c = &mut self.clients[i];
                    return self.execs.start(r, &self.bundle, id, attach, c, input);
                }
                _ => "error container is not running".to_string(),
            },
            Request::ExecWait(id) => return self.execs.wait(id, &mut self.clients[i]),
            Request::ExecResize { id, rows, cols } => self.execs.resize(&id, rows, cols),
        };
        self.clients[i].answer(&answer);
    }

    fn start(&mut self) -> String {
        let created = match std::mem::replace(&mut self.init, Init::Gone) {
            Init::Created(c) => c,
            Init::Running(r) => {
                self.init = Init::Running(r);
                return "error container already started".to_string();
            }
            Init::Gone => return "error container is not running".to_string(),
        };
        match created.start() {
            Ok(running) => {
                self.init = Init::Running(running);
                memory::release();
                "ok".to_string()
            }
            Err(e) => {
                let code = match &e {
                    CreateError::Exec { exit_code, .. } => *exit_code,
                    _ => START_FAILED,
                };
                self.exited(ExitStatus {
                    code,
                    oom_killed: false,
                });
                format!("error {}", one_line(&e.to_string()))
            }
        }
    }

    fn kill(&mut self, sig: i32) -> String {
        if self.exit.is_some() {
            return "error container is not running".to_string();
        }
        match &self.init {
            Init::Running(r) => {
                return match r.kill(sig) {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("error kill: {}", one_line(&e.to_string())),
                }
            }
            Init::Gone => return "error container is not running".to_string(),
            Init::Created(_) => {}
        }
        // The init never ran: it goes away as if killed by `sig` (what
        // runc's kill does to a created container).
        if let Init::Created(c) = std::mem::replace(&mut self.init, Init::Gone) {
            c.abort();
        }
        self.exited(ExitStatus {
            code: 128 + sig,
            oom_killed: false,
        });
        "ok".to_string()
    }

    fn resize(&mut self, rows: u16, cols: u16) -> String {
        let master: Option<&OwnedFd> = if self.io.tty {
            self.io.outputs[0].as_ref()
        } else {
            None
        };
        match master.map(|m| stdio::resize(m, rows, cols)) {
            Some(Err(e)) => format!("error {e}"),
            // Without a tty there is nothing to resize: Docker accepts it too.
            Some(Ok(())) | None => "ok".to_string(),
        }
    }

    // ---- exit ----

    /// The pidfd became readable: the init has exited.
    fn reap(&mut self) {
        let Init::Running(r) = &self.init else {
            return;
        };
        let code = match r.wait() {
            Ok(code) => code,
            Err(e) => {
                diag::log(&format!("wait for container init: {e}"));
                255
            }
        };
        let oom_killed = r.oom_killed();
        trace("shim.reaped");
        self.exited(ExitStatus { code, oom_killed });
    }

    fn exited(&mut self, status: ExitStatus) {
        self.exit = Some((status, Instant::now()));
    }

    /// Records the exit and tells everyone: log rest, exit.json, attach
    /// streams closed, cgroup removed, socket removed, waits answered.
    fn finish(mut self) {
        let status = match self.exit {
            Some((st, _)) => st,
            None => return,
        };
        for s in Stream::ALL {
            if self.io.outputs[s.index()].is_some() {
                self.end_output(s);
            }
        }
        self.close_stdin();
        self.execs.finish(&mut self.clients);
        let finished_at = berth_util::time::now_rfc3339();
        if let Err(e) = exit::write_record(&self.bundle, status, &finished_at) {
            diag::log(&format!("write exit.json: {e}"));
        }
        trace("shim.exit-recorded");
        // Attach streams end first: a client sees all output before the exit.
        let deadline = Instant::now() + FLUSH;
        self.clients.retain(|c| !c.finished());
        flush_all(&mut self.clients, deadline);
        self.clients.retain(|c| c.phase == Phase::Waiter);
        // Cgroup and socket go before any waiter hears of the exit, so a
        // restart by the daemon never races this shim's cleanup.
        if let Init::Running(r) = &self.init {
            if let Err(e) = r.cleanup() {
                diag::log(&format!("remove cgroup: {e}"));
            }
        }
        if let Some(sock) = self.socket.take() {
            sock.remove();
        }
        trace("shim.cleaned-up");
        let answer = status.wait_answer();
        for c in &mut self.clients {
            if c.phase == Phase::Waiter {
                c.answer(&answer);
            }
        }
        flush_all(&mut self.clients, deadline);
        trace("shim.waiters-answered");
    }
}

/// Notes a failed log write in shim.log, once per shim (a full disk would
/// otherwise repeat it for every chunk).
fn log_error(already: &mut bool, e: std::io::Error) {
    if !*already {
        diag::log(&format!("write json log: {e}"));
        *already = true;
    }
}

/// Writes as much of `data` to the non-blocking `fd` as it takes now;
/// `Err` when the reading end is gone.
pub(crate) fn write_some(fd: &OwnedFd, data: &[u8]) -> Result<usize, ()> {
    let mut done = 0;
    while done < data.len() {
        match nix::unistd::write(fd, &data[done..]) {
            Ok(n) => done += n,
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => break,
            Err(_) => return Err(()),
        }
    }
    Ok(done)
}

/// An error message fit for one answer line.
fn one_line(msg: &str) -> String {
    msg.replace('\n', " ")
}

/// Writes out every client's queue, waiting for slow ones until `deadline`.
fn flush_all(clients: &mut [Client], deadline: Instant) {
    let mut fds: Vec<libc::pollfd> = Vec::new();
    loop {
        fds.clear();
        fds.extend(
            clients
                .iter()
                .filter(|c| c.has_queued() && !c.dead)
                .map(|c| libc::pollfd {
                    fd: c.fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                }),
        );
        let left = deadline.saturating_duration_since(Instant::now());
        if fds.is_empty() || left.is_zero() {
            return;
        }
        let timeout = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd entries.
        if unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) } < 0
            && Errno::last() != Errno::EINTR
        {
            return;
        }
        for c in clients.iter_mut() {
            if c.has_queued() {
                c.flush();
            }
        }
    }
}
