//! User Operation tasks: the execution waits (WAITING, no worker held) until an approver
//! answers or the operation expires. Waiting sets the execution's `lease_until` to the earliest
//! expiry, so a worker wakes it then; an answer wakes it at once (see `crate::runs::user_operations`).

use super::{Context, Engine, Outcome};
use crate::platform::entities::{executions as exec_rows, task_runs, user_operations as ops};
use crate::platform::events::publish;
use crate::runs::user_operations::{Status as OpStatus, DEFAULT_EXPIRY_HOURS};
use crate::Result;
use domain::executions::RunStatus;
use domain::pipeline::Task;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{json, Value};

/// What an operation a task waits for says, and who answers it.
pub(super) struct Wait {
    pub(super) kind: crate::runs::user_operations::Kind,
    pub(super) summary: String,
    pub(super) description: String,
    pub(super) approvers: Vec<String>,
    pub(super) expires_at: chrono::DateTime<chrono::Utc>,
    /// The task's message while it waits.
    pub(super) message: String,
}

impl Engine {
    /// Opens the operation (first time), or turns its answer into the task's outcome.
    pub(super) async fn user_operation(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        stage: &str,
        task: &Task,
        ctx: &Context,
    ) -> Result<()> {
        let existing = ops::Entity::find()
            .filter(ops::Column::TaskRunId.eq(r.id))
            .one(&self.backend.db)
            .await?;
        match existing {
            None => self.open_approval(e, r, stage, task, ctx).await,
            Some(op) => self.settle_approval(e, r, op).await,
        }
    }

    /// The first step of a User Operation task: its precondition, then the operation opened
    /// with its summary, description and approvers bound (none from a hidden variable).
    async fn open_approval(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        stage: &str,
        task: &Task,
        ctx: &Context,
    ) -> Result<()> {
        if let Some(instead) = super::tasks::precondition(ctx, task) {
            return self.record(e, r, instead).await;
        }
        let text = |k: &str| {
            ctx.substitute(task.input.get(k).and_then(Value::as_str).unwrap_or(""))
                .map(|s| ctx.mask(&s))
        };
        let (summary, description) = match (text("summary"), text("description")) {
            (Ok(s), Ok(d)) => (s, d),
            (Err(m), _) | (_, Err(m)) => return self.record(e, r, Outcome::failed(m)).await,
        };
        let mut approvers = Vec::new();
        for a in task
            .input
            .get("approvers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match ctx.substitute(a.as_str().unwrap_or_default()) {
                // approvers are shown to everyone who can see the execution
                Ok(v) if ctx.mask(&v) != v => {
                    let o = Outcome::failed(
                        "An approver comes from a SECRET or RESTRICTED variable; approvers \
                         are shown to everyone, so name them with a regular variable or \
                         plain text.",
                    );
                    return self.record(e, r, o).await;
                }
                Ok(v) => approvers.push(v.trim().to_lowercase()),
                Err(m) => return self.record(e, r, Outcome::failed(m)).await,
            }
        }
        let hours = task
            .input
            .get("expiry")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_EXPIRY_HOURS);
        let expires_at = self.backend.clock.now() + chrono::Duration::hours(hours);
        let message = format!(
            "Waiting for {} to approve, until {} UTC.",
            approvers.join(", "),
            expires_at.format("%Y-%m-%d %H:%M")
        );
        let wait = Wait {
            kind: crate::runs::user_operations::Kind::Approval,
            summary,
            description,
            approvers,
            expires_at,
            message,
        };
        self.open_wait(e, r, stage, wait).await
    }

    /// A later step: the answer (or the expiry) becomes the task's outcome; a pending
    /// operation woken early keeps waiting.
    async fn settle_approval(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        op: ops::Model,
    ) -> Result<()> {
        let now = self.backend.clock.now();
        let by = op.responded_by.clone().unwrap_or_default();
        let comment = op.response_comment.clone().unwrap_or_default();
        let said = if comment.is_empty() {
            String::new()
        } else {
            format!(": {comment}")
        };
        let outcome = match Some(op.status) {
            Some(OpStatus::Approved) => Outcome {
                status: RunStatus::Completed,
                message: Some(format!("Approved by {by}{said}")),
                output: json!({"approved": true, "respondedBy": by, "comment": comment}),
                logs: vec![format!("Approved by {by}{said}")],
            },
            Some(OpStatus::Rejected) => Outcome {
                status: RunStatus::Failed,
                message: Some(format!("Rejected by {by}{said}")),
                output: json!({"approved": false, "respondedBy": by, "comment": comment}),
                logs: vec![format!("Rejected by {by}{said}")],
            },
            Some(OpStatus::Pending) if op.expires_at <= now => {
                let updated = ops::Entity::update_many()
                    .col_expr(
                        ops::Column::Status,
                        sea_orm::sea_query::Expr::value(OpStatus::Expired),
                    )
                    .filter(ops::Column::Id.eq(op.id))
                    .filter(ops::Column::Status.eq(OpStatus::Pending))
                    .exec(&self.backend.db)
                    .await?;
                if updated.rows_affected == 0 {
                    // answered in the meantime: the next step reads the answer
                    return Ok(());
                }
                expired(&op)
            }
            Some(OpStatus::Expired) => expired(&op),
            // still pending (woken early): keep waiting
            _ => return Ok(()),
        };
        self.record(e, r, outcome).await
    }

    /// Opens an operation for task run `r` and sets the task WAITING with `wait.message`
    /// (announced on the bus); the group's end then makes the execution wait.
    pub(super) async fn open_wait(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        stage: &str,
        wait: Wait,
    ) -> Result<()> {
        let db = &self.backend.db;
        let now = self.backend.clock.now();
        ops::ActiveModel {
            execution_id: Set(e.id),
            task_run_id: Set(r.id),
            project_id: Set(e.project_id),
            pipeline_name: Set(e.pipeline_name.clone()),
            run_index: Set(e.run_index),
            stage_name: Set(stage.to_owned()),
            task_name: Set(r.name.clone()),
            summary: Set(wait.summary),
            description: Set(wait.description),
            approvers: Set(serde_json::to_string(&wait.approvers).unwrap_or_default()),
            status: Set(OpStatus::Pending),
            kind: Set(wait.kind),
            expires_at: Set(wait.expires_at),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let mut a: task_runs::ActiveModel = r.clone().into();
        a.status = Set(RunStatus::Waiting);
        a.attempts = Set(r.attempts + 1);
        a.started_at = Set(Some(r.started_at.unwrap_or(now)));
        a.message = Set(Some(wait.message));
        a.update(db).await?;
        publish(
            &self.backend,
            e.id,
            e.project_id,
            Some(stage),
            Some(&r.name),
            RunStatus::Waiting,
        );
        Ok(())
    }

    /// After a group: when one of its tasks waits, the execution waits (lease released, woken
    /// at the earliest expiry). Returns whether it does.
    pub(super) async fn wait_if_waiting(
        &self,
        e: &exec_rows::Model,
        stage_pos: i32,
        group: i32,
    ) -> Result<bool> {
        let db = &self.backend.db;
        let waiting = task_runs::Entity::find()
            .filter(task_runs::Column::ExecutionId.eq(e.id))
            .filter(task_runs::Column::StagePosition.eq(stage_pos))
            .filter(task_runs::Column::GroupPosition.eq(group))
            .filter(task_runs::Column::Status.eq(RunStatus::Waiting))
            .all(db)
            .await?;
        if waiting.is_empty() {
            return Ok(false);
        }
        let ids: Vec<i64> = waiting.iter().map(|w| w.id).collect();
        let mut wake = ops::Entity::find()
            .filter(ops::Column::TaskRunId.is_in(ids))
            .order_by_asc(ops::Column::ExpiresAt)
            .one(db)
            .await?
            .map(|o| o.expires_at);
        if waiting
            .iter()
            .any(|w| w.kind == domain::pipeline::TaskType::Pipeline.as_str())
        {
            // a Pipeline task's child wakes it when it ends; this is the fallback
            let look = self.backend.clock.now() + super::child::CHILD_POLL;
            wake = Some(wake.map_or(look, |w| w.min(look)));
        }
        let Some(current) = exec_rows::Entity::find_by_id(e.id).one(db).await? else {
            return Ok(true);
        };
        if current.cancel_requested {
            // a cancel arrived while the group ran: the next step ends it
            return Ok(false);
        }
        let mut a: exec_rows::ActiveModel = current.into();
        a.status = Set(RunStatus::Waiting);
        a.lease_owner = Set(None);
        a.lease_until = Set(wake);
        a.updated_at = Set(self.backend.clock.now());
        a.update(db).await?;
        publish(
            &self.backend,
            e.id,
            e.project_id,
            None,
            None,
            RunStatus::Waiting,
        );
        Ok(true)
    }
}

fn expired(op: &ops::Model) -> Outcome {
    Outcome::failed(format!(
        "Expired: nobody approved or rejected it by {} UTC.",
        op.expires_at.format("%Y-%m-%d %H:%M")
    ))
}
