//! Restart policies (`no`, `on-failure[:N]`, `always`, `unless-stopped`)
//! as Docker applies them: the decision when a container exits, the
//! back-off before the restart (100 ms, doubling up to a minute, back to
//! 100 ms once a run lasted 10 s) during which the container is
//! `restarting`, the cancellation of a pending restart by a user's stop or
//! kill, and the restarts berthd does when it starts. The lifecycle calls
//! in at a few points (exit, stop/kill, start, remove, restore).

use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::model::{Container, HostConfig, RestartPolicy, State};
use crate::signal;
use crate::store::Entry;
use berth_util::time::{parse_rfc3339, ZERO};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// The first back-off, doubled after every restart.
const FIRST_DELAY: Duration = Duration::from_millis(100);
/// The longest back-off.
const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run at least this long starts the back-off over.
const RESET_AFTER: Duration = Duration::from_secs(10);

/// A container's restart policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    No,
    Always,
    UnlessStopped,
    /// `max_retries` 0 means no limit.
    OnFailure {
        max_retries: i64,
    },
}

impl Policy {
    /// The policy of a (validated) record; anything unknown restarts nothing.
    pub fn of(p: &RestartPolicy) -> Policy {
        match p.name.as_str() {
            "always" => Policy::Always,
            "unless-stopped" => Policy::UnlessStopped,
            "on-failure" => Policy::OnFailure {
                max_retries: p.maximum_retry_count.max(0),
            },
            _ => Policy::No,
        }
    }

    /// Whether a container that just exited is started again. A stop or
    /// kill by a user ends every policy (Docker cancels the restart
    /// manager); `restarts` is how often the policy restarted it so far.
    pub fn after_exit(self, exit_code: i32, manually_stopped: bool, restarts: i64) -> bool {
        if manually_stopped {
            return false;
        }
        match self {
            Policy::No => false,
            Policy::Always | Policy::UnlessStopped => true,
            Policy::OnFailure { max_retries } => {
                exit_code != 0 && (max_retries == 0 || restarts < max_retries)
            }
        }
    }

    /// Whether berthd starts a stopped container when it starts: `always`
    /// even after a user's stop, `unless-stopped` unless a user stopped it.
    pub fn at_daemon_start(self, manually_stopped: bool) -> bool {
        match self {
            Policy::Always => true,
            Policy::UnlessStopped => !manually_stopped,
            Policy::No | Policy::OnFailure { .. } => false,
        }
    }
}

/// Docker's `ValidateRestartPolicy`.
pub fn validate_policy(p: &RestartPolicy) -> Result<()> {
    match p.name.as_str() {
        "always" | "unless-stopped" | "no" if p.maximum_retry_count != 0 => {
            let mut msg = "invalid restart policy: maximum retry count can only be used with 'on-failure'".to_string();
            if p.maximum_retry_count < 0 {
                msg.push_str(" and cannot be negative");
            }
            Err(Error::invalid(msg))
        }
        "on-failure" if p.maximum_retry_count < 0 => Err(Error::invalid(
            "invalid restart policy: maximum retry count cannot be negative",
        )),
        "always" | "unless-stopped" | "no" | "on-failure" | "" => Ok(()),
        other => Err(Error::invalid(format!(
            "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
        ))),
    }
}

/// The checks `create` makes on a host config's restart policy.
pub fn validate_create(hc: &HostConfig) -> Result<()> {
    if hc.auto_remove && Policy::of(&hc.restart_policy) != Policy::No {
        return Err(Error::invalid(
            "can't create 'AutoRemove' container with restart policy",
        ));
    }
    validate_policy(&hc.restart_policy)
}

/// The back-off before the next restart, from the previous one and how
/// long the run that just ended lasted.
pub fn next_delay(previous: Option<Duration>, ran: Duration) -> Duration {
    match previous.filter(|_| ran < RESET_AFTER) {
        None => FIRST_DELAY,
        Some(d) => d.saturating_mul(2).min(MAX_DELAY),
    }
}

/// How long the run recorded in `s` lasted (zero when unknown).
fn run_length(s: &State) -> Duration {
    match (parse_rfc3339(&s.started_at), parse_rfc3339(&s.finished_at)) {
        (Some(a), Some(b)) if b > a => Duration::from_nanos((b - a).min(u64::MAX as i128) as u64),
        _ => Duration::ZERO,
    }
}

fn mark_restarting(s: &mut State) {
    s.status = "restarting".into();
    s.running = true;
    s.restarting = true;
    s.paused = false;
    s.pid = 0;
}

fn mark_exited(s: &mut State) {
    s.status = "exited".into();
    s.running = false;
    s.restarting = false;
}

/// One container's restart bookkeeping (Docker's restart manager).
#[derive(Default)]
struct Slot {
    /// The last back-off.
    delay: Option<Duration>,
    /// The restart waiting for its back-off, by generation.
    pending: Option<(u64, Arc<Notify>)>,
}

/// Every container's back-off and pending restart, in memory only: after
/// berthd starts, back-offs start over.
#[derive(Default)]
pub struct Restarts {
    slots: Mutex<HashMap<String, Slot>>,
    generation: AtomicU64,
}

/// A restart decided at an exit, due after `delay`.
pub(crate) struct Scheduled {
    generation: u64,
    wake: Arc<Notify>,
    delay: Duration,
}

impl Restarts {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies the policy to a record that just exited: when it restarts,
    /// the record becomes `restarting` and counts the restart.
    pub(crate) fn after_exit(&self, rec: &mut Container) -> Option<Scheduled> {
        let policy = Policy::of(&rec.host_config.restart_policy);
        if policy == Policy::No || rec.host_config.auto_remove {
            return None;
        }
        let mut slots = self.lock();
        let slot = slots.entry(rec.id.clone()).or_default();
        let delay = next_delay(slot.delay, run_length(&rec.state));
        slot.delay = Some(delay);
        if !policy.after_exit(
            rec.state.exit_code,
            rec.has_been_manually_stopped,
            rec.restart_count,
        ) {
            return None;
        }
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        let wake = Arc::new(Notify::new());
        if let Some((_, old)) = slot.pending.replace((generation, wake.clone())) {
            old.notify_one();
        }
        rec.restart_count += 1;
        mark_restarting(&mut rec.state);
        Some(Scheduled {
            generation,
            wake,
            delay,
        })
    }

    /// Drops a pending restart; a record that was waiting for it becomes
    /// `exited`. Returns whether it was waiting (it has no process then).
    pub(crate) fn cancel(&self, rec: &mut Container) -> bool {
        if let Some((_, wake)) = self.lock().get_mut(&rec.id).and_then(|s| s.pending.take()) {
            wake.notify_one();
        }
        if rec.state.restarting {
            mark_exited(&mut rec.state);
            return true;
        }
        false
    }

    /// Claims the pending restart `generation` (false when it was cancelled
    /// or replaced meanwhile).
    fn take(&self, id: &str, generation: u64) -> bool {
        let mut slots = self.lock();
        match slots.get_mut(id) {
            Some(s) if s.pending.as_ref().is_some_and(|(g, _)| *g == generation) => {
                s.pending = None;
                true
            }
            _ => false,
        }
    }

    /// Forgets a container: its back-off and any pending restart.
    pub(crate) fn forget(&self, id: &str) {
        if let Some((_, wake)) = self.lock().remove(id).and_then(|s| s.pending) {
            wake.notify_one();
        }
    }
}

/// What a stop or kill does besides the signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KillPlan {
    /// The container was only waiting for a restart: there is no process
    /// to signal, cancelling the restart stopped it.
    pub no_process: bool,
    /// The container is paused and must be thawed after the signal, which
    /// a frozen process only receives once it runs again.
    pub thaw: bool,
}

/// Whether `signo` is one that ends the container for Docker: SIGKILL, the
/// configured stop signal, or any signal when none is configured.
fn ends_container(rec: &Container, signo: i32) -> bool {
    signo == libc::SIGKILL
        || rec
            .config
            .stop_signal
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_none_or(|s| signal::parse(s) == Some(signo))
}

impl Daemon {
    /// Called by the exit handling with the record updated to the exit:
    /// decides on a restart (see [`Restarts::after_exit`]).
    pub(crate) fn restart_after_exit(&self, rec: &mut Container) -> Option<Scheduled> {
        self.restarts.after_exit(rec)
    }

    /// Starts the container once the back-off is over, unless a stop, kill,
    /// start or removal came first.
    pub(crate) fn schedule_restart(self: &Arc<Self>, entry: Arc<Entry>, s: Scheduled) {
        let daemon = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(s.delay) => {}
                _ = s.wake.notified() => return,
            }
            let _op = entry.op.lock().await;
            if !daemon.restarts.take(&entry.id, s.generation) || entry.snapshot().removed {
                return;
            }
            {
                let mut rec = entry.lock();
                if !rec.state.restarting {
                    return;
                }
                rec.state.running = false;
                rec.state.restarting = false;
            }
            if let Err(e) = daemon.start_locked(&entry).await {
                eprintln!("berthd: restarting {}: {}", entry.id, e.message);
            }
        });
    }

    /// Prepares a record for a user's stop (`stop` true) or kill with
    /// `signo`, as Docker's `killWithSignal`: a signal that ends the
    /// container marks it manually stopped (so no policy restarts it, and
    /// `unless-stopped` stays down when berthd starts) and cancels a pending
    /// restart; a paused container is thawed after such a signal.
    pub(crate) fn prepare_kill(&self, rec: &mut Container, signo: i32, stop: bool) -> KillPlan {
        let ends = stop || ends_container(rec, signo);
        let mut plan = KillPlan {
            no_process: rec.state.restarting,
            thaw: false,
        };
        if ends {
            rec.has_been_manually_stopped = true;
            self.restarts.cancel(rec);
            plan.thaw = rec.state.paused && ends_container(rec, signo);
            let _ = self.persist(rec);
        }
        plan
    }

    /// A user's `start` or `restart` of a stopped container starts the
    /// restart count and the back-off over.
    pub(crate) fn reset_restarts(&self, entry: &Entry) {
        let mut rec = entry.lock();
        if rec.state.running {
            return;
        }
        self.restarts.forget(&entry.id);
        rec.restart_count = 0;
    }

    /// At daemon start: finishes restarts that a stopped berthd left
    /// pending, and starts the stopped containers their policy wants
    /// running (`always`, `unless-stopped` not stopped by a user); never
    /// containers that were never started.
    pub(crate) fn restart_on_daemon_start(self: &Arc<Self>) {
        for entry in self.containers.all() {
            let (due, reset) = {
                let mut rec = entry.lock();
                if rec.state.restarting {
                    mark_exited(&mut rec.state);
                    let _ = self.persist(&rec);
                    (true, false)
                } else {
                    let wanted = Policy::of(&rec.host_config.restart_policy)
                        .at_daemon_start(rec.has_been_manually_stopped);
                    (
                        wanted && !rec.state.running && rec.state.started_at != ZERO,
                        true,
                    )
                }
            };
            if !due {
                continue;
            }
            entry.publish(|s| s.running = false);
            let daemon = self.clone();
            tokio::spawn(async move {
                let _op = entry.op.lock().await;
                if entry.snapshot().removed || entry.lock().state.running {
                    return;
                }
                if reset {
                    daemon.reset_restarts(&entry);
                }
                if let Err(e) = daemon.start_locked(&entry).await {
                    eprintln!(
                        "berthd: starting {} at daemon start: {}",
                        entry.id, e.message
                    );
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, State};

    fn policy(name: &str, n: i64) -> RestartPolicy {
        RestartPolicy {
            name: name.into(),
            maximum_retry_count: n,
        }
    }

    fn record(name: &str, n: i64) -> Container {
        Container {
            id: "c1".into(),
            created: ZERO.into(),
            path: "sh".into(),
            args: vec![],
            state: State {
                status: "exited".into(),
                exit_code: 1,
                started_at: "2026-01-01T00:00:00Z".into(),
                finished_at: "2026-01-01T00:00:01Z".into(),
                ..State::default()
            },
            image: String::new(),
            name: "/c".into(),
            restart_count: 0,
            config: Config::default(),
            host_config: HostConfig {
                restart_policy: policy(name, n),
                ..HostConfig::default()
            },
            has_been_manually_stopped: false,
            mount_points: Vec::new(),
        }
    }

    #[test]
    fn back_off_doubles_caps_and_resets_after_a_long_run() {
        let short = Duration::from_secs(1);
        let mut d = None;
        let mut seen = Vec::new();
        for _ in 0..12 {
            let next = next_delay(d, short);
            seen.push(next.as_millis());
            d = Some(next);
        }
        assert_eq!(
            seen,
            [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]
        );
        assert_eq!(
            next_delay(Some(Duration::from_secs(60)), Duration::from_secs(10)),
            FIRST_DELAY
        );
        assert_eq!(
            next_delay(
                Some(Duration::from_millis(400)),
                Duration::from_millis(9999)
            ),
            Duration::from_millis(800)
        );
    }

    #[test]
    fn policy_decisions_follow_docker() {
        let on_failure = Policy::of(&policy("on-failure", 2));
        assert!(on_failure.after_exit(1, false, 0));
        assert!(on_failure.after_exit(1, false, 1));
        assert!(!on_failure.after_exit(1, false, 2));
        assert!(!on_failure.after_exit(0, false, 0));
        assert!(Policy::of(&policy("on-failure", 0)).after_exit(3, false, 1000));
        let always = Policy::of(&policy("always", 0));
        assert!(always.after_exit(0, false, 50));
        assert!(!always.after_exit(0, true, 0));
        assert!(Policy::of(&policy("unless-stopped", 0)).after_exit(0, false, 0));
        assert!(!Policy::of(&policy("no", 0)).after_exit(1, false, 0));
        assert!(!Policy::of(&policy("", 0)).after_exit(1, false, 0));

        assert!(always.at_daemon_start(true));
        let unless = Policy::of(&policy("unless-stopped", 0));
        assert!(unless.at_daemon_start(false));
        assert!(!unless.at_daemon_start(true));
        assert!(!on_failure.at_daemon_start(false));
    }

    #[test]
    fn validation_messages() {
        assert!(validate_policy(&policy("on-failure", 3)).is_ok());
        assert!(validate_policy(&policy("", 5)).is_ok());
        assert_eq!(
            validate_policy(&policy("always", 2)).unwrap_err().message,
            "invalid restart policy: maximum retry count can only be used with 'on-failure'"
        );
        assert_eq!(
            validate_policy(&policy("on-failure", -1))
                .unwrap_err()
                .message,
            "invalid restart policy: maximum retry count cannot be negative"
        );
        assert!(validate_policy(&policy("sometimes", 0))
            .unwrap_err()
            .message
            .starts_with("invalid restart policy: unknown policy 'sometimes'"));
        let hc = HostConfig {
            auto_remove: true,
            restart_policy: policy("always", 0),
            ..HostConfig::default()
        };
        assert!(validate_create(&hc).is_err());
    }

    #[test]
    fn exits_schedule_count_and_cancel() {
        let r = Restarts::default();
        let mut rec = record("on-failure", 2);
        let s = r.after_exit(&mut rec).unwrap();
        assert_eq!(s.delay, FIRST_DELAY);
        assert_eq!(rec.restart_count, 1);
        assert_eq!(rec.state.status, "restarting");
        assert!(rec.state.running && rec.state.restarting);
        assert!(r.take("c1", s.generation));
        assert!(!r.take("c1", s.generation), "claimed twice");

        // Second failure: the back-off doubles.
        mark_exited(&mut rec.state);
        let s = r.after_exit(&mut rec).unwrap();
        assert_eq!(s.delay, FIRST_DELAY * 2);
        assert_eq!(rec.restart_count, 2);
        // A stop while waiting: no process, the record is exited, the
        // restart can no longer be claimed.
        assert!(r.cancel(&mut rec));
        assert_eq!(rec.state.status, "exited");
        assert!(!rec.state.running);
        assert!(!r.take("c1", s.generation));

        // Retries used up.
        assert!(r.after_exit(&mut rec).is_none());
        assert_eq!(rec.restart_count, 2);

        let mut manual = record("always", 0);
        manual.has_been_manually_stopped = true;
        assert!(r.after_exit(&mut manual).is_none());
        let mut auto = record("always", 0);
        auto.host_config.auto_remove = true;
        assert!(r.after_exit(&mut auto).is_none());
    }

    #[test]
    fn kill_signals_that_end_a_container() {
        let mut rec = record("always", 0);
        assert!(ends_container(&rec, libc::SIGUSR1));
        rec.config.stop_signal = Some("SIGINT".into());
        assert!(!ends_container(&rec, libc::SIGUSR1));
        assert!(ends_container(&rec, libc::SIGINT));
        assert!(ends_container(&rec, libc::SIGKILL));
    }
}
