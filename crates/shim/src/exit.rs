//! How the container ended and `<bundle>/exit.json`, the record a restarted
//! daemon reads when the shim is already gone.

use serde::Serialize;
use std::io;
use std::path::Path;

/// The init's exit as the daemon reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus {
    /// Exit code, or 128 + signal number.
    pub code: i32,
    pub oom_killed: bool,
}

impl ExitStatus {
    /// The answer to a `wait` request: `exit <code> <oom 0/1>`.
    pub fn wait_answer(&self) -> String {
        format!("exit {} {}", self.code, u8::from(self.oom_killed))
    }
}

#[derive(Serialize)]
struct Record<'a> {
    #[serde(rename = "ExitCode")]
    exit_code: i32,
    #[serde(rename = "OOMKilled")]
    oom_killed: bool,
    #[serde(rename = "FinishedAt")]
    finished_at: &'a str,
}

/// Writes `<bundle>/exit.json` atomically (temporary file and rename), without
/// fsync: it is on the path of every container's exit, and durability buys
/// nothing here. The daemon keeps the exit in its own record (fsynced), and
/// reads this file only when it missed the shim's answer; a host crash kills
/// every container anyway, and a file that a power loss left empty or absent
/// is read as "no report" (exit code 255 and a `State.Error`).
pub fn write_record(bundle: &Path, status: ExitStatus, finished_at: &str) -> io::Result<()> {
    let record = Record {
        exit_code: status.code,
        oom_killed: status.oom_killed,
        finished_at,
    };
    let json = serde_json::to_vec(&record).map_err(io::Error::other)?;
    berth_util::fs::write_atomic_unsynced(&bundle.join("exit.json"), &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_has_docker_field_names() {
        let dir = tempfile::tempdir().unwrap();
        let st = ExitStatus {
            code: 137,
            oom_killed: true,
        };
        write_record(dir.path(), st, "2026-11-23T16:26:19.5Z").unwrap();
        let text = std::fs::read_to_string(dir.path().join("exit.json")).unwrap();
        assert_eq!(
            text,
            r#"{"ExitCode":137,"OOMKilled":true,"FinishedAt":"2026-11-23T16:26:19.5Z"}"#
        );
        assert_eq!(st.wait_answer(), "exit 137 1");
    }
}
