//! Wharf's storage, services and outbound clients. Server functions and HTTP handlers call the
//! services here; nothing above this crate touches the database.

pub mod accounts;
pub mod clock;
pub mod db;
pub mod dockerhub;
pub mod entities;
pub mod error;
pub mod keys;
pub mod projects;
pub mod registry;
pub mod secrets;
pub mod sessions;
pub mod throttle;
pub mod tls;
pub mod tokens;
pub mod variables;

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
}

impl Backend {
    /// Wraps an open, migrated database.
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        sealer: Arc<secrets::Sealer>,
    ) -> Self {
        Self { db, clock, sealer }
    }
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").finish_non_exhaustive()
    }
}
