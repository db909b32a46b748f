//! Executions: started from a pipeline (Run, the API, later Docker webhooks) under its
//! concurrency policy, stored as durable jobs that the engine's workers claim, and acted on
//! (cancel, pause, resume, rerun, delete).

use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::platform::entities::{
    executions as row, pipelines as pipeline_rows, stage_runs, task_runs,
};
use crate::platform::events::publish;
use crate::project::pipelines::{self, ACTIVE};
use crate::{Backend, Error, Result};
use domain::executions::{ExecutionRow, RunStatus};
use domain::pipeline::{Concurrency, PipelineDef};
use domain::role::ProjectAction;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeMap;

/// How an execution was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The Run dialog.
    Manual,
    /// `POST …/executions`.
    Api,
    /// A Docker webhook.
    Docker,
    /// Rerun of an earlier execution.
    Rerun,
    /// Another pipeline's Pipeline task.
    Pipeline,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Api => "api",
            Trigger::Docker => "docker",
            Trigger::Rerun => "rerun",
            Trigger::Pipeline => "pipeline",
        }
    }
}

/// What a trigger did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// An execution was queued.
    Queued(ExecutionRow),
    /// skip-if-running: one is already active, so nothing started.
    Skipped {
        /// The active execution's index.
        active_index: i64,
    },
}

pub(crate) fn row_view(m: &row::Model) -> Result<ExecutionRow> {
    Ok(ExecutionRow {
        id: m.id,
        pipeline_id: m.pipeline_id,
        pipeline_name: m.pipeline_name.clone(),
        index: m.run_index,
        status: m.status,
        message: m.message.clone(),
        trigger: m.trigger.clone(),
        comments: m.comments.clone(),
        created_at: m.created_at,
        started_at: m.started_at,
        ended_at: m.ended_at,
    })
}

/// Resolves the inputs of a run: declared ones only, defaults for those not given, mandatory
/// ones not empty.
fn resolve_input(
    def: &PipelineDef,
    given: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>> {
    for name in given.keys() {
        if !def.input.iter().any(|(n, _)| n == name) {
            return Err(Error::invalid(
                "input",
                format!("{} has no input named {name}", def.name),
            ));
        }
    }
    for (name, value) in given {
        if value.len() > 64 * 1024 {
            return Err(Error::invalid("input", format!("{name}: at most 64 KiB")));
        }
    }
    let resolved: Vec<(String, String)> = def
        .input
        .iter()
        .map(|(n, d)| {
            (
                n.clone(),
                given.get(n).cloned().unwrap_or_else(|| d.clone()),
            )
        })
        .collect();
    // Aria's `_inputMeta`: a mandatory input needs a value
    for (name, value) in &resolved {
        if def.meta(name).is_some_and(|m| m.mandatory) && value.trim().is_empty() {
            return Err(Error::invalid(
                "input",
                format!("{name} is mandatory: give it a value"),
            ));
        }
    }
    Ok(resolved)
}

/// Starts a pipeline. The pipeline row is locked first, so simultaneous triggers of one
/// pipeline are serialised and its concurrency policy holds.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, pipeline_id))]
pub async fn start(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    pipeline_id: i64,
    given: BTreeMap<String, String>,
    comments: &str,
    trigger: Trigger,
) -> Result<Started> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let (started, events) = start_in(
        &txn,
        backend,
        actor,
        project_id,
        pipeline_id,
        given,
        comments,
        trigger,
    )
    .await?;
    txn.commit().await?;
    publish_started(backend, project_id, &started, events);
    Ok(started)
}

/// Publishes what [`start_in`] did, once its transaction is committed.
pub(crate) fn publish_started(
    backend: &Backend,
    project_id: i64,
    started: &Started,
    events: Vec<(i64, RunStatus)>,
) {
    for (id, s) in events {
        publish(backend, id, project_id, None, None, s);
    }
    if let Started::Queued(row) = started {
        publish(backend, row.id, project_id, None, None, RunStatus::Queued);
    }
}

/// [`start`] inside the caller's transaction (webhook deliveries start executions in the same
/// transaction that records them, so a crash can neither lose nor repeat one). Returns the
/// status changes to publish after the commit.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn start_in(
    txn: &DatabaseTransaction,
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    pipeline_id: i64,
    given: BTreeMap<String, String>,
    comments: &str,
    trigger: Trigger,
) -> Result<(Started, Vec<(i64, RunStatus)>)> {
    if comments.chars().count() > 2000 {
        return Err(Error::invalid(
            "comments",
            "Comments have at most 2000 characters.",
        ));
    }
    // the serialisation point, which reads the pipeline too ([`hold`]). It changes
    // nothing, so it is harmless even before the checks below; its row is looked at only
    // after them, so a pipeline of another project answers as one that does not exist
    let held = hold(txn, pipeline_id).await?;
    authorize(txn, actor, project_id, ProjectAction::Use).await?;
    let p = held
        .filter(|p| p.project_id == project_id)
        .ok_or(Error::NotFound("pipeline"))?;
    let def = pipelines::check(&p.definition)?;
    if !p.enabled {
        return Err(Error::Conflict(format!(
            "{} is disabled; enable it to run it.",
            p.name
        )));
    }
    let input = resolve_input(&def, &given)?;
    // what the policy needs of the active runs, and no more: queue needs none (a long
    // queue must not make every start read it), skip-if-running one, cancel-previous all of
    // them (few: each start cancels the ones before)
    let active_query = row::Entity::find()
        .filter(row::Column::PipelineId.eq(pipeline_id))
        .filter(row::Column::Status.is_in(ACTIVE))
        .order_by_asc(row::Column::Id);
    let active = match def.concurrency {
        Concurrency::Queue => Vec::new(),
        Concurrency::SkipIfRunning => active_query.limit(1).all(txn).await?,
        Concurrency::CancelPrevious => active_query.all(txn).await?,
    };
    let now = backend.clock.now();
    if def.concurrency == Concurrency::SkipIfRunning {
        if let Some(a) = active.first() {
            let skipped = Started::Skipped {
                active_index: a.run_index,
            };
            return Ok((skipped, Vec::new()));
        }
    }
    let index = next_index(txn, pipeline_id).await?;
    let events = if def.concurrency == Concurrency::CancelPrevious {
        cancel_previous(txn, &active, index, now).await?
    } else {
        Vec::new()
    };
    let m = insert_run(txn, actor, &p, &def, &input, index, comments, trigger, now).await?;
    insert_stages_and_tasks(txn, m.id, &def).await?;
    Ok((Started::Queued(row_view(&m)?), events))
}

/// Takes the next execution index of a pipeline, in one statement. The start's transaction
/// holds the pipeline's row already ([`hold`]), so concurrent triggers of one pipeline take
/// their indexes one after another and the concurrency policy sees every earlier trigger.
async fn next_index(db: &impl ConnectionTrait, pipeline_id: i64) -> Result<i64> {
    let mut q = Query::update();
    q.table(pipeline_rows::Entity)
        .value(
            pipeline_rows::Column::NextIndex,
            Expr::col(pipeline_rows::Column::NextIndex).add(1),
        )
        .and_where(Expr::col(pipeline_rows::Column::Id).eq(pipeline_id))
        .returning_col(pipeline_rows::Column::NextIndex);
    let stmt = db.get_database_backend().build(&q);
    let r = db
        .query_one_raw(stmt)
        .await?
        .ok_or(Error::NotFound("pipeline"))?;
    let next: i64 = r.try_get("", "next_index")?;
    Ok(next - 1)
}

/// A start's serialisation point: a write to pipeline `id`'s row that changes nothing, made
/// before anything else is read (SQLite cannot upgrade a read snapshot to a write under
/// contention; PostgreSQL takes the row's lock). It returns the row, so it is the start's
/// read of the pipeline too.
async fn hold(db: &impl ConnectionTrait, id: i64) -> Result<Option<pipeline_rows::Model>> {
    use sea_orm::FromQueryResult;
    let mut q = Query::update();
    q.table(pipeline_rows::Entity)
        .value(
            pipeline_rows::Column::NextIndex,
            Expr::col(pipeline_rows::Column::NextIndex),
        )
        .and_where(Expr::col(pipeline_rows::Column::Id).eq(id))
        .returning_all();
    let stmt = db.get_database_backend().build(&q);
    match db.query_one_raw(stmt).await? {
        Some(r) => Ok(Some(pipeline_rows::Model::from_query_result(&r, "")?)),
        None => Ok(None),
    }
}

/// Cancel-previous: the active runs before execution #`index` are canceled (at once when they
/// hold no worker, after their current step otherwise); returns the changes to publish.
async fn cancel_previous(
    txn: &DatabaseTransaction,
    active: &[row::Model],
    index: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(i64, RunStatus)>> {
    let mut events = Vec::new();
    for a in active.iter().filter(|a| !a.cancel_requested) {
        let message = format!("Canceled by execution #{index} (cancel-previous).");
        let mut m: row::ActiveModel = a.clone().into();
        let idle = [RunStatus::Queued, RunStatus::Paused, RunStatus::Waiting].contains(&a.status);
        if idle {
            m.status = Set(RunStatus::Canceled);
            m.ended_at = Set(Some(now));
            finish_open_runs(txn, a.id, RunStatus::Canceled, now).await?;
            events.push((a.id, RunStatus::Canceled));
        }
        m.cancel_requested = Set(true);
        m.message = Set(Some(message));
        m.updated_at = Set(now);
        m.update(txn).await?;
    }
    Ok(events)
}

/// The execution's row, QUEUED, with the plan it will run (the definition as checked now).
#[allow(clippy::too_many_arguments)]
async fn insert_run(
    txn: &DatabaseTransaction,
    actor: Actor,
    p: &pipeline_rows::Model,
    def: &PipelineDef,
    input: &[(String, String)],
    index: i64,
    comments: &str,
    trigger: Trigger,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<row::Model> {
    let plan = serde_json::to_string(def).map_err(|e| Error::Internal(e.to_string()))?;
    let input_json = serde_json::to_string(input).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(row::ActiveModel {
        pipeline_id: Set(p.id),
        project_id: Set(p.project_id),
        run_index: Set(index),
        pipeline_name: Set(p.name.clone()),
        status: Set(RunStatus::Queued),
        plan: Set(plan),
        input: Set(input_json),
        output: Set(None),
        comments: Set(comments.trim().to_owned()),
        trigger: Set(trigger.as_str().to_owned()),
        created_by: Set(Some(actor.user_id)),
        plan_saved_by: Set(p.saved_by.or(p.created_by)),
        message: Set(None),
        cancel_requested: Set(false),
        pause_requested: Set(false),
        lease_owner: Set(None),
        lease_until: Set(None),
        created_at: Set(now),
        started_at: Set(None),
        ended_at: Set(None),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// A QUEUED row for each stage and each task of the plan.
async fn insert_stages_and_tasks(
    txn: &DatabaseTransaction,
    execution_id: i64,
    def: &PipelineDef,
) -> Result<()> {
    let mut stages = Vec::new();
    let mut tasks = Vec::new();
    for (position, stage) in def.stages.iter().enumerate() {
        stages.push(stage_runs::ActiveModel {
            execution_id: Set(execution_id),
            position: Set(position as i32),
            name: Set(stage.name.clone()),
            status: Set(RunStatus::Queued),
            started_at: Set(None),
            ended_at: Set(None),
            ..Default::default()
        });
        for (group, names) in stage.task_order.iter().enumerate() {
            for name in names {
                let kind = stage.task(name).map(|t| t.kind.as_str()).unwrap_or("?");
                tasks.push(task_runs::ActiveModel {
                    execution_id: Set(execution_id),
                    stage_position: Set(position as i32),
                    group_position: Set(group as i32),
                    stage_name: Set(stage.name.clone()),
                    name: Set(name.clone()),
                    kind: Set(kind.to_owned()),
                    status: Set(RunStatus::Queued),
                    attempts: Set(0),
                    ..Default::default()
                });
            }
        }
    }
    // multi-row inserts, in plan order (ids follow it), each statement's values well under
    // SQLite's limit
    while !stages.is_empty() {
        let chunk: Vec<_> = stages.drain(..stages.len().min(ROWS_PER_INSERT)).collect();
        stage_runs::Entity::insert_many(chunk).exec(txn).await?;
    }
    while !tasks.is_empty() {
        let chunk: Vec<_> = tasks.drain(..tasks.len().min(ROWS_PER_INSERT)).collect();
        task_runs::Entity::insert_many(chunk).exec(txn).await?;
    }
    Ok(())
}

/// Rows in one multi-row insert of stage or task runs (at most eight values a row).
const ROWS_PER_INSERT: usize = 100;

/// Marks every stage and task of an execution that has not finished with `status`.
pub(crate) async fn finish_open_runs(
    db: &impl ConnectionTrait,
    execution_id: i64,
    status: RunStatus,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if status == RunStatus::Canceled {
        cancel_children(db, execution_id, now).await?;
    }
    crate::platform::entities::user_operations::Entity::update_many()
        .col_expr(
            crate::platform::entities::user_operations::Column::Status,
            Expr::value(crate::runs::user_operations::Status::Canceled),
        )
        .filter(crate::platform::entities::user_operations::Column::ExecutionId.eq(execution_id))
        .filter(
            crate::platform::entities::user_operations::Column::Status
                .eq(crate::runs::user_operations::Status::Pending),
        )
        .exec(db)
        .await?;
    task_runs::Entity::update_many()
        .col_expr(task_runs::Column::Status, Expr::value(status))
        .col_expr(task_runs::Column::EndedAt, Expr::value(now))
        .filter(task_runs::Column::ExecutionId.eq(execution_id))
        .filter(task_runs::Column::Status.is_in(ACTIVE))
        .exec(db)
        .await?;
    stage_runs::Entity::update_many()
        .col_expr(stage_runs::Column::Status, Expr::value(status))
        .col_expr(stage_runs::Column::EndedAt, Expr::value(now))
        .filter(stage_runs::Column::ExecutionId.eq(execution_id))
        .filter(stage_runs::Column::Status.is_in(ACTIVE))
        .exec(db)
        .await?;
    Ok(())
}

/// The executions that open Pipeline tasks of `execution_id` started end with it: an idle one
/// (queued, paused, waiting) at once, with its own children; a running one is asked to stop.
async fn cancel_children(
    db: &impl ConnectionTrait,
    execution_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let open = task_runs::Entity::find()
        .filter(task_runs::Column::ExecutionId.eq(execution_id))
        .filter(task_runs::Column::Status.is_in(ACTIVE))
        .filter(task_runs::Column::Kind.eq(domain::pipeline::TaskType::Pipeline.as_str()))
        .all(db)
        .await?;
    for r in open {
        let child = r
            .state
            .as_deref()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .and_then(|v| {
                v.get("childExecutionId")
                    .and_then(serde_json::Value::as_i64)
            });
        let Some(c) = child else { continue };
        let Some(m) = row::Entity::find_by_id(c).one(db).await? else {
            continue;
        };
        if m.status.is_final() {
            continue;
        }
        let idle = [RunStatus::Queued, RunStatus::Paused, RunStatus::Waiting].contains(&m.status);
        let mut a: row::ActiveModel = m.into();
        a.cancel_requested = Set(true);
        a.message = Set(Some(
            "Canceled with the execution that started it.".to_owned(),
        ));
        a.updated_at = Set(now);
        if idle {
            a.status = Set(RunStatus::Canceled);
            a.ended_at = Set(Some(now));
            a.lease_owner = Set(None);
            a.lease_until = Set(None);
        }
        a.update(db).await?;
        if idle {
            Box::pin(finish_open_runs(db, c, RunStatus::Canceled, now)).await?;
        }
    }
    Ok(())
}

mod actions;
mod queries;

pub use actions::{act, delete, rerun, Action};
pub(crate) use queries::stage_views;
pub use queries::{get, list, project_of, task_log, task_log_after};
