//! One step of an execution: what the worker does with a claimed execution, in numbered steps
//! (see [`Engine::advance`]), and how outcomes are recorded and stages settled.

use super::live_log::{bounded_output, stored_bytes, stored_lines};
use super::tasks::{run_task, Tools};
use super::*;
use crate::platform::entities::{executions as exec_rows, stage_runs, task_logs, task_runs};
use crate::platform::events::publish;
use crate::platform::masking::Masker;
use crate::runs::executions::finish_open_runs;
use crate::{Error, Result};
use domain::executions::RunStatus;
use domain::pipeline::{PipelineDef, Task, TaskType};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A task of the group about to run: its run (now RUNNING), its definition, the context its
/// bindings read (with restricted values released to it when approved) and who approved that.
struct Ready {
    run: task_runs::Model,
    task: Task,
    ctx: Arc<Context>,
    approved_by: Option<String>,
}

/// Whether running a task a second time cannot do harm (after a crash left it RUNNING).
fn safe_to_repeat(task: &Task) -> bool {
    let text = |k: &str| {
        task.input
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    match task.kind {
        TaskType::Condition | TaskType::Poll | TaskType::Registry | TaskType::UserOperation => true,
        // a Pipeline task waits without a worker; an unsupported one never runs
        TaskType::Pipeline | TaskType::Unsupported => true,
        TaskType::Kubernetes => matches!(text("action"), "GET" | "APPLY"),
        TaskType::Rest => matches!(
            task.input
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET"),
            "GET" | "HEAD" | "PUT"
        ),
    }
}

impl Engine {
    /// Claims one execution and advances it by one group of tasks. `Ok(false)`: nothing to do.
    pub async fn step(&self) -> Result<bool> {
        let Some(e) = self.claim().await? else {
            return Ok(false);
        };
        let outcome = self.advance(&e).await;
        if let Err(err) = &outcome {
            tracing::error!(execution_id = e.id, error = %err, "engine step failed");
            // the lease expires and the step is retried; a broken plan fails the execution
            if matches!(err, Error::Internal(_)) {
                self.end(
                    &e,
                    RunStatus::Failed,
                    Some(format!("Wharf could not run this execution: {err}")),
                    None,
                )
                .await?;
            }
        }
        Ok(true)
    }
    /// One step of a claimed execution:
    ///
    /// 1. a cancel or a pause that was asked for is carried out, and the step ends;
    /// 2. the plan and the task runs are read; with no open task left, the execution completes
    ///    with its outputs;
    /// 3. the stage of the next open `taskOrder` group starts;
    /// 4. the group's tasks are prepared: User Operations opened, a task a crash left RUNNING
    ///    failed unless repeating it is safe, restricted values gated ([`Self::prepare`]);
    /// 5. the prepared tasks run in parallel under the heartbeat, and their outcomes are
    ///    recorded unless the lease was lost ([`Self::run_group`]);
    /// 6. a group that waits (an approval) releases the worker; otherwise it settles its stage.
    pub(super) async fn advance(&self, e: &exec_rows::Model) -> Result<()> {
        // 1.
        if self.carry_out_request(e).await? {
            return Ok(());
        }
        // 2.
        let plan: PipelineDef = serde_json::from_str(&e.plan).map_err(|err| {
            Error::Internal(format!("the execution's plan cannot be read: {err}"))
        })?;
        let runs = self.task_runs_of(e.id).await?;
        let mut open = Vec::new();
        for r in &runs {
            if !r.status.is_final() {
                open.push(r);
            }
        }
        let Some(first) = open.first() else {
            return self.complete(e, &plan, &runs).await;
        };
        // 3.
        let (stage_pos, group) = (first.stage_position, first.group_position);
        let stage = plan
            .stages
            .get(stage_pos as usize)
            .ok_or_else(|| Error::Internal(format!("stage {stage_pos} is not in the plan")))?;
        self.start_stage(e, stage_pos, &stage.name).await?;
        // 4.
        let group_runs: Vec<&task_runs::Model> = open
            .into_iter()
            .filter(|r| r.stage_position == stage_pos && r.group_position == group)
            .collect();
        let ctx = Arc::new(self.context(e, &runs).await?);
        let mut to_run = Vec::new();
        for r in group_runs {
            if let Some(ready) = self.prepare(e, r, stage, &ctx).await? {
                to_run.push(ready);
            }
        }
        // 5.
        if !to_run.is_empty() && !self.run_group(e, &stage.name, to_run, &ctx).await? {
            return Ok(());
        }
        // 6.
        if self.wait_if_waiting(e, stage_pos, group).await? {
            return Ok(());
        }
        self.settle(e, stage_pos, group, &plan).await
    }

    /// Carries out a cancel or a pause the execution was asked for; true when it did.
    async fn carry_out_request(&self, e: &exec_rows::Model) -> Result<bool> {
        if e.cancel_requested {
            let msg = e.message.clone().or(Some("Canceled.".to_owned()));
            self.end(e, RunStatus::Canceled, msg, None).await?;
            return Ok(true);
        }
        if !e.pause_requested {
            return Ok(false);
        }
        let mut a: exec_rows::ActiveModel = e.clone().into();
        a.status = Set(RunStatus::Paused);
        a.pause_requested = Set(false);
        a.lease_owner = Set(None);
        a.lease_until = Set(None);
        a.updated_at = Set(self.backend.clock.now());
        a.update(&self.backend.db).await?;
        publish(
            &self.backend,
            e.id,
            e.project_id,
            None,
            None,
            RunStatus::Paused,
        );
        Ok(true)
    }

    /// The execution's task runs in plan order.
    async fn task_runs_of(&self, execution_id: i64) -> Result<Vec<task_runs::Model>> {
        Ok(task_runs::Entity::find()
            .filter(task_runs::Column::ExecutionId.eq(execution_id))
            .order_by_asc(task_runs::Column::StagePosition)
            .order_by_asc(task_runs::Column::GroupPosition)
            .order_by_asc(task_runs::Column::Id)
            .all(&self.backend.db)
            .await?)
    }

    /// Every task has ended: the execution completes with its outputs bound (or fails naming
    /// the output that cannot be).
    async fn complete(
        &self,
        e: &exec_rows::Model,
        plan: &PipelineDef,
        runs: &[task_runs::Model],
    ) -> Result<()> {
        let ctx = self.context(e, runs).await?;
        let mut output = Vec::new();
        for (name, value) in &plan.output {
            match ctx.substitute(value) {
                Ok(v) => output.push((name.clone(), ctx.mask(&v))),
                Err(m) => {
                    let message = Some(format!("Output {name}: {m}"));
                    return self.end(e, RunStatus::Failed, message, None).await;
                }
            }
        }
        let output = serde_json::to_string(&output).ok();
        self.end(e, RunStatus::Completed, None, output).await
    }

    /// Ends a stage with `status` (now) and says so.
    async fn end_stage(
        &self,
        e: &exec_rows::Model,
        stage_row: stage_runs::Model,
        name: &str,
        status: RunStatus,
    ) -> Result<()> {
        let mut a: stage_runs::ActiveModel = stage_row.into();
        a.status = Set(status);
        a.ended_at = Set(Some(self.backend.clock.now()));
        a.update(&self.backend.db).await?;
        publish(&self.backend, e.id, e.project_id, Some(name), None, status);
        Ok(())
    }

    /// Marks the stage RUNNING when its first group starts.
    async fn start_stage(&self, e: &exec_rows::Model, position: i32, name: &str) -> Result<()> {
        let stage_row = stage_runs::Entity::find()
            .filter(stage_runs::Column::ExecutionId.eq(e.id))
            .filter(stage_runs::Column::Position.eq(position))
            .one(&self.backend.db)
            .await?
            .ok_or_else(|| Error::Internal("stage run missing".to_owned()))?;
        if stage_row.status != RunStatus::Queued {
            return Ok(());
        }
        let mut a: stage_runs::ActiveModel = stage_row.into();
        a.status = Set(RunStatus::Running);
        a.started_at = Set(Some(self.backend.clock.now()));
        a.update(&self.backend.db).await?;
        publish(
            &self.backend,
            e.id,
            e.project_id,
            Some(name),
            None,
            RunStatus::Running,
        );
        Ok(())
    }

    /// Step 4 for one task of the group: `None` when it does not run now (a User Operation
    /// opened or waiting, a task that may have taken effect failed, a restricted task held for
    /// approval); otherwise the task marked RUNNING with its bound input stored.
    async fn prepare(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        stage: &domain::pipeline::Stage,
        ctx: &Arc<Context>,
    ) -> Result<Option<Ready>> {
        // the task as its runner reads it: Aria's input names in Wharf's
        let task = stage
            .task(&r.name)
            .ok_or_else(|| Error::Internal(format!("task {} is not in the plan", r.name)))?
            .effective();
        if task.kind == TaskType::UserOperation {
            self.user_operation(e, r, &stage.name, &task, ctx).await?;
            return Ok(None);
        }
        if task.kind == TaskType::Pipeline {
            self.child_pipeline(e, r, &stage.name, &task, ctx).await?;
            return Ok(None);
        }
        if r.status == RunStatus::Running && !safe_to_repeat(&task) {
            let stopped = Outcome::failed(
                "Wharf stopped while this task was running. It was not run again because it may already have taken effect; check the target and rerun the pipeline.",
            );
            self.record(e, r, stopped).await?;
            return Ok(None);
        }
        let (ctx, approved_by) = match self.restricted_gate(e, r, &stage.name, &task, ctx).await? {
            restricted::Gate::Hold => return Ok(None),
            restricted::Gate::Run {
                released: false, ..
            } => (ctx.clone(), None),
            restricted::Gate::Run {
                approved_by,
                released: true,
            } => {
                let mut open = (**ctx).clone();
                open.released = true;
                (Arc::new(open), approved_by)
            }
        };
        let mut a: task_runs::ActiveModel = r.clone().into();
        a.status = Set(RunStatus::Running);
        a.input = Set(Some(
            ctx.bound(&Value::Object(task.input.clone())).to_string(),
        ));
        a.attempts = Set(r.attempts + 1);
        a.started_at = Set(Some(r.started_at.unwrap_or(self.backend.clock.now())));
        let run = a.update(&self.backend.db).await?;
        let (stage_name, task_name) = (Some(stage.name.as_str()), Some(run.name.as_str()));
        publish(
            &self.backend,
            e.id,
            e.project_id,
            stage_name,
            task_name,
            RunStatus::Running,
        );
        Ok(Some(Ready {
            run,
            task,
            ctx,
            approved_by,
        }))
    }

    /// Step 5: runs the prepared tasks in parallel, each under its timeout, while the heartbeat
    /// keeps (and fences) the lease, then records each outcome, masked. False when the lease
    /// was lost: the worker that took the execution over decides about these tasks.
    async fn run_group(
        &self,
        e: &exec_rows::Model,
        stage: &str,
        ready: Vec<Ready>,
        ctx: &Context,
    ) -> Result<bool> {
        let heartbeat = self.heartbeat(e.id);
        let mut handles = Vec::new();
        for Ready {
            run,
            task,
            ctx: task_ctx,
            approved_by,
        } in ready
        {
            let log = LiveLog::start(&self.backend, run.id, task_ctx.clone()).await?;
            let tools = Tools {
                http: self.http.clone(),
                backend: self.backend.clone(),
                log: log.clone(),
            };
            let stage = stage.to_owned();
            let handle = tokio::spawn(async move {
                let limit = task
                    .timeout_seconds
                    .map_or(DEFAULT_TASK_TIMEOUT, Duration::from_secs);
                let run = run_task(&task_ctx, &tools, &stage, &task);
                tokio::time::timeout(limit, run).await.unwrap_or_else(|_| {
                    Outcome::failed(format!("Timed out after {} seconds.", limit.as_secs()))
                })
            });
            heartbeat.guard(handle.abort_handle());
            handles.push((run, handle, log, approved_by));
        }
        for (run, handle, log, approved_by) in handles {
            let joined = handle.await;
            if heartbeat.lost() {
                tracing::warn!(
                    execution_id = e.id,
                    task = %run.name,
                    "the lease was lost while the task ran; its outcome is not recorded"
                );
                return Ok(false);
            }
            let mut outcome = match joined {
                Ok(o) => o,
                Err(join) if join.is_panic() => Outcome::failed(
                    "The task failed unexpectedly (it panicked); the rest of Wharf carried on.",
                ),
                Err(_) => Outcome::failed("The task was stopped."),
            };
            outcome.message = outcome.message.map(|m| ctx.mask(&m));
            outcome.output = ctx.mask_value(&outcome.output);
            // the lines the task stored as it ran are already there
            outcome.logs = outcome
                .logs
                .iter()
                .skip(log.written())
                .map(|l| ctx.mask(l))
                .collect();
            if let Some(by) = approved_by {
                let note = format!("Restricted values were released: approved by {by}.");
                outcome.logs.push(note);
            }
            self.record(e, &run, outcome).await?;
        }
        Ok(true)
    }

    pub(super) async fn end(
        &self,
        e: &exec_rows::Model,
        s: RunStatus,
        message: Option<String>,
        output: Option<String>,
    ) -> Result<()> {
        let now = self.backend.clock.now();
        finish_open_runs(&self.backend.db, e.id, RunStatus::Canceled, now).await?;
        let mut a: exec_rows::ActiveModel = e.clone().into();
        a.status = Set(s);
        if message.is_some() {
            a.message = Set(message);
        }
        if output.is_some() {
            a.output = Set(output);
        }
        a.ended_at = Set(Some(now));
        a.lease_owner = Set(None);
        a.lease_until = Set(None);
        a.updated_at = Set(now);
        a.update(&self.backend.db).await?;
        if let Some(parent) = e.parent_task_run_id {
            super::child::wake_parent(&self.backend.db, parent, now).await?;
        }
        publish(&self.backend, e.id, e.project_id, None, None, s);
        Ok(())
    }
    pub(crate) async fn record(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        o: Outcome,
    ) -> Result<()> {
        let now = self.backend.clock.now();
        let db = &self.backend.db;
        let mut a: task_runs::ActiveModel = r.clone().into();
        a.status = Set(o.status);
        a.message = Set(o.message.clone());
        a.output = Set(bounded_output(&o.output));
        a.ended_at = Set(Some(now));
        a.update(db).await?;
        let first_line = stored_lines(db, r.id).await?;
        let mut bytes = stored_bytes(db, r.id).await?;
        let mut lines = Vec::new();
        for text in &o.logs {
            if bytes + text.len() > MAX_LOG_BYTES {
                lines.push(LOG_TRUNCATED.to_owned());
                break;
            }
            bytes += text.len();
            lines.push(text.clone());
        }
        for (i, text) in lines.into_iter().enumerate() {
            task_logs::ActiveModel {
                task_run_id: Set(r.id),
                line: Set(first_line + i as i32 + 1),
                at: Set(now),
                text: Set(text),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
        publish(
            &self.backend,
            e.id,
            e.project_id,
            Some(&r.stage_name),
            Some(&r.name),
            o.status,
        );
        Ok(())
    }
    /// After a group: fail the execution on a failed task (unless it ignores failure), close
    /// the stage when its last group is done, release the lease.
    pub(super) async fn settle(
        &self,
        e: &exec_rows::Model,
        stage_pos: i32,
        group: i32,
        plan: &PipelineDef,
    ) -> Result<()> {
        let db = &self.backend.db;
        let stage = &plan.stages[stage_pos as usize];
        let runs = task_runs::Entity::find()
            .filter(task_runs::Column::ExecutionId.eq(e.id))
            .filter(task_runs::Column::StagePosition.eq(stage_pos))
            .all(db)
            .await?;
        let failed = runs.iter().find(|r| {
            r.group_position == group
                && r.status == RunStatus::Failed
                && !stage.task(&r.name).is_some_and(|t| t.ignore_failure)
        });
        let stage_row = stage_runs::Entity::find()
            .filter(stage_runs::Column::ExecutionId.eq(e.id))
            .filter(stage_runs::Column::Position.eq(stage_pos))
            .one(db)
            .await?
            .ok_or_else(|| Error::Internal("stage run missing".to_owned()))?;
        if let Some(f) = failed {
            self.end_stage(e, stage_row, &stage.name, RunStatus::Failed)
                .await?;
            let message = format!(
                "Task {}.{} failed: {}",
                stage.name,
                f.name,
                f.message.clone().unwrap_or_default()
            );
            let current = exec_rows::Entity::find_by_id(e.id)
                .one(db)
                .await?
                .unwrap_or_else(|| e.clone());
            return self
                .end(&current, RunStatus::Failed, Some(message), None)
                .await;
        }
        if runs.iter().all(|r| r.status.is_final()) {
            self.end_stage(e, stage_row, &stage.name, RunStatus::Completed)
                .await?;
        }
        self.release(e.id).await
    }
    pub(super) async fn context(
        &self,
        e: &exec_rows::Model,
        runs: &[task_runs::Model],
    ) -> Result<Context> {
        let inputs: Vec<(String, String)> = serde_json::from_str(&e.input).unwrap_or_default();
        let mut vars = HashMap::new();
        let mut secrets = Vec::new();
        let mut restricted = std::collections::HashSet::new();
        for v in crate::project::variables::all_for_engine(&self.backend, e.project_id).await? {
            if v.hidden {
                secrets.push(v.value.expose().to_owned());
            }
            if v.restricted {
                restricted.insert(v.name.clone());
            }
            vars.insert(v.name, v.value.expose().to_owned());
        }
        let mut outputs = HashMap::new();
        for r in runs {
            if r.status == RunStatus::Completed {
                if let Some(o) = r
                    .output
                    .as_deref()
                    .and_then(|o| serde_json::from_str(o).ok())
                {
                    outputs.insert((r.stage_name.clone(), r.name.clone()), o);
                }
            }
        }
        let request_by = match e.created_by {
            Some(id) => crate::platform::entities::users::Entity::find_by_id(id)
                .one(&self.backend.db)
                .await?
                .map(|u| u.email)
                .unwrap_or_default(),
            None => String::new(),
        };
        Ok(Context {
            execution_id: e.id,
            project_id: e.project_id,
            index: e.run_index,
            name: e.pipeline_name.clone(),
            request_by,
            inputs: inputs.into_iter().collect(),
            vars,
            outputs,
            masker: Arc::new(Masker::new(secrets.iter().map(String::as_str))),
            restricted: Arc::new(restricted),
            released: false,
        })
    }
}
