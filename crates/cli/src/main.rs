//! `berth`: the Docker-compatible command line. Parses the global options
//! (`-H`, `-D`, `-l`, `-v`, …), runs the command, prints its error on stderr
//! and exits with docker's status codes.

#![recursion_limit = "256"]

mod api;
mod args;
mod attach;
mod cmd;
mod error;
mod fmt;
mod http;
mod jsonmsg;
mod opts;
mod signals;
mod stream;
mod template;
mod term;

use error::CliError;

/// Global options taking a value.
const GLOBAL_WITH_VALUE: &[&str] = &[
    "-H",
    "--host",
    "-l",
    "--log-level",
    "--config",
    "-c",
    "--context",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];
/// Global options without a value.
const GLOBAL_BOOL: &[&str] = &["-D", "--debug", "--tls", "--tlsverify"];

fn run() -> Result<(), CliError> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut host: Option<String> = None;
    let mut i = 0;
    while i < argv.len() {
        let a = &argv[i];
        if !a.starts_with('-') || a == "-" {
            break;
        }
        if a == "--" {
            i += 1;
            break;
        }
        if a == "-v" || a == "--version" {
            cmd::common::outln(&format!(
                "{} version {}, build {}",
                args::BIN,
                env!("CARGO_PKG_VERSION"),
                env!("BERTH_GIT_COMMIT")
            ));
            return Ok(());
        }
        if a == "--help" || a == "-h" {
            cmd::common::out(&cmd::top_help());
            return Ok(());
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        // Attached short value: -Hunix:///x
        let (name, inline) = if inline.is_none() && name.len() > 2 && !name.starts_with("--") {
            let (n, v) = name.split_at(2);
            (n, Some(v.trim_start_matches('=').to_string()))
        } else {
            (name, inline)
        };
        if GLOBAL_WITH_VALUE.contains(&name) {
            let value = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    match argv.get(i) {
                        Some(v) => v.clone(),
                        None => {
                            return Err(CliError::new(
                                format!("flag needs an argument: {name}\n\nUsage:  {} [OPTIONS] COMMAND\n\nRun '{} --help' for more information", args::BIN, args::BIN),
                                125,
                            ))
                        }
                    }
                }
            };
            if name == "-H" || name == "--host" {
                host = Some(value);
            }
        } else if !GLOBAL_BOOL.contains(&name) {
            return Err(CliError::new(
                format!(
                    "unknown flag: {a}\n\nUsage:  {} [OPTIONS] COMMAND\n\nRun '{} --help' for more information",
                    args::BIN,
                    args::BIN
                ),
                125,
            ));
        }
        i += 1;
    }
    cmd::dispatch(host.as_deref(), &argv[i..])
}

fn main() {
    berth_util::trace::mark("cli.main");
    // SAFETY: restoring the default SIGPIPE action before any I/O, so a closed
    // pipe ends the process quietly as it does for Go programs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    if let Err(e) = run() {
        if !e.message.is_empty() {
            eprintln!("{}", e.message);
        }
        std::process::exit(e.code);
    }
}
