//! Executions over the REST API: run a pipeline, list, read, act on, delete, and read a task's log.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{ApiJson, Bearer};
use super::page::{Page, PageQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use backend::project::pipelines;
use backend::runs::executions::{self, Action, Started, Trigger};
use chrono::{DateTime, Utc};
use domain::executions::{ExecutionDetail, ExecutionRow};
use domain::ErrorCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Starts an execution: input values by name (missing ones take their defaults) and comments.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    #[serde(default)]
    input: BTreeMap<String, String>,
    #[serde(default)]
    comments: String,
}

/// An execution.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionOut {
    id: i64,
    pipeline_id: i64,
    pipeline_name: String,
    /// Its number within the pipeline.
    index: i64,
    /// QUEUED, RUNNING, WAITING, PAUSED, COMPLETED, FAILED or CANCELED
    status: &'static str,
    message: Option<String>,
    /// manual, api, docker or rerun
    trigger: String,
    comments: String,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
}

impl From<ExecutionRow> for ExecutionOut {
    fn from(r: ExecutionRow) -> Self {
        Self {
            id: r.id,
            pipeline_id: r.pipeline_id,
            pipeline_name: r.pipeline_name,
            index: r.index,
            status: r.status.as_str(),
            message: r.message,
            trigger: r.trigger,
            comments: r.comments,
            created_at: r.created_at,
            started_at: r.started_at,
            ended_at: r.ended_at,
        }
    }
}

/// What a run request did: an execution was queued, or (skip-if-running) none was.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunOut {
    /// The queued execution; absent when skipped.
    execution: Option<ExecutionOut>,
    /// Set when skip-if-running skipped this run: the active execution's index.
    skipped_because_running: Option<i64>,
}

impl From<Started> for RunOut {
    fn from(s: Started) -> Self {
        match s {
            Started::Queued(r) => Self {
                execution: Some(r.into()),
                skipped_because_running: None,
            },
            Started::Skipped { active_index } => Self {
                execution: None,
                skipped_because_running: Some(active_index),
            },
        }
    }
}

/// A task of an execution.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskOut {
    name: String,
    /// K8S, REST, POLL, Condition, UserOperation or Registry
    #[serde(rename = "type")]
    kind: String,
    /// Its taskOrder entry (tasks of one entry run in parallel).
    group: i32,
    status: &'static str,
    message: Option<String>,
    /// Its outputs (secret values masked).
    #[schema(value_type = Object)]
    output: Option<serde_json::Value>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
}

/// A stage of an execution.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageOut {
    name: String,
    status: &'static str,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    tasks: Vec<TaskOut>,
}

/// An execution with its inputs, outputs, stages and tasks.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionDetailOut {
    #[serde(flatten)]
    execution: ExecutionOut,
    input: BTreeMap<String, String>,
    output: BTreeMap<String, String>,
    stages: Vec<StageOut>,
}

impl From<ExecutionDetail> for ExecutionDetailOut {
    fn from(d: ExecutionDetail) -> Self {
        Self {
            execution: d.row.into(),
            input: d.input.into_iter().collect(),
            output: d.output.into_iter().collect(),
            stages: d
                .stages
                .into_iter()
                .map(|s| StageOut {
                    name: s.name,
                    status: s.status.as_str(),
                    started_at: s.started_at,
                    ended_at: s.ended_at,
                    tasks: s
                        .tasks
                        .into_iter()
                        .map(|t| TaskOut {
                            name: t.name,
                            kind: t.kind,
                            group: t.group,
                            status: t.status.as_str(),
                            message: t.message,
                            output: t.output.and_then(|o| serde_json::from_str(&o).ok()),
                            started_at: t.started_at,
                            ended_at: t.ended_at,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// An action on an execution.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// cancel, pause, resume or rerun
    action: String,
}

/// A task's log.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogOut {
    lines: Vec<String>,
}

/// Which executions to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ExecutionQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    page_size: Option<u64>,
    /// Only this pipeline's executions.
    pipeline_id: Option<i64>,
}

/// Runs a pipeline: `{"input": {...}, "comments": "..."}`. 202 with the queued execution, or
/// 200 with `skippedBecauseRunning` when skip-if-running skipped it.
#[utoipa::path(post, path = "/pipelines/{id}/executions", tag = "executions", params(("id" = i64, Path)), request_body = RunRequest, security(("bearer" = [])),
    responses((status = 202, body = RunOut), (status = 200, body = RunOut, description = "skipped: an execution is already running"), (status = 409, body = ApiErrorBody, description = "the pipeline is disabled"), (status = 422, body = ApiErrorBody)))]
pub async fn run_pipeline(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<RunRequest>,
) -> Result<(StatusCode, Json<RunOut>), ApiError> {
    let project = pipelines::project_of(&s.backend, id).await?;
    let started = executions::start(
        &s.backend,
        actor,
        project,
        id,
        r.input,
        &r.comments,
        Trigger::Api,
    )
    .await?;
    let code = match started {
        Started::Queued(_) => StatusCode::ACCEPTED,
        Started::Skipped { .. } => StatusCode::OK,
    };
    Ok((code, Json(started.into())))
}

/// A project's executions, newest first (optionally one pipeline's).
#[utoipa::path(get, path = "/projects/{id}/executions", tag = "executions", params(("id" = i64, Path), ExecutionQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ExecutionOut>), (status = 404, body = ApiErrorBody)))]
pub async fn list_executions(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    Query(q): Query<ExecutionQuery>,
) -> Result<Json<Page<ExecutionOut>>, ApiError> {
    let (page, size) = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .bounds()?;
    let (rows, total) = executions::list(
        &s.backend,
        actor,
        id,
        q.pipeline_id,
        (page - 1).saturating_mul(size),
        size,
    )
    .await?;
    Ok(Json(Page {
        items: rows.into_iter().map(ExecutionOut::from).collect(),
        page,
        page_size: size,
        total,
    }))
}

/// One execution with its stages and tasks.
#[utoipa::path(get, path = "/executions/{id}", tag = "executions", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ExecutionDetailOut), (status = 404, body = ApiErrorBody)))]
pub async fn get_execution(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<Json<ExecutionDetailOut>, ApiError> {
    let project = executions::project_of(&s.backend, id).await?;
    Ok(Json(
        executions::get(&s.backend, actor, project, id)
            .await?
            .into(),
    ))
}

/// Deletes an execution that has ended.
#[utoipa::path(delete, path = "/executions/{id}", tag = "executions", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn delete_execution(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let project = executions::project_of(&s.backend, id).await?;
    executions::delete(&s.backend, actor, project, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancel, pause, resume or rerun an execution (rerun answers with the new execution).
#[utoipa::path(post, path = "/executions/{id}/actions", tag = "executions", params(("id" = i64, Path)), request_body = ActionRequest, security(("bearer" = [])),
    responses((status = 200, body = RunOut), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn execution_action(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<ActionRequest>,
) -> Result<Json<RunOut>, ApiError> {
    let project = executions::project_of(&s.backend, id).await?;
    use domain::executions::ExecutionAction as Asked;
    let action =
        match Asked::parse(&r.action) {
            Some(Asked::Cancel) => Action::Cancel,
            Some(Asked::Pause) => Action::Pause,
            Some(Asked::Resume) => Action::Resume,
            Some(Asked::Rerun) => {
                return Ok(Json(
                    executions::rerun(&s.backend, actor, project, id)
                        .await?
                        .into(),
                ))
            }
            Some(Asked::Delete) | None => return Err(ApiError::new(
                ErrorCode::Invalid,
                "action is one of cancel, pause, resume, rerun (DELETE /executions/{id} deletes).",
            )),
        };
    let row = executions::act(&s.backend, actor, project, id, action).await?;
    Ok(Json(Started::Queued(row).into()))
}

/// One task's log lines.
#[utoipa::path(get, path = "/executions/{id}/stages/{stage}/tasks/{task}/log", tag = "executions",
    params(("id" = i64, Path), ("stage" = String, Path), ("task" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = LogOut), (status = 404, body = ApiErrorBody)))]
pub async fn task_log(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path((id, stage, task)): Path<(i64, String, String)>,
) -> Result<Json<LogOut>, ApiError> {
    let project = executions::project_of(&s.backend, id).await?;
    let lines = executions::task_log(&s.backend, actor, project, id, &stage, &task).await?;
    Ok(Json(LogOut { lines }))
}
