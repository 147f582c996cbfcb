//! From the detached process to a serving shim: load the bundle, make the
//! stdio, bind the control socket, create the container, report readiness,
//! then hand over to the loop.

use crate::args::Args;
use crate::detach::{self, Ready};
use crate::logfile::LogFile;
use crate::rotate::Rotation;
use crate::shim::Shim;
use crate::socket::{ControlSocket, SocketError};
use crate::stdio::{self, ShimIo, StdioError};
use crate::{diag, memory};
use berth_runtime::{Bundle, CreateError, Created};
use berth_util::trace::mark as trace;
use std::path::PathBuf;
use std::process::ExitCode;
use thiserror::Error;

/// Annotation: close the container's stdin when the attach client that
/// feeds it ends its input (Docker's `StdinOnce`).
pub const ANNOTATION_STDIN_ONCE: &str = "berth.stdin-once";
/// Annotation: give the container a stdin pipe (Docker's `OpenStdin`);
/// without it the container's stdin is `/dev/null`.
pub const ANNOTATION_OPEN_STDIN: &str = "berth.open-stdin";

/// Why the shim could not get to serving a created container.
#[derive(Debug, Error)]
pub enum SetupError {
    #[error("{0}")]
    Signals(#[from] detach::DetachError),
    /// `read …` / `parse …` of the bundle, as the runtime words it.
    #[error("{0}")]
    Bundle(#[source] CreateError),
    #[error("open {path}: {source}")]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Socket(#[from] SocketError),
    #[error("{0}")]
    Stdio(#[from] StdioError),
    /// Verbatim: the daemon derives 126/127 from the exec error's text.
    #[error("{0}")]
    Create(#[source] CreateError),
}

/// Everything the loop starts with.
struct Prepared {
    created: Created,
    socket: ControlSocket,
    io: ShimIo,
    log: LogFile,
    stdin_once: bool,
}

/// Runs the detached shim to the end; the exit code is non-zero only when
/// the container could not be created.
pub fn run(args: &Args, ready: Ready) -> ExitCode {
    diag::init(&args.bundle);
    let p = match prepare(args) {
        Ok(p) => p,
        Err(e) => {
            let msg = e.to_string();
            diag::log(&msg);
            ready.error(&msg);
            return ExitCode::FAILURE;
        }
    };
    ready.ok(p.created.pid());
    trace("shim.ready-sent");
    memory::release();
    Shim::new(
        args.bundle.clone(),
        p.socket,
        p.created,
        p.io,
        p.log,
        p.stdin_once,
    )
    .run();
    ExitCode::SUCCESS
}

fn prepare(args: &Args) -> Result<Prepared, SetupError> {
    detach::install_signal_handlers()?;
    trace("shim.detached");
    let bundle = Bundle::load(&args.bundle).map_err(SetupError::Bundle)?;
    trace("shim.bundle-loaded");
    let annotation = |key: &str| {
        bundle
            .spec
            .annotations
            .get(key)
            .is_some_and(|v| v == "true")
    };
    let stdin_once = annotation(ANNOTATION_STDIN_ONCE);
    let open_stdin = stdin_once || annotation(ANNOTATION_OPEN_STDIN);
    let path = args.bundle.join(format!("{}-json.log", args.id));
    let rotation =
        Rotation::from_annotations(|k| bundle.spec.annotations.get(k).map(String::as_str));
    let log = LogFile::open(&path, rotation).map_err(|source| SetupError::Log { path, source })?;
    let socket = ControlSocket::bind(&args.socket)?;
    let made = stdio::create(bundle.spec.process.terminal, open_stdin)
        .map_err(SetupError::from)
        .and_then(|(container_stdio, io)| {
            let mut created = berth_runtime::create(&bundle, &args.id, container_stdio)
                .map_err(SetupError::Create)?;
            let io = match io {
                Some(io) => io,
                None => stdio::from_console(created.take_console())?,
            };
            Ok((created, io))
        });
    match made {
        Ok((created, io)) => Ok(Prepared {
            created,
            socket,
            io,
            log,
            stdin_once,
        }),
        Err(e) => {
            socket.remove();
            Err(e)
        }
    }
}
