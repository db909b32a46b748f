//! The execution engine. Executions are durable jobs in the database; a worker claims one with a
//! lease (owner and expiry, set by a conditional UPDATE so two workers never hold one), runs its
//! next group of tasks (the tasks of one `taskOrder` entry, in parallel) while a heartbeat keeps
//! the lease alive, records every outcome and releases the lease. Each step is its own claim, so
//! any worker (of any process) can take the next one.
//!
//! After a crash the lease expires and another worker claims the execution. A task left RUNNING
//! runs again only when running it twice cannot do harm (its type is read-only or idempotent);
//! otherwise it fails with a message saying why, so no task runs twice to completion and no
//! execution stays RUNNING.

use crate::{Backend, Error, Result};
use domain::executions::RunStatus;
use serde_json::Value;
use std::time::Duration;

pub(crate) mod child;
mod context;
mod lease;
mod live_log;
mod restricted;
mod step;
mod tasks;
mod user_operation;

pub(crate) use context::Context;
pub(crate) use live_log::LiveLog;
/// The longest a task may run when it sets no timeout.
const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(3600);

/// A worker pool over the database.
#[derive(Clone)]
pub struct Engine {
    backend: Backend,
    owner: String,
    lease: Duration,
    http: Http,
}

/// The REST and Poll tasks' HTTP clients, both under the backend's outbound policy.
#[derive(Clone)]
struct Http {
    /// Follows no redirects (the default).
    plain: reqwest::Client,
    /// Follows redirects to the same host (`followRedirects: true`).
    follow: reqwest::Client,
    policy: crate::clients::outbound::OutboundPolicy,
}

/// The most of a response body a REST or Poll task keeps; the rest is discarded unread.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The most of a task's log that is stored; a note says where the rest was cut.
pub const MAX_LOG_BYTES: usize = 10 * 1024 * 1024;
/// The longest a task's output may be (as JSON) to be stored whole: 1 MiB of content and
/// room for its framing (a REST task's status and headers around its 1 MiB body).
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024 + 64 * 1024;
/// What a cut log ends with.
pub const LOG_TRUNCATED: &str = "… the log is longer than 10 MiB: the rest was not kept.";

/// What a task ended with.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) status: RunStatus,
    pub(crate) message: Option<String>,
    pub(crate) output: Value,
    pub(crate) logs: Vec<String>,
}

impl Outcome {
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            status: RunStatus::Failed,
            message: Some(message.into()),
            output: Value::Null,
            logs: Vec::new(),
        }
    }
}

impl Engine {
    /// An engine whose workers call themselves `owner` and hold leases for `lease`.
    pub fn new(backend: Backend, owner: impl Into<String>, lease: Duration) -> Result<Self> {
        let policy = backend.outbound;
        let build = |b: reqwest::ClientBuilder| {
            // a task's own timeout bounds the whole call
            b.timeout(DEFAULT_TASK_TIMEOUT)
                .build()
                .map_err(|e| Error::Internal(format!("HTTP client: {e}")))
        };
        let http = Http {
            plain: build(policy.builder())?,
            follow: build(policy.builder_following_same_host())?,
            policy,
        };
        Ok(Self {
            backend,
            owner: owner.into(),
            lease,
            http,
        })
    }
    pub(super) fn lease_chrono(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(60))
    }
    /// Runs `workers` workers until `shutdown` resolves; each polls every `idle` when there is
    /// nothing to do.
    pub async fn run(
        self,
        workers: usize,
        idle: Duration,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let stop = tokio::sync::watch::channel(false);
        // a new or resumed execution wakes one idle worker at once (no polling delay); waking
        // them all had every idle worker race for the one claim and the write lock
        let wake = std::sync::Arc::new(tokio::sync::Notify::new());
        let mut handles = vec![tokio::spawn(wake_workers(
            self.backend.events.subscribe(),
            wake.clone(),
            stop.1.clone(),
        ))];
        for i in 0..workers.max(1) {
            // each worker holds leases under its own name, so one worker's heartbeat or
            // release never touches another worker's execution
            let mut engine = self.clone();
            engine.owner = format!("{}/worker-{i}", self.owner);
            let mut rx = stop.1.clone();
            let wake = wake.clone();
            handles.push(tokio::spawn(async move {
                loop {
                    if *rx.borrow() {
                        break;
                    }
                    let worked = match engine.step().await {
                        Ok(w) => w,
                        Err(err) => {
                            tracing::warn!(error = %err, "engine worker");
                            false
                        }
                    };
                    if !worked {
                        tokio::select! {
                            _ = tokio::time::sleep(idle) => {}
                            _ = rx.changed() => {}
                            _ = wake.notified() => {}
                        }
                    }
                }
            }));
        }
        shutdown.await;
        let _ = stop.0.send(true);
        for h in handles {
            let _ = h.await;
        }
    }
}

/// Wakes one idle worker for each execution that became QUEUED or RUNNING (a new run, a
/// resume, an answered approval); all of them when events were missed. A wake with no worker
/// idle is kept for the next worker that finishes.
async fn wake_workers(
    mut events: tokio::sync::broadcast::Receiver<crate::platform::events::ExecutionEvent>,
    wake: std::sync::Arc<tokio::sync::Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            r = events.recv() => match r {
                Ok(e) if e.stage.is_none() && matches!(e.status, RunStatus::Queued | RunStatus::Running) => {
                    wake.notify_one();
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => wake.notify_waiters(),
                Err(RecvError::Closed) => return,
            },
        }
    }
}
