//! One exec'd process as the shim runs it: the runtime's handle on the
//! process, the shim's ends of its stdio, the input its stdin has not
//! taken yet, and its exit. The registry and the protocol are in
//! `crate::exec`.

use crate::frame::Stream;
use crate::shim::{write_some, DRAIN};
use crate::stdio::{self, ShimIo};
use berth_runtime::ExecProcess;
use nix::errno::Errno;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Instant;

/// What a read of one output gave.
pub enum Output {
    /// This many bytes at the start of the buffer.
    Data(usize),
    /// Nothing more now.
    Again,
    /// The stream has ended (closed here).
    Ended,
}

pub struct Session {
    pub id: String,
    process: ExecProcess,
    pub io: ShimIo,
    /// Input the process's stdin has not taken yet.
    pending: Vec<u8>,
    /// Close the process's stdin once `pending` is written.
    close_stdin: bool,
    /// The exit code and when it became known.
    exit: Option<(i32, Instant)>,
}

impl Session {
    pub fn new(id: String, process: ExecProcess, io: ShimIo) -> Session {
        Session {
            id,
            process,
            io,
            pending: Vec::new(),
            close_stdin: false,
            exit: None,
        }
    }

    pub fn pid(&self) -> i32 {
        self.process.pid()
    }

    /// The pidfd to poll while the process runs.
    pub fn pidfd(&self) -> Option<RawFd> {
        self.exit
            .is_none()
            .then(|| self.process.pidfd().as_raw_fd())
    }

    /// The stdin to poll for room while input waits.
    pub fn stdin_waiting(&self) -> Option<RawFd> {
        match &self.io.stdin {
            Some(fd) if !self.pending.is_empty() => Some(fd.as_raw_fd()),
            _ => None,
        }
    }

    /// Whether more input may be read from the client now.
    pub fn takes_input(&self) -> bool {
        self.pending.is_empty()
    }

    /// Passes client input to the process's stdin (dropped without one).
    pub fn write_input(&mut self, data: &[u8]) {
        if self.close_stdin {
            return;
        }
        let written = match &self.io.stdin {
            None => return,
            Some(fd) if self.pending.is_empty() => write_some(fd, data),
            Some(_) => Ok(0),
        };
        match written {
            Ok(n) => self.pending.extend_from_slice(&data[n..]),
            Err(()) => self.drop_stdin(),
        }
    }

    /// Writes input the process's stdin did not take earlier.
    pub fn flush_input(&mut self) {
        let Some(fd) = &self.io.stdin else {
            return;
        };
        match write_some(fd, &self.pending) {
            Ok(n) => {
                self.pending.drain(..n);
            }
            Err(()) => return self.drop_stdin(),
        }
        if self.pending.is_empty() {
            self.pending = Vec::new();
            if self.close_stdin {
                self.drop_stdin();
            }
        }
    }

    /// The client's input ended: the process's stdin is closed once the
    /// input is written, except on a terminal (as Docker: the pty stays).
    pub fn end_input(&mut self) {
        if self.io.tty {
            return;
        }
        self.close_stdin = true;
        self.flush_input();
    }

    fn drop_stdin(&mut self) {
        self.io.stdin = None;
        self.pending = Vec::new();
    }

    /// Reads the next chunk of output `s` into `buf`.
    pub fn read(&mut self, s: Stream, buf: &mut [u8]) -> Output {
        let Some(fd) = &self.io.outputs[s.index()] else {
            return Output::Ended;
        };
        loop {
            match nix::unistd::read(fd.as_raw_fd(), buf) {
                // EIO: every pty slave is closed, the tty's end of file.
                Ok(0) | Err(Errno::EIO) => break,
                Ok(n) => return Output::Data(n),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return Output::Again,
                Err(_) => break,
            }
        }
        self.io.outputs[s.index()] = None;
        Output::Ended
    }

    /// The pidfd became readable: reaps the process.
    pub fn reap(&mut self) {
        if self.exit.is_none() {
            let code = self.process.wait().unwrap_or(255);
            self.exit = Some((code, Instant::now()));
        }
    }

    /// Kills the process (the container is gone) and reaps it.
    pub fn kill(&mut self) {
        if self.exit.is_none() {
            let _ = self.process.kill(libc::SIGKILL);
            self.reap();
        }
    }

    pub fn resize(&self, rows: u16, cols: u16) -> Result<(), stdio::StdioError> {
        match (&self.io.outputs[0], self.io.tty) {
            (Some(master), true) => stdio::resize(master, rows, cols),
            _ => Ok(()),
        }
    }

    /// The exit code once the process has ended.
    pub fn exit_code(&self) -> Option<i32> {
        self.exit.map(|(code, _)| code)
    }

    /// The exit code once the process has ended and its output is read
    /// (or given up on: orphans may hold its pipes open).
    pub fn finished(&self) -> Option<i32> {
        let (code, at) = self.exit?;
        let drained = self.io.outputs.iter().all(Option::is_none) || at.elapsed() >= DRAIN;
        drained.then_some(code)
    }

    /// When the output drain of an ended process is given up.
    pub fn deadline(&self) -> Option<Instant> {
        self.exit.map(|(_, at)| at + DRAIN)
    }
}
