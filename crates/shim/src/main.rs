//! berth-shim: one per container. Creates the container through
//! `berth_runtime`, holds its stdio, writes the json-file log and `exit.json`,
//! and serves the control socket the daemon talks to (see "Daemon ↔ shim
//! contract" in docs/ARCHITECTURE.md). It forks away from the daemon at
//! once, so that the daemon can die or restart without the container noticing.

mod args;
mod client;
mod detach;
mod diag;
mod exit;
mod frame;
mod jsonlog;
mod logfile;
mod memory;
mod request;
mod setup;
mod shim;
mod socket;
mod stdio;

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    memory::tune_allocator();
    let args = match args::parse(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            // The daemon reads the readiness line from stdout; a human reads stderr.
            let _ = writeln!(std::io::stdout(), "error {e}");
            let _ = writeln!(std::io::stderr(), "berth-shim: {e}");
            return ExitCode::from(2);
        }
    };
    match detach::detach() {
        Ok(detach::Detached::Parent) => ExitCode::SUCCESS,
        Ok(detach::Detached::Shim(ready)) => setup::run(&args, ready),
        Err(e) => {
            let _ = writeln!(std::io::stdout(), "error {e}");
            ExitCode::FAILURE
        }
    }
}
