//! Restricted resources, released as Aria releases them: a task that reads a RESTRICTED
//! variable or uses a restricted endpoint gets them only when the pipeline version being run
//! was saved by a project administrator *and* the execution was started by one (a webhook's
//! executions are started by its API token's owner, a Resubmit by whoever pressed it).
//! Otherwise the execution waits before that task for a project administrator's approval (a
//! User Operation of kind RESTRICTED, listed on User Operations and on the execution page):
//! approving releases them to that one task and records who approved; rejecting fails it.

use super::{Context, Engine, Outcome};
use crate::platform::entities::{
    endpoints, executions as exec_rows, project_members, task_runs, user_operations as ops, users,
};
use crate::runs::user_operations::{Kind, Status as OpStatus, DEFAULT_EXPIRY_HOURS};
use crate::Result;
use domain::pipeline::expr::{self, Binding};
use domain::pipeline::{Task, TaskType};
use domain::ProjectRole;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

/// What the gate decided for a task.
pub(super) enum Gate {
    /// Run it; `released` says whether it may read restricted values, `approved_by` who
    /// released them by approval.
    Run {
        released: bool,
        approved_by: Option<String>,
    },
    /// It waits for an approval, or has been recorded as failed: do not run it now.
    Hold,
}

/// The restricted variables and endpoints a task would use, in words.
async fn restricted_uses(engine: &Engine, task: &Task, ctx: &Context) -> Result<Vec<String>> {
    fn walk(v: &Value, ctx: &Context, out: &mut Vec<String>) {
        match v {
            Value::String(s) => {
                for b in expr::bindings_in(s).unwrap_or_default() {
                    if let Binding::Var(n) = b {
                        let what = format!("restricted variable {n}");
                        if ctx.restricted.contains(&n) && !out.contains(&what) {
                            out.push(what);
                        }
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, ctx, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, ctx, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(pre) = &task.pre_condition {
        walk(&Value::String(pre.clone()), ctx, &mut out);
    }
    walk(&Value::Object(task.input.clone()), ctx, &mut out);
    if matches!(task.kind, TaskType::Kubernetes | TaskType::Registry) {
        // the name as the task will use it, bindings resolved (restricted ones as written)
        let named = task.input.get("endpoint").and_then(Value::as_str).map(|n| {
            let mut open = ctx.clone();
            open.released = true;
            open.substitute(n).unwrap_or_else(|_| n.to_owned())
        });
        if let Some(name) = named {
            let restricted = endpoints::Entity::find()
                .filter(endpoints::Column::ProjectId.eq(ctx.project_id))
                .filter(endpoints::Column::Name.eq(name.clone()))
                .one(&engine.backend.db)
                .await?
                .is_some_and(|e| e.restricted);
            if restricted {
                out.push(format!("restricted endpoint {name}"));
            }
        }
    }
    Ok(out)
}

/// Whether `user` administers the project now (a disabled account administers nothing).
async fn administers(engine: &Engine, project_id: i64, user: Option<i64>) -> Result<bool> {
    let Some(u) = match user {
        Some(id) => {
            users::Entity::find_by_id(id)
                .one(&engine.backend.db)
                .await?
        }
        None => None,
    }
    .filter(|u| !u.disabled) else {
        return Ok(false);
    };
    let actor = crate::access::accounts::Actor {
        user_id: u.id,
        is_admin: u.is_admin,
    };
    crate::access::projects::administers(&engine.backend.db, actor, project_id).await
}

/// The e-mail addresses of the project's administrators (who can approve).
async fn administrators(engine: &Engine, project_id: i64) -> Result<Vec<String>> {
    let db = &engine.backend.db;
    let ids: Vec<i64> = project_members::Entity::find()
        .filter(project_members::Column::ProjectId.eq(project_id))
        .filter(project_members::Column::Role.eq(ProjectRole::Administrator))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .filter(users::Column::Disabled.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.email.to_lowercase())
        .collect())
}

impl Engine {
    /// Decides whether task run `r` may run now and with which values (see the module doc).
    pub(super) async fn restricted_gate(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        stage: &str,
        task: &Task,
        ctx: &Context,
    ) -> Result<Gate> {
        let uses = restricted_uses(self, task, ctx).await?;
        if uses.is_empty() {
            return Ok(Gate::Run {
                released: false,
                approved_by: None,
            });
        }
        if administers(self, e.project_id, e.plan_saved_by).await?
            && administers(self, e.project_id, e.created_by).await?
        {
            return Ok(Gate::Run {
                released: true,
                approved_by: None,
            });
        }
        let existing = ops::Entity::find()
            .filter(ops::Column::TaskRunId.eq(r.id))
            .one(&self.backend.db)
            .await?;
        match existing {
            None => {
                self.ask_release(e, r, stage, &uses).await?;
                Ok(Gate::Hold)
            }
            Some(op) => self.release_answer(e, r, op).await,
        }
    }

    /// Opens the approval that releasing `uses` to task run `r` waits for.
    async fn ask_release(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        stage: &str,
        uses: &[String],
    ) -> Result<()> {
        let summary = format!(
            "Task {stage} › {} uses {}; an administrator must approve.",
            r.name,
            uses.join(", ")
        );
        let description = "The pipeline version being run was not saved by a project \
            administrator, or the execution was not started by one, so restricted values \
            are released only with an administrator's approval."
            .to_owned();
        let wait = super::user_operation::Wait {
            kind: Kind::Restricted,
            summary: summary.clone(),
            description,
            approvers: administrators(self, e.project_id).await?,
            expires_at: self.backend.clock.now() + chrono::Duration::hours(DEFAULT_EXPIRY_HOURS),
            message: summary,
        };
        self.open_wait(e, r, stage, wait).await
    }

    /// What the approval's answer means for the task: run with the values, keep waiting, or
    /// fail saying why (rejected, expired, closed).
    async fn release_answer(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        op: ops::Model,
    ) -> Result<Gate> {
        let now = self.backend.clock.now();
        let by = op.responded_by.clone().unwrap_or_default();
        let said = op
            .response_comment
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        let failed = match Some(op.status) {
            Some(OpStatus::Approved) => {
                return Ok(Gate::Run {
                    released: true,
                    approved_by: Some(by),
                })
            }
            Some(OpStatus::Pending) if op.expires_at > now => return Ok(Gate::Hold),
            Some(OpStatus::Pending) => {
                let expired = ops::Entity::update_many()
                    .col_expr(ops::Column::Status, Expr::value(OpStatus::Expired))
                    .filter(ops::Column::Id.eq(op.id))
                    .filter(ops::Column::Status.eq(OpStatus::Pending))
                    .exec(&self.backend.db)
                    .await?;
                if expired.rows_affected == 0 {
                    // answered meanwhile: the next step reads the answer
                    return Ok(Gate::Hold);
                }
                "Expired: no administrator released the restricted values in time.".to_owned()
            }
            Some(OpStatus::Rejected) => {
                format!("Rejected by {by}{said}: the restricted values were not released.")
            }
            _ => "The approval for the restricted values was closed.".to_owned(),
        };
        self.record(e, r, Outcome::failed(failed)).await?;
        Ok(Gate::Hold)
    }
}
