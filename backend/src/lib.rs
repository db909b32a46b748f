//! Wharf's storage, services and outbound clients. Server functions and HTTP handlers call the
//! services here; nothing above this crate touches the database.
//!
//! The folders follow a pushed image through Wharf; each uses only the folders before it
//! (`tests/integration/layout.rs` holds the rule):
//!
//! ```text
//! ① intake     triggers::inbox      the listener stores a delivery (group commit), answers 2xx
//!                 ▼                  (token looked up in triggers::listener's cache)
//! ② normalise  triggers::inbox      the processor parses it into push events (domain::registry_events)
//!                 ▼
//! ③ match      triggers::inbox      events against cards (triggers::cards), duplicates, Activity
//!                 ▼
//! ④ queue      runs::executions     an execution under its pipeline's concurrency policy,
//!                 ▼                  in the same transaction as the Activity row
//! ⑤ engine     engine               a worker claims a pipeline's head, holds a lease, steps it
//!                 ▼
//! ⑥ task       engine::tasks (one file per type), engine::user_operation for approvals
//!                 ▼
//! ⑦ live       live                 the change feed and summaries the pages follow
//! ```
//!
//! Beside the path: `platform` (database, entities, time, keys, secrets, sessions, throttle,
//! event bus, masking), `clients` (outbound HTTP, TLS, registry, Docker Hub, Kubernetes),
//! `access` (accounts, projects and `authorize`, tokens) and `project` (variables, endpoints,
//! pipelines, usage).

pub mod access;
pub mod clients;
pub mod engine;
pub mod error;
pub mod live;
pub mod platform;
pub mod project;
pub mod runs;
pub mod triggers;

pub use error::{Error, Result};
pub use platform::clock::{Clock, ManualClock, SystemClock};

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
    pub sealer: Arc<platform::secrets::Sealer>,
    /// Docker Hub's API base URL (tests point it at a stand-in).
    pub docker_hub_api: Arc<str>,
    /// Every status change of an execution, a stage or a task, for the live views.
    pub events: platform::events::EventBus,
    /// The URL people and registries reach Wharf at (listener URLs, execution links).
    pub public_url: Arc<str>,
    /// The webhook listener's secure-token look-up.
    pub listeners: Arc<triggers::listener::ListenerCache>,
    /// Hosts Docker Hub callbacks may go to.
    pub callback_hosts: Arc<[String]>,
    /// Where outbound connections may go (every client Wharf has).
    pub outbound: clients::outbound::OutboundPolicy,
    /// How many engine workers this process runs (a queued run's "4 of 4 busy").
    pub workers: usize,
    /// Taken by the webhook inbox's writer and processor around their transactions, so that
    /// they take turns in this process instead of meeting in SQLite's busy handler, which
    /// sleeps up to 100 ms between retries; the writer goes first.
    pub inbox_gate: Arc<triggers::inbox::Gate>,
    /// This process's name among those sharing the database: who holds a callback's claim,
    /// and whose change a notice reports (`platform::cluster`).
    pub instance: Arc<str>,
    /// Whether lease times come from the database's clock ([`Backend::with_database_clock`]).
    pub db_clock: bool,
}

impl Backend {
    /// Wraps an open, migrated database.
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        sealer: Arc<platform::secrets::Sealer>,
    ) -> Self {
        Self {
            db,
            clock,
            sealer,
            docker_hub_api: Arc::from(clients::dockerhub::DEFAULT_BASE_URL),
            events: platform::events::EventBus::default(),
            public_url: Arc::from("http://127.0.0.1:3000"),
            listeners: Arc::default(),
            inbox_gate: Arc::default(),
            outbound: clients::outbound::OutboundPolicy::default(),
            workers: 4,
            instance: Arc::from(instance_name()),
            db_clock: false,
            callback_hosts: Arc::from(
                triggers::inbox::DEFAULT_CALLBACK_HOSTS
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
    pub fn with_outbound(mut self, policy: clients::outbound::OutboundPolicy) -> Self {
        self.outbound = policy;
        self
    }

    /// The same services known to other processes as `name`.
    pub fn with_instance(mut self, name: &str) -> Self {
        self.instance = Arc::from(name);
        self
    }

    /// The same services taking lease times (an engine's claim, a callback's) from the
    /// database's clock, so that processes on several machines compare one clock. Only on
    /// PostgreSQL (SQLite is one process's file); tests that drive time keep their clock.
    pub fn with_database_clock(mut self) -> Self {
        self.db_clock = sea_orm::ConnectionTrait::get_database_backend(&self.db)
            == sea_orm::DatabaseBackend::Postgres;
        self
    }

    /// "Now" as a lease is compared with: the database's statement time, or this process's.
    pub(crate) fn lease_now(&self) -> sea_orm::sea_query::SimpleExpr {
        use sea_orm::sea_query::Expr;
        if self.db_clock {
            Expr::cust("statement_timestamp()")
        } else {
            Expr::value(self.clock.now())
        }
    }

    /// A lease's end, `length` from [`Self::lease_now`].
    pub(crate) fn lease_end(&self, length: chrono::Duration) -> sea_orm::sea_query::SimpleExpr {
        use sea_orm::sea_query::Expr;
        if self.db_clock {
            let ms = length.num_milliseconds().max(0);
            Expr::cust(format!(
                "statement_timestamp() + interval '{ms} milliseconds'"
            ))
        } else {
            Expr::value(self.clock.now() + length)
        }
    }

    /// The same services talking to Docker Hub's API at `url`.
    pub fn with_docker_hub_api(mut self, url: &str) -> Self {
        self.docker_hub_api = Arc::from(url.trim_end_matches('/'));
        self
    }
}

/// A name for this process among those sharing a database, that no other process (or
/// restart) shares: its pid and the time it was asked for.
pub fn instance_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{nanos:x}", std::process::id())
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").finish_non_exhaustive()
    }
}
