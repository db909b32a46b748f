//! Server-side helpers for server functions: who is asking, the services, the session.

use crate::error::AppError;
use backend::access::accounts::Actor;
use backend::Backend;
use domain::views::CurrentUser;
use domain::ErrorCode;
use http::request::Parts;
use leptos::prelude::*;
use tower_sessions::Session;

/// The client's address, put into the request by the server's middleware.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

/// Sets the HTTP status of the response being built.
pub fn set_status(status: u16) {
    if let (Some(options), Ok(code)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(status),
    ) {
        options.set_status(code);
    }
}

/// The services.
pub fn backend() -> Result<Backend, AppError> {
    use_context::<Backend>().ok_or_else(|| {
        tracing::error!("Backend missing from the Leptos context");
        AppError::new(
            ErrorCode::Internal,
            "Wharf is not ready. Try again in a moment.",
        )
    })
}

/// The signed-in user, as the server's middleware loaded them for this request.
pub fn signed_in() -> Option<CurrentUser> {
    use_context::<Parts>().and_then(|p| p.extensions.get::<CurrentUser>().cloned())
}

/// The signed-in user as the services check them, or `Unauthenticated`.
pub fn actor() -> Result<(Actor, CurrentUser), AppError> {
    let user = signed_in().ok_or_else(|| {
        set_status(401);
        AppError::new(
            ErrorCode::Unauthenticated,
            "Your session has ended. Sign in again.",
        )
    })?;
    Ok((
        Actor {
            user_id: user.id,
            is_admin: user.is_admin,
        },
        user,
    ))
}

/// The client's address, for slowing repeated failed sign-ins.
pub fn client_address() -> String {
    use_context::<Parts>()
        .and_then(|p| p.extensions.get::<ClientAddress>().map(|a| a.0.clone()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// This request's session.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = ?e, "no session layer");
        AppError::new(ErrorCode::Internal, "Sessions are not available.")
    })
}

/// Maps a session-store failure.
pub fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    set_status(500);
    AppError::new(
        ErrorCode::Internal,
        "Something went wrong on the server. It has been logged.",
    )
}
