//! Pipelines over the REST API: listed and created per project (`/projects/{id}/pipelines`),
//! then addressed by their own id (`/pipelines/{id}`), as in Aria; import, export and the
//! Docker inputs. Their executions are in `executions.rs`, approvals in `user_operations.rs`.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{ApiJson, Bearer};
use super::page::{Page, PageQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::project::pipelines;
use chrono::{DateTime, Utc};
use domain::executions::PipelineRow;
use domain::ErrorCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

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
