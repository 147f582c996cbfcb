//! Exec instances (`docker exec`): created against a running container,
//! started once, inspectable until their container is gone. Records live
//! in memory only, as Docker's do.
//!
//! Start: the process is the container's (`config.json`'s `process`:
//! capabilities, rlimits, no_new_privileges, umask) with the exec's command,
//! environment (the container's, then the exec's), working directory,
//! terminal and user (the exec's, else the container's), all capabilities
//! the daemon holds when privileged. It is written to
//! `<bundle>/exec-<id>.json` for the container's shim, which starts and
//! supervises it (see "Daemon ↔ shim contract"): an `exec-wait` connection
//! is opened first, so the exit is heard whatever happens after, then
//! `exec <id> <stdin> <stdout> <stderr>` starts it and, when attached,
//! becomes its stdio stream.

use crate::daemon::Daemon;
use crate::error::{Error, Kind, Result};
use crate::model::Config;
use crate::store::Entry;
use crate::{lifecycle, oci, shim};
use berth_runtime::spec::Spec;
use berth_runtime::ExecConfig;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::watch;

/// Ended exec records kept beyond which those of removed containers go.
const KEEP_RECORDS: usize = 256;

/// The body of `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecOptions {
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    /// `[height, width]` of the terminal.
    pub console_size: Option<[u16; 2]>,
    pub detach_keys: String,
    pub tty: bool,
    pub env: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub privileged: bool,
    pub user: String,
    pub working_dir: String,
}

/// The mutable part of an exec instance.
#[derive(Debug, Default)]
struct State {
    running: bool,
    exit_code: Option<i32>,
    pid: i32,
    /// The shim was asked for the exit (it records it, failures too).
    followed: bool,
}

/// One exec instance.
pub struct ExecEntry {
    pub id: String,
    pub container_id: String,
    options: ExecOptions,
    /// The user it runs as: its own, else the container's.
    user: String,
    /// The working directory: its own, else the container's.
    working_dir: String,
    state: Mutex<State>,
    /// Flips to true once the exit code is recorded.
    ended: watch::Sender<bool>,
}

impl ExecEntry {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The detach sequence its client asked for (empty: the default).
    pub fn detach_keys(&self) -> &str {
        &self.options.detach_keys
    }

    /// Whether it runs with a terminal (a raw stream, not Docker frames).
    pub fn tty(&self) -> bool {
        self.options.tty
    }

    /// Docker's exec inspect (`GET /exec/{id}/json`).
    pub fn inspect(&self) -> Value {
        let st = self.lock();
        let cmd = self.options.cmd.as_deref().unwrap_or(&[]);
        json!({
            "ID": self.id,
            "Running": st.running,
            "ExitCode": st.exit_code,
            "ProcessConfig": {
                "tty": self.options.tty,
                "entrypoint": cmd.first().cloned().unwrap_or_default(),
                "arguments": cmd.get(1..).unwrap_or(&[]),
                "privileged": self.options.privileged,
                "user": self.user,
            },
            "OpenStdin": self.options.attach_stdin,
            "OpenStderr": self.options.attach_stderr,
            "OpenStdout": self.options.attach_stdout,
            "CanRemove": false,
            "ContainerID": self.container_id,
            "DetachKeys": self.options.detach_keys,
            "Pid": st.pid,
        })
    }

    /// The command as Docker's event actions show it (`sh -c date`).
    fn command_line(&self) -> String {
        let cmd = self.options.cmd.as_deref().unwrap_or(&[]);
        let (first, rest) = cmd
            .split_first()
            .map_or(("", &[][..]), |(f, r)| (f.as_str(), r));
        format!("{first} {}", rest.join(" "))
    }

    fn record_exit(&self, code: i32) {
        {
            let mut st = self.lock();
            st.running = false;
            st.exit_code = Some(code);
        }
        self.ended.send_replace(true);
    }
}

/// Every exec instance of this daemon.
#[derive(Default)]
pub struct Execs {
    map: Mutex<HashMap<String, Arc<ExecEntry>>>,
}

impl Execs {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<ExecEntry>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, id: &str) -> Result<Arc<ExecEntry>> {
        self.lock()
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("No such exec instance: {id}")))
    }

    /// IDs of a container's execs that have not ended (container inspect's
    /// `ExecIDs`).
    pub fn running_ids(&self, container_id: &str) -> Vec<String> {
        self.lock()
            .values()
            .filter(|e| e.container_id == container_id && e.lock().exit_code.is_none())
            .map(|e| e.id.clone())
            .collect()
    }
}

/// How a start went for the API layer.
pub enum ExecStarted {
    /// Started in the background.
    Detached,
    /// The shim connection now carries the process's stdio (framed unless
    /// `tty`).
    Attached { stream: UnixStream, tty: bool },
    /// It could not run; for an attached start the message goes into the
    /// stream (framed unless `tty`) and the exit code (126/127) is recorded.
    Failed { message: String, tty: bool },
}

/// Docker's wording of a failed exec start.
fn start_error_message(msg: &str) -> String {
    if msg.starts_with("unable to find user") || msg.starts_with("unable to find group") {
        msg.to_string()
    } else {
        format!("OCI runtime exec failed: exec failed: unable to start container process: {msg}: unknown")
    }
}

/// The conflict Docker reports for an exec into a container that cannot
/// take one.
fn not_running(e: &Entry) -> Option<Error> {
    let rec = e.lock();
    if !rec.state.running {
        return Some(Error::conflict(format!(
            "container {} is not running",
            rec.id
        )));
    }
    if rec.state.paused {
        return Some(Error::conflict(format!(
            "Container {} is paused, unpause the container before exec",
            rec.id
        )));
    }
    if rec.state.restarting {
        return Some(Error::conflict(format!(
            "Container {} is restarting, wait until the container is running",
            rec.id
        )));
    }
    None
}

impl Daemon {
    /// `POST /containers/{id}/exec`: records an exec instance; returns its ID.
    pub async fn exec_create(self: &Arc<Self>, key: &str, options: ExecOptions) -> Result<String> {
        let container = self.containers.get(key)?;
        if let Some(e) = not_running(&container) {
            return Err(e);
        }
        if options.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            return Err(Error::invalid("No exec command specified"));
        }
        let (user, working_dir) = {
            let rec = container.lock();
            let user = match options.user.as_str() {
                "" => rec.config.user.clone(),
                u => u.to_string(),
            };
            let wd = match options.working_dir.as_str() {
                "" => rec.config.working_dir.clone(),
                w => w.to_string(),
            };
            (user, wd)
        };
        let entry = Arc::new(ExecEntry {
            id: berth_util::id::new_id(),
            container_id: container.id.clone(),
            options,
            user,
            working_dir,
            state: Mutex::new(State::default()),
            ended: watch::channel(false).0,
        });
        self.prune_execs();
        self.execs.lock().insert(entry.id.clone(), entry.clone());
        let rec = container.lock();
        let action = format!("exec_create: {}", entry.command_line());
        self.emit_container(&rec, &action, &[("execID", entry.id.clone())]);
        Ok(entry.id.clone())
    }

    /// Forgets ended execs of removed containers once there are many.
    fn prune_execs(&self) {
        let mut map = self.execs.lock();
        if map.len() < KEEP_RECORDS {
            return;
        }
        map.retain(|_, e| {
            e.lock().exit_code.is_none() || self.containers.get(&e.container_id).is_ok()
        });
    }

    /// The checks of `POST /exec/{id}/start` that Docker answers before
    /// the connection is hijacked; the exec instance when they pass.
    pub fn exec_startable(&self, id: &str) -> Result<(Arc<ExecEntry>, Arc<Entry>)> {
        let entry = self.execs.get(id)?;
        let container = self
            .containers
            .get(&entry.container_id)
            .map_err(|_| Error::no_such_container(&entry.container_id))?;
        if let Some(e) = not_running(&container) {
            return Err(e);
        }
        let st = entry.lock();
        if st.exit_code.is_some() {
            return Err(Error::conflict(format!(
                "Error: Exec command {id} has already run"
            )));
        }
        if st.running {
            return Err(Error::conflict(format!(
                "Error: Exec command {id} is already running"
            )));
        }
        drop(st);
        Ok((entry, container))
    }

    /// `POST /exec/{id}/start`. Errors before the start are returned as
    /// such; a process that cannot run is [`ExecStarted::Failed`] when
    /// attached, an error when detached.
    pub async fn exec_start(
        self: &Arc<Self>,
        id: &str,
        detach: bool,
        console_size: Option<[u16; 2]>,
    ) -> Result<ExecStarted> {
        let (entry, container) = self.exec_startable(id)?;
        {
            let mut st = entry.lock();
            if st.running || st.exit_code.is_some() {
                return Err(Error::conflict(format!(
                    "Error: Exec command {id} is already running"
                )));
            }
            st.running = true;
        }
        {
            let rec = container.lock();
            let action = format!("exec_start: {}", entry.command_line());
            self.emit_container(&rec, &action, &[("execID", entry.id.clone())]);
        }
        let tty = entry.options.tty;
        let outcome = self
            .exec_launch(&container, &entry, detach, console_size)
            .await;
        match outcome {
            Ok(Some(stream)) => Ok(ExecStarted::Attached { stream, tty }),
            Ok(None) => Ok(ExecStarted::Detached),
            Err(e) => {
                let message = start_error_message(&e.message);
                if !entry.lock().followed {
                    // Failed before the shim heard of it: Docker's default.
                    entry.record_exit(126);
                }
                if detach {
                    let kind = if lifecycle::exec_error_code(&e.message).is_some() {
                        Kind::InvalidArgument
                    } else {
                        Kind::Internal
                    };
                    Err(Error::new(kind, message))
                } else {
                    Ok(ExecStarted::Failed { message, tty })
                }
            }
        }
    }

    /// Writes the process for the shim, registers the exit waiter, starts
    /// it; the stdio stream when attached.
    async fn exec_launch(
        self: &Arc<Self>,
        container: &Arc<Entry>,
        entry: &Arc<ExecEntry>,
        detach: bool,
        console_size: Option<[u16; 2]>,
    ) -> Result<Option<UnixStream>> {
        let dir = self.config.container_dir(&container.id);
        let config = {
            let rec = container.lock();
            exec_config(
                &dir,
                &rec.config,
                &rec.host_config.group_add,
                entry,
                console_size,
            )?
        };
        let bytes = serde_json::to_vec(&config).map_err(|e| Error::internal(e.to_string()))?;
        berth_util::fs::write_atomic(&dir.join(format!("exec-{}.json", entry.id)), &bytes)?;
        let socket = self.config.shim_socket(&container.id);
        let waiter = request_only(&socket, &format!("exec-wait {}", entry.id)).await?;
        let o = &entry.options;
        let (attach_in, attach_out, attach_err) = if detach {
            (false, false, false)
        } else {
            (o.attach_stdin, o.attach_stdout, o.attach_stderr)
        };
        let line = format!(
            "exec {} {} {} {}",
            entry.id, attach_in as u8, attach_out as u8, attach_err as u8
        );
        let started = shim::request(&socket, &line).await;
        // The waiter hears the exit even of a start that failed (126/127).
        entry.lock().followed = true;
        self.clone()
            .follow_exec(entry.clone(), container.clone(), waiter);
        let (answer, stream) = started?;
        let pid = match answer.strip_prefix("ok ") {
            Some(pid) => pid.trim().parse().unwrap_or(0),
            None => {
                return Err(Error::internal(
                    answer.strip_prefix("error ").unwrap_or(&answer).to_string(),
                ))
            }
        };
        entry.lock().pid = pid;
        Ok((attach_in || attach_out || attach_err).then_some(stream))
    }

    /// Records the exit the shim reports on `waiter` and emits `exec_die`.
    fn follow_exec(
        self: Arc<Self>,
        entry: Arc<ExecEntry>,
        container: Arc<Entry>,
        waiter: UnixStream,
    ) {
        tokio::spawn(async move {
            let mut line = String::new();
            let _ = BufReader::new(waiter).read_line(&mut line).await;
            let code = line
                .trim()
                .strip_prefix("exit ")
                .and_then(|c| c.parse::<i32>().ok());
            let started = entry.lock().pid > 0;
            // No answer: the shim is gone with the container, which took
            // its processes along.
            let code = code.unwrap_or(if started { 128 + libc::SIGKILL } else { 126 });
            entry.record_exit(code);
            if started {
                let rec = container.lock();
                self.emit_container(
                    &rec,
                    "exec_die",
                    &[("execID", entry.id.clone()), ("exitCode", code.to_string())],
                );
            }
        });
    }

    /// Waits until the exit code of exec `id` is recorded.
    pub async fn exec_wait(&self, id: &str) -> Result<i32> {
        let entry = self.execs.get(id)?;
        let mut rx = entry.ended.subscribe();
        let _ = rx.wait_for(|ended| *ended).await;
        let code = entry.lock().exit_code.unwrap_or(126);
        Ok(code)
    }

    /// `POST /exec/{id}/resize`.
    pub async fn exec_resize(&self, id: &str, rows: u16, cols: u16) -> Result<()> {
        let entry = self.execs.get(id)?;
        let (running, pid) = {
            let st = entry.lock();
            (st.running, st.pid)
        };
        if !running || pid == 0 {
            // Ended, or not started yet: nothing to size (Docker's CLI
            // retries early resizes; late ones must not fail it).
            return Ok(());
        }
        let socket = self.config.shim_socket(&entry.container_id);
        shim::call(&socket, &format!("exec-resize {id} {rows} {cols}")).await
    }

    /// `GET /exec/{id}/json`.
    pub fn exec_inspect(&self, id: &str) -> Result<Value> {
        Ok(self.execs.get(id)?.inspect())
    }
}

/// Connects and sends one request line without waiting for the answer.
async fn request_only(socket: &Path, line: &str) -> Result<UnixStream> {
    let mut stream = UnixStream::connect(socket)
        .await
        .map_err(|e| Error::internal(format!("cannot reach shim at {}: {e}", socket.display())))?;
    stream.write_all(format!("{line}\n").as_bytes()).await?;
    Ok(stream)
}

/// The exec'd process: the container's process with the exec's command,
/// environment, working directory, terminal and user.
fn exec_config(
    bundle: &Path,
    container: &Config,
    group_add: &Option<Vec<String>>,
    entry: &ExecEntry,
    console_size: Option<[u16; 2]>,
) -> Result<ExecConfig> {
    let text = std::fs::read(bundle.join("config.json"))?;
    let spec: Spec = serde_json::from_slice(&text)
        .map_err(|e| Error::internal(format!("read container spec: {e}")))?;
    let o = &entry.options;
    let mut process = spec.process;
    process.args = o.cmd.clone().unwrap_or_default();
    process.env = exec_env(container, o.tty, o.env.as_deref().unwrap_or(&[]));
    process.cwd = match entry.working_dir.as_str() {
        "" => "/".to_string(),
        w => w.to_string(),
    };
    process.terminal = o.tty;
    process.user.uid = 0;
    process.user.gid = 0;
    process.user.additional_gids = group_add
        .iter()
        .flatten()
        .filter_map(|g| g.parse().ok())
        .collect();
    if o.privileged {
        let all = privileged_caps(oci::Host::probe().caps_mask);
        process.capabilities = Some(berth_runtime::spec::Capabilities {
            bounding: all.clone(),
            effective: all.clone(),
            permitted: all,
            inheritable: Vec::new(),
            ambient: Vec::new(),
        });
    }
    Ok(ExecConfig {
        process,
        user: entry.user.clone(),
        console_size: if o.tty {
            console_size.or(o.console_size)
        } else {
            None
        },
    })
}

/// Docker's exec environment: the container's (`PATH`, `HOSTNAME`, `TERM`
/// for a tty exec, then its `Env`), then the exec's entries replacing or
/// unsetting those of the same key.
fn exec_env(container: &Config, tty: bool, env: &[String]) -> Vec<String> {
    let merged = Config {
        tty,
        hostname: container.hostname.clone(),
        env: Some(container.env.iter().flatten().chain(env).cloned().collect()),
        ..Config::default()
    };
    oci::merged_env(&merged, &berth_image::ImageConfig::default())
}

/// Every capability in `mask` (the daemon's own), by name.
fn privileged_caps(mask: u64) -> Vec<String> {
    berth_runtime::caps::names()
        .iter()
        .enumerate()
        .filter(|(n, _)| *n < 64 && mask & (1u64 << n) != 0)
        .map(|(_, name)| name.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exec_env_is_the_containers_then_the_execs() {
        let c = Config {
            hostname: "abc".into(),
            env: Some(v(&["PATH=/bin", "A=1", "B=2"])),
            ..Config::default()
        };
        assert_eq!(
            exec_env(&c, true, &v(&["B=3", "C=4", "A"])),
            v(&["PATH=/bin", "HOSTNAME=abc", "TERM=xterm", "B=3", "C=4"])
        );
        assert_eq!(
            exec_env(&c, false, &[]),
            v(&["PATH=/bin", "HOSTNAME=abc", "A=1", "B=2"])
        );
    }

    #[test]
    fn start_errors_read_as_dockers() {
        assert_eq!(
            start_error_message("exec: \"x\": executable file not found in $PATH"),
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"x\": executable file not found in $PATH: unknown"
        );
        assert_eq!(
            start_error_message("unable to find user bob: no matching entries in passwd file"),
            "unable to find user bob: no matching entries in passwd file"
        );
    }

    #[test]
    fn privileged_gets_what_the_daemon_holds() {
        let caps = privileged_caps((1 << 0) | (1 << 21) | (1 << 40));
        assert_eq!(
            caps,
            v(&["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"])
        );
    }

    #[test]
    fn inspect_has_dockers_shape() {
        let e = ExecEntry {
            id: "e1".into(),
            container_id: "c1".into(),
            options: ExecOptions {
                cmd: Some(v(&["sh", "-c", "exit 3"])),
                attach_stdout: true,
                ..ExecOptions::default()
            },
            user: "nobody".into(),
            working_dir: String::new(),
            state: Mutex::new(State::default()),
            ended: watch::channel(false).0,
        };
        let j = e.inspect();
        assert_eq!(j["ExitCode"], Value::Null);
        assert_eq!(j["ProcessConfig"]["entrypoint"], "sh");
        assert_eq!(j["ProcessConfig"]["arguments"], json!(["-c", "exit 3"]));
        assert_eq!(j["ProcessConfig"]["user"], "nobody");
        assert_eq!(
            (j["OpenStdout"].as_bool(), j["OpenStdin"].as_bool()),
            (Some(true), Some(false))
        );
        assert_eq!(e.command_line(), "sh -c exit 3");
        e.record_exit(3);
        let j = e.inspect();
        assert_eq!(
            (j["Running"].as_bool(), j["ExitCode"].as_i64()),
            (Some(false), Some(3))
        );
    }
}
