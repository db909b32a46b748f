//! User Operations: approvals that executions wait for. The engine opens them (see
//! `engine::user_operation`); approvers answer here, in the UI or through the API. An answer
//! is a conditional UPDATE on a PENDING, unexpired row, so two answers (or an answer racing the
//! expiry) cannot both count; it then wakes the execution.

use crate::access::accounts::Actor;
use crate::platform::entities::{executions as exec_rows, user_operations as ops, users};
use crate::platform::events::publish;
use crate::{Backend, Error, Result};
use domain::executions::{RunStatus, UserOperationRow};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// Hours a User Operation waits when its task sets no `expiry`.
pub const DEFAULT_EXPIRY_HOURS: i64 = 72;

pub use domain::executions::{OperationKind as Kind, OperationStatus as Status};

fn view(m: ops::Model) -> UserOperationRow {
    UserOperationRow {
        id: m.id,
        project_id: m.project_id,
        execution_id: m.execution_id,
        pipeline_name: m.pipeline_name,
        run_index: m.run_index,
        stage: m.stage_name,
        task: m.task_name,
        summary: m.summary,
        description: m.description,
        approvers: serde_json::from_str(&m.approvers).unwrap_or_default(),
        status: m.status,
        responded_by: m.responded_by,
        comment: m.response_comment,
        responded_at: m.responded_at,
        expires_at: m.expires_at,
        created_at: m.created_at,
    }
}

async fn email_of(backend: &Backend, actor: Actor) -> Result<String> {
    Ok(users::Entity::find_by_id(actor.user_id)
        .one(&backend.db)
        .await?
        .ok_or(Error::Unauthenticated)?
        .email
        .to_lowercase())
}

/// The operations waiting for the actor's answer, oldest first.
pub async fn waiting_for(backend: &Backend, actor: Actor) -> Result<Vec<UserOperationRow>> {
    let email = email_of(backend, actor).await?;
    let quoted = serde_json::to_string(&email).unwrap_or_default();
    let now = backend.clock.now();
    let rows = ops::Entity::find()
        .filter(ops::Column::Status.eq(Status::Pending))
        .filter(ops::Column::ExpiresAt.gt(now))
        .filter(ops::Column::Kind.eq(Kind::Approval))
        .filter(ops::Column::Approvers.contains(quoted.trim_matches('"')))
        .order_by_asc(ops::Column::Id)
        .all(&backend.db)
        .await?;
    let mut out: Vec<UserOperationRow> = rows
        .into_iter()
        .map(view)
        // `contains` is a LIKE: keep exact matches only
        .filter(|o| o.approvers.iter().any(|a| a == &email))
        .collect();
    // restricted releases wait for any administrator of their project
    let restricted = ops::Entity::find()
        .filter(ops::Column::Status.eq(Status::Pending))
        .filter(ops::Column::ExpiresAt.gt(now))
        .filter(ops::Column::Kind.eq(Kind::Restricted))
        .order_by_asc(ops::Column::Id)
        .all(&backend.db)
        .await?;
    let mut administered = std::collections::HashMap::new();
    for op in restricted {
        let admin = match administered.get(&op.project_id) {
            Some(a) => *a,
            None => {
                let a =
                    crate::access::projects::administers(&backend.db, actor, op.project_id).await?;
                administered.insert(op.project_id, a);
                a
            }
        };
        if admin {
            out.push(view(op));
        }
    }
    out.sort_by_key(|o| o.id);
    Ok(out)
}

/// One operation (approvers and members of its project may read it).
pub async fn get(backend: &Backend, actor: Actor, id: i64) -> Result<UserOperationRow> {
    let email = email_of(backend, actor).await?;
    readable(backend, actor, &email, id).await
}

async fn readable(
    backend: &Backend,
    actor: Actor,
    email: &str,
    id: i64,
) -> Result<UserOperationRow> {
    let m = ops::Entity::find_by_id(id)
        .one(&backend.db)
        .await?
        .ok_or(Error::NotFound("user operation"))?;
    let op = view(m);
    if !op.approvers.iter().any(|a| a == email) {
        crate::access::projects::authorize(
            &backend.db,
            actor,
            op.project_id,
            domain::role::ProjectAction::View,
        )
        .await?;
    }
    Ok(op)
}

/// Approves or rejects an operation the actor is an approver of, and wakes its execution.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, operation_id = id, approve))]
pub async fn respond(
    backend: &Backend,
    actor: Actor,
    id: i64,
    approve: bool,
    comment: &str,
) -> Result<UserOperationRow> {
    let comment = comment.trim();
    if comment.chars().count() > 2000 {
        return Err(Error::invalid(
            "comment",
            "A comment has at most 2000 characters.",
        ));
    }
    let email = email_of(backend, actor).await?;
    let op = readable(backend, actor, &email, id).await?;
    may_answer(backend, actor, &email, &op).await?;
    let now = backend.clock.now();
    let status = if approve {
        Status::Approved
    } else {
        Status::Rejected
    };
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let answered = ops::Entity::update_many()
        .col_expr(ops::Column::Status, Expr::value(status))
        .col_expr(ops::Column::RespondedBy, Expr::value(email.clone()))
        .col_expr(
            ops::Column::ResponseComment,
            Expr::value((!comment.is_empty()).then(|| comment.to_owned())),
        )
        .col_expr(ops::Column::RespondedAt, Expr::value(now))
        .filter(ops::Column::Id.eq(id))
        .filter(ops::Column::Status.eq(Status::Pending))
        .filter(ops::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    if answered.rows_affected == 0 {
        let why = match op.status {
            Status::Pending => "it has expired".to_owned(),
            other => format!("it is already {}", other.as_str().to_lowercase()),
        };
        return Err(Error::Conflict(format!(
            "This operation can no longer be answered: {why}."
        )));
    }
    let woke = wake(&txn, op.execution_id).await?;
    txn.commit().await?;
    if woke {
        let running = RunStatus::Running;
        publish(backend, op.execution_id, op.project_id, None, None, running);
    }
    readable(backend, actor, &email, id).await
}

/// Who may answer: a project administrator releases restricted values; an approval is
/// answered by the approvers it names.
async fn may_answer(
    backend: &Backend,
    actor: Actor,
    email: &str,
    op: &UserOperationRow,
) -> Result<()> {
    let restricted = ops::Entity::find_by_id(op.id)
        .one(&backend.db)
        .await?
        .is_some_and(|m| m.kind == Kind::Restricted);
    if restricted {
        if !crate::access::projects::administers(&backend.db, actor, op.project_id).await? {
            return Err(Error::Forbidden(
                "Only the project's administrators can release restricted values.".to_owned(),
            ));
        }
    } else if !op.approvers.iter().any(|a| a == email) {
        return Err(Error::Forbidden(
            "Only the approvers this operation names can answer it.".to_owned(),
        ));
    }
    Ok(())
}

/// Wakes the execution waiting for an answer: RUNNING with no lease, so a worker claims it and
/// reads the answer. False when it was not waiting (canceled meanwhile, say).
async fn wake(txn: &sea_orm::DatabaseTransaction, execution_id: i64) -> Result<bool> {
    let woke = exec_rows::Entity::update_many()
        .col_expr(exec_rows::Column::Status, Expr::value(RunStatus::Running))
        .col_expr(
            exec_rows::Column::LeaseUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            exec_rows::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .filter(exec_rows::Column::Id.eq(execution_id))
        .filter(exec_rows::Column::Status.eq(RunStatus::Waiting))
        .exec(txn)
        .await?;
    Ok(woke.rows_affected == 1)
}
