//! berth-shim: one per container. Creates the container through
//! `berth_runtime`, holds its stdio, writes the json-file log and `exit.json`,
//! and serves the control socket the daemon talks to (see "Daemon ↔ shim
//! contract" in docs/ARCHITECTURE.md). It forks away from the daemon at
//! once, so that the daemon can die or restart without the container noticing.

mod args;
mod client;
mod detach;
mod diag;
mod exec;
mod exec_session;
mod exit;
mod frame;
mod jsonlog;
mod logfile;
mod memory;
mod request;
mod rotate;
mod setup;
mod shim;
mod socket;
mod stdio;

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    berth_util::trace::mark("shim.main");
    memory::tune_allocator();
    let parsed = args::parse(std::env::args_os().skip(1)).and_then(|a| {
        let cwd = std::env::current_dir().map_err(|e| args::ArgsError::Cwd(e.to_string()))?;
        Ok(a.absolute(&cwd))
    });
    let args = match parsed {
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
