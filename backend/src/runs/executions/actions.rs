//! Acting on an execution: cancel, pause, resume, rerun, delete.

use super::queries::find;
use super::*;
use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::platform::entities::executions as row;
use crate::platform::events::publish;
use crate::project::pipelines::{self};
use crate::{Backend, Error, Result};
use domain::executions::{ExecutionRow, RunStatus};
use domain::role::ProjectAction;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

/// What a person can do to an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Stop it; a running task finishes its current call first.
    Cancel,
    /// Stop after the running tasks; resume later.
    Pause,
    /// Continue a paused execution.
    Resume,
}

/// Cancels, pauses or resumes an execution.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, execution_id = id))]
pub async fn act(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
    action: Action,
) -> Result<ExecutionRow> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let m = find(&txn, project_id, id).await?;
    let current = m.status;
    let now = backend.clock.now();
    let mut a: row::ActiveModel = m.clone().into();
    let mut event = None;
    match (action, current) {
        (_, s) if s.is_final() => {
            return Err(Error::Conflict(format!(
                "Execution #{} has already ended ({}).",
                m.run_index,
                s.as_str()
            )))
        }
        (Action::Cancel, RunStatus::Queued | RunStatus::Paused | RunStatus::Waiting) => {
            a.status = Set(RunStatus::Canceled);
            a.message = Set(Some("Canceled by a person.".to_owned()));
            a.ended_at = Set(Some(now));
            finish_open_runs(&txn, id, RunStatus::Canceled, now).await?;
            event = Some(RunStatus::Canceled);
        }
        (Action::Cancel, _) => {
            a.cancel_requested = Set(true);
            a.message = Set(Some("Canceled by a person.".to_owned()));
        }
        (Action::Pause, RunStatus::Queued | RunStatus::Running) => {
            a.pause_requested = Set(true);
        }
        (Action::Pause, _) => {
            return Err(Error::Conflict(format!(
                "Execution #{} is {}; only a queued or running execution can be paused.",
                m.run_index,
                current.as_str()
            )))
        }
        (Action::Resume, RunStatus::Paused) => {
            a.status = Set(RunStatus::Running);
            a.pause_requested = Set(false);
            a.lease_until = Set(None);
            a.lease_owner = Set(None);
            event = Some(RunStatus::Running);
        }
        (Action::Resume, _) if m.pause_requested => {
            a.pause_requested = Set(false);
        }
        (Action::Resume, _) => {
            return Err(Error::Conflict(format!(
                "Execution #{} is not paused.",
                m.run_index
            )))
        }
    }
    a.updated_at = Set(now);
    let m = a.update(&txn).await?;
    txn.commit().await?;
    if let Some(s) = event {
        publish(backend, id, project_id, None, None, s);
    }
    row_view(&m)
}

/// Starts a new execution of the same pipeline with the same inputs.
pub async fn rerun(backend: &Backend, actor: Actor, project_id: i64, id: i64) -> Result<Started> {
    let m = {
        authorize(&backend.db, actor, project_id, ProjectAction::Use).await?;
        find(&backend.db, project_id, id).await?
    };
    let input: Vec<(String, String)> = serde_json::from_str(&m.input).unwrap_or_default();
    let pipeline = pipelines::find_in_project(&backend.db, project_id, m.pipeline_id).await?;
    let declared = pipelines::check(&pipeline.definition)?;
    // inputs the pipeline no longer declares are dropped
    let given = input
        .into_iter()
        .filter(|(n, _)| declared.input.iter().any(|(d, _)| d == n))
        .collect();
    start(
        backend,
        actor,
        project_id,
        m.pipeline_id,
        given,
        &format!("Rerun of #{}", m.run_index),
        Trigger::Rerun,
    )
    .await
}

/// Deletes an execution that has ended.
pub async fn delete(backend: &Backend, actor: Actor, project_id: i64, id: i64) -> Result<()> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let m = find(&txn, project_id, id).await?;
    if !m.status.is_final() {
        return Err(Error::Conflict(format!(
            "Execution #{} is {}; cancel it before deleting it.",
            m.run_index,
            m.status.as_str()
        )));
    }
    row::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}
