//! User Operations over the REST API: the approvals waiting for the caller, and their answers.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{ApiJson, Bearer};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use backend::runs::user_operations;
use chrono::{DateTime, Utc};
use domain::executions::{OperationStatus, UserOperationRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user operation (an approval an execution waits for).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserOperationOut {
    id: i64,
    project_id: i64,
    execution_id: i64,
    pipeline_name: String,
    execution_index: i64,
    stage: String,
    task: String,
    summary: String,
    description: String,
    approvers: Vec<String>,
    /// PENDING, APPROVED, REJECTED, EXPIRED or CANCELED
    status: OperationStatus,
    responded_by: Option<String>,
    comment: Option<String>,
    responded_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl From<UserOperationRow> for UserOperationOut {
    fn from(o: UserOperationRow) -> Self {
        Self {
            id: o.id,
            project_id: o.project_id,
            execution_id: o.execution_id,
            pipeline_name: o.pipeline_name,
            execution_index: o.run_index,
            stage: o.stage,
            task: o.task,
            summary: o.summary,
            description: o.description,
            approvers: o.approvers,
            status: o.status,
            responded_by: o.responded_by,
            comment: o.comment,
            responded_at: o.responded_at,
            expires_at: o.expires_at,
            created_at: o.created_at,
        }
    }
}

/// An answer to a user operation.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[serde(default)]
    comment: String,
}

/// The user operations waiting for the caller's answer.
#[utoipa::path(get, path = "/user-operations", tag = "user operations", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserOperationOut>)))]
pub async fn list_user_operations(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
) -> Result<Json<Vec<UserOperationOut>>, ApiError> {
    Ok(Json(
        user_operations::waiting_for(&s.backend, actor)
            .await?
            .into_iter()
            .map(UserOperationOut::from)
            .collect(),
    ))
}

/// One user operation.
#[utoipa::path(get, path = "/user-operations/{id}", tag = "user operations", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = UserOperationOut), (status = 404, body = ApiErrorBody)))]
pub async fn get_user_operation(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<Json<UserOperationOut>, ApiError> {
    Ok(Json(
        user_operations::get(&s.backend, actor, id).await?.into(),
    ))
}

/// Approves a user operation (approvers only); the execution goes on.
#[utoipa::path(post, path = "/user-operations/{id}/approve", tag = "user operations", params(("id" = i64, Path)), request_body = Answer, security(("bearer" = [])),
    responses((status = 200, body = UserOperationOut), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody, description = "already answered or expired")))]
pub async fn approve_user_operation(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(a): ApiJson<Answer>,
) -> Result<Json<UserOperationOut>, ApiError> {
    Ok(Json(
        user_operations::respond(&s.backend, actor, id, true, &a.comment)
            .await?
            .into(),
    ))
}

/// Rejects a user operation (approvers only); its task fails with the comment as the reason.
#[utoipa::path(post, path = "/user-operations/{id}/reject", tag = "user operations", params(("id" = i64, Path)), request_body = Answer, security(("bearer" = [])),
    responses((status = 200, body = UserOperationOut), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody, description = "already answered or expired")))]
pub async fn reject_user_operation(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(a): ApiJson<Answer>,
) -> Result<Json<UserOperationOut>, ApiError> {
    Ok(Json(
        user_operations::respond(&s.backend, actor, id, false, &a.comment)
            .await?
            .into(),
    ))
}
