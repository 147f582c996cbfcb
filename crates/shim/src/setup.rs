//! From the detached process to a serving shim: load the bundle, make the
//! stdio, bind the control socket, create the container, report readiness,
//! then hand over to the loop.

use crate::args::Args;
use crate::detach::{self, Ready};
use crate::logfile::LogFile;
use crate::shim::Shim;
use crate::socket::ControlSocket;
use crate::{diag, memory, stdio};
use berth_runtime::Bundle;
use std::process::ExitCode;

/// Annotation: close the container's stdin when the attach client that
/// feeds it ends its input (Docker's `StdinOnce`).
pub const ANNOTATION_STDIN_ONCE: &str = "berth.stdin-once";
/// Annotation: give the container a stdin pipe (Docker's `OpenStdin`);
/// without it the container's stdin is `/dev/null`.
pub const ANNOTATION_OPEN_STDIN: &str = "berth.open-stdin";

/// Runs the detached shim to the end; the exit code is non-zero only when
/// the container could not be created.
pub fn run(args: &Args, ready: Ready) -> ExitCode {
    diag::init(&args.bundle);
    let (created, socket, io, log, stdin_once) = match prepare(args) {
        Ok(parts) => parts,
        Err(msg) => {
            diag::log(&msg);
            ready.error(&msg);
            return ExitCode::FAILURE;
        }
    };
    ready.ok(created.pid());
    memory::trim();
    Shim::new(args.bundle.clone(), socket, created, io, log, stdin_once).run();
    ExitCode::SUCCESS
}

type Prepared = (
    berth_runtime::Created,
    ControlSocket,
    stdio::ShimIo,
    LogFile,
    bool,
);

fn prepare(args: &Args) -> Result<Prepared, String> {
    detach::install_signal_handlers().map_err(|e| e.to_string())?;
    let bundle = Bundle::load(&args.bundle).map_err(|e| e.to_string())?;
    let annotation = |key: &str| bundle.spec.annotations.get(key).is_some_and(|v| v == "true");
    let stdin_once = annotation(ANNOTATION_STDIN_ONCE);
    let open_stdin = stdin_once || annotation(ANNOTATION_OPEN_STDIN);
    let log_path = args.bundle.join(format!("{}-json.log", args.id));
    let log = LogFile::open(&log_path).map_err(|e| format!("open {}: {e}", log_path.display()))?;
    let socket = ControlSocket::bind(&args.socket).map_err(|e| e.to_string())?;
    let made = stdio::create(bundle.spec.process.terminal, open_stdin)
        .map_err(|e| e.to_string())
        .and_then(|(container_stdio, io)| {
            berth_runtime::create(&bundle, &args.id, container_stdio)
                .map(|created| (created, io))
                // Verbatim: the daemon derives 126/127 from the exec error's text.
                .map_err(|e| e.to_string())
        });
    match made {
        Ok((created, io)) => Ok((created, socket, io, log, stdin_once)),
        Err(msg) => {
            socket.remove();
            Err(msg)
        }
    }
}
