//! The command table: every command and management-command alias, their
//! parsing specs and handlers, and the top-level and management help.

pub mod common;
pub mod ps;

use crate::args::{self, Outcome, Parsed, Spec, BIN};
use crate::error::{CliError, Result};
use common::Ctx;

type Handler = fn(&Ctx, &Parsed) -> Result<()>;

struct Entry {
    path: &'static str,
    spec: &'static Spec,
    run: Handler,
}

const fn e(path: &'static str, spec: &'static Spec, run: Handler) -> Entry {
    Entry { path, spec, run }
}

const COMMANDS: &[Entry] = &[
    e("ps", &ps::SPEC, ps::run),
    e("container ls", &ps::SPEC, ps::run),
    e("container list", &ps::SPEC, ps::run),
    e("container ps", &ps::SPEC, ps::run),
];

/// Management commands and their one-line descriptions.
const MANAGEMENT: &[(&str, &str)] = &[
    ("container", "Manage containers"),
    ("image", "Manage images"),
    ("system", "Manage berth"),
];

/// Top-level commands shown in `berth --help`.
const TOP: &[(&str, &str)] = &[
    ("run", "Create and run a new container from an image"),
    ("ps", "List containers"),
    ("images", "List images"),
    ("version", "Show the berth version information"),
    ("info", "Display system-wide information"),
    ("create", "Create a new container"),
    ("history", "Show the history of an image"),
    ("import", "Import the contents from a tarball to create a filesystem image"),
    ("inspect", "Return low-level information on berth objects"),
    ("kill", "Kill one or more running containers"),
    ("load", "Load an image from a tar archive or STDIN"),
    ("logs", "Fetch the logs of a container"),
    ("restart", "Restart one or more containers"),
    ("rm", "Remove one or more containers"),
    ("rmi", "Remove one or more images"),
    ("save", "Save one or more images to a tar archive (streamed to STDOUT by default)"),
    ("start", "Start one or more stopped containers"),
    ("stop", "Stop one or more running containers"),
    ("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    ("wait", "Block until one or more containers stop, then print their exit codes"),
];

/// The `berth --help` text.
pub fn top_help() -> String {
    let mut s = format!("\nUsage:  {BIN} [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\nManagement Commands:\n");
    for (n, d) in MANAGEMENT {
        s.push_str(&format!("  {n:<11} {d}\n"));
    }
    s.push_str("\nCommands:\n");
    for (n, d) in TOP {
        s.push_str(&format!("  {n:<11} {d}\n"));
    }
    s.push_str(&format!(
        "\nGlobal Options:\n  -D, --debug              Enable debug mode\n  -H, --host string        Daemon socket to connect to\n  -l, --log-level string   Set the logging level\n  -v, --version            Print version information and quit\n\nRun '{BIN} COMMAND --help' for more information on a command.\n"
    ));
    s
}

fn management_help(group: &str, about: &str) -> String {
    let mut s = format!("\nUsage:  {BIN} {group} COMMAND\n\n{about}\n\nCommands:\n");
    let prefix = format!("{group} ");
    let mut seen = Vec::new();
    for c in COMMANDS {
        if let Some(sub) = c.path.strip_prefix(&prefix) {
            if seen.contains(&c.spec.about) {
                continue;
            }
            seen.push(c.spec.about);
            s.push_str(&format!("  {sub:<11} {}\n", c.spec.about));
        }
    }
    s.push_str(&format!("\nRun '{BIN} {group} COMMAND --help' for more information on a command.\n"));
    s
}

/// Runs the command named by `argv` (after global options).
pub fn dispatch(host: Option<&str>, argv: &[String]) -> Result<()> {
    let Some(first) = argv.first() else {
        common::out(&top_help());
        return Ok(());
    };
    if first == "help" {
        let mut rest: Vec<String> = argv[1..].to_vec();
        if rest.is_empty() {
            common::out(&top_help());
            return Ok(());
        }
        rest.push("--help".into());
        return dispatch(host, &rest);
    }
    let (path, rest) = if let Some((group, about)) = MANAGEMENT.iter().find(|(g, _)| g == first) {
        match argv.get(1) {
            None => {
                common::out(&management_help(group, about));
                return Ok(());
            }
            Some(sub) if sub == "--help" || sub == "-h" => {
                common::out(&management_help(group, about));
                return Ok(());
            }
            Some(sub) => (format!("{group} {sub}"), &argv[2..]),
        }
    } else {
        (first.clone(), &argv[1..])
    };
    let Some(entry) = COMMANDS.iter().find(|c| c.path == path) else {
        if let Some((group, _)) = MANAGEMENT.iter().find(|(g, _)| g == first) {
            return Err(CliError::msg(format!(
                "{BIN}: unknown command: {BIN} {path}\n\nUsage:  {BIN} {group}\n\nRun '{BIN} {group} --help' for more information"
            )));
        }
        return Err(CliError::msg(format!(
            "{BIN}: unknown command: {BIN} {path}\n\nRun '{BIN} --help' for more information"
        )));
    };
    let spec = Spec { path: entry.path, ..*entry.spec };
    match args::parse(&spec, rest)? {
        Outcome::Help => {
            common::out(&spec.help());
            Ok(())
        }
        Outcome::Run(p) => {
            let client = crate::api::Client::from_env(host).map_err(CliError::from)?;
            (entry.run)(&Ctx { client }, &p)
        }
    }
}
