//! Pipeline tasks: the task starts another pipeline of the project with its inputs bound, and
//! the execution waits (WAITING, no worker held) until that child execution ends; the child's
//! outputs become the task's output. The child names the task run that started it, so its end
//! wakes the parent at once (a parent also wakes every [`CHILD_POLL`] to look, in case the
//! child ended some other way).

use super::{Context, Engine, Outcome};
use crate::access::accounts::Actor;
use crate::platform::entities::{executions as exec_rows, pipelines, task_runs, users};
use crate::platform::events::publish;
use crate::project::pipelines::ACTIVE;
use crate::runs::executions::{self, Started, Trigger};
use crate::Result;
use domain::executions::RunStatus;
use domain::pipeline::Task;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// How deep pipelines may start pipelines (A runs B runs C …).
pub(crate) const MAX_NESTING: usize = 5;
/// How often a waiting parent looks at its child when nothing woke it.
pub(crate) const CHILD_POLL: chrono::Duration = chrono::Duration::seconds(15);

/// The child execution a Pipeline task run started, from its state.
fn child_of(r: &task_runs::Model) -> Option<i64> {
    let state: Value = serde_json::from_str(r.state.as_deref()?).ok()?;
    state.get("childExecutionId")?.as_i64()
}

impl Engine {
    /// Starts the child (first time), or turns its end into the task's outcome.
    pub(super) async fn child_pipeline(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        stage: &str,
        task: &Task,
        ctx: &Context,
    ) -> Result<()> {
        match child_of(r) {
            None => match self.start_child(e, r, stage, task, ctx).await? {
                Some(failed) => self.record(e, r, failed).await,
                None => Ok(()),
            },
            Some(child) => self.settle_child(e, r, child).await,
        }
    }

    /// How many Pipeline tasks started `e` and its ancestors.
    async fn nesting(&self, e: &exec_rows::Model) -> Result<usize> {
        let db = &self.backend.db;
        let mut depth = 0;
        let mut parent = e.parent_task_run_id;
        while let Some(run_id) = parent {
            depth += 1;
            if depth > MAX_NESTING {
                break;
            }
            let Some(run) = task_runs::Entity::find_by_id(run_id).one(db).await? else {
                break;
            };
            parent = exec_rows::Entity::find_by_id(run.execution_id)
                .one(db)
                .await?
                .and_then(|x| x.parent_task_run_id);
        }
        Ok(depth)
    }

    /// The pipeline a Pipeline task names, or why it cannot run: too deep, not in the project,
    /// or the pipeline itself.
    async fn child_to_run(
        &self,
        e: &exec_rows::Model,
        task: &Task,
    ) -> Result<std::result::Result<pipelines::Model, Outcome>> {
        if self.nesting(e).await? >= MAX_NESTING {
            let why = format!(
                "Pipelines start pipelines at most {MAX_NESTING} deep; this one would be deeper."
            );
            return Ok(Err(Outcome::failed(why)));
        }
        let name = task
            .input
            .get("pipeline")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let found = pipelines::Entity::find()
            .filter(pipelines::Column::ProjectId.eq(e.project_id))
            .filter(pipelines::Column::Name.eq(name))
            .one(&self.backend.db)
            .await?;
        Ok(match found {
            None => Err(Outcome::failed(format!(
                "This project has no pipeline named '{name}'."
            ))),
            Some(c) if c.id == e.pipeline_id => {
                Err(Outcome::failed("A pipeline cannot run itself."))
            }
            Some(c) => Ok(c),
        })
    }

    /// The child started and the task WAITING for it, or the outcome that ends the task
    /// instead (its precondition, a pipeline it cannot run, inputs it cannot bind).
    async fn start_child(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        stage: &str,
        task: &Task,
        ctx: &Context,
    ) -> Result<Option<Outcome>> {
        if let Some(instead) = super::tasks::precondition(ctx, task) {
            return Ok(Some(instead));
        }
        let db = &self.backend.db;
        let child = match self.child_to_run(e, task).await? {
            Ok(c) => c,
            Err(instead) => return Ok(Some(instead)),
        };
        let given = match child_inputs(task, ctx) {
            Ok(g) => g,
            Err(why) => return Ok(Some(Outcome::failed(why))),
        };
        let Some(actor) = self.runs_as(e).await? else {
            let why = "Nobody started this execution, so there is nobody to run the pipeline as.";
            return Ok(Some(Outcome::failed(why)));
        };
        let comments = format!(
            "Started by {} #{}, task {stage} › {}.",
            e.pipeline_name, e.run_index, r.name
        );
        let txn = crate::platform::db::begin_write(db).await?;
        let started = executions::start_in(
            &txn,
            &self.backend,
            actor,
            e.project_id,
            child.id,
            given,
            &comments,
            Trigger::Pipeline,
        )
        .await;
        let (row, events) = match started {
            Ok((Started::Queued(row), events)) => (row, events),
            Ok((Started::Skipped { active_index }, _)) => {
                let why = format!(
                    "{} #{active_index} is running and {} skips new runs meanwhile.",
                    child.name, child.name
                );
                return Ok(Some(Outcome::failed(why)));
            }
            Err(err) if !err.is_internal() => {
                return Ok(Some(Outcome::failed(format!(
                    "{} cannot start: {err}",
                    child.name
                ))));
            }
            Err(err) => return Err(err),
        };
        exec_rows::Entity::update_many()
            .col_expr(exec_rows::Column::ParentTaskRunId, Expr::value(r.id))
            .filter(exec_rows::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        self.wait_for_child(&txn, r, &row).await?;
        txn.commit().await?;
        executions::publish_started(&self.backend, e.project_id, &Started::Queued(row), events);
        let (s, t) = (Some(stage), Some(r.name.as_str()));
        publish(&self.backend, e.id, e.project_id, s, t, RunStatus::Waiting);
        Ok(None)
    }

    /// The task run WAITING, naming its child.
    async fn wait_for_child(
        &self,
        txn: &impl ConnectionTrait,
        r: &task_runs::Model,
        child: &domain::executions::ExecutionRow,
    ) -> Result<()> {
        let now = self.backend.clock.now();
        let mut a: task_runs::ActiveModel = r.clone().into();
        a.status = Set(RunStatus::Waiting);
        a.attempts = Set(r.attempts + 1);
        a.started_at = Set(Some(r.started_at.unwrap_or(now)));
        a.state = Set(Some(json!({"childExecutionId": child.id}).to_string()));
        a.message = Set(Some(format!(
            "Waiting for {} #{} to end.",
            child.pipeline_name, child.index
        )));
        a.update(txn).await?;
        Ok(())
    }

    /// Who the child runs as: whoever started the parent, as they are now.
    async fn runs_as(&self, e: &exec_rows::Model) -> Result<Option<Actor>> {
        let Some(id) = e.created_by else {
            return Ok(None);
        };
        let user = users::Entity::find_by_id(id).one(&self.backend.db).await?;
        Ok(user.filter(|u| !u.disabled).map(|u| Actor {
            user_id: u.id,
            is_admin: u.is_admin,
        }))
    }

    /// A later step: the child's end becomes the task's outcome; a child still active keeps
    /// the task waiting.
    async fn settle_child(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        child: i64,
    ) -> Result<()> {
        let found = exec_rows::Entity::find_by_id(child)
            .one(&self.backend.db)
            .await?;
        let Some(c) = found else {
            return self
                .record(e, r, Outcome::failed("The child execution was deleted."))
                .await;
        };
        if ACTIVE.contains(&c.status) {
            return Ok(());
        }
        let outputs: Vec<(String, String)> = c
            .output
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or_default();
        let mut output: Map<String, Value> = outputs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        output.insert("executionId".to_owned(), json!(c.id));
        output.insert("executionIndex".to_owned(), json!(c.run_index));
        output.insert("status".to_owned(), json!(c.status.as_str()));
        let who = format!("{} #{}", c.pipeline_name, c.run_index);
        let outcome = if c.status == RunStatus::Completed {
            Outcome {
                status: RunStatus::Completed,
                message: Some(format!("{who} completed.")),
                output: Value::Object(output),
                logs: vec![format!("{who} completed.")],
            }
        } else {
            let said = c
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            Outcome {
                status: RunStatus::Failed,
                message: Some(format!("{who} ended {}{said}", c.status.as_str())),
                output: Value::Object(output),
                logs: vec![format!("{who} ended {}{said}", c.status.as_str())],
            }
        };
        self.record(e, r, outcome).await
    }
}

/// The child's inputs: `inputProperties` bound. A value from a SECRET or RESTRICTED variable
/// is refused: a run's inputs are shown to everyone who can see it.
fn child_inputs(
    task: &Task,
    ctx: &Context,
) -> std::result::Result<BTreeMap<String, String>, String> {
    let mut given = BTreeMap::new();
    let props = task.input.get("inputProperties").and_then(Value::as_object);
    for (name, v) in props.into_iter().flatten() {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let bound = ctx.substitute(&text)?;
        if ctx.mask(&bound) != bound {
            return Err(format!(
                "Input {name} comes from a SECRET or RESTRICTED variable; a run's inputs are shown to everyone who can see it, so pass it another way."
            ));
        }
        given.insert(name.clone(), bound);
    }
    Ok(given)
}

/// A child execution ended: its parent's waiting step runs now.
pub(crate) async fn wake_parent(
    db: &impl ConnectionTrait,
    parent_task_run_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let Some(run) = task_runs::Entity::find_by_id(parent_task_run_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    exec_rows::Entity::update_many()
        .col_expr(
            exec_rows::Column::LeaseUntil,
            Expr::value(now - chrono::Duration::seconds(1)),
        )
        .filter(exec_rows::Column::Id.eq(run.execution_id))
        .filter(exec_rows::Column::Status.eq(RunStatus::Waiting))
        .exec(db)
        .await?;
    Ok(())
}
