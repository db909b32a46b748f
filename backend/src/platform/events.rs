//! The in-process event bus: every status change of an execution, a stage or a task is
//! published here after it is committed. Live views subscribe; a slow subscriber misses events
//! (and reloads from the database) rather than slowing the engine.

use chrono::{DateTime, Utc};
use domain::executions::RunStatus;
use tokio::sync::broadcast;

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionEvent {
    /// The execution.
    pub execution_id: i64,
    /// Its project.
    pub project_id: i64,
    /// The stage, for stage and task events; empty when another process reports that some
    /// part of the execution changed (`platform::cluster`).
    pub stage: Option<String>,
    /// The task, for task events.
    pub task: Option<String>,
    /// The new status.
    pub status: RunStatus,
    /// When.
    pub at: DateTime<Utc>,
}

/// A broadcast channel of [`ExecutionEvent`]s.
#[derive(Debug, Clone)]
pub struct EventBus(broadcast::Sender<ExecutionEvent>);

impl Default for EventBus {
    fn default() -> Self {
        Self(broadcast::channel(1024).0)
    }
}

impl EventBus {
    /// Publishes an event (nobody listening is fine).
    pub fn publish(&self, e: ExecutionEvent) {
        let _ = self.0.send(e);
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<ExecutionEvent> {
        self.0.subscribe()
    }
}

/// Puts another process's notice on this process's bus (`platform::cluster`): an execution's
/// own status change as this process would publish it, any other change as a stage event
/// with no name, which live views follow and engines and callbacks ignore.
pub fn relay(backend: &crate::Backend, notice: &crate::platform::cluster::Notice) {
    use crate::platform::cluster::Notice;
    let (execution_id, project_id, status, stage) = match notice {
        Notice::Status {
            execution_id,
            project_id,
            status,
        } => (*execution_id, *project_id, *status, None),
        Notice::Changed {
            execution_id,
            project_id,
            status,
        } => (*execution_id, *project_id, *status, Some(String::new())),
        _ => return,
    };
    backend.events.publish(ExecutionEvent {
        execution_id,
        project_id,
        stage,
        task: None,
        status,
        at: backend.clock.now(),
    });
}

/// Announces that an execution (or one of its stages or tasks) reached `status`, after the
/// transaction that changed it committed.
pub(crate) fn publish(
    backend: &crate::Backend,
    execution_id: i64,
    project_id: i64,
    stage: Option<&str>,
    task: Option<&str>,
    status: RunStatus,
) {
    backend.events.publish(ExecutionEvent {
        execution_id,
        project_id,
        stage: stage.map(str::to_owned),
        task: task.map(str::to_owned),
        status,
        at: backend.clock.now(),
    });
}
