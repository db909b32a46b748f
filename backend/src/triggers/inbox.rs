//! The webhook inbox. The listener authenticates a delivery, reads it into push events and
//! hands it to [`Inbox::accept`], which returns once the raw payload and the events are
//! committed (a single writer commits whatever has queued up in one transaction: group commit).
//! Only then does the listener answer 2xx. The processor ([`process_pending`]) then matches each
//! event against the cards and, in one transaction per batch, records Activity, starts
//! executions and marks the delivery processed, so a crash at any point neither loses an
//! accepted event nor starts its execution twice. Callbacks to Docker Hub go out once the
//! execution ends ([`send_due_callbacks`]).

use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::access::tokens::status as token_status;
use crate::platform::entities::{
    api_tokens, docker_webhooks as cards, executions as execution_rows, pipelines, users,
    webhook_activity as activity, webhook_deliveries as deliveries,
};
use crate::runs::executions::{self, Started, Trigger};
use crate::triggers::cards::parse_input;
use crate::{Backend, Error, Result};
use chrono::{DateTime, Duration, Utc};
use domain::executions::RunStatus;
use domain::registry_events::{self, Pattern, PushEvent};
use domain::role::ProjectAction;
use domain::views::TokenStatus;
use domain::webhooks::{
    ActivityDetail, ActivityFilter, ActivityPage, ActivityRow, ActivityStatus,
    DUPLICATE_WINDOW_MINUTES,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

/// Where Docker Hub callbacks may go unless configured otherwise.
pub const DEFAULT_CALLBACK_HOSTS: [&str; 2] = ["registry.hub.docker.com", "hub.docker.com"];
/// Most deliveries one commit takes.
const WRITE_BATCH: usize = 512;
/// Most deliveries one processing transaction takes.
const PROCESS_BATCH: u64 = 256;
/// The most image pushes one delivery may carry; a larger one is refused (413) unread.
pub const MAX_EVENTS_PER_DELIVERY: usize = 100;
/// The most executions one delivery may start (its events times the cards they match); the
/// rest are recorded as "Not started: limit of 100 executions per delivery."
pub const MAX_EXECUTIONS_PER_DELIVERY: usize = 100;
/// Most Activity rows one multi-row insert takes (23 values each).
const ROWS_PER_INSERT: usize = 500;
/// The processor waits while the writer has committed within this long (a burst is on).
const WRITER_QUIET: std::time::Duration = std::time::Duration::from_millis(3);
/// ... but never longer than this, so that a sustained burst cannot starve it.
const PROCESSOR_MAX_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// How the inbox's writer and processor take turns. A delivery's 2xx waits for its commit, so
/// the writer goes first: the processor, whose work can wait, lets a burst of writes pass
/// (up to [`PROCESSOR_MAX_WAIT`]) before it takes the lock.
#[derive(Debug)]
pub struct Gate {
    lock: tokio::sync::Mutex<()>,
    epoch: std::time::Instant,
    /// When the writer last committed, in microseconds since `epoch`.
    last_write: AtomicU64,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            lock: tokio::sync::Mutex::new(()),
            epoch: std::time::Instant::now(),
            last_write: AtomicU64::new(0),
        }
    }
}

impl Gate {
    fn now_micros(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    async fn writer_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.lock.lock().await
    }

    fn wrote(&self) {
        self.last_write.store(self.now_micros(), Ordering::Relaxed);
    }

    async fn processor_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        let begun = std::time::Instant::now();
        let quiet = u64::try_from(WRITER_QUIET.as_micros()).unwrap_or(u64::MAX);
        while begun.elapsed() < PROCESSOR_MAX_WAIT
            && self
                .now_micros()
                .saturating_sub(self.last_write.load(Ordering::Relaxed))
                < quiet
        {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        self.lock.lock().await
    }
}

/// What sent a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Docker Hub's webhook payload.
    DockerHub,
    /// A CNCF distribution notification envelope.
    Distribution,
    /// Harbor's webhook payload.
    Harbor,
}

impl Source {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::DockerHub => "docker_hub",
            Source::Distribution => "distribution",
            Source::Harbor => "harbor",
        }
    }
}

/// Reads a Docker Hub listener body.
pub fn read_docker_hub(body: &[u8]) -> std::result::Result<Vec<PushEvent>, String> {
    registry_events::docker_hub(body).map(|e| vec![e.checked()])
}

/// Reads a registry listener body: a distribution envelope or Harbor's payload. Pulls, blob
/// pushes and manifests pushed by digest alone (the per-platform parts of a multi-architecture
/// image, whose index carries the tag) are left out.
pub fn read_registry(body: &[u8]) -> std::result::Result<(Source, Vec<PushEvent>), String> {
    read_registry_unchecked(body)
        .map(|(source, events)| (source, events.into_iter().map(PushEvent::checked).collect()))
}

fn read_registry_unchecked(body: &[u8]) -> std::result::Result<(Source, Vec<PushEvent>), String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    if v.get("events").is_some() {
        let events = registry_events::distribution(body)?
            .into_iter()
            .filter(|e| e.tag.is_some())
            .collect();
        Ok((Source::Distribution, events))
    } else if v.get("type").is_some() && v.get("event_data").is_some() {
        Ok((Source::Harbor, registry_events::harbor(body)?))
    } else {
        Err(
            "neither a distribution envelope (events) nor a Harbor payload (type, event_data)"
                .to_owned(),
        )
    }
}

struct Pending {
    webhook_id: i64,
    source: Source,
    payload: String,
    events: String,
    received_at: DateTime<Utc>,
    reply: oneshot::Sender<std::result::Result<(), String>>,
}

/// The durable inbox's front door.
#[derive(Clone, Debug)]
pub struct Inbox {
    tx: mpsc::Sender<Pending>,
    wake: Arc<Notify>,
}

impl Inbox {
    /// Starts the writer (on the current tokio runtime).
    pub fn start(backend: Backend) -> Inbox {
        let (tx, rx) = mpsc::channel(8192);
        let wake = Arc::new(Notify::new());
        tokio::spawn(writer(backend, rx, wake.clone()));
        Inbox { tx, wake }
    }

    /// What wakes the processor.
    pub fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Stores a delivery; returns once it is committed.
    pub async fn accept(
        &self,
        backend: &Backend,
        webhook_id: i64,
        source: Source,
        payload: &[u8],
        events: &[PushEvent],
    ) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            webhook_id,
            source,
            payload: String::from_utf8_lossy(payload).into_owned(),
            events: serde_json::to_string(events).map_err(|e| Error::Internal(e.to_string()))?,
            received_at: backend.clock.now(),
            reply,
        };
        self.tx
            .send(pending)
            .await
            .map_err(|_| Error::Internal("the inbox writer has stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| Error::Internal("the inbox writer has stopped".to_owned()))?
            .map_err(Error::Internal)
    }
}

async fn writer(backend: Backend, mut rx: mpsc::Receiver<Pending>, wake: Arc<Notify>) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < WRITE_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let outcome = write_batch(&backend, &batch).await;
        if let Err(e) = &outcome {
            tracing::error!(error = %e, n = batch.len(), "storing webhook deliveries failed");
        }
        for p in batch.drain(..) {
            let _ = p.reply.send(outcome.clone());
        }
        wake.notify_one();
    }
}

async fn write_batch(backend: &Backend, batch: &[Pending]) -> std::result::Result<(), String> {
    let models = batch.iter().map(|p| deliveries::ActiveModel {
        webhook_id: Set(p.webhook_id),
        received_at: Set(p.received_at),
        source: Set(p.source.as_str().to_owned()),
        payload: Set(p.payload.clone()),
        events: Set(p.events.clone()),
        processed: Set(false),
        ..Default::default()
    });
    let _turn = backend.inbox_gate.writer_turn().await;
    let txn = crate::platform::db::begin_write(&backend.db)
        .await
        .map_err(|e| e.to_string())?;
    deliveries::Entity::insert_many(models)
        .exec(&txn)
        .await
        .map_err(|e| e.to_string())?;
    let done = txn.commit().await.map_err(|e| e.to_string());
    backend.inbox_gate.wrote();
    done
}

/// Processes deliveries until `stop` resolves: woken by the writer, and every second anyway
/// (deliveries left by a crash, or accepted by another Wharf on the same database).
pub async fn run_processor(backend: Backend, wake: Arc<Notify>, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let n = match process_pending(&backend).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "processing webhook deliveries failed");
                0
            }
        };
        if n > 0 {
            continue;
        }
        tokio::select! {
            _ = &mut stop => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
        }
    }
}

fn sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// What one batch has looked up already.
#[derive(Default)]
struct Lookups {
    cards: HashMap<i64, Option<cards::Model>>,
    on_endpoint: HashMap<i64, Vec<cards::Model>>,
    owners: HashMap<i64, Option<Actor>>,
    /// Compiled card patterns (a glob or a regular expression is compiled once a batch).
    patterns: HashMap<String, Pattern>,
}

impl Lookups {
    /// Whether `value` matches the card pattern `src` (one that no longer parses matches nothing).
    fn matches(&mut self, src: &str, value: &str) -> bool {
        if !self.patterns.contains_key(src) {
            let p = Pattern::parse(src).unwrap_or_else(|_| Pattern::Exact("\u{0}".to_owned()));
            self.patterns.insert(src.to_owned(), p);
        }
        self.patterns.get(src).is_some_and(|p| p.matches(value))
    }

    async fn card(&mut self, db: &impl ConnectionTrait, id: i64) -> Result<Option<cards::Model>> {
        if let Some(c) = self.cards.get(&id) {
            return Ok(c.clone());
        }
        let c = cards::Entity::find_by_id(id).one(db).await?;
        self.cards.insert(id, c.clone());
        Ok(c)
    }

    async fn cards_on(
        &mut self,
        db: &impl ConnectionTrait,
        endpoint_id: i64,
    ) -> Result<Vec<cards::Model>> {
        if let Some(c) = self.on_endpoint.get(&endpoint_id) {
            return Ok(c.clone());
        }
        let c = cards::Entity::find()
            .filter(cards::Column::EndpointId.eq(endpoint_id))
            .order_by_asc(cards::Column::Id)
            .all(db)
            .await?;
        self.on_endpoint.insert(endpoint_id, c.clone());
        Ok(c)
    }

    /// The user a card's executions run as, if its API token works now.
    async fn owner(
        &mut self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
        token_id: Option<i64>,
    ) -> Result<Option<Actor>> {
        let Some(id) = token_id else {
            return Ok(None);
        };
        if let Some(o) = self.owners.get(&id) {
            return Ok(*o);
        }
        let owner = match api_tokens::Entity::find_by_id(id).one(db).await? {
            Some(t) if token_status(&t, now) == TokenStatus::Active => {
                users::Entity::find_by_id(t.user_id)
                    .one(db)
                    .await?
                    .filter(|u| !u.disabled)
                    .map(|u| Actor {
                        user_id: u.id,
                        is_admin: u.is_admin,
                    })
            }
            _ => None,
        };
        self.owners.insert(id, owner);
        Ok(owner)
    }
}

/// An Activity row about to be written.
struct Outcome {
    status: ActivityStatus,
    message: String,
    execution: Option<(i64, i64)>,
    pipeline: Option<(i64, String)>,
}

impl Outcome {
    fn says(status: ActivityStatus, message: impl Into<String>) -> Self {
        Outcome {
            status,
            message: message.into(),
            execution: None,
            pipeline: None,
        }
    }
}

/// A claimed delivery: what processing needs of it (not its raw payload).
struct Claimed {
    id: i64,
    webhook_id: i64,
    received_at: DateTime<Utc>,
    events: String,
}

/// How many times a delivery is tried before it is set aside.
pub const MAX_ATTEMPTS: i32 = 3;

/// Takes the pending deliveries (a batch) and processes them; returns how many it took.
///
/// Set-based: one statement claims the batch, one reads it, one looks up every earlier row
/// the batch's events could duplicate, and the Activity rows go in with multi-row inserts
/// (a row a later event may name as its original is inserted alone, for its id). When a batch
/// fails, its deliveries are processed one by one, so one that cannot be processed holds
/// back no other: it is tried again later, backing off, and after [`MAX_ATTEMPTS`] it is
/// set aside in Activity ("Failed to process: …").
pub async fn process_pending(backend: &Backend) -> Result<usize> {
    for _ in 0..3 {
        let now = backend.clock.now();
        let ids = deliveries::Entity::find()
            .select_only()
            .column(deliveries::Column::Id)
            .filter(deliveries::Column::Processed.eq(false))
            .filter(
                sea_orm::Condition::any()
                    .add(deliveries::Column::NextAttemptAt.is_null())
                    .add(deliveries::Column::NextAttemptAt.lte(now)),
            )
            .order_by_asc(deliveries::Column::Id)
            .limit(PROCESS_BATCH)
            .into_tuple::<i64>()
            .all(&backend.db)
            .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        match process_ids(backend, &ids).await {
            Ok(Some(n)) => return Ok(n),
            // another process took some of them first: look again
            Ok(None) => continue,
            Err(e) if ids.len() == 1 => {
                retry_later(backend, ids[0], &e).await?;
                return Ok(1);
            }
            Err(e) => {
                tracing::warn!(error = %e, deliveries = ids.len(), "a webhook batch failed; processing its deliveries one by one");
                for id in &ids {
                    if let Err(e) = process_ids(backend, &[*id]).await {
                        retry_later(backend, *id, &e).await?;
                    }
                }
                return Ok(ids.len());
            }
        }
    }
    Ok(0)
}

/// Processes deliveries `ids` in one transaction; `None` when another process claimed some
/// of them first.
async fn process_ids(backend: &Backend, ids: &[i64]) -> Result<Option<usize>> {
    let _turn = backend.inbox_gate.processor_turn().await;
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    // the claim is the transaction's first write; another process on the same database
    // that took some of these first makes it fall short: let go and look again
    let claimed = deliveries::Entity::update_many()
        .col_expr(deliveries::Column::Processed, Expr::value(true))
        .filter(deliveries::Column::Id.is_in(ids.iter().copied()))
        .filter(deliveries::Column::Processed.eq(false))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != ids.len() as u64 {
        txn.rollback().await?;
        return Ok(None);
    }
    let batch: Vec<Claimed> = deliveries::Entity::find()
        .select_only()
        .columns([
            deliveries::Column::Id,
            deliveries::Column::WebhookId,
            deliveries::Column::ReceivedAt,
            deliveries::Column::Events,
        ])
        .filter(deliveries::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(deliveries::Column::Id)
        .into_tuple::<(i64, i64, DateTime<Utc>, String)>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|(id, webhook_id, received_at, events)| Claimed {
            id,
            webhook_id,
            received_at,
            events,
        })
        .collect();
    let mut events: Vec<(usize, PushEvent)> = Vec::new();
    for (i, d) in batch.iter().enumerate() {
        let read: Vec<PushEvent> = serde_json::from_str(&d.events).map_err(|e| {
            Error::Internal(format!(
                "the stored events of delivery {} cannot be read: {e}",
                d.id
            ))
        })?;
        events.extend(read.into_iter().map(|e| (i, e)));
    }
    let mut work = Work {
        started_per_delivery: HashMap::new(),
        lookups: Lookups::default(),
        seen: Seen::load(backend, &txn, events.iter().map(|(_, e)| e)).await?,
        rows: Vec::new(),
        started: Vec::new(),
    };
    for (i, event) in &events {
        work.handle_event(backend, &txn, &batch[*i], event).await?;
    }
    work.flush(&txn).await?;
    txn.commit().await?;
    for (project_id, s, events) in work.started {
        executions::publish_started(backend, project_id, &s, events);
    }
    Ok(Some(ids.len()))
}

/// Delivery `id` failed to process with `error`: try it again later (2 s, then 4 s), or,
/// after [`MAX_ATTEMPTS`], set it aside: processed, with one FAILED Activity row per event
/// it carries (Resubmit starts that event again) or one for the delivery when its events
/// cannot be read.
async fn retry_later(backend: &Backend, id: i64, error: &Error) -> Result<()> {
    let reason = match error {
        Error::Internal(m) => m.clone(),
        other => other.public_message(),
    };
    tracing::warn!(delivery_id = id, error = %reason, "a webhook delivery failed to process");
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let Some(d) = deliveries::Entity::find_by_id(id).one(&txn).await? else {
        return Ok(());
    };
    let now = backend.clock.now();
    let attempts = d.attempts + 1;
    let mut m: deliveries::ActiveModel = d.clone().into();
    m.attempts = Set(attempts);
    if attempts < MAX_ATTEMPTS {
        m.next_attempt_at = Set(Some(now + Duration::seconds(1 << attempts)));
        m.update(&txn).await?;
        txn.commit().await?;
        return Ok(());
    }
    m.processed = Set(true);
    m.update(&txn).await?;
    let card = cards::Entity::find_by_id(d.webhook_id).one(&txn).await?;
    if let Some(card) = card {
        let message = format!(
            "Failed to process after {attempts} attempts: {}. Resubmit to try again.",
            reason.chars().take(300).collect::<String>()
        );
        let events: Vec<PushEvent> = serde_json::from_str(&d.events).unwrap_or_default();
        let unreadable = PushEvent {
            event_id: None,
            owner: String::new(),
            host: None,
            namespace: String::new(),
            repository: String::new(),
            tag: None,
            digest: None,
            callback_url: None,
            pushed_at: None,
            rejected: Some("its stored form cannot be read".to_owned()),
        };
        let events = if events.is_empty() {
            vec![unreadable]
        } else {
            events
        };
        for event in &events {
            let keys = Keys {
                content: sha(&event.dedup_material()),
                event: None,
            };
            let o = Outcome::says(ActivityStatus::Failed, message.clone());
            row_model(backend, (d.id, d.received_at), &card, event, &keys, o, None)?
                .insert(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

type StartedList = Vec<(i64, Started, Vec<(i64, RunStatus)>)>;

/// The earlier Activity rows a batch's events may duplicate: `(card, key)` to the first row's
/// id and time, for registry event ids (any outcome) and for repository+tag+digest (rows that
/// triggered within the window).
#[derive(Default)]
struct Seen {
    by_event: HashMap<(i64, String), (i64, DateTime<Utc>)>,
    by_content: HashMap<(i64, String), (i64, DateTime<Utc>)>,
}

impl Seen {
    async fn load(
        backend: &Backend,
        db: &impl ConnectionTrait,
        events: impl Iterator<Item = &PushEvent>,
    ) -> Result<Seen> {
        let mut content_keys = Vec::new();
        let mut event_keys = Vec::new();
        for e in events {
            content_keys.push(sha(&e.dedup_material()));
            event_keys.extend(e.event_id.as_deref().map(sha));
        }
        content_keys.sort();
        content_keys.dedup();
        event_keys.sort();
        event_keys.dedup();
        let since = backend.clock.now() - Duration::minutes(DUPLICATE_WINDOW_MINUTES);
        let mut seen = Seen::default();
        // keys bound in statements of at most MAX_BOUND_VALUES (a batch can carry tens of
        // thousands); each chunk is read in id order, so the first row kept is the earliest
        for chunk in content_keys.chunks(crate::platform::db::MAX_BOUND_VALUES) {
            let rows = activity::Entity::find()
                .select_only()
                .columns([
                    activity::Column::Id,
                    activity::Column::WebhookId,
                    activity::Column::DedupKey,
                    activity::Column::ReceivedAt,
                ])
                .filter(activity::Column::DedupKey.is_in(chunk.iter().cloned()))
                .filter(activity::Column::Status.eq(ActivityStatus::Triggered.as_str()))
                .filter(activity::Column::ReceivedAt.gt(since))
                .filter(activity::Column::ResubmitOf.is_null())
                .order_by_asc(activity::Column::Id)
                .into_tuple::<(i64, i64, String, DateTime<Utc>)>()
                .all(db)
                .await?;
            for (id, card, key, at) in rows {
                seen.by_content.entry((card, key)).or_insert((id, at));
            }
        }
        for chunk in event_keys.chunks(crate::platform::db::MAX_BOUND_VALUES) {
            let rows = activity::Entity::find()
                .select_only()
                .columns([
                    activity::Column::Id,
                    activity::Column::WebhookId,
                    activity::Column::EventKey,
                    activity::Column::ReceivedAt,
                ])
                .filter(activity::Column::EventKey.is_in(chunk.iter().cloned()))
                .filter(activity::Column::ResubmitOf.is_null())
                .order_by_asc(activity::Column::Id)
                .into_tuple::<(i64, i64, String, DateTime<Utc>)>()
                .all(db)
                .await?;
            for (id, card, key, at) in rows {
                seen.by_event.entry((card, key)).or_insert((id, at));
            }
        }
        Ok(seen)
    }

    /// The row that makes this event a duplicate for the card.
    fn original(
        &self,
        card: i64,
        content: &str,
        event: Option<&str>,
    ) -> Option<(i64, DateTime<Utc>)> {
        event
            .and_then(|k| self.by_event.get(&(card, k.to_owned())))
            .or_else(|| self.by_content.get(&(card, content.to_owned())))
            .copied()
    }

    /// Whether a row with this outcome would be a later event's original.
    fn would_be_original(&self, card: i64, row: &activity::ActiveModel) -> bool {
        let event = match &row.event_key {
            sea_orm::ActiveValue::Set(Some(k)) => !self.by_event.contains_key(&(card, k.clone())),
            _ => false,
        };
        event
            || matches!(&row.status, sea_orm::ActiveValue::Set(s) if s == ActivityStatus::Triggered.as_str())
    }

    fn remember(&mut self, m: &activity::Model) {
        if let Some(k) = &m.event_key {
            self.by_event
                .entry((m.webhook_id, k.clone()))
                .or_insert((m.id, m.received_at));
        }
        if m.status == ActivityStatus::Triggered.as_str() {
            self.by_content
                .entry((m.webhook_id, m.dedup_key.clone()))
                .or_insert((m.id, m.received_at));
        }
    }
}

/// One processing batch under way.
struct Work {
    lookups: Lookups,
    seen: Seen,
    /// Executions each delivery of the batch has started.
    started_per_delivery: HashMap<i64, usize>,
    /// Activity rows waiting for the next multi-row insert.
    rows: Vec<activity::ActiveModel>,
    started: StartedList,
}

impl Work {
    async fn handle_event(
        &mut self,
        backend: &Backend,
        txn: &DatabaseTransaction,
        d: &Claimed,
        event: &PushEvent,
    ) -> Result<()> {
        let Some(via) = self.lookups.card(txn, d.webhook_id).await? else {
            return Ok(());
        };
        if let Some(why) = &event.rejected {
            return self.reject(backend, txn, d, &via, event, why).await;
        }
        let mut candidates = self.lookups.cards_on(txn, via.endpoint_id).await?;
        candidates.retain(|c| self.lookups.matches(&c.image_pattern, &event.repository));
        let keys = Keys {
            content: sha(&event.dedup_material()),
            event: event.event_id.as_deref().map(sha),
        };
        let at = (d.id, d.received_at);
        if candidates.is_empty() {
            let o = Outcome::says(
                ActivityStatus::NotMatched,
                format!(
                    "No webhook on this endpoint takes image {} (this webhook's image is {}).",
                    event.repository, via.image_pattern
                ),
            );
            let row = row_model(backend, at, &via, event, &keys, o, None)?;
            return self.add(txn, via.id, row).await;
        }
        for card in candidates {
            let o = self
                .evaluate(backend, txn, &card, event, &keys, d.id)
                .await?;
            let row = row_model(backend, at, &card, event, &keys, o, None)?;
            self.add(txn, card.id, row).await?;
        }
        Ok(())
    }

    /// A refused event: one REJECTED row on the delivering card, unless the registry is
    /// resending an event already rejected within the duplicate window (it retries non-2xx).
    async fn reject(
        &mut self,
        backend: &Backend,
        txn: &DatabaseTransaction,
        d: &Claimed,
        via: &cards::Model,
        event: &PushEvent,
        why: &str,
    ) -> Result<()> {
        let keys = Keys {
            content: sha(&event.dedup_material()),
            event: None,
        };
        let since = backend.clock.now() - Duration::minutes(DUPLICATE_WINDOW_MINUTES);
        let again = activity::Entity::find()
            .select_only()
            .column(activity::Column::Id)
            .filter(activity::Column::WebhookId.eq(via.id))
            .filter(activity::Column::DedupKey.eq(keys.content.clone()))
            .filter(activity::Column::Status.eq(ActivityStatus::Rejected.as_str()))
            .filter(activity::Column::ReceivedAt.gt(since))
            .into_tuple::<i64>()
            .one(txn)
            .await?
            .is_some()
            || self.rows.iter().any(|r| {
                matches!(&r.dedup_key, sea_orm::ActiveValue::Set(k) if *k == keys.content)
                    && matches!(&r.status, sea_orm::ActiveValue::Set(s) if s == ActivityStatus::Rejected.as_str())
                    && matches!(&r.webhook_id, sea_orm::ActiveValue::Set(w) if *w == via.id)
            });
        if again {
            return Ok(());
        }
        let o = Outcome::says(ActivityStatus::Rejected, format!("Rejected: {why}."));
        let row = row_model(backend, (d.id, d.received_at), via, event, &keys, o, None)?;
        self.add(txn, via.id, row).await
    }

    async fn evaluate(
        &mut self,
        backend: &Backend,
        txn: &DatabaseTransaction,
        card: &cards::Model,
        event: &PushEvent,
        keys: &Keys,
        delivery: i64,
    ) -> Result<Outcome> {
        if !card.enabled {
            return Ok(Outcome::says(ActivityStatus::Disabled, "Webhook disabled"));
        }
        let tag = event.tag.clone().unwrap_or_default();
        if !self.lookups.matches(&card.tag_pattern, &tag) {
            return Ok(Outcome::says(
                ActivityStatus::NotMatched,
                format!("Tag {tag} does not match {}.", card.tag_pattern),
            ));
        }
        if let Some((id, at)) = self
            .seen
            .original(card.id, &keys.content, keys.event.as_deref())
        {
            return Ok(Outcome::says(
                ActivityStatus::Duplicate,
                format!(
                    "Duplicate of the event received at {} (Activity #{id}); no execution.",
                    at.format("%Y-%m-%d %H:%M:%S UTC"),
                ),
            ));
        }
        let started = self.started_per_delivery.entry(delivery).or_insert(0);
        if *started >= MAX_EXECUTIONS_PER_DELIVERY {
            return Ok(Outcome::says(
                ActivityStatus::Skipped,
                format!(
                    "Not started: limit of {MAX_EXECUTIONS_PER_DELIVERY} executions per delivery."
                ),
            ));
        }
        let o = start_for(
            backend,
            txn,
            &mut self.lookups,
            card,
            event,
            &Origin::Delivery,
            &mut self.started,
        )
        .await?;
        if o.status == ActivityStatus::Triggered {
            *self.started_per_delivery.entry(delivery).or_insert(0) += 1;
        }
        Ok(o)
    }

    /// Queues a row for the next multi-row insert, or inserts it now (after the queue, to
    /// keep ids in arrival order) when a later event may name it as its original.
    async fn add(
        &mut self,
        txn: &DatabaseTransaction,
        card: i64,
        row: activity::ActiveModel,
    ) -> Result<()> {
        if !self.seen.would_be_original(card, &row) {
            self.rows.push(row);
            return Ok(());
        }
        self.flush(txn).await?;
        let m = row.insert(txn).await?;
        self.seen.remember(&m);
        Ok(())
    }

    async fn flush(&mut self, txn: &DatabaseTransaction) -> Result<()> {
        // a statement's bound values stay well under SQLite's limit (32,766)
        while !self.rows.is_empty() {
            let n = self.rows.len().min(ROWS_PER_INSERT);
            let chunk: Vec<_> = self.rows.drain(..n).collect();
            activity::Entity::insert_many(chunk).exec(txn).await?;
        }
        Ok(())
    }
}

/// An event's duplicate keys.
struct Keys {
    content: String,
    event: Option<String>,
}

/// What starts an execution from an event, and so who it runs as.
enum Origin {
    /// The registry's delivery: the card's API token's owner.
    Delivery,
    /// Resubmit: the person who pressed it.
    Resubmit { by: Actor, email: String },
}

/// Starts the card's pipeline for the event, inside a savepoint so that a refusal leaves
/// nothing behind.
async fn start_for(
    backend: &Backend,
    txn: &DatabaseTransaction,
    lookups: &mut Lookups,
    card: &cards::Model,
    event: &PushEvent,
    origin: &Origin,
    started: &mut StartedList,
) -> Result<Outcome> {
    let now = backend.clock.now();
    // a delivery runs as the card's token owner; a Resubmit as whoever pressed it
    let (owner, extra_comment) = match origin {
        Origin::Delivery => (
            lookups.owner(txn, now, card.api_token_id).await?,
            String::new(),
        ),
        Origin::Resubmit { by, email } => (Some(*by), format!(", resubmitted by {email}")),
    };
    let Some(owner) = owner else {
        return Ok(Outcome::says(
            ActivityStatus::InvalidToken,
            "Invalid API token. Verify webhook configuration.",
        ));
    };
    let Some(p) = pipelines::Entity::find_by_id(card.pipeline_id)
        .one(txn)
        .await?
    else {
        return Ok(Outcome::says(
            ActivityStatus::Failed,
            "The webhook's pipeline no longer exists.",
        ));
    };
    let pipeline = Some((p.id, p.name.clone()));
    let declared: Vec<String> = crate::project::pipelines::check(&p.definition)
        .map(|d| d.input.into_iter().map(|(n, _)| n).collect())
        .unwrap_or_default();
    let mut input: BTreeMap<String, String> = parse_input(&card.input)
        .into_iter()
        .filter(|(k, _)| declared.contains(k))
        .collect();
    for (k, v) in event.docker_inputs() {
        if declared.iter().any(|d| d == k) {
            input.insert(k.to_owned(), v);
        }
    }
    let comments = format!(
        "Docker push of {} by {} (webhook {}){extra_comment}",
        event.image(),
        if event.owner.is_empty() {
            "unknown"
        } else {
            &event.owner
        },
        card.name
    );
    let comments: String = comments.chars().take(2000).collect();
    let sp = txn.begin().await?;
    let result = executions::start_in(
        &sp,
        backend,
        owner,
        card.project_id,
        card.pipeline_id,
        input,
        &comments,
        Trigger::Docker,
    )
    .await;
    match result {
        Ok((s, events)) => {
            sp.commit().await?;
            let outcome = match &s {
                Started::Queued(row) => Outcome {
                    status: ActivityStatus::Triggered,
                    message: format!("Execution #{} of {} queued.", row.index, row.pipeline_name),
                    execution: Some((row.id, row.index)),
                    pipeline,
                },
                Started::Skipped { active_index } => Outcome {
                    status: ActivityStatus::Skipped,
                    message: format!(
                        "Execution #{active_index} of {} is still running (skip-if-running); no new execution.",
                        p.name
                    ),
                    execution: None,
                    pipeline,
                },
            };
            started.push((card.project_id, s, events));
            Ok(outcome)
        }
        Err(Error::Db(e)) => Err(Error::Db(e)),
        Err(Error::Internal(e)) => Err(Error::Internal(e)),
        Err(e) => {
            sp.rollback().await?;
            Ok(Outcome {
                status: ActivityStatus::Failed,
                message: e.public_message(),
                execution: None,
                pipeline,
            })
        }
    }
}

/// The Activity row for an event's outcome; `at` is the delivery's id and arrival.
fn row_model(
    backend: &Backend,
    at: (i64, DateTime<Utc>),
    card: &cards::Model,
    event: &PushEvent,
    keys: &Keys,
    o: Outcome,
    resubmitted: Option<(String, i64)>,
) -> Result<activity::ActiveModel> {
    let wants_callback =
        card.send_result && o.status == ActivityStatus::Triggered && event.callback_url.is_some();
    let (resubmitted_by, resubmit_of) = resubmitted.unzip();
    Ok(activity::ActiveModel {
        delivery_id: Set(at.0),
        webhook_id: Set(card.id),
        project_id: Set(card.project_id),
        received_at: Set(if resubmit_of.is_some() {
            backend.clock.now()
        } else {
            at.1
        }),
        owner: Set(event.owner.clone()),
        image: Set(event.image()),
        repository: Set(event.repository.clone()),
        tag: Set(event.tag.clone()),
        digest: Set(event.digest.clone()),
        dedup_key: Set(keys.content.clone()),
        event_key: Set(keys.event.clone()),
        status: Set(o.status.as_str().to_owned()),
        message: Set(o.message),
        pipeline_id: Set(o.pipeline.as_ref().map(|p| p.0)),
        pipeline_name: Set(o.pipeline.map(|p| p.1)),
        execution_id: Set(o.execution.map(|e| e.0)),
        resubmitted_by: Set(resubmitted_by),
        resubmit_of: Set(resubmit_of),
        callback_url: Set(event.callback_url.clone()),
        callback_state: Set(wants_callback.then(|| "PENDING".to_owned())),
        callback_message: Set(None),
        event: Set(serde_json::to_string(event).map_err(|e| Error::Internal(e.to_string()))?),
        ..Default::default()
    })
}

/// Starts a new execution from a stored event (Resubmit), recording who did it.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, activity_id = id))]
pub async fn resubmit(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
) -> Result<ActivityRow> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    crate::access::projects::write_first(&txn, project_id).await?;
    authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let original = activity::Entity::find_by_id(id)
        .filter(activity::Column::ProjectId.eq(project_id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("activity"))?;
    let card = cards::Entity::find_by_id(original.webhook_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("webhook"))?;
    let event: PushEvent = serde_json::from_str(&original.event)
        .map_err(|e| Error::Internal(format!("activity {id}: {e}")))?;
    if let Some(why) = &event.rejected {
        return Err(Error::Conflict(format!(
            "This event was rejected ({why}); it cannot start a pipeline."
        )));
    }
    let who = users::Entity::find_by_id(actor.user_id)
        .one(&txn)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    let mut lookups = Lookups::default();
    let mut started = Vec::new();
    let o = start_for(
        backend,
        &txn,
        &mut lookups,
        &card,
        &event,
        &Origin::Resubmit {
            by: actor,
            email: who.clone(),
        },
        &mut started,
    )
    .await?;
    let keys = Keys {
        content: original.dedup_key.clone(),
        event: original.event_key.clone(),
    };
    let at = (original.delivery_id, original.received_at);
    let m = row_model(backend, at, &card, &event, &keys, o, Some((who, id)))?
        .insert(&txn)
        .await?;
    txn.commit().await?;
    for (project_id, s, events) in started {
        executions::publish_started(backend, project_id, &s, events);
    }
    let mut rows = rows_view(&backend.db, vec![m]).await?;
    rows.pop().ok_or(Error::NotFound("activity"))
}

pub(crate) async fn rows_view(
    db: &impl ConnectionTrait,
    models: Vec<activity::Model>,
) -> Result<Vec<ActivityRow>> {
    let card_ids: Vec<i64> = models.iter().map(|m| m.webhook_id).collect();
    let execution_ids: Vec<i64> = models.iter().filter_map(|m| m.execution_id).collect();
    let names: HashMap<i64, String> = cards::Entity::find()
        .select_only()
        .column(cards::Column::Id)
        .column(cards::Column::Name)
        .filter(cards::Column::Id.is_in(card_ids))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let runs: HashMap<i64, (i64, String)> = execution_rows::Entity::find()
        .select_only()
        .column(execution_rows::Column::Id)
        .column(execution_rows::Column::RunIndex)
        .column(execution_rows::Column::Status)
        .filter(execution_rows::Column::Id.is_in(execution_ids))
        .into_tuple::<(i64, i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, i, s)| (id, (i, s)))
        .collect();
    Ok(models
        .into_iter()
        .map(|m| {
            let run = m.execution_id.and_then(|e| runs.get(&e));
            ActivityRow {
                id: m.id,
                webhook_id: m.webhook_id,
                webhook_name: names.get(&m.webhook_id).cloned().unwrap_or_default(),
                received_at: m.received_at,
                owner: m.owner,
                image: m.image,
                repository: m.repository,
                tag: m.tag,
                digest: m.digest,
                pipeline_id: m.pipeline_id,
                pipeline_name: m.pipeline_name,
                execution_id: run.and(m.execution_id),
                execution_index: run.map(|r| r.0),
                execution_status: run.and_then(|r| RunStatus::parse(&r.1)),
                status: ActivityStatus::parse(&m.status).unwrap_or(ActivityStatus::Failed),
                message: m.message,
                resubmitted_by: m.resubmitted_by,
                resubmit_of: m.resubmit_of,
                callback_state: m.callback_state,
                callback_message: m.callback_message,
            }
        })
        .collect())
}

/// A project's Activity, newest first, filtered, one page at a time (keyset on the id).
pub async fn list(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    filter: &ActivityFilter,
) -> Result<ActivityPage> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let limit = filter.limit.unwrap_or(50).clamp(1, 200);
    let mut q = filtered(project_id, filter);
    if let Some(before) = filter.before {
        q = q.filter(activity::Column::Id.lt(before));
    }
    let mut models = q
        .order_by_desc(activity::Column::Id)
        .limit(limit + 1)
        .all(&backend.db)
        .await?;
    let more = models.len() as u64 > limit;
    models.truncate(limit as usize);
    let next_before = if more {
        models.last().map(|m| m.id)
    } else {
        None
    };
    Ok(ActivityPage {
        rows: rows_view(&backend.db, models).await?,
        next_before,
    })
}

/// Page `page` (from 1) of `size` rows of a project's Activity, newest first, and how many
/// rows match in all: the REST API's pages (the Activity tab pages by keyset, [`list`]).
pub async fn page(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    filter: &ActivityFilter,
    page: u64,
    size: u64,
) -> Result<(Vec<ActivityRow>, u64)> {
    use sea_orm::PaginatorTrait;
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let q = filtered(project_id, filter);
    let total = q.clone().count(&backend.db).await?;
    let models = q
        .order_by_desc(activity::Column::Id)
        .offset(page.saturating_sub(1).saturating_mul(size))
        .limit(size)
        .all(&backend.db)
        .await?;
    Ok((rows_view(&backend.db, models).await?, total))
}

/// A project's Activity rows that pass `filter`'s card, status and text.
fn filtered(project_id: i64, filter: &ActivityFilter) -> sea_orm::Select<activity::Entity> {
    let mut q = activity::Entity::find().filter(activity::Column::ProjectId.eq(project_id));
    if let Some(w) = filter.webhook_id {
        q = q.filter(activity::Column::WebhookId.eq(w));
    }
    if let Some(s) = filter.status {
        q = q.filter(activity::Column::Status.eq(s.as_str()));
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let text: String = text.chars().take(200).collect();
        q = q.filter(
            sea_orm::Condition::any()
                .add(activity::Column::Image.contains(&text))
                .add(activity::Column::Owner.contains(&text))
                .add(activity::Column::Tag.contains(&text))
                .add(activity::Column::Message.contains(&text))
                .add(activity::Column::PipelineName.contains(&text)),
        );
    }
    q
}

/// One Activity row with the payload as received (pretty-printed when it is JSON).
pub async fn get(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
) -> Result<ActivityDetail> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let m = activity::Entity::find_by_id(id)
        .filter(activity::Column::ProjectId.eq(project_id))
        .one(&backend.db)
        .await?
        .ok_or(Error::NotFound("activity"))?;
    let d = deliveries::Entity::find_by_id(m.delivery_id)
        .one(&backend.db)
        .await?
        .ok_or(Error::NotFound("delivery"))?;
    let payload = registry_events::lenient_json(d.payload.as_bytes())
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(d.payload);
    let row = rows_view(&backend.db, vec![m])
        .await?
        .pop()
        .ok_or(Error::NotFound("activity"))?;
    Ok(ActivityDetail {
        row,
        source: d.source,
        payload,
    })
}

/// The project an Activity row belongs to.
pub async fn project_of(backend: &Backend, id: i64) -> Result<i64> {
    activity::Entity::find_by_id(id)
        .select_only()
        .column(activity::Column::ProjectId)
        .into_tuple::<i64>()
        .one(&backend.db)
        .await?
        .ok_or(Error::NotFound("activity"))
}

/// Why a callback URL is refused, if it is.
pub fn callback_refusal(url: &str, allowed: &[String]) -> Option<String> {
    let Ok(u) = reqwest::Url::parse(url) else {
        return Some("The callback URL is not a URL.".to_owned());
    };
    if u.scheme() != "https" {
        return Some("Callbacks go over https only.".to_owned());
    }
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&host)) {
        return Some(format!(
            "{host} is not on the callback allow-list (WHARF_CALLBACK_HOSTS)."
        ));
    }
    None
}

/// Sends the callbacks whose executions have ended; returns how many it settled.
pub async fn send_due_callbacks(backend: &Backend, client: &reqwest::Client) -> Result<usize> {
    // the oldest callbacks whose execution has ended (or is gone) first, however many
    // executions still run (index idx_webhook_activity_callback)
    let running = sea_orm::sea_query::Query::select()
        .column(execution_rows::Column::Id)
        .from(execution_rows::Entity)
        .and_where(
            execution_rows::Column::Status.is_in(crate::project::pipelines::active_strings()),
        )
        .to_owned();
    let due = activity::Entity::find()
        .filter(activity::Column::CallbackState.eq("PENDING"))
        .filter(
            sea_orm::Condition::any()
                .add(activity::Column::ExecutionId.is_null())
                .add(activity::Column::ExecutionId.not_in_subquery(running)),
        )
        .order_by_asc(activity::Column::Id)
        .limit(100)
        .all(&backend.db)
        .await?;
    let mut settled = 0;
    for a in due {
        let execution_id = a.execution_id.unwrap_or_default();
        let status = execution_rows::Entity::find_by_id(execution_id)
            .one(&backend.db)
            .await?
            .map(|e| {
                (
                    RunStatus::parse(&e.status),
                    e.message,
                    e.pipeline_name,
                    e.run_index,
                )
            });
        let (state, description) = match status {
            None => ("error", "The execution was deleted.".to_owned()),
            Some((Some(s), message, name, index)) if s.is_final() => (
                if s == RunStatus::Completed {
                    "success"
                } else if s == RunStatus::Failed {
                    "failure"
                } else {
                    "error"
                },
                format!(
                    "{name} #{index} {}{}",
                    s.as_str(),
                    message.map(|m| format!(": {m}")).unwrap_or_default()
                ),
            ),
            _ => continue,
        };
        let url = a.callback_url.clone().unwrap_or_default();
        let outcome = match callback_refusal(&url, &backend.callback_hosts) {
            Some(why) => Err(why),
            None => {
                let body = serde_json::json!({
                    "state": state,
                    "description": description.chars().take(255).collect::<String>(),
                    "context": "Wharf",
                    "target_url": format!("{}/executions/{execution_id}", backend.public_url),
                });
                post_with_retries(client, &url, &body).await
            }
        };
        let (cb_state, message) = match outcome {
            Ok(m) => ("SENT", m),
            Err(m) => ("FAILED", m),
        };
        activity::Entity::update_many()
            .col_expr(activity::Column::CallbackState, Expr::value(cb_state))
            .col_expr(activity::Column::CallbackMessage, Expr::value(message))
            .filter(activity::Column::Id.eq(a.id))
            .exec(&backend.db)
            .await?;
        settled += 1;
    }
    Ok(settled)
}

async fn post_with_retries(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> std::result::Result<String, String> {
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_secs(1 << attempt)).await;
        }
        match client.post(url).json(body).send().await {
            Ok(res) if res.status().is_success() => {
                return Ok(format!(
                    "Sent {} ({}).",
                    body["state"].as_str().unwrap_or(""),
                    res.status()
                ))
            }
            Ok(res) => last = format!("The registry answered {}.", res.status()),
            Err(e) if e.is_timeout() => {
                last = "The registry did not answer within 10 s.".to_owned()
            }
            Err(_) => last = "The registry could not be reached.".to_owned(),
        }
    }
    Err(format!("Failed after 3 tries: {last}"))
}

/// The client callbacks go out with: no redirects, 10 s.
pub fn callback_client(
    policy: &crate::clients::outbound::OutboundPolicy,
) -> reqwest::Result<reqwest::Client> {
    policy
        .builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
}

/// Sends callbacks as executions end, until `stop` resolves.
pub async fn run_callbacks(
    backend: Backend,
    client: reqwest::Client,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut events = backend.events.subscribe();
    loop {
        if let Err(e) = send_due_callbacks(&backend, &client).await {
            tracing::warn!(error = %e, "sending callbacks failed");
        }
        // look again when an execution ends (stage and task events do not count), or in 5 s
        let tick = tokio::time::sleep(std::time::Duration::from_secs(5));
        tokio::pin!(tick);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = &mut tick => break,
                e = events.recv() => match e {
                    Ok(e) if e.stage.is_none() && e.status.is_final() => break,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        (&mut tick).await;
                        break;
                    }
                },
            }
        }
    }
}
