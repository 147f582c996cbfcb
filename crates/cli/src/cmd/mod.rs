//! The command table: every command and management-command alias, their
//! parsing specs and handlers, and the top-level and management help.

pub mod archive;
pub mod attach;
pub mod common;
pub mod cp;
pub mod cparchive;
pub mod events;
pub mod exec;
pub mod fsops;
pub mod images;
pub mod inspect;
pub mod lifecycle;
pub mod logs;
pub mod manage;
pub mod network;
pub mod observe;
pub mod ps;
pub mod run;
pub mod system;
pub mod volume;

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
    e("run", &run::RUN_SPEC, run::run_run),
    e("container run", &run::RUN_SPEC, run::run_run),
    e("create", &run::CREATE_SPEC, run::run_create),
    e("exec", &exec::SPEC, exec::run),
    e("container exec", &exec::SPEC, exec::run),
    e("attach", &attach::SPEC, attach::run),
    e("container attach", &attach::SPEC, attach::run),
    e("container create", &run::CREATE_SPEC, run::run_create),
    e("ps", &ps::SPEC, ps::run),
    e("container ls", &ps::SPEC, ps::run),
    e("container list", &ps::SPEC, ps::run),
    e("container ps", &ps::SPEC, ps::run),
    e("start", &lifecycle::START_SPEC, lifecycle::start),
    e("container start", &lifecycle::START_SPEC, lifecycle::start),
    e("stop", &lifecycle::STOP_SPEC, lifecycle::stop),
    e("container stop", &lifecycle::STOP_SPEC, lifecycle::stop),
    e("restart", &lifecycle::RESTART_SPEC, lifecycle::restart),
    e(
        "container restart",
        &lifecycle::RESTART_SPEC,
        lifecycle::restart,
    ),
    e("kill", &lifecycle::KILL_SPEC, lifecycle::kill),
    e("container kill", &lifecycle::KILL_SPEC, lifecycle::kill),
    e("wait", &lifecycle::WAIT_SPEC, lifecycle::wait),
    e("container wait", &lifecycle::WAIT_SPEC, lifecycle::wait),
    e("rm", &lifecycle::RM_SPEC, lifecycle::rm),
    e("container rm", &lifecycle::RM_SPEC, lifecycle::rm),
    e("container remove", &lifecycle::RM_SPEC, lifecycle::rm),
    e("logs", &logs::SPEC, logs::run),
    e("container logs", &logs::SPEC, logs::run),
    e("inspect", &inspect::SPEC, inspect::run),
    e(
        "container inspect",
        &inspect::CONTAINER_SPEC,
        inspect::run_container,
    ),
    e("image inspect", &inspect::IMAGE_SPEC, inspect::run_image),
    e("images", &images::LS_SPEC, images::ls),
    e("image ls", &images::LS_SPEC, images::ls),
    e("image list", &images::LS_SPEC, images::ls),
    e("history", &images::HISTORY_SPEC, images::history),
    e("image history", &images::HISTORY_SPEC, images::history),
    e("tag", &images::TAG_SPEC, images::tag),
    e("image tag", &images::TAG_SPEC, images::tag),
    e("rmi", &images::RMI_SPEC, images::rmi),
    e("image rm", &images::RMI_SPEC, images::rmi),
    e("image remove", &images::RMI_SPEC, images::rmi),
    e("image prune", &images::PRUNE_SPEC, images::prune),
    e("load", &archive::LOAD_SPEC, archive::load),
    e("image load", &archive::LOAD_SPEC, archive::load),
    e("save", &archive::SAVE_SPEC, archive::save),
    e("image save", &archive::SAVE_SPEC, archive::save),
    e("import", &archive::IMPORT_SPEC, archive::import),
    e("image import", &archive::IMPORT_SPEC, archive::import),
    e("stats", &observe::stats::SPEC, observe::stats::run),
    e(
        "container stats",
        &observe::stats::SPEC,
        observe::stats::run,
    ),
    e("top", &observe::top::SPEC, observe::top::run),
    e("container top", &observe::top::SPEC, observe::top::run),
    e("port", &observe::port::SPEC, observe::port::run),
    e(
        "container port",
        &observe::port::SPEC,
        observe::port::run_container,
    ),
    e("system df", &observe::df::SPEC, observe::df::run),
    e("version", &system::VERSION_SPEC, system::version),
    e("info", &system::INFO_SPEC, system::info),
    e("system info", &system::INFO_SPEC, system::info),
    e("pause", &manage::PAUSE_SPEC, manage::pause),
    e("container pause", &manage::PAUSE_SPEC, manage::pause),
    e("unpause", &manage::UNPAUSE_SPEC, manage::unpause),
    e("container unpause", &manage::UNPAUSE_SPEC, manage::unpause),
    e("rename", &manage::RENAME_SPEC, manage::rename),
    e("container rename", &manage::RENAME_SPEC, manage::rename),
    e("update", &manage::UPDATE_SPEC, manage::update),
    e("container update", &manage::UPDATE_SPEC, manage::update),
    e(
        "container prune",
        &manage::CONTAINER_PRUNE_SPEC,
        manage::container_prune,
    ),
    e(
        "system prune",
        &manage::SYSTEM_PRUNE_SPEC,
        manage::system_prune,
    ),
    e("events", &events::SPEC, events::run),
    e("system events", &events::SPEC, events::run),
    e("network connect", &network::CONNECT_SPEC, network::connect),
    e("network create", &network::CREATE_SPEC, network::create),
    e(
        "network disconnect",
        &network::DISCONNECT_SPEC,
        network::disconnect,
    ),
    e(
        "network inspect",
        &inspect::NETWORK_SPEC,
        inspect::run_network,
    ),
    e("network ls", &network::LS_SPEC, network::ls),
    e("network list", &network::LS_SPEC, network::ls),
    e("network prune", &network::PRUNE_SPEC, network::prune),
    e("network rm", &network::RM_SPEC, network::rm),
    e("network remove", &network::RM_SPEC, network::rm),
    e("volume create", &volume::CREATE_SPEC, volume::create),
    e("volume inspect", &inspect::VOLUME_SPEC, inspect::run_volume),
    e("volume ls", &volume::LS_SPEC, volume::ls),
    e("volume list", &volume::LS_SPEC, volume::ls),
    e("volume prune", &volume::PRUNE_SPEC, volume::prune),
    e("volume rm", &volume::RM_SPEC, volume::rm),
    e("volume remove", &volume::RM_SPEC, volume::rm),
    e("diff", &fsops::DIFF_SPEC, fsops::diff),
    e("container diff", &fsops::DIFF_SPEC, fsops::diff),
    e("commit", &fsops::COMMIT_SPEC, fsops::commit),
    e(
        "container commit",
        &fsops::COMMIT_SPEC,
        fsops::container_commit,
    ),
    e("export", &fsops::EXPORT_SPEC, fsops::export),
    e("container export", &fsops::EXPORT_SPEC, fsops::export),
    e("cp", &cp::CP_SPEC, cp::run),
    e("container cp", &cp::CP_SPEC, cp::run),
];

/// Management commands and their one-line descriptions.
const MANAGEMENT: &[(&str, &str)] = &[
    ("container", "Manage containers"),
    ("image", "Manage images"),
    ("network", "Manage networks"),
    ("system", "Manage berth"),
    ("volume", "Manage volumes"),
];

/// Top-level commands shown in `berth --help`.
const TOP: &[(&str, &str)] = &[
    ("run", "Create and run a new container from an image"),
    ("exec", "Execute a command in a running container"),
    ("ps", "List containers"),
    ("images", "List images"),
    ("version", "Show the berth version information"),
    ("info", "Display system-wide information"),
    (
        "attach",
        "Attach local standard input, output, and error streams to a running container",
    ),
    ("commit", "Create a new image from a container's changes"),
    (
        "cp",
        "Copy files/folders between a container and the local filesystem",
    ),
    ("create", "Create a new container"),
    (
        "diff",
        "Inspect changes to files or directories on a container's filesystem",
    ),
    ("events", "Get real time events from the server"),
    ("export", "Export a container's filesystem as a tar archive"),
    ("history", "Show the history of an image"),
    (
        "import",
        "Import the contents from a tarball to create a filesystem image",
    ),
    ("inspect", "Return low-level information on berth objects"),
    ("kill", "Kill one or more running containers"),
    ("load", "Load an image from a tar archive or STDIN"),
    ("logs", "Fetch the logs of a container"),
    (
        "port",
        "List port mappings or a specific mapping for the container",
    ),
    ("pause", "Pause all processes within one or more containers"),
    ("rename", "Rename a container"),
    ("restart", "Restart one or more containers"),
    ("rm", "Remove one or more containers"),
    ("rmi", "Remove one or more images"),
    (
        "save",
        "Save one or more images to a tar archive (streamed to STDOUT by default)",
    ),
    ("start", "Start one or more stopped containers"),
    (
        "stats",
        "Display a live stream of container(s) resource usage statistics",
    ),
    ("stop", "Stop one or more running containers"),
    (
        "tag",
        "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    ),
    (
        "unpause",
        "Unpause all processes within one or more containers",
    ),
    ("update", "Update configuration of one or more containers"),
    ("top", "Display the running processes of a container"),
    (
        "wait",
        "Block until one or more containers stop, then print their exit codes",
    ),
];

/// The `berth --help` text.
pub fn top_help() -> String {
    let mut s = format!("Usage:  {BIN} [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\nManagement Commands:\n");
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
    let mut s = format!("Usage:  {BIN} {group} COMMAND\n\n{about}\n\nCommands:\n");
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
    s.push_str(&format!(
        "\nRun '{BIN} {group} COMMAND --help' for more information on a command.\n"
    ));
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
    let spec = Spec {
        path: entry.path,
        ..*entry.spec
    };
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
