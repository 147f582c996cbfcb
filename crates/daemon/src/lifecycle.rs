//! Container lifecycle: create, start, stop, kill, wait, remove, and the
//! supervision task that turns a shim's exit report into the record.

use crate::daemon::Daemon;
use crate::error::{Error, Kind, Result};
use crate::model::{Config, Container, HostConfig, State};
use crate::store::{Entry, Snapshot};
use crate::{etc_files, names, oci, shim, signal};
use berth_util::time::now_rfc3339;
use berth_util::trace::mark as trace;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What `wait` waits for (`condition=` of the API).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

impl WaitCondition {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "" | "not-running" => Ok(Self::NotRunning),
            "next-exit" => Ok(Self::NextExit),
            "removed" => Ok(Self::Removed),
            _ => Err(Error::invalid(format!("invalid condition: \"{s}\""))),
        }
    }
}

impl Daemon {
    fn bundle(&self, id: &str) -> PathBuf {
        self.config.container_dir(id)
    }

    /// `POST /containers/create`: records the container and prepares its
    /// bundle (rw layer, config.json, etc files). Returns the new ID.
    pub async fn create(
        self: &Arc<Self>,
        name: Option<&str>,
        mut config: Config,
        mut host: HostConfig,
    ) -> Result<String> {
        trace("daemon.create");
        oci::apply_create_defaults(&mut host);
        crate::restart::validate_create(&host)?;
        if config.image.is_empty() {
            return Err(Error::invalid(
                "config cannot be empty in order to create a container",
            ));
        }
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => names::validate(n).map_err(Error::invalid)?.to_string(),
            None => self.unused_name(),
        };
        if let Some(other) = self
            .containers
            .get(&name)
            .ok()
            .filter(|e| e.lock().name == format!("/{name}"))
        {
            return Err(Error::conflict(format!(
                "Conflict. The container name \"/{name}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                other.id
            )));
        }
        let images = self.images.clone();
        let image_ref = config.image.clone();
        let (image_id, image_config, layers) = tokio::task::spawn_blocking(move || {
            let id = images.resolve(&image_ref)?;
            let cfg = images.config(&id)?;
            let layers = images.layer_dirs(&id)?;
            Ok::<_, berth_image::Error>((id, cfg, layers))
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?
        .map_err(|e| match Error::from(e) {
            e if e.kind == Kind::NotFound => {
                Error::not_found(format!("No such image: {}", config.image))
            }
            e => e,
        })?;

        trace("daemon.image-resolved");
        let id = berth_util::id::new_id();
        merge_image_config(&mut config, &image_config);
        let networking =
            crate::network::NetworkingConfig::from_value(config.extra.remove("NetworkingConfig"))?;
        let net = self.network_plan(&name, &config, &mut host, &networking)?;
        if config.hostname.is_empty() && host.network_mode != "host" {
            config.hostname = id[..12].to_string();
        }
        let (path, args) = oci::merged_command(&config, &image_config);
        let mounts = self.resolve_mounts(&id, &config, &host, &layers).await?;
        let dir = self.bundle(&id);
        let prepared =
            self.prepare_bundle(&id, &config, &host, &image_config, &layers, mounts.points());
        let files = match prepared {
            Ok(files) => files,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        trace("daemon.bundle-prepared");
        let record = Container {
            id: id.clone(),
            created: now_rfc3339(),
            path,
            args,
            state: State::default(),
            image: image_id,
            name: format!("/{name}"),
            restart_count: 0,
            config,
            host_config: host,
            has_been_manually_stopped: false,
            mount_points: mounts.points().to_vec(),
        };
        let entry = Entry::new(record.clone());
        if let Err(e) = self.containers.insert(entry, &name) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        if let Err(e) = persist_created(&dir, &record, &files) {
            self.containers.remove(&id);
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        mounts.commit();
        self.network_created(&id, net);
        trace("daemon.created");
        self.emit_container(&record, "create", &[]);
        Ok(id)
    }

    fn unused_name(&self) -> String {
        for retry in 0..10 {
            let n = names::generate(retry);
            if !self.containers.name_taken(&n) {
                return n;
            }
        }
        berth_util::id::random_hex(6)
    }

    fn prepare_bundle(
        &self,
        id: &str,
        config: &Config,
        host: &HostConfig,
        image: &berth_image::ImageConfig,
        layers: &[PathBuf],
        mounts: &[crate::volumes::MountPoint],
    ) -> Result<BundleFiles> {
        let dir = self.bundle(id);
        for sub in ["upper", "work", "rootfs"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        let dockerenv = dir.join("upper/.dockerenv");
        std::fs::write(&dockerenv, b"")?;
        // Docker's /.dockerenv is an empty file with mode 0755.
        std::fs::set_permissions(
            &dockerenv,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )?;
        let host_hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let hostname = if host.network_mode == "host" {
            nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            config.hostname.clone()
        };
        std::fs::write(dir.join("hostname"), etc_files::hostname(&hostname))?;
        std::fs::write(dir.join("hosts"), etc_files::hosts(host, &host_hosts, None))?;
        std::fs::write(
            dir.join("resolv.conf"),
            etc_files::resolv_conf(host, &host_resolv),
        )?;

        let input = oci::SpecInput {
            id,
            config,
            host_config: host,
            image_config: image,
            rootfs: &dir.join("rootfs"),
            hostname_path: &dir.join("hostname"),
            hosts_path: &dir.join("hosts"),
            resolv_conf_path: &dir.join("resolv.conf"),
            mounts,
            cgroups_path: format!("berth/{id}"),
        };
        let mut spec = oci::build_spec(&input).map_err(|e| Error::invalid(e.to_string()))?;
        // Compiled seccomp programs are shared by checksum (runtime's seccomp_cache).
        spec.annotations.insert(
            berth_runtime::seccomp_cache::ANNOTATION.into(),
            self.config.exec_root.join("seccomp").display().to_string(),
        );
        // json-file rotation (`--log-opt max-size`/`max-file`), read by the shim.
        spec.annotations
            .extend(crate::logs::opts::annotations(&host.log_config)?);
        if config.open_stdin {
            spec.annotations
                .insert("berth.open-stdin".into(), "true".into());
            if config.stdin_once {
                spec.annotations
                    .insert("berth.stdin-once".into(), "true".into());
            }
        }
        let lower: Vec<String> = layers.iter().map(|p| p.display().to_string()).collect();
        let rootfs = vec![berth_runtime::spec::Mount {
            destination: "/".into(),
            kind: "overlay".into(),
            source: "overlay".into(),
            options: vec![
                format!("lowerdir={}", lower.join(":")),
                format!("upperdir={}", dir.join("upper").display()),
                format!("workdir={}", dir.join("work").display()),
            ],
        }];
        Ok([
            ("config.json", to_json(&spec)?),
            ("rootfs.json", to_json(&rootfs)?),
        ])
    }

    /// `POST /containers/{id}/start`.
    pub async fn start(self: &Arc<Self>, key: &str) -> Result<()> {
        let entry = self.containers.get(key)?;
        let _op = entry.op.lock().await;
        crate::update::refuse_paused_start(&entry.lock().state)?;
        self.reset_restarts(&entry);
        self.start_locked(&entry).await
    }

    pub(crate) async fn start_locked(self: &Arc<Self>, entry: &Arc<Entry>) -> Result<()> {
        if entry.lock().state.running {
            return Err(Error::not_modified());
        }
        let id = entry.id.clone();
        let dir = self.bundle(&id);
        let socket = self.config.shim_socket(&id);
        let _ = std::fs::remove_file(dir.join("exit.json"));
        trace("daemon.start");
        let started = async {
            self.mount_volumes(entry)?;
            self.network_prestart(entry)
                .await
                .map_err(crate::network::start_error)?;
            let pid = shim::spawn(&self.config.shim_path, &id, &dir, &socket).await?;
            if let Err(e) = self.network_attach(entry, pid).await {
                let _ = shim::call(&socket, &format!("kill {}", libc::SIGKILL)).await;
                return Err(crate::network::start_error(e));
            }
            trace("daemon.shim-ready");
            let pending: Vec<_> = std::mem::take(
                &mut *entry
                    .pending_attach
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
            );
            for (streams, tx) in pending {
                let flags: Vec<bool> = streams.chars().map(|c| c == '1').collect();
                let get = |i: usize| flags.get(i).copied().unwrap_or(false);
                if let Ok(s) = shim::attach(&socket, get(0), get(1), get(2)).await {
                    let _ = tx.send(s);
                }
            }
            trace("daemon.attached");
            shim::call(&socket, "start").await?;
            trace("daemon.shim-started");
            Ok::<i32, Error>(pid)
        }
        .await;
        let pid = match started {
            Ok(pid) => pid,
            Err(e) => return Err(self.start_failed(entry, e).await),
        };
        {
            let mut rec = entry.lock();
            rec.state = State {
                status: "running".into(),
                running: true,
                pid,
                started_at: now_rfc3339(),
                finished_at: rec.state.finished_at.clone(),
                ..State::default()
            };
            rec.has_been_manually_stopped = false;
            self.persist(&rec)?;
            self.emit_container(&rec, "start", &[]);
        }
        entry.publish(|s| {
            s.running = true;
            s.exit_code = 0;
        });
        self.clone().supervise(entry.clone());
        trace("daemon.started");
        Ok(())
    }

    /// Records a failed start as Docker does (exit code 127/126 for exec
    /// errors, the message in `State.Error`) and builds the API error.
    async fn start_failed(self: &Arc<Self>, entry: &Arc<Entry>, e: Error) -> Error {
        let verbatim = crate::network::start_error_text(&e);
        let code = exec_error_code(&e.message).filter(|_| verbatim.is_none());
        let msg = verbatim.unwrap_or_else(|| {
            format!(
                "failed to create task for container: OCI runtime create failed: berth: {}: unknown",
                e.message
            )
        });
        self.network_detach(&entry.id, None).await;
        self.unmount_volumes(entry);
        let auto_remove = {
            let mut rec = entry.lock();
            rec.state.error = msg.clone();
            rec.state.exit_code = code.unwrap_or(128);
            rec.state.status = if rec.state.started_at == berth_util::time::ZERO {
                "created".into()
            } else {
                "exited".into()
            };
            let _ = self.persist(&rec);
            rec.host_config.auto_remove
        };
        entry
            .pending_attach
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let _ = std::fs::remove_file(self.config.shim_socket(&entry.id));
        entry.publish(|s| {
            s.exit_code = code.unwrap_or(128);
            s.exits += 1;
        });
        if auto_remove {
            let _ = self.remove_entry(entry, true).await;
        }
        let kind = if code.is_some() {
            Kind::InvalidArgument
        } else {
            Kind::Internal
        };
        Error::new(kind, msg)
    }

    /// Follows a running container until its shim reports the exit.
    pub(crate) fn supervise(self: Arc<Self>, entry: Arc<Entry>) {
        tokio::spawn(async move {
            let socket = self.config.shim_socket(&entry.id);
            let exit = shim::wait(&socket).await.ok();
            self.on_exit(&entry, exit).await;
        });
    }

    async fn on_exit(self: &Arc<Self>, entry: &Arc<Entry>, exit: Option<shim::Exit>) {
        trace("daemon.exit-reported");
        let net_pid = Some(entry.lock().state.pid).filter(|p| *p != 0);
        let dir = self.bundle(&entry.id);
        let recorded: Option<serde_json::Value> = std::fs::read(dir.join("exit.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let code = exit
            .map(|e| e.code)
            .or_else(|| {
                recorded
                    .as_ref()
                    .and_then(|v| v["ExitCode"].as_i64())
                    .map(|c| c as i32)
            })
            .unwrap_or(255);
        let oom = exit.map(|e| e.oom_killed).unwrap_or_else(|| {
            recorded
                .as_ref()
                .and_then(|v| v["OOMKilled"].as_bool())
                .unwrap_or(false)
        });
        let finished = recorded
            .as_ref()
            .and_then(|v| v["FinishedAt"].as_str().map(str::to_string))
            .unwrap_or_else(now_rfc3339);
        if exit.is_none() && recorded.is_none() {
            // The shim died without a word: its container may live on as an
            // orphan, holding its cgroup. End both, as "exited" promises.
            let id = entry.id.clone();
            let _ = tokio::task::spawn_blocking(move || crate::orphans::reap(&id)).await;
        }
        let (auto_remove, restart) = {
            let mut rec = entry.lock();
            rec.state.status = "exited".into();
            rec.state.running = false;
            rec.state.paused = false;
            rec.state.pid = 0;
            rec.state.exit_code = code;
            rec.state.oom_killed = oom;
            rec.state.finished_at = finished;
            if exit.is_none() && recorded.is_none() {
                rec.state.error = "shim exited without reporting the container's exit".into();
            }
            let restart = self.restart_after_exit(&mut rec);
            // An auto-removed container's record is deleted right below, so
            // it is not written (an fsync on every `run --rm`): after a crash
            // in between, the record still says running, and restore finds
            // the shim gone and handles the exit and the removal again.
            if !(rec.host_config.auto_remove && restart.is_none()) {
                let _ = self.persist(&rec);
            }
            self.emit_container(&rec, "die", &[("exitCode", code.to_string())]);
            if oom {
                self.emit_container(&rec, "oom", &[]);
            }
            (rec.host_config.auto_remove && restart.is_none(), restart)
        };
        trace("daemon.exit-recorded");
        self.unmount_volumes(entry);
        self.network_detach(&entry.id, net_pid).await;
        entry.publish(|s| {
            s.running = false;
            s.exit_code = code;
            s.exits += 1;
        });
        if let Some(r) = restart {
            self.schedule_restart(entry.clone(), r);
        }
        if auto_remove {
            let _ = self.remove_entry(entry, true).await;
        }
    }

    /// `POST /containers/{id}/stop`: the stop signal, then SIGKILL after the timeout.
    pub async fn stop(
        self: &Arc<Self>,
        key: &str,
        timeout: Option<i64>,
        sig: Option<&str>,
    ) -> Result<()> {
        let entry = self.containers.get(key)?;
        let _op = entry.op.lock().await;
        self.stop_locked(&entry, timeout, sig).await?;
        self.stopped_event(&entry);
        Ok(())
    }

    async fn stop_locked(
        &self,
        entry: &Arc<Entry>,
        timeout: Option<i64>,
        sig: Option<&str>,
    ) -> Result<()> {
        let (signo, secs, plan) = {
            let mut rec = entry.lock();
            if !rec.state.running {
                return Err(Error::not_modified());
            }
            let name = sig
                .map(str::to_string)
                .or_else(|| rec.config.stop_signal.clone())
                .unwrap_or_else(|| "SIGTERM".into());
            let signo = signal::parse(&name)
                .ok_or_else(|| Error::invalid(format!("Invalid signal: {name}")))?;
            let plan = self.prepare_kill(&mut rec, signo, true);
            (
                signo,
                timeout.or(rec.config.stop_timeout).unwrap_or(10),
                plan,
            )
        };
        if plan.no_process {
            return Ok(());
        }
        let socket = self.config.shim_socket(&entry.id);
        let mut rx = entry.subscribe();
        let _ = shim::call(&socket, &format!("kill {signo}")).await;
        if plan.thaw {
            self.thaw_if_paused(entry).await;
        }
        let stopped = |s: &Snapshot| !s.running;
        if secs >= 0 {
            let waited =
                tokio::time::timeout(Duration::from_secs(secs as u64), rx.wait_for(stopped)).await;
            if waited.is_ok() {
                return Ok(());
            }
        } else {
            let _ = rx.wait_for(stopped).await;
            return Ok(());
        }
        let _ = shim::call(&socket, &format!("kill {}", libc::SIGKILL)).await;
        self.thaw_if_paused(entry).await;
        let _ = rx.wait_for(stopped).await;
        Ok(())
    }

    /// Emits `stop` once a stop request has finished.
    fn stopped_event(&self, entry: &Entry) {
        let rec = entry.lock();
        self.emit_container(&rec, "stop", &[]);
    }

    /// `POST /containers/{id}/kill`.
    pub async fn kill(&self, key: &str, sig: Option<&str>) -> Result<()> {
        let entry = self.containers.get(key)?;
        let name = sig.filter(|s| !s.is_empty()).unwrap_or("SIGKILL");
        let signo =
            signal::parse(name).ok_or_else(|| Error::invalid(format!("Invalid signal: {name}")))?;
        let plan = {
            let mut rec = entry.lock();
            if !rec.state.running {
                return Err(Error::conflict(format!(
                    "Cannot kill container: {key}: Container {} is not running",
                    entry.id
                )));
            }
            let plan = self.prepare_kill(&mut rec, signo, false);
            if plan.no_process {
                return Ok(());
            }
            self.emit_container(&rec, "kill", &[("signal", signo.to_string())]);
            plan
        };
        shim::call(
            &self.config.shim_socket(&entry.id),
            &format!("kill {signo}"),
        )
        .await?;
        if plan.thaw {
            self.thaw_if_paused(&entry).await;
        }
        Ok(())
    }

    /// `POST /containers/{id}/restart`.
    pub async fn restart(
        self: &Arc<Self>,
        key: &str,
        timeout: Option<i64>,
        sig: Option<&str>,
    ) -> Result<()> {
        let entry = self.containers.get(key)?;
        let _op = entry.op.lock().await;
        match self.stop_locked(&entry, timeout, sig).await {
            Err(e) if e.kind != Kind::NotModified => return Err(e),
            Err(_) => {}
            Ok(()) => self.stopped_event(&entry),
        }
        self.reset_restarts(&entry);
        self.start_locked(&entry).await?;
        let rec = entry.lock();
        self.emit_container(&rec, "restart", &[]);
        Ok(())
    }

    /// `POST /containers/{id}/wait`: the exit code once `condition` holds.
    pub async fn wait(&self, key: &str, condition: WaitCondition) -> Result<i32> {
        let entry = self.containers.get(key)?;
        let mut rx = entry.subscribe();
        let start = *rx.borrow();
        let done = |s: &Snapshot| match condition {
            WaitCondition::NotRunning => !s.running || s.removed,
            WaitCondition::NextExit => s.exits > start.exits || s.removed,
            WaitCondition::Removed => s.removed,
        };
        let waited = rx.wait_for(done).await.map(|s| *s);
        let snap = waited.unwrap_or_else(|_| *rx.borrow());
        Ok(snap.exit_code)
    }

    /// `DELETE /containers/{id}`.
    pub async fn remove(self: &Arc<Self>, key: &str, force: bool) -> Result<()> {
        self.remove_container(key, force, false).await
    }

    /// `DELETE /containers/{id}`; with `volumes` (`rm -v`) the container's
    /// anonymous volumes are removed too.
    pub async fn remove_container(
        self: &Arc<Self>,
        key: &str,
        force: bool,
        volumes: bool,
    ) -> Result<()> {
        let entry = self.containers.get(key)?;
        let _op = entry.op.lock().await;
        let (running, name, refusal) = {
            let rec = entry.lock();
            let refusal = crate::update::remove_refusal(&rec.state);
            (rec.state.running, rec.name.clone(), refusal)
        };
        if running {
            if !force {
                return Err(Error::conflict(format!(
                    "cannot remove container \"{name}\": {refusal}"
                )));
            }
            let mut rx = entry.subscribe();
            let _ = shim::call(
                &self.config.shim_socket(&entry.id),
                &format!("kill {}", libc::SIGKILL),
            )
            .await;
            self.thaw_if_paused(&entry).await;
            let _ =
                tokio::time::timeout(Duration::from_secs(30), rx.wait_for(|s| !s.running)).await;
        }
        self.remove_entry(&entry, volumes).await
    }

    /// Removes a stopped container's record and files.
    async fn remove_entry(&self, entry: &Arc<Entry>, volumes: bool) -> Result<()> {
        if entry.snapshot().removed {
            return Ok(());
        }
        trace("daemon.remove");
        self.containers.remove(&entry.id);
        self.restarts.forget(&entry.id);
        self.network_removed(&entry.id);
        // Gone once renamed; the files are deleted in the background (trash.rs).
        let gone = crate::trash::retire(&self.bundle(&entry.id), &entry.id);
        if let Ok(Some(trash)) = &gone {
            crate::trash::delete_later(trash.clone());
        }
        trace("daemon.removed");
        entry.publish(|s| s.removed = true);
        if volumes {
            let rec = entry.lock().clone();
            self.remove_anonymous_volumes(&rec);
        }
        {
            let rec = entry.lock();
            self.emit_container(&rec, "destroy", &[]);
        }
        gone.map(drop).map_err(Error::from)
    }

    /// Registers an attach that must be connected when the container starts.
    pub fn attach_when_started(
        &self,
        entry: &Arc<Entry>,
        streams: (bool, bool, bool),
    ) -> tokio::sync::oneshot::Receiver<tokio::net::UnixStream> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let flags = format!("{}{}{}", streams.0 as u8, streams.1 as u8, streams.2 as u8);
        entry
            .pending_attach
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((flags, tx));
        rx
    }

    /// A current attach stream to a running container.
    pub async fn attach_running(
        &self,
        id: &str,
        streams: (bool, bool, bool),
    ) -> Result<tokio::net::UnixStream> {
        shim::attach(
            &self.config.shim_socket(id),
            streams.0,
            streams.1,
            streams.2,
        )
        .await
    }

    /// `POST /containers/{id}/resize`.
    pub async fn resize(&self, key: &str, rows: u16, cols: u16) -> Result<()> {
        let entry = self.containers.get(key)?;
        if !entry.lock().state.running {
            return Err(Error::conflict(format!(
                "Container {} is not running",
                entry.id
            )));
        }
        shim::call(
            &self.config.shim_socket(&entry.id),
            &format!("resize {rows} {cols}"),
        )
        .await
    }
}

/// Docker's exit codes for exec failures: 127 not found, 126 not executable.
pub fn exec_error_code(msg: &str) -> Option<i32> {
    if msg.contains("executable file not found") || msg.contains("no such file or directory") {
        Some(127)
    } else if msg.contains("permission denied")
        || msg.contains("is a directory")
        || msg.contains("exec format error")
    {
        Some(126)
    } else {
        None
    }
}

/// Docker's merge of the image's config into the container's at create.
fn merge_image_config(c: &mut Config, image: &berth_image::ImageConfig) {
    if c.user.is_empty() {
        c.user = image.user.clone().unwrap_or_default();
    }
    if let Some(ports) = &image.exposed_ports {
        let mine = c.exposed_ports.get_or_insert_with(Default::default);
        for (k, v) in ports {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let mut env = c.env.take().unwrap_or_default();
    for e in image.env.iter().flatten() {
        let key = e.split('=').next().unwrap_or(e);
        if !env.iter().any(|x| x.split('=').next() == Some(key)) {
            env.push(e.clone());
        }
    }
    c.env = Some(env);
    if let Some(labels) = &image.labels {
        let mine = c.labels.get_or_insert_with(Default::default);
        for (k, v) in labels {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if c.labels.is_none() {
        c.labels = Some(Default::default());
    }
    if c.entrypoint.as_ref().is_none_or(|e| e.is_empty()) {
        if c.cmd.as_ref().is_none_or(|e| e.is_empty()) {
            c.cmd = image.cmd.clone();
        }
        if c.entrypoint.is_none() {
            c.entrypoint = image.entrypoint.clone();
        }
    }
    if c.working_dir.is_empty() {
        c.working_dir = image.working_dir.clone().unwrap_or_default();
    }
    if let Some(vols) = &image.volumes {
        let mine = c.volumes.get_or_insert_with(Default::default);
        for (k, v) in vols {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if c.stop_signal.is_none() {
        c.stop_signal = image.stop_signal.clone().filter(|s| !s.is_empty());
    }
    if c.healthcheck.is_none() {
        c.healthcheck = image
            .healthcheck
            .as_ref()
            .and_then(|h| serde_json::to_value(h).ok());
    }
    if c.on_build.is_none() {
        c.on_build = image.on_build.clone();
    }
}

/// The bundle files a create writes with the record: `config.json`, `rootfs.json`.
type BundleFiles = [(&'static str, Vec<u8>); 2];

fn to_json(value: &impl serde::Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(|e| Error::internal(e.to_string()))
}

/// Writes a new container's bundle files and its record (what
/// `Daemon::persist` writes) as one durable batch: one journal commit for
/// the files' data, one fsync of the directory for the renames, instead of
/// two fsyncs per file. All data is on disk before any rename, and the
/// record is renamed last: a crash before the directory fsync leaves the
/// renames a journaling file system (ext4, xfs) had committed, in order, so
/// bundle files without a record (a create that died, swept at start), not a
/// record without its bundle. When `create` returns, all of it is durable.
fn persist_created(dir: &std::path::Path, record: &Container, files: &BundleFiles) -> Result<()> {
    let rec = serde_json::to_vec(record).map_err(|e| Error::internal(e.to_string()))?;
    let [(a, a_bytes), (b, b_bytes)] = files;
    berth_util::fs::write_atomic_all(dir, &[(a, a_bytes), (b, b_bytes), ("container.json", &rec)])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_errors_map_to_docker_codes() {
        assert_eq!(
            exec_error_code("exec: \"nope\": executable file not found in $PATH"),
            Some(127)
        );
        assert_eq!(exec_error_code("exec: \"/etc\": is a directory"), Some(126));
        assert_eq!(
            exec_error_code("exec: \"/x\": permission denied"),
            Some(126)
        );
        assert_eq!(exec_error_code("cgroup: no space"), None);
    }

    #[test]
    fn wait_conditions_parse() {
        assert_eq!(WaitCondition::parse("").unwrap(), WaitCondition::NotRunning);
        assert_eq!(
            WaitCondition::parse("removed").unwrap(),
            WaitCondition::Removed
        );
        assert!(WaitCondition::parse("soon").is_err());
    }
}
