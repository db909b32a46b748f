//! Reading executions: the API's list, one execution with its stages and tasks, a task's log.

use super::*;
use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::platform::entities::{executions as row, stage_runs, task_runs};
use crate::{Backend, Error, Result};
use domain::executions::{ExecutionDetail, ExecutionRow, StageRunView, TaskRunView};
use domain::role::ProjectAction;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// A project's executions, newest first, optionally of one pipeline.
pub async fn list(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    pipeline_id: Option<i64>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<ExecutionRow>, u64)> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let mut q = row::Entity::find().filter(row::Column::ProjectId.eq(project_id));
    if let Some(p) = pipeline_id {
        q = q.filter(row::Column::PipelineId.eq(p));
    }
    let q = q.order_by_desc(row::Column::Id);
    let (models, total) = crate::platform::db::page(&backend.db, q, offset, limit).await?;
    let rows = models.iter().map(row_view).collect::<Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// The project an execution belongs to (for routes that name only the execution).
pub async fn project_of(backend: &Backend, id: i64) -> Result<i64> {
    crate::access::scoped::project_of::<row::Entity>(&backend.db, id).await
}

pub(super) async fn find(
    db: &impl ConnectionTrait,
    project_id: i64,
    id: i64,
) -> Result<row::Model> {
    crate::access::scoped::find::<row::Entity>(db, project_id, id).await
}

/// One execution with its stages and tasks.
pub async fn get(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
) -> Result<ExecutionDetail> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let m = find(&backend.db, project_id, id).await?;
    let stages = stage_runs::Entity::find()
        .filter(stage_runs::Column::ExecutionId.eq(id))
        .order_by_asc(stage_runs::Column::Position)
        .all(&backend.db)
        .await?;
    let tasks = task_runs::Entity::find()
        .filter(task_runs::Column::ExecutionId.eq(id))
        .order_by_asc(task_runs::Column::StagePosition)
        .order_by_asc(task_runs::Column::GroupPosition)
        .order_by_asc(task_runs::Column::Id)
        .all(&backend.db)
        .await?;
    let views = stage_views(&stages, &tasks, true)?;
    // inputs whose names say they hold a secret are shown as the one mask, in every view
    let input: Vec<(String, String)> = serde_json::from_str::<Vec<(String, String)>>(&m.input)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| {
            if domain::executions::looks_secret(&name) && !value.is_empty() {
                (name, crate::platform::masking::MASK.to_owned())
            } else {
                (name, value)
            }
        })
        .collect();
    let output: Vec<(String, String)> = m
        .output
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default();
    Ok(ExecutionDetail {
        row: row_view(&m)?,
        input,
        output,
        stages: views,
    })
}

/// The stage and task views of the executions whose `stages` and `tasks` are given (any
/// number of executions; each stage gets its own execution's tasks). Task outputs only when
/// `with_output`.
pub(crate) fn stage_views(
    stages: &[stage_runs::Model],
    tasks: &[task_runs::Model],
    with_output: bool,
) -> Result<Vec<StageRunView>> {
    stages
        .iter()
        .map(|s| {
            let tasks = tasks
                .iter()
                .filter(|t| t.execution_id == s.execution_id && t.stage_position == s.position)
                .map(|t| {
                    Ok(TaskRunView {
                        name: t.name.clone(),
                        kind: t.kind.clone(),
                        group: t.group_position,
                        status: t.status,
                        message: t.message.clone(),
                        output: if with_output { t.output.clone() } else { None },
                        input: if with_output { t.input.clone() } else { None },
                        started_at: t.started_at,
                        ended_at: t.ended_at,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(StageRunView {
                name: s.name.clone(),
                status: s.status,
                started_at: s.started_at,
                ended_at: s.ended_at,
                tasks,
            })
        })
        .collect()
}

pub(super) async fn find_task(
    db: &impl ConnectionTrait,
    id: i64,
    stage: &str,
    task: &str,
) -> Result<task_runs::Model> {
    task_runs::Entity::find()
        .filter(task_runs::Column::ExecutionId.eq(id))
        .filter(task_runs::Column::StageName.eq(stage))
        .filter(task_runs::Column::Name.eq(task))
        .one(db)
        .await?
        .ok_or(Error::NotFound("task"))
}

/// The log lines of one task, in order.
pub async fn task_log(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
    stage: &str,
    task: &str,
) -> Result<Vec<String>> {
    use crate::platform::entities::task_logs;
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    find(&backend.db, project_id, id).await?;
    let t = find_task(&backend.db, id, stage, task).await?;
    Ok(task_logs::Entity::find()
        .filter(task_logs::Column::TaskRunId.eq(t.id))
        .order_by_asc(task_logs::Column::Line)
        .all(&backend.db)
        .await?
        .into_iter()
        .map(|l| l.text)
        .collect())
}

/// A task's log lines after line `after` (number, text), and whether the task has ended.
#[allow(clippy::too_many_arguments)]
pub async fn task_log_after(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
    stage: &str,
    task: &str,
    after: i64,
) -> Result<(Vec<(i32, String)>, bool)> {
    use crate::platform::entities::task_logs;
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    find(&backend.db, project_id, id).await?;
    let t = find_task(&backend.db, id, stage, task).await?;
    let lines = task_logs::Entity::find()
        .filter(task_logs::Column::TaskRunId.eq(t.id))
        .filter(task_logs::Column::Line.gt(after))
        .order_by_asc(task_logs::Column::Line)
        .limit(1000)
        .all(&backend.db)
        .await?
        .into_iter()
        .map(|l| (l.line, l.text))
        .collect::<Vec<_>>();
    // ended only once every line has been read
    let ended = t.status.is_final() && lines.len() < 1000;
    Ok((lines, ended))
}
