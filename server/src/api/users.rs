//! `/pipelines/api/users`: the installation's people, for system administrators. Everything
//! the Users page does can be done (and checked) over HTTP.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{ApiJson, Bearer};
use super::page::{Page, PageQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use backend::access::accounts::{self, NewUser};
use chrono::{DateTime, Utc};
use domain::views::UserRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user (never their password).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserOut {
    id: i64,
    email: String,
    display_name: String,
    /// Administers the whole installation.
    is_admin: bool,
    /// Cannot sign in; their sessions ended and their API tokens were revoked.
    disabled: bool,
    created_at: DateTime<Utc>,
}

impl From<UserRow> for UserOut {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            is_admin: u.is_admin,
            disabled: u.disabled,
            created_at: u.created_at,
        }
    }
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateUser {
    email: String,
    display_name: String,
    /// Their first password (at least 12 characters).
    password: String,
    #[serde(default)]
    is_admin: bool,
}

/// Enable or disable a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// true: the user cannot sign in; their sessions end and their API tokens are revoked.
    disabled: bool,
}

/// A new password for a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The new password (at least 12 characters).
    password: String,
}

/// Every user, by e-mail address.
#[utoipa::path(get, path = "/users", tag = "users", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<UserOut>), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody)))]
pub async fn list_users(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<UserOut>>, ApiError> {
    let rows = accounts::list_users(&s.backend, actor).await?;
    Ok(Json(
        page.slice(rows.into_iter().map(UserOut::from).collect())?,
    ))
}

/// Creates a user.
#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateUser, security(("bearer" = [])),
    responses((status = 201, body = UserOut), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_user(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    ApiJson(r): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<UserOut>), ApiError> {
    let u = accounts::create_user(
        &s.backend,
        actor,
        NewUser {
            email: r.email,
            display_name: r.display_name,
            password: r.password,
            is_admin: r.is_admin,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(u.into())))
}

/// Disables or enables a user.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UpdateUser, security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn update_user(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<UpdateUser>,
) -> Result<Json<UserOut>, ApiError> {
    let u = accounts::set_disabled(&s.backend, actor, id, r.disabled).await?;
    Ok(Json(u.into()))
}

/// Sets a new password; the user's sessions end and their API tokens are revoked.
#[utoipa::path(post, path = "/users/{id}/password", tag = "users", params(("id" = i64, Path)), request_body = ResetPassword, security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn reset_password(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<ResetPassword>,
) -> Result<StatusCode, ApiError> {
    accounts::reset_password(&s.backend, actor, id, &r.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
