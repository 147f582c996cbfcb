//! Signals during an attached session: a thread that receives the signals a
//! user sends to `berth` and forwards them to the container (docker's
//! `--sig-proxy`), and resizes the container's (or an exec's) tty on
//! `SIGWINCH`. The
//! signals are blocked in every thread and taken with `sigwait`, so they
//! must be set up before any other thread is spawned.

use crate::api::{enc, Client};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};

const FORWARDED: &[Signal] = &[
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGTERM,
    Signal::SIGCONT,
    Signal::SIGTSTP,
    Signal::SIGTTIN,
    Signal::SIGTTOU,
    Signal::SIGVTALRM,
    Signal::SIGPROF,
    Signal::SIGXCPU,
    Signal::SIGXFSZ,
];

/// Docker's signal name (without `SIG`).
fn name(sig: Signal) -> &'static str {
    let s: &'static str = sig.as_str();
    s.strip_prefix("SIG").unwrap_or(s)
}

/// Sends the current terminal size to the container.
pub fn resize(client: &Client, id: &str) {
    resize_at(client, &format!("/containers/{}/resize", enc(id)));
}

/// Sends the current terminal size to an exec'd process.
pub fn resize_exec(client: &Client, exec_id: &str) {
    resize_at(client, &format!("/exec/{}/resize", enc(exec_id)));
}

fn resize_at(client: &Client, path: &str) {
    if let Some((h, w)) = crate::term::size(1) {
        let _ = client.post(&format!("{path}?h={h}&w={w}"));
    }
}

/// Follows terminal size changes for an exec'd process (SIGWINCH only).
pub fn start_exec_resize(client: &Client, exec_id: &str) {
    let mut set = SigSet::empty();
    set.add(Signal::SIGWINCH);
    if nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None).is_err() {
        return;
    }
    let client = client.clone();
    let id = exec_id.to_string();
    std::thread::spawn(move || {
        while set.wait().is_ok() {
            resize_exec(&client, &id);
        }
    });
}

/// Blocks the signals and starts the forwarding thread. `proxy` forwards
/// signals to the container; `tty_resize` follows terminal size changes.
pub fn start(client: &Client, id: &str, proxy: bool, tty_resize: bool) {
    let mut set = SigSet::empty();
    if proxy {
        for s in FORWARDED {
            set.add(*s);
        }
    }
    if tty_resize {
        set.add(Signal::SIGWINCH);
    }
    if set.iter().next().is_none() {
        return;
    }
    if nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None).is_err() {
        return;
    }
    let client = client.clone();
    let id = id.to_string();
    std::thread::spawn(move || loop {
        let Ok(sig) = set.wait() else { return };
        if sig == Signal::SIGWINCH {
            resize(&client, &id);
            continue;
        }
        let _ = client.post(&format!(
            "/containers/{}/kill?signal={}",
            enc(&id),
            name(sig)
        ));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_signal_names() {
        assert_eq!(name(Signal::SIGINT), "INT");
        assert_eq!(name(Signal::SIGTERM), "TERM");
    }
}
