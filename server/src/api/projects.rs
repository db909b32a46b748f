//! `/pipelines/api/projects`, their members and their variables.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{ApiJson, Bearer};
use super::page::{Page, PageQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use backend::access::projects;
use backend::platform::secrets::SecretValue;
use backend::project::variables;
use backend::project::variables::VariableInput;
use chrono::{DateTime, Utc};
use domain::variables::VariableRow;
use domain::views::{MemberRow, ProjectSummary};
use domain::{ErrorCode, ProjectRole};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A project and the caller's role in it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectOut {
    id: i64,
    name: String,
    description: String,
    /// administrator, member or viewer
    #[schema(example = "member")]
    my_role: &'static str,
    member_count: u64,
    created_at: DateTime<Utc>,
}

impl From<ProjectSummary> for ProjectOut {
    fn from(p: ProjectSummary) -> Self {
        Self {
            id: p.id,
            name: p.name,
            description: p.description,
            my_role: p.my_role.as_str(),
            member_count: p.member_count,
            created_at: p.created_at,
        }
    }
}

/// A project member.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberOut {
    user_id: i64,
    email: String,
    display_name: String,
    #[schema(example = "viewer")]
    role: &'static str,
}

impl From<MemberRow> for MemberOut {
    fn from(m: MemberRow) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email,
            display_name: m.display_name,
            role: m.role.as_str(),
        }
    }
}

/// A project with its members.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectDetailOut {
    #[serde(flatten)]
    project: ProjectOut,
    members: Vec<MemberOut>,
}

/// Create a project (system administrators).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    name: String,
    #[serde(default)]
    description: String,
}

/// Change a project: any field left out keeps its value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    name: Option<String>,
    description: Option<String>,
}

/// Add a member by e-mail address.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    email: String,
    /// administrator, member or viewer
    #[schema(pattern = "^(administrator|member|viewer)$")]
    role: String,
}

/// Change a member's role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    /// administrator, member or viewer
    #[schema(pattern = "^(administrator|member|viewer)$")]
    role: String,
}

fn role(s: &str) -> Result<ProjectRole, ApiError> {
    ProjectRole::parse(s).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Invalid,
            "role is administrator, member or viewer.",
        )
    })
}

/// The projects I can see, by name.
#[utoipa::path(get, path = "/projects", tag = "projects", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ProjectOut>), (status = 401, body = ApiErrorBody)))]
pub async fn list_projects(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<ProjectOut>>, ApiError> {
    let all = projects::list_for(&s.backend, actor).await?;
    Ok(Json(
        page.slice(all.into_iter().map(ProjectOut::from).collect())?,
    ))
}

/// Creates a project; the caller becomes its administrator.
#[utoipa::path(post, path = "/projects", tag = "projects", request_body = CreateProject, security(("bearer" = [])),
    responses((status = 201, body = ProjectOut), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_project(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    ApiJson(req): ApiJson<CreateProject>,
) -> Result<(StatusCode, Json<ProjectOut>), ApiError> {
    let p = projects::create(&s.backend, actor, &req.name, &req.description).await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// One project with its members.
#[utoipa::path(get, path = "/projects/{id}", tag = "projects", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ProjectDetailOut), (status = 404, body = ApiErrorBody)))]
pub async fn get_project(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<Json<ProjectDetailOut>, ApiError> {
    let d = projects::get(&s.backend, actor, id).await?;
    Ok(Json(ProjectDetailOut {
        project: d.project.into(),
        members: d.members.into_iter().map(MemberOut::from).collect(),
    }))
}

/// Renames a project or changes its description (project administrators).
#[utoipa::path(patch, path = "/projects/{id}", tag = "projects", params(("id" = i64, Path)), request_body = UpdateProject, security(("bearer" = [])),
    responses((status = 200, body = ProjectOut), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn update_project(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateProject>,
) -> Result<Json<ProjectOut>, ApiError> {
    let current = projects::get(&s.backend, actor, id).await?.project;
    let name = req.name.unwrap_or(current.name);
    let description = req.description.unwrap_or(current.description);
    projects::update(&s.backend, actor, id, &name, &description).await?;
    Ok(Json(
        projects::get(&s.backend, actor, id).await?.project.into(),
    ))
}

/// Deletes a project (project administrators).
#[utoipa::path(delete, path = "/projects/{id}", tag = "projects", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_project(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    projects::delete(&s.backend, actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a member (project administrators).
#[utoipa::path(post, path = "/projects/{id}/members", tag = "projects", params(("id" = i64, Path)), request_body = AddMember, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn add_member(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<AddMember>,
) -> Result<StatusCode, ApiError> {
    projects::add_member(&s.backend, actor, id, &req.email, role(&req.role)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes a member's role (project administrators).
#[utoipa::path(patch, path = "/projects/{id}/members/{userId}", tag = "projects", params(("id" = i64, Path), ("userId" = i64, Path)), request_body = ChangeRole, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn change_member(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path((id, user_id)): Path<(i64, i64)>,
    ApiJson(req): ApiJson<ChangeRole>,
) -> Result<StatusCode, ApiError> {
    projects::change_role(&s.backend, actor, id, user_id, role(&req.role)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member (project administrators).
#[utoipa::path(delete, path = "/projects/{id}/members/{userId}", tag = "projects", params(("id" = i64, Path), ("userId" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn remove_member(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    projects::remove_member(&s.backend, actor, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A variable. `value` is present for REGULAR variables only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariableOut {
    id: i64,
    name: String,
    /// REGULAR, SECRET or RESTRICTED
    #[schema(example = "SECRET")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    description: String,
    updated_at: DateTime<Utc>,
}

impl From<VariableRow> for VariableOut {
    fn from(v: VariableRow) -> Self {
        Self {
            id: v.id,
            name: v.name,
            kind: v.kind.as_str(),
            value: v.value,
            description: v.description,
            updated_at: v.updated_at,
        }
    }
}

/// Create a variable.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVariable {
    name: String,
    /// REGULAR, SECRET or RESTRICTED
    #[schema(pattern = "^(REGULAR|SECRET|RESTRICTED)$")]
    kind: String,
    value: String,
    #[serde(default)]
    description: String,
}

/// Change a variable: fields left out keep their value (a hidden value stays as it is).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVariable {
    name: Option<String>,
    /// REGULAR, SECRET or RESTRICTED
    #[schema(pattern = "^(REGULAR|SECRET|RESTRICTED)$")]
    kind: Option<String>,
    value: Option<String>,
    description: Option<String>,
}

/// A project's variables by name; hidden kinds without their values.
#[utoipa::path(get, path = "/projects/{id}/variables", tag = "variables", params(("id" = i64, Path), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<VariableOut>), (status = 404, body = ApiErrorBody)))]
pub async fn list_variables(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<VariableOut>>, ApiError> {
    let all = variables::list(&s.backend, actor, id).await?;
    Ok(Json(
        page.slice(all.into_iter().map(VariableOut::from).collect())?,
    ))
}

/// Creates a variable (members; RESTRICTED: administrators).
#[utoipa::path(post, path = "/projects/{id}/variables", tag = "variables", params(("id" = i64, Path)), request_body = CreateVariable, security(("bearer" = [])),
    responses((status = 201, body = VariableOut), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_variable(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<CreateVariable>,
) -> Result<(StatusCode, Json<VariableOut>), ApiError> {
    let input = VariableInput {
        name: req.name,
        kind: req.kind,
        value: Some(SecretValue::new(req.value)),
        description: req.description,
    };
    let v = variables::create(&s.backend, actor, id, input).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

/// Changes a variable.
#[utoipa::path(patch, path = "/projects/{id}/variables/{variableId}", tag = "variables", params(("id" = i64, Path), ("variableId" = i64, Path)), request_body = UpdateVariable, security(("bearer" = [])),
    responses((status = 200, body = VariableOut), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update_variable(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path((id, variable_id)): Path<(i64, i64)>,
    ApiJson(req): ApiJson<UpdateVariable>,
) -> Result<Json<VariableOut>, ApiError> {
    let current = variables::get(&s.backend, actor, id, variable_id).await?;
    let input = VariableInput {
        name: req.name.unwrap_or(current.name),
        kind: req.kind.unwrap_or_else(|| current.kind.as_str().to_owned()),
        value: req.value.map(SecretValue::new),
        description: req.description.unwrap_or(current.description),
    };
    Ok(Json(
        variables::update(&s.backend, actor, id, variable_id, input)
            .await?
            .into(),
    ))
}

/// Deletes a variable.
#[utoipa::path(delete, path = "/projects/{id}/variables/{variableId}", tag = "variables", params(("id" = i64, Path), ("variableId" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_variable(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path((id, variable_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    variables::delete(&s.backend, actor, id, variable_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
