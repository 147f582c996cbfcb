//! The shim's own diagnostics: its stderr is `/dev/null` (it outlives the
//! daemon that could read it), so problems worth knowing about are appended
//! to `<bundle>/shim.log`, created only when there is something to say.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static LOG_PATH: OnceLock<PathBuf> = OnceLock::new();

/// Sends later [`log`] lines and panic messages to `<bundle>/shim.log`.
pub fn init(bundle: &Path) {
    let _ = LOG_PATH.set(bundle.join("shim.log"));
    std::panic::set_hook(Box::new(|info| log(&format!("panic: {info}"))));
}

/// Appends one timestamped line; silently does nothing if that fails.
pub fn log(msg: &str) {
    let Some(path) = LOG_PATH.get() else {
        return;
    };
    let line = format!(
        "{} berth-shim[{}]: {msg}\n",
        berth_util::time::now_rfc3339(),
        std::process::id()
    );
    if let Ok(mut f) = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}
