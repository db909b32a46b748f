//! The listener's side of a card: its secure token (made, hashed, sealed and opened), the
//! token look-up the listener asks on every delivery ([`ListenerCache`]) and the listener URL
//! a registry is given.

use crate::platform::entities::docker_webhooks as row;
use crate::platform::secrets::SecretValue;
use crate::{Backend, Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::endpoints::RegistryServerType;
use domain::webhooks::{DOCKER_HUB_LISTENER, REGISTRY_LISTENER};
use rand::RngCore;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

const TOKEN_PREFIX: &str = "wharf_wh_";
pub(crate) const PURPOSE: &str = "webhook-token";
/// How long another process's card changes may take to reach this process's listener.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// A new secure token: 256 random bits.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(digest(token))
}

/// Compares two digests without an early exit.
fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The listener's view of the cards: secure-token digest → card id, reloaded when this process
/// changes a card and at most [`CACHE_TTL`] after another process did. A wrong token costs a
/// hash and a map look-up, never a database query.
#[derive(Debug, Default)]
pub struct ListenerCache {
    inner: RwLock<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    by_digest: HashMap<[u8; 32], i64>,
    loaded: Option<Instant>,
}

impl ListenerCache {
    /// Forgets what it knows (after a card changes).
    pub fn invalidate(&self) {
        if let Ok(mut s) = self.inner.write() {
            s.loaded = None;
        }
    }

    fn fresh_lookup(&self, d: &[u8; 32]) -> Option<Option<i64>> {
        let s = self.inner.read().ok()?;
        let fresh = s.loaded.is_some_and(|at| at.elapsed() < CACHE_TTL);
        fresh.then(|| {
            s.by_digest
                .get_key_value(d)
                .filter(|(k, _)| same_digest(k, d))
                .map(|(_, id)| *id)
        })
    }

    /// The card whose secure token this is, if any.
    pub async fn card_for(&self, db: &impl ConnectionTrait, token: &str) -> Result<Option<i64>> {
        let d = digest(token.trim());
        if let Some(found) = self.fresh_lookup(&d) {
            return Ok(found);
        }
        let rows: Vec<(i64, String)> = row::Entity::find()
            .select_only()
            .column(row::Column::Id)
            .column(row::Column::TokenHash)
            .into_tuple()
            .all(db)
            .await?;
        let mut map = HashMap::with_capacity(rows.len());
        for (id, h) in rows {
            let mut k = [0u8; 32];
            if hex::decode_to_slice(&h, &mut k).is_ok() {
                map.insert(k, id);
            }
        }
        let found = map.get(&d).copied();
        if let Ok(mut s) = self.inner.write() {
            s.by_digest = map;
            s.loaded = Some(Instant::now());
        }
        Ok(found)
    }
}

/// The listener path a card's registry posts to.
pub fn listener_path(server_type: Option<RegistryServerType>) -> &'static str {
    match server_type {
        Some(RegistryServerType::DockerHub) => DOCKER_HUB_LISTENER,
        _ => REGISTRY_LISTENER,
    }
}

/// The full listener URL of a card: where its registry posts, with its secure token.
pub(crate) fn full_url(
    backend: &Backend,
    server_type: Option<RegistryServerType>,
    token: &str,
) -> String {
    format!(
        "{}{}?secureToken={token}",
        backend.public_url,
        listener_path(server_type)
    )
}

/// The card's secure token, opened.
pub(crate) fn open_token(backend: &Backend, m: &row::Model) -> Result<SecretValue> {
    backend
        .sealer
        .open(&m.token_sealed, PURPOSE)
        .map_err(|e| Error::Internal(format!("webhook {}: {e}", m.id)))
}
