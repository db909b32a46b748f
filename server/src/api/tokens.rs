//! `/pipelines/api/tokens` and `/pipelines/api/login`.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{ApiJson, Bearer};
use super::page::{Page, PageQuery};
use crate::state::AppState;
use app::ssr::ClientAddress;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use domain::views::{TokenRow, TokenStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Create an API (refresh) token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// Your e-mail address.
    pub email: String,
    /// Your password.
    pub password: String,
    /// What the token is for.
    pub name: String,
}

/// A new refresh token: shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTokenResponse {
    /// The refresh token. Wharf keeps only a hash of it.
    pub refresh_token: String,
    /// When it stops working (six months from now).
    pub expires_at: DateTime<Utc>,
    /// Its id, to revoke it.
    pub id: i64,
}

/// Exchange a refresh token for an access token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoginRequest {
    /// A refresh token from `POST /pipelines/api/tokens`.
    pub refresh_token: String,
}

/// A short-lived access token for `Authorization: Bearer`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// The access token.
    pub token: String,
    /// When it stops working (30 minutes from now).
    pub expires_at: DateTime<Utc>,
}

/// One of my tokens (never the token itself).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenOut {
    id: i64,
    name: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    /// active, expired or revoked
    #[schema(example = "active")]
    status: &'static str,
}

impl From<TokenRow> for TokenOut {
    fn from(t: TokenRow) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            status: match t.status {
                TokenStatus::Active => "active",
                TokenStatus::Expired => "expired",
                TokenStatus::Revoked => "revoked",
            },
        }
    }
}

/// Creates a refresh token valid six months, as the Generate Token dialog does.
#[utoipa::path(
    post, path = "/tokens", tag = "tokens",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, body = CreateTokenResponse),
        (status = 401, body = ApiErrorBody, description = "wrong e-mail address or password"),
        (status = 422, body = ApiErrorBody),
        (status = 429, body = ApiErrorBody, description = "too many failed attempts"),
    )
)]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(address): Extension<ClientAddress>,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreateTokenResponse>), ApiError> {
    let issued = backend::access::tokens::issue(
        &state.backend,
        &req.email,
        &req.password,
        &req.name,
        &address.0,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateTokenResponse {
            refresh_token: issued.token,
            expires_at: issued.row.expires_at,
            id: issued.row.id,
        }),
    ))
}

/// Exchanges a refresh token for a 30-minute access token.
#[utoipa::path(
    post, path = "/login", tag = "tokens",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, body = ApiErrorBody, description = "unknown, expired or revoked refresh token"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let (token, expires_at) = backend::access::tokens::exchange(&state.backend, &req.refresh_token)
        .await
        .map_err(|e| match e {
            backend::Error::Unauthenticated => ApiError::new(
                domain::ErrorCode::Unauthenticated,
                "That refresh token is unknown, expired or revoked.",
            ),
            other => other.into(),
        })?;
    Ok(Json(LoginResponse { token, expires_at }))
}

/// My tokens, newest first.
#[utoipa::path(
    get, path = "/tokens", tag = "tokens",
    params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<TokenOut>), (status = 401, body = ApiErrorBody))
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    Bearer(actor): Bearer,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<TokenOut>>, ApiError> {
    let rows = backend::access::tokens::list_mine(&state.backend, actor).await?;
    Ok(Json(
        page.slice(rows.into_iter().map(TokenOut::from).collect())?,
    ))
}

/// Revokes one of my tokens; it and its access tokens stop working at once.
#[utoipa::path(
    delete, path = "/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "token id")),
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    backend::access::tokens::revoke(&state.backend, actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
