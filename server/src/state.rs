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
    /// Webhook deliveries refused for a missing or unknown token, and when that was last logged.
    pub refused_deliveries: RefusedDeliveries,
    /// Cancelled when the server begins to shut down: live streams end so that the graceful
    /// shutdown does not wait for them.
    pub closing: tokio_util::sync::CancellationToken,
}

/// Counts deliveries refused for a missing or unknown token and logs them at most once every
/// [`RefusedDeliveries::LOG_EVERY`], with the count since start: a flood of wrong tokens would
/// otherwise write a log line per request, which costs more than refusing it.
#[derive(Debug)]
pub struct RefusedDeliveries {
    count: AtomicU64,
    epoch: std::time::Instant,
    /// When the last line was written, in milliseconds since `epoch` plus one (0: never).
    logged_at: AtomicU64,
}

impl Default for RefusedDeliveries {
    fn default() -> Self {
        RefusedDeliveries {
            count: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
            logged_at: AtomicU64::new(0),
        }
    }
}

impl RefusedDeliveries {
    /// The shortest time between two log lines.
    pub const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

    /// Counts one refused delivery; returns the count since start when a line is due now.
    pub fn count_one(&self) -> Option<u64> {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let now = u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.logged_at.load(Ordering::Relaxed);
        let every = u64::try_from(Self::LOG_EVERY.as_millis()).unwrap_or(u64::MAX);
        let due = last == 0 || now.saturating_sub(last) >= every;
        (due && self
            .logged_at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok())
        .then_some(n)
    }
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

#[cfg(test)]
mod tests {
    use super::RefusedDeliveries;

    #[test]
    fn refused_deliveries_are_all_counted_and_logged_at_most_every_ten_seconds() {
        let r = RefusedDeliveries::default();
        assert_eq!(r.count_one(), Some(1), "the first is logged");
        for _ in 0..1000 {
            assert_eq!(r.count_one(), None, "a flood writes no line per request");
        }
        // ten seconds on: the next line carries the count since start
        r.logged_at.store(1, std::sync::atomic::Ordering::Relaxed);
        let r2 = RefusedDeliveries {
            epoch: r.epoch - RefusedDeliveries::LOG_EVERY,
            ..r
        };
        assert_eq!(r2.count_one(), Some(1002));
        assert_eq!(r2.count_one(), None);
    }
}
