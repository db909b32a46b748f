//! The one state handed to routes and, through context, to server functions.

use axum::extract::FromRef;
use backend::Backend;
use leptos::prelude::LeptosOptions;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Shared by every request: one pointer, so the clone that every middleware and extractor
/// makes costs one reference count (cloning the fields themselves, about twenty reference
/// counts, was a fifth of a refused webhook delivery's CPU time).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] points to.
pub struct Shared {
    /// Where Leptos finds the built front end.
    pub leptos_options: LeptosOptions,
    /// The services.
    pub backend: Backend,
    /// Set once the first user exists, so that most requests skip the question.
    pub set_up: Arc<AtomicBool>,
    /// The webhook inbox (durable before the listener answers).
    pub inbox: backend::triggers::inbox::Inbox,
    /// Webhook deliveries refused for a missing or unknown token since start.
    pub refused_deliveries: Arc<AtomicU64>,
    /// Cancelled when the server begins to shut down: live streams end so that the graceful
    /// shutdown does not wait for them.
    pub closing: tokio_util::sync::CancellationToken,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// leptos_axum's file and error handlers take the options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// Shares `shared` with every request.
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }

    /// Whether the installation still needs its first administrator.
    pub async fn needs_setup(&self) -> backend::Result<bool> {
        if self.set_up.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let needs = backend::access::accounts::needs_setup(&self.backend.db).await?;
        if !needs {
            self.set_up.store(true, Ordering::Relaxed);
        }
        Ok(needs)
    }
}
