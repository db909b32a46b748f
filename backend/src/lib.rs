//! Wharf's storage, services and outbound clients. Server functions and HTTP handlers call the
//! services here; nothing above this crate touches the database.

pub mod accounts;
pub mod clock;
pub mod db;
pub mod dockerhub;
pub mod endpoints;
pub mod engine;
pub mod entities;
pub mod error;
pub mod events;
pub mod executions;
pub mod hubsync;
pub mod inbox;
pub mod keys;
pub mod kubernetes;
pub mod live;
pub mod masking;
pub mod outbound;
pub mod pipelines;
pub mod projects;
pub mod registry;
pub mod secrets;
pub mod sessions;
pub mod throttle;
pub mod tls;
pub mod tokens;
pub mod user_operations;
pub mod variables;
pub mod webhooks;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};

use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Everything a service needs: one per process, cloned cheaply into every request.
#[derive(Clone)]
pub struct Backend {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// Where "now" comes from; tests pass a [`ManualClock`].
    pub clock: Arc<dyn Clock>,
    /// Seals and opens stored secrets under the key file.
    pub sealer: Arc<secrets::Sealer>,
    /// Docker Hub's API base URL (tests point it at a stand-in).
    pub docker_hub_api: Arc<str>,
    /// Every status change of an execution, a stage or a task, for the live views.
    pub events: events::EventBus,
    /// The URL people and registries reach Wharf at (listener URLs, execution links).
    pub public_url: Arc<str>,
    /// The webhook listener's secure-token look-up.
    pub listeners: Arc<webhooks::ListenerCache>,
    /// Hosts Docker Hub callbacks may go to.
    pub callback_hosts: Arc<[String]>,
    /// Where outbound connections may go (every client Wharf has).
    pub outbound: outbound::OutboundPolicy,
    /// How many engine workers this process runs (a queued run's "4 of 4 busy").
    pub workers: usize,
    /// Taken by the webhook inbox's writer and processor around their transactions, so that
    /// they take turns in this process instead of meeting in SQLite's busy handler, which
    /// sleeps up to 100 ms between retries; the writer goes first.
    pub inbox_gate: Arc<inbox::Gate>,
}

impl Backend {
    /// Wraps an open, migrated database.
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        sealer: Arc<secrets::Sealer>,
    ) -> Self {
        Self {
            db,
            clock,
            sealer,
            docker_hub_api: Arc::from(dockerhub::DEFAULT_BASE_URL),
            events: events::EventBus::default(),
            public_url: Arc::from("http://127.0.0.1:3000"),
            listeners: Arc::default(),
            inbox_gate: Arc::default(),
            outbound: outbound::OutboundPolicy::default(),
            workers: 4,
            callback_hosts: Arc::from(
                inbox::DEFAULT_CALLBACK_HOSTS
                    .iter()
                    .map(|h| (*h).to_owned())
                    .collect::<Vec<_>>(),
            ),
        }
    }

    /// The same services at public URL `url`.
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    /// The same services sending callbacks only to `hosts`.
    pub fn with_callback_hosts(mut self, hosts: Vec<String>) -> Self {
        self.callback_hosts = Arc::from(hosts);
        self
    }

    /// The same services with `n` engine workers.
    pub fn with_workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// The same services under outbound policy `policy`.
    pub fn with_outbound(mut self, policy: outbound::OutboundPolicy) -> Self {
        self.outbound = policy;
        self
    }

    /// The same services talking to Docker Hub's API at `url`.
    pub fn with_docker_hub_api(mut self, url: &str) -> Self {
        self.docker_hub_api = Arc::from(url.trim_end_matches('/'));
        self
    }
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").finish_non_exhaustive()
    }
}
