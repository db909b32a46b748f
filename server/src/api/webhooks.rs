//! Docker webhooks: the listeners registries post to (authenticated by the card's secure
//! token, not by a bearer access token), the cards (`/projects/{id}/docker-webhooks`,
//! `/docker-webhooks/{id}`) and their Activity (`/projects/{id}/docker-activity`,
//! `/docker-activity/{id}`).

use super::error::{ApiError, ApiErrorBody};
use super::extract::{ApiJson, Bearer};
use super::page::{Page, PageQuery};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::triggers::cards;
use backend::triggers::inbox::{self, Source};
use domain::webhooks::{
    ActivityDetail, ActivityFilter, ActivityRow, ActivityStatus, WebhookCard, WebhookForm,
};
use domain::ErrorCode;
use serde::Deserialize;
use utoipa::IntoParams;

/// Largest delivery a listener reads.
pub const MAX_DELIVERY_BYTES: usize = 1024 * 1024;

/// The secure token in the query string.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The card's secure token (or send it as Authorization: Bearer).
    #[serde(rename = "secureToken")]
    secure_token: Option<String>,
}

/// A listener's answer in the API's error format (`{"code", "message"}`).
fn plain(status: StatusCode, message: &str) -> Response {
    let code = super::error::code_for(status).unwrap_or(ErrorCode::Malformed);
    let mut res = ApiError::new(code, message).into_response();
    *res.status_mut() = status;
    res
}

fn json_content(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let essence = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
        })
        .unwrap_or(false)
}

#[derive(Clone, Copy)]
enum Listener {
    DockerHub,
    Registry,
}

async fn listen(s: AppState, listener: Listener, token: Option<String>, req: Request) -> Response {
    // 1. the card, by its secure token (query string or bearer)
    let card = match card_of(&s, token, req.headers()).await {
        Ok(card) => card,
        Err(refused) => return refused,
    };
    // 2. the delivery, read into push events (JSON, at most 1 MiB and 100 pushes)
    let (source, events, body) = match read_delivery(listener, req).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    if events.is_empty() {
        // pulls, blob pushes, per-platform manifests: nothing to record
        return (StatusCode::OK, Json(serde_json::json!({ "accepted": 0 }))).into_response();
    }
    // 3. stored durably before the answer
    match s
        .inbox
        .accept(&s.backend, card, source, &body, &events)
        .await
    {
        // every event refused: recorded in Activity as Rejected, and the registry is told why
        Ok(()) if events.iter().all(|e| e.rejected.is_some()) => {
            let why = events
                .iter()
                .find_map(|e| e.rejected.as_deref())
                .unwrap_or_default();
            plain(StatusCode::BAD_REQUEST, &format!("Rejected: {why}."))
        }
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({
                "accepted": events.iter().filter(|e| e.rejected.is_none()).count(),
                "rejected": events.iter().filter(|e| e.rejected.is_some()).count(),
            })),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "storing a webhook delivery failed");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not stored; send it again.",
            )
        }
    }
}

/// Step 1: the card whose secure token came with the delivery, or the answer refusing it.
async fn card_of(
    s: &AppState,
    token: Option<String>,
    headers: &HeaderMap,
) -> std::result::Result<i64, Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let token = token.or(bearer).unwrap_or_default();
    let card = if token.is_empty() {
        None
    } else {
        s.backend
            .listeners
            .card_for(&s.backend.db, &token)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "webhook token look-up failed");
                plain(StatusCode::SERVICE_UNAVAILABLE, "Try again later.")
            })?
    };
    card.ok_or_else(|| {
        if let Some(n) = s.refused_deliveries.count_one() {
            tracing::warn!(
                refused_since_start = n,
                "webhook delivery refused: missing or unknown token (logged at most every 10 s)"
            );
        }
        plain(
            StatusCode::UNAUTHORIZED,
            "Missing or unknown secure token: send the card's listener URL as given.",
        )
    })
}

/// Step 2: the body (JSON, at most [`MAX_DELIVERY_BYTES`]) read into push events, at most
/// `inbox::MAX_EVENTS_PER_DELIVERY` of them, or the answer refusing it.
async fn read_delivery(
    listener: Listener,
    req: Request,
) -> std::result::Result<
    (
        Source,
        Vec<domain::registry_events::PushEvent>,
        axum::body::Bytes,
    ),
    Response,
> {
    if !json_content(req.headers()) {
        return Err(plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send JSON: Content-Type application/json or a registry's +json type.",
        ));
    }
    let body = axum::body::to_bytes(req.into_body(), MAX_DELIVERY_BYTES)
        .await
        .map_err(|_| plain(StatusCode::PAYLOAD_TOO_LARGE, "The body is over 1 MiB."))?;
    let read = match listener {
        Listener::DockerHub => inbox::read_docker_hub(&body).map(|e| (Source::DockerHub, e)),
        Listener::Registry => inbox::read_registry(&body),
    };
    let (source, events) = read.map_err(|why| {
        let why: String = why.chars().take(200).collect();
        plain(
            StatusCode::BAD_REQUEST,
            &format!("Malformed delivery: {why}"),
        )
    })?;
    if events.len() > inbox::MAX_EVENTS_PER_DELIVERY {
        return Err(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "At most {} image pushes per delivery; this one has {}. Send them in smaller envelopes.",
                inbox::MAX_EVENTS_PER_DELIVERY,
                events.len()
            ),
        ));
    }
    Ok((source, events, body))
}

/// Docker Hub's webhook: its payload as Docker Hub sends it (and as the documentation prints it).
#[utoipa::path(post, path = "/docker-hub-webhooks", tag = "docker webhooks", params(TokenQuery),
    responses((status = 200, description = "Stored durably: {\"accepted\": n}"), (status = 400, description = "Malformed, or every event refused (recorded in Activity as Rejected)"), (status = 401, description = "Missing or unknown token"), (status = 413, description = "Over 1 MiB, or more than 100 image pushes"), (status = 415, description = "Not JSON")))]
pub async fn docker_hub_listener(
    State(s): State<AppState>,
    Query(q): Query<TokenQuery>,
    req: Request<Body>,
) -> Response {
    listen(s, Listener::DockerHub, q.secure_token, req).await
}

/// CNCF distribution notifications (several events per envelope) and Harbor's PUSH_ARTIFACT.
#[utoipa::path(post, path = "/registry-webhooks", tag = "docker webhooks", params(TokenQuery),
    responses((status = 200, description = "Stored durably: {\"accepted\": n}"), (status = 400, description = "Malformed, or every event refused (recorded in Activity as Rejected)"), (status = 401, description = "Missing or unknown token"), (status = 413, description = "Over 1 MiB, or more than 100 image pushes"), (status = 415, description = "Not JSON")))]
pub async fn registry_listener(
    State(s): State<AppState>,
    Query(q): Query<TokenQuery>,
    req: Request<Body>,
) -> Response {
    listen(s, Listener::Registry, q.secure_token, req).await
}

/// A project's webhook cards.
#[utoipa::path(get, path = "/projects/{id}/docker-webhooks", tag = "docker webhooks", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<WebhookCard>, description = "The cards"), (status = 404, body = ApiErrorBody)))]
pub async fn list_webhooks(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(project): Path<i64>,
) -> Result<Json<Vec<WebhookCard>>, ApiError> {
    Ok(Json(cards::list(&s.backend, actor, project).await?))
}

/// Creates a webhook card with a new secure token (synced to Docker Hub for Docker Hub endpoints).
#[utoipa::path(post, path = "/projects/{id}/docker-webhooks", tag = "docker webhooks", params(("id" = i64, Path)), security(("bearer" = [])),
    request_body = WebhookForm,
    responses((status = 201, body = WebhookCard, description = "The card"), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_webhook(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(project): Path<i64>,
    ApiJson(form): ApiJson<WebhookForm>,
) -> Result<(StatusCode, Json<WebhookCard>), ApiError> {
    let card = cards::create(&s.backend, actor, project, form).await?;
    Ok((StatusCode::CREATED, Json(card)))
}

/// One card.
#[utoipa::path(get, path = "/docker-webhooks/{id}", tag = "docker webhooks", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The card"), (status = 404, body = ApiErrorBody)))]
pub async fn get_webhook(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<Json<WebhookCard>, ApiError> {
    let project = cards::project_of(&s.backend, id).await?;
    Ok(Json(cards::get(&s.backend, actor, project, id).await?))
}

/// Replaces a card's settings (an empty api_token keeps the one set).
#[utoipa::path(put, path = "/docker-webhooks/{id}", tag = "docker webhooks", params(("id" = i64, Path)), security(("bearer" = [])),
    request_body = WebhookForm,
    responses((status = 200, body = WebhookCard, description = "The card"), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update_webhook(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<WebhookForm>,
) -> Result<Json<WebhookCard>, ApiError> {
    let project = cards::project_of(&s.backend, id).await?;
    Ok(Json(
        cards::update(&s.backend, actor, project, id, form).await?,
    ))
}

/// Whether to delete although Docker Hub refused to delete its webhook.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete the card even when Docker Hub's webhook could not be deleted.
    force: Option<bool>,
}

/// Deletes a card and its Activity (and its Docker Hub webhook).
#[utoipa::path(delete, path = "/docker-webhooks/{id}", tag = "docker webhooks", params(("id" = i64, Path), DeleteQuery), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn delete_webhook(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    Query(q): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    let project = cards::project_of(&s.backend, id).await?;
    cards::delete(&s.backend, actor, project, id, q.force.unwrap_or(false)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What to do to a card.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookAction {
    /// Start triggering again.
    Enable,
    /// Stop triggering (events are still recorded, as "Webhook disabled").
    Disable,
    /// A new secure token; the old one stops working.
    RegenerateToken,
    /// Try the Docker Hub sync again.
    RetrySync,
}

/// Enables, disables, regenerates the token of, or retries the Docker Hub sync of a card.
#[utoipa::path(post, path = "/docker-webhooks/{id}/{action}", tag = "docker webhooks", params(("id" = i64, Path), ("action" = WebhookAction, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The card"), (status = 404, body = ApiErrorBody)))]
pub async fn webhook_action(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Json<WebhookCard>, ApiError> {
    let action: WebhookAction =
        serde_json::from_value(serde_json::Value::String(action)).map_err(|_| {
            ApiError::new(
                ErrorCode::NotFound,
                "Actions are enable, disable, regenerate-token and retry-sync.",
            )
        })?;
    let project = cards::project_of(&s.backend, id).await?;
    let b = &s.backend;
    let card = match action {
        WebhookAction::Enable => cards::set_enabled(b, actor, project, id, true).await?,
        WebhookAction::Disable => cards::set_enabled(b, actor, project, id, false).await?,
        WebhookAction::RegenerateToken => cards::regenerate_token(b, actor, project, id).await?,
        WebhookAction::RetrySync => cards::retry_sync(b, actor, project, id).await?,
    };
    Ok(Json(card))
}

/// The card's listener URL with its secure token, to configure in the registry.
#[utoipa::path(get, path = "/docker-webhooks/{id}/listener-url", tag = "docker webhooks", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "{\"url\": …}"), (status = 404, body = ApiErrorBody)))]
pub async fn listener_url(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let project = cards::project_of(&s.backend, id).await?;
    let url = cards::listener_url(&s.backend, actor, project, id).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({ "url": url })),
    )
        .into_response())
}

/// Activity filters and page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ActivityQuery {
    /// One card.
    webhook_id: Option<i64>,
    /// One status.
    #[param(value_type = Option<ActivityStatus>)]
    status: Option<String>,
    /// Text in the image, owner, tag, pipeline or message.
    text: Option<String>,
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u64>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    page_size: Option<u64>,
}

/// A project's Activity, newest first.
#[utoipa::path(get, path = "/projects/{id}/docker-activity", tag = "docker webhooks", params(("id" = i64, Path), ActivityQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ActivityRow>), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn list_activity(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(project): Path<i64>,
    Query(q): Query<ActivityQuery>,
) -> Result<Json<Page<ActivityRow>>, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(x) => Some(ActivityStatus::parse(x).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Invalid,
                "status is one of TRIGGERED, DUPLICATE, DISABLED, NOT_MATCHED, INVALID_TOKEN, FAILED, SKIPPED, REJECTED.",
            )
        })?),
    };
    let (page, size) = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .bounds()?;
    let filter = ActivityFilter {
        webhook_id: q.webhook_id,
        status,
        text: q.text,
        ..ActivityFilter::default()
    };
    let (items, total) = inbox::page(&s.backend, actor, project, &filter, page, size).await?;
    Ok(Json(Page {
        items,
        page,
        page_size: size,
        total,
    }))
}

/// One Activity row with the payload as received.
#[utoipa::path(get, path = "/docker-activity/{id}", tag = "docker webhooks", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ActivityDetail), (status = 404, body = ApiErrorBody)))]
pub async fn get_activity(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<Json<ActivityDetail>, ApiError> {
    let project = inbox::project_of(&s.backend, id).await?;
    Ok(Json(inbox::get(&s.backend, actor, project, id).await?))
}

/// Starts a new execution from a stored event, recording who resubmitted it.
#[utoipa::path(post, path = "/docker-activity/{id}/resubmit", tag = "docker webhooks", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 201, body = ActivityRow, description = "The new Activity row"), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn resubmit_activity(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<ActivityRow>), ApiError> {
    let project = inbox::project_of(&s.backend, id).await?;
    let row = inbox::resubmit(&s.backend, actor, project, id).await?;
    Ok((StatusCode::CREATED, Json(row)))
}
