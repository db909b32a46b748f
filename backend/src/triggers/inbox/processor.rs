//! The processor: claims pending deliveries in batches, hands their events to matching, writes
//! Activity and started executions in one transaction per batch, retries a failing delivery
//! with backoff and sets it aside after [`MAX_ATTEMPTS`].

use super::matching::{
    row_model, sha, start_for, Keys, Lookups, Origin, Outcome, Seen, StartedList,
};
use super::push_keys;
use super::*;
use crate::platform::entities::{
    docker_webhooks as cards, webhook_activity as activity, webhook_deliveries as deliveries,
};
use crate::runs::executions::{self};
use crate::{Backend, Error, Result};
use chrono::{DateTime, Duration, Utc};
use domain::registry_events::PushEvent;
use domain::webhooks::{ActivityStatus, DUPLICATE_WINDOW_MINUTES};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Notify;

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
/// Set-based: one statement claims and reads the batch, one reads its cards and every card on
/// their endpoints, one looks up every earlier row the batch's events could duplicate, and
/// the Activity rows go in with multi-row inserts (a row a later event may name as its
/// original is inserted alone, for its id). When a batch
/// fails, its deliveries are processed one by one, so one that cannot be processed holds
/// back no other: it is tried again later, backing off, and after [`MAX_ATTEMPTS`] it is
/// set aside in Activity ("Failed to process: …").
pub async fn process_pending(backend: &Backend) -> Result<usize> {
    match process_batch(backend, None).await {
        Ok(n) => Ok(n),
        Err((ids, e)) if ids.len() <= 1 => match ids.first() {
            Some(id) => {
                retry_later(backend, *id, &e).await?;
                Ok(1)
            }
            None => Err(e),
        },
        Err((ids, e)) => {
            tracing::warn!(error = %e, deliveries = ids.len(), "a webhook batch failed; processing its deliveries one by one");
            for id in &ids {
                if let Err((_, e)) = process_batch(backend, Some(*id)).await {
                    retry_later(backend, *id, &e).await?;
                }
            }
            Ok(ids.len())
        }
    }
}

/// Claims pending deliveries (`only` that one) and processes them in one transaction;
/// returns how many it took, or the ids it had claimed when it failed. The claim is the
/// transaction's first statement: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so processors of
/// several processes each take different deliveries instead of waiting for one another's
/// batch (SQLite's write lock makes the transaction alone).
async fn process_batch(
    backend: &Backend,
    only: Option<i64>,
) -> std::result::Result<usize, (Vec<i64>, Error)> {
    let _turn = backend.inbox_gate.processor_turn().await;
    let fail = |ids: &[i64]| {
        let ids = ids.to_vec();
        move |e: Error| (ids, e)
    };
    let txn = crate::platform::db::begin_write(&backend.db)
        .await
        .map_err(|e| (Vec::new(), e.into()))?;
    let batch = match claim(backend, &txn, only).await {
        Ok(b) => b,
        Err(e) => {
            if let Err(r) = txn.rollback().await {
                tracing::warn!(error = %r, "rolling back a failed webhook claim");
            }
            return Err((Vec::new(), e));
        }
    };
    let ids: Vec<i64> = batch.iter().map(|d| d.id).collect();
    if ids.is_empty() {
        txn.rollback().await.map_err(|e| (Vec::new(), e.into()))?;
        return Ok(0);
    }
    match process_claimed(backend, &txn, &batch).await {
        Ok(started) => {
            txn.commit().await.map_err(|e| fail(&ids)(e.into()))?;
            backend.inbox_gate.processed(ids.len());
            for (project_id, s, events) in started {
                executions::publish_started(backend, project_id, &s, events);
            }
            Ok(ids.len())
        }
        Err(e) => {
            // at once, so that the deliveries are free for the one-by-one tries
            if let Err(r) = txn.rollback().await {
                tracing::warn!(error = %r, "rolling back a failed webhook batch");
            }
            Err(fail(&ids)(e))
        }
    }
}

/// Claims the pending deliveries due now (`only` that one), at most [`PROCESS_BATCH`] in
/// arrival order, and marks them processed, in one statement that returns what processing
/// needs of them (not their raw payloads). `FOR UPDATE SKIP LOCKED` in the choice on
/// PostgreSQL, so processors of several processes each take different deliveries instead of
/// waiting for one another's batch (SQLite's write lock makes the transaction alone).
async fn claim(
    backend: &Backend,
    txn: &DatabaseTransaction,
    only: Option<i64>,
) -> Result<Vec<Claimed>> {
    use deliveries::Column as C;
    use sea_orm::sea_query::{Cond, ExprTrait, LockBehavior, LockType, Order, Query};
    let now = backend.clock.now();
    let mut due = Query::select();
    due.column(C::Id)
        .from(deliveries::Entity)
        .and_where(Expr::col(C::Processed).eq(false))
        .cond_where(
            Cond::any()
                .add(Expr::col(C::NextAttemptAt).is_null())
                .add(Expr::col(C::NextAttemptAt).lte(now)),
        );
    if let Some(id) = only {
        due.and_where(Expr::col(C::Id).eq(id));
    }
    due.order_by(C::Id, Order::Asc)
        .limit(PROCESS_BATCH)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    let mut take = Query::update();
    take.table(deliveries::Entity)
        .value(C::Processed, true)
        .and_where(Expr::col(C::Id).in_subquery(due))
        .returning(Query::returning().columns([C::Id, C::WebhookId, C::ReceivedAt, C::Events]));
    let stmt = txn.get_database_backend().build(&take);
    let mut batch = Vec::new();
    for r in txn.query_all_raw(stmt).await? {
        batch.push(Claimed {
            id: r.try_get("", "id")?,
            webhook_id: r.try_get("", "webhook_id")?,
            received_at: r.try_get("", "received_at")?,
            events: r.try_get("", "events")?,
        });
    }
    // RETURNING promises no order: events are handled in arrival order
    batch.sort_unstable_by_key(|d| d.id);
    Ok(batch)
}

/// Processes the claimed deliveries `batch` in `txn`; returns the executions it started.
async fn process_claimed(
    backend: &Backend,
    txn: &DatabaseTransaction,
    batch: &[Claimed],
) -> Result<StartedList> {
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
    let mut lookups = Lookups::default();
    let via: Vec<i64> = batch.iter().map(|d| d.webhook_id).collect();
    lookups.preload(txn, &via).await?;
    let keyed: Vec<(i64, &PushEvent)> = events
        .iter()
        .map(|(i, e)| (batch[*i].webhook_id, e))
        .collect();
    let keys = push_keys::claim(backend, txn, &mut lookups, &keyed).await?;
    // the events are evaluated against the cards on their delivering cards' endpoints
    let cards: Vec<i64> = lookups
        .on_endpoint
        .values()
        .flatten()
        .map(|c| c.id)
        .collect();
    let seen = Seen::load(backend, txn, &cards, events.iter().map(|(_, e)| e)).await?;
    let mut work = Work {
        started_per_delivery: HashMap::new(),
        lookups,
        keys,
        seen,
        rows: Vec::new(),
        started: Vec::new(),
    };
    for (i, event) in &events {
        work.handle_event(backend, txn, &batch[*i], event).await?;
    }
    work.flush(txn).await?;
    work.keys.give_back(txn).await?;
    Ok(work.started)
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

/// The outcome for an event whose key another transaction holds: a duplicate of the row that
/// transaction wrote (committed by now: claiming the key waited for it).
async fn concurrent_duplicate(
    txn: &DatabaseTransaction,
    card: i64,
    keys: &Keys,
) -> Result<Outcome> {
    let mut original = activity::Entity::find().filter(activity::Column::WebhookId.eq(card));
    original = match &keys.event {
        Some(k) => original.filter(activity::Column::EventKey.eq(k.clone())),
        None => original
            .filter(activity::Column::DedupKey.eq(keys.content.clone()))
            .filter(activity::Column::Status.eq(ActivityStatus::Triggered)),
    };
    let found = original
        .order_by_desc(activity::Column::Id)
        .one(txn)
        .await?;
    Ok(Outcome::says(
        ActivityStatus::Duplicate,
        match found {
            Some(a) => format!(
                "Duplicate of the event received at {} (Activity #{}); no execution.",
                a.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
                a.id
            ),
            None => {
                "Duplicate of an event another delivery started at the same time; no execution."
                    .to_owned()
            }
        },
    ))
}

/// One processing batch under way.
struct Work {
    lookups: Lookups,
    /// The keys of the starts this batch may make (`push_keys`).
    keys: push_keys::Claimed,
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
            .filter(activity::Column::Status.eq(ActivityStatus::Rejected))
            .filter(activity::Column::ReceivedAt.gt(since))
            .into_tuple::<i64>()
            .one(txn)
            .await?
            .is_some()
            || self.rows.iter().any(|r| {
                matches!(&r.dedup_key, sea_orm::ActiveValue::Set(k) if *k == keys.content)
                    && matches!(&r.status, sea_orm::ActiveValue::Set(s) if *s == ActivityStatus::Rejected)
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
        let content = push_keys::content_key(card.id, &keys.content);
        let event_id = keys
            .event
            .as_deref()
            .map(|k| push_keys::event_key(card.id, k));
        if !self.keys.holds(&content, event_id.as_ref()) {
            return concurrent_duplicate(txn, card.id, keys).await;
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
            self.keys.used(content);
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
