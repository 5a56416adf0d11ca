//! Long-running tasks and threads watched: a panic or an early end of any of
//! them is logged at error, counted, shown in the status, and the task is
//! started again after a short backoff (or, for a task that cannot be
//! restarted in place, the service is told to stop with an error so the
//! process exits non-zero and systemd restarts it). Nothing dies silently.
//!
//! Never blocks: the registry is a short lock taken only when a task starts,
//! ends or is asked for its record.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

/// First wait before a failed task is started again; doubles per failure
/// in a row up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait before a restart.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A run this long resets the backoff.
const STABLE_RUN: Duration = Duration::from_secs(30);
/// Longest failure message kept per task.
const MAX_REASON_BYTES: usize = 200;

/// One watched task as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskStatus {
    pub name: String,
    /// `running`, `restarting` or `failed` (stopped for good).
    pub state: String,
    pub panics: u64,
    /// Ends while the service was not stopping.
    pub early_exits: u64,
    pub restarts: u64,
    /// The last panic message or exit, if any.
    pub last_failure: Option<String>,
}

/// Every watched task; `failures` is the sum of panics and early exits.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TasksStatus {
    pub failures: u64,
    pub tasks: Vec<TaskStatus>,
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Panic,
    EarlyExit,
}

/// The registry of watched tasks, shared by the service and the HTTP server.
#[derive(Debug, Default)]
pub struct Supervisor {
    stopping: AtomicBool,
    records: Mutex<BTreeMap<&'static str, TaskStatus>>,
    faults: Mutex<BTreeMap<&'static str, Arc<Notify>>>,
    pending_faults: Mutex<Vec<&'static str>>,
    fatal: Mutex<Option<watch::Sender<Option<String>>>>,
}

impl Supervisor {
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// From now on, tasks that end are not failures (the service stops).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    #[must_use]
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Where a failure of a task that cannot restart is reported.
    pub fn on_fatal(&self, tx: watch::Sender<Option<String>>) {
        *self.fatal.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
    }

    /// The records, for the status.
    #[must_use]
    pub fn status(&self) -> TasksStatus {
        let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let tasks: Vec<TaskStatus> = records.values().cloned().collect();
        TasksStatus {
            failures: tasks.iter().map(|t| t.panics + t.early_exits).sum(),
            tasks,
        }
    }

    fn update(&self, name: &'static str, f: impl FnOnce(&mut TaskStatus)) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let record = records.entry(name).or_insert_with(|| TaskStatus {
            name: name.to_owned(),
            ..TaskStatus::default()
        });
        f(record);
    }

    /// `name` is (again) running.
    pub fn started(&self, name: &'static str) {
        self.update(name, |r| "running".clone_into(&mut r.state));
    }

    /// `name` ended (panic or early exit): log at error and count it.
    /// Returns false when the service is stopping (not a failure).
    pub fn ended(&self, name: &'static str, how: Ending, reason: &str, restarting: bool) -> bool {
        if self.stopping() {
            return false;
        }
        let reason = crate::text::clip(reason, MAX_REASON_BYTES);
        let then = if restarting {
            "restarting it"
        } else {
            "stopping the service"
        };
        match how {
            Ending::Panic => tracing::error!("task {name} panicked: {reason}; {then}"),
            Ending::EarlyExit => tracing::error!("task {name} ended unexpectedly; {then}"),
        }
        self.update(name, |r| {
            match how {
                Ending::Panic => r.panics += 1,
                Ending::EarlyExit => r.early_exits += 1,
            }
            r.last_failure = Some(match how {
                Ending::Panic => format!("panic: {reason}"),
                Ending::EarlyExit => "ended".to_owned(),
            });
            let state = if restarting { "restarting" } else { "failed" };
            state.clone_into(&mut r.state);
            if restarting {
                r.restarts += 1;
            }
        });
        if !restarting && let Some(tx) = &*self.fatal.lock().unwrap_or_else(PoisonError::into_inner)
        {
            tx.send_replace(Some(format!("task {name} failed: {reason}")));
        }
        true
    }

    /// Make `name` panic at its next look (tests; nothing outside the
    /// process can reach this).
    #[doc(hidden)]
    pub fn inject_fault(&self, name: &'static str) {
        self.pending_faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name);
        self.fault_notify(name).notify_one();
    }

    /// Whether a fault is waiting for `name` (for threads that look at it
    /// between blocking calls); takes it.
    #[must_use]
    pub fn take_fault(&self, name: &'static str) -> bool {
        let mut pending = self
            .pending_faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let found = pending.iter().position(|n| *n == name);
        found.map(|i| pending.swap_remove(i)).is_some()
    }

    fn fault_notify(&self, name: &'static str) -> Arc<Notify> {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(faults.entry(name).or_default())
    }

    /// Run `make()` as task `name` on the runtime; start it again (after a
    /// backoff) whenever it panics or ends before the service stops.
    /// Aborting the returned handle stops the task for good.
    pub fn spawn_restarting<F, Fut>(
        self: &Arc<Self>,
        name: &'static str,
        mut make: F,
    ) -> tokio::task::JoinHandle<()>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let supervisor = Arc::clone(self);
        tokio::spawn(async move {
            let mut backoff = MIN_BACKOFF;
            loop {
                let began = Instant::now();
                let how = supervisor.run_once(name, make()).await;
                let Some((how, reason)) = how else { return };
                if !supervisor.ended(name, how, &reason, true) {
                    return;
                }
                if began.elapsed() >= STABLE_RUN {
                    backoff = MIN_BACKOFF;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                if supervisor.stopping() {
                    return;
                }
            }
        })
    }

    /// Run `future` as task `name` once; when it panics or ends before the
    /// service stops, the service is told to stop with an error (for a
    /// task whose state cannot be rebuilt in place).
    pub fn spawn_fatal<Fut>(
        self: &Arc<Self>,
        name: &'static str,
        future: Fut,
    ) -> tokio::task::JoinHandle<()>
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let supervisor = Arc::clone(self);
        tokio::spawn(async move {
            if let Some((how, reason)) = supervisor.run_once(name, future).await {
                supervisor.ended(name, how, &reason, false);
            }
        })
    }

    /// Run one life of a task; `None` when it was aborted.
    async fn run_once<Fut>(&self, name: &'static str, future: Fut) -> Option<(Ending, String)>
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let fault = self.fault_notify(name);
        self.started(name);
        let mut inner = AbortOnDrop(tokio::spawn(async move {
            tokio::select! {
                () = future => {}
                () = fault.notified() => panic!("fault injected into {name}"),
            }
        }));
        match (&mut inner.0).await {
            Ok(()) => Some((Ending::EarlyExit, String::new())),
            Err(e) if e.is_panic() => Some((Ending::Panic, panic_message(e.into_panic().as_ref()))),
            Err(_) => None,
        }
    }
}

/// The text of a panic payload.
#[must_use]
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// Aborts the task when dropped, so aborting the supervisor stops its child.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
