//! Pipelines, executions and user operations. Pipelines are listed and created per project
//! (`/projects/{id}/pipelines`); a pipeline, an execution or a user operation is then addressed
//! by its own id (`/pipelines/{id}`, `/executions/{id}`, `/user-operations/{id}`), as in Aria.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{ApiJson, Bearer};
use super::page::{Page, PageQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::project::pipelines;
use backend::runs::executions::{self, Action, Started, Trigger};
use backend::runs::user_operations;
use chrono::{DateTime, Utc};
use domain::executions::{ExecutionDetail, ExecutionRow, PipelineRow, UserOperationRow};
use domain::ErrorCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A pipeline's last execution.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LastExecutionOut {
    index: i64,
    /// QUEUED, RUNNING, WAITING, PAUSED, COMPLETED, FAILED or CANCELED
    status: &'static str,
    created_at: DateTime<Utc>,
}

/// A pipeline.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipelineOut {
    id: i64,
    project_id: i64,
    name: String,
    description: String,
    enabled: bool,
    /// queue, cancel-previous or skip-if-running
    concurrency: String,
    /// Whether a Docker webhook may trigger it (it takes the Docker inputs).
    docker_inputs: bool,
    stage_count: i32,
    /// Inputs and their defaults.
    input: BTreeMap<String, String>,
    last_execution: Option<LastExecutionOut>,
    updated_at: DateTime<Utc>,
    /// The YAML definition (single pipeline reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    yaml: Option<String>,
}

fn pipeline_out(project_id: i64, p: PipelineRow, yaml: Option<String>) -> PipelineOut {
    PipelineOut {
        id: p.id,
        project_id,
        name: p.name,
        description: p.description,
        enabled: p.enabled,
        concurrency: p.concurrency,
        docker_inputs: p.docker_inputs,
        stage_count: p.stage_count,
        input: p.input.into_iter().collect(),
        last_execution: p
            .last_execution
            .map(|(index, status, created_at)| LastExecutionOut {
                index,
                status: status.as_str(),
                created_at,
            }),
        updated_at: p.updated_at,
        yaml,
    }
}

/// A pipeline's YAML definition (kind: PIPELINE …).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineYaml {
    yaml: String,
}

/// Changes to a pipeline: a new definition, and/or enable or disable it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineChange {
    yaml: Option<String>,
    enabled: Option<bool>,
}

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
    status: String,
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

/// A project's pipelines by name.
#[utoipa::path(get, path = "/projects/{id}/pipelines", tag = "pipelines", params(("id" = i64, Path), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<PipelineOut>), (status = 404, body = ApiErrorBody)))]
pub async fn list_pipelines(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Page<PipelineOut>>, ApiError> {
    let (page, size) = q.bounds()?;
    let (rows, total) =
        pipelines::list(&s.backend, actor, id, (page - 1).saturating_mul(size), size).await?;
    Ok(Json(Page {
        items: rows
            .into_iter()
            .map(|p| pipeline_out(id, p, None))
            .collect(),
        page,
        page_size: size,
        total,
    }))
}

/// Creates a pipeline from its YAML definition; problems come back with their line and field.
#[utoipa::path(post, path = "/projects/{id}/pipelines", tag = "pipelines", params(("id" = i64, Path)), request_body = PipelineYaml, security(("bearer" = [])),
    responses((status = 201, body = PipelineOut), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_pipeline(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<PipelineYaml>,
) -> Result<(StatusCode, Json<PipelineOut>), ApiError> {
    let p = pipelines::create(&s.backend, actor, id, &r.yaml).await?;
    Ok((StatusCode::CREATED, Json(pipeline_out(id, p, Some(r.yaml)))))
}

/// Imports a pipeline: the body is its exported YAML (`Content-Type: application/yaml`).
#[utoipa::path(post, path = "/projects/{id}/pipelines/import", tag = "pipelines", params(("id" = i64, Path)),
    request_body(content = String, content_type = "application/yaml"), security(("bearer" = [])),
    responses((status = 201, body = PipelineOut), (status = 409, body = ApiErrorBody), (status = 415, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn import_pipeline(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: String,
) -> Result<(StatusCode, Json<PipelineOut>), ApiError> {
    let yaml_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|v| {
            matches!(
                v.as_str(),
                "application/yaml" | "application/x-yaml" | "text/yaml" | "text/plain"
            )
        });
    if !yaml_type {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the exported YAML with Content-Type: application/yaml.",
        ));
    }
    let p = pipelines::create(&s.backend, actor, id, &body).await?;
    Ok((StatusCode::CREATED, Json(pipeline_out(id, p, Some(body)))))
}

/// One pipeline with its YAML.
#[utoipa::path(get, path = "/pipelines/{id}", tag = "pipelines", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = PipelineOut), (status = 404, body = ApiErrorBody)))]
pub async fn get_pipeline(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<Json<PipelineOut>, ApiError> {
    let project = pipelines::project_of(&s.backend, id).await?;
    let (p, yaml) = pipelines::get(&s.backend, actor, project, id).await?;
    Ok(Json(pipeline_out(project, p, Some(yaml))))
}

/// Changes a pipeline: a new YAML definition, and/or enabled.
#[utoipa::path(patch, path = "/pipelines/{id}", tag = "pipelines", params(("id" = i64, Path)), request_body = PipelineChange, security(("bearer" = [])),
    responses((status = 200, body = PipelineOut), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update_pipeline(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<PipelineChange>,
) -> Result<Json<PipelineOut>, ApiError> {
    let project = pipelines::project_of(&s.backend, id).await?;
    if let Some(yaml) = &r.yaml {
        pipelines::update(&s.backend, actor, project, id, yaml).await?;
    }
    if let Some(enabled) = r.enabled {
        pipelines::set_enabled(&s.backend, actor, project, id, enabled).await?;
    }
    let (p, yaml) = pipelines::get(&s.backend, actor, project, id).await?;
    Ok(Json(pipeline_out(project, p, Some(yaml))))
}

/// Deletes a pipeline and its finished executions (refused while one is active).
#[utoipa::path(delete, path = "/pipelines/{id}", tag = "pipelines", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn delete_pipeline(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let project = pipelines::project_of(&s.backend, id).await?;
    pipelines::delete(&s.backend, actor, project, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Exports a pipeline as YAML (import it with `POST /projects/{id}/pipelines/import`).
#[utoipa::path(get, path = "/pipelines/{id}/export", tag = "pipelines", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "application/yaml"), (status = 404, body = ApiErrorBody)))]
pub async fn export_pipeline(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let project = pipelines::project_of(&s.backend, id).await?;
    let (p, yaml) = pipelines::get(&s.backend, actor, project, id).await?;
    let file: String = p
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/yaml; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}.yaml\""),
            ),
        ],
        yaml,
    )
        .into_response())
}

/// Inject parameters: Docker: adds the Docker inputs so a Docker webhook may trigger it.
#[utoipa::path(post, path = "/pipelines/{id}/inject-docker-inputs", tag = "pipelines", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = PipelineOut), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn inject_docker_inputs(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<Json<PipelineOut>, ApiError> {
    let project = pipelines::project_of(&s.backend, id).await?;
    pipelines::inject_docker_inputs(&s.backend, actor, project, id).await?;
    let (p, yaml) = pipelines::get(&s.backend, actor, project, id).await?;
    Ok(Json(pipeline_out(project, p, Some(yaml))))
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
