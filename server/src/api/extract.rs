//! Extractors for the REST API: JSON bodies whose rejections speak the API's error format, and
//! the bearer access token.

use super::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use backend::access::accounts::Actor;
use domain::ErrorCode;
use serde::de::DeserializeOwned;

/// A JSON body; malformed, mistyped or oversized bodies become API errors.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

/// The caller, from `Authorization: Bearer <access token>`.
pub struct Bearer(pub Actor);

/// The caller as [`super::bearer_first`] found them, for the handler's [`Bearer`].
#[derive(Clone, Copy)]
pub struct Authenticated(pub Actor);

fn unauthenticated() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthenticated,
        "Send a valid access token as Authorization: Bearer <token>; get one from POST /pipelines/api/login.",
    )
}

/// The caller of a request with these headers, or the API's 401.
pub async fn authenticate(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Actor, ApiError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthenticated)?;
    match backend::access::tokens::authenticate(&state.backend, token).await {
        Ok(actor) => Ok(actor),
        Err(backend::Error::Unauthenticated) => Err(unauthenticated()),
        Err(e) => Err(e.into()),
    }
}

impl<S> FromRequestParts<S> for Bearer
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(Authenticated(actor)) = parts.extensions.get::<Authenticated>() {
            return Ok(Bearer(*actor));
        }
        let state = AppState::from_ref(state);
        authenticate(&state, &parts.headers).await.map(Bearer)
    }
}
