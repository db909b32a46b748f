//! A push's idempotency by a unique key, not by a prior read. Before a batch evaluates its
//! events, it claims the keys of every start the events could make: per card whose image and
//! tag they match, the event's registry id (`e:`, kept for ever, as Activity's "the same event
//! id, any outcome") and its content (`c:`, repository, tag and digest, taken again once it is
//! older than the duplicate window). One statement claims them all, in key order, in the
//! batch's transaction: a processor of another Wharf process claiming the same key waits for
//! this transaction and then finds it taken, so two deliveries of one push never both start
//! an execution, and two batches never wait for each other in a circle. A start needs both of
//! its keys; a content key the batch did not use to start anything is given back.

use super::matching::{sha, Lookups};
use crate::platform::entities::push_keys as row;
use crate::{Backend, Error, Result};
use chrono::Duration;
use domain::registry_events::PushEvent;
use domain::webhooks::DUPLICATE_WINDOW_MINUTES;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use std::collections::{BTreeSet, HashSet};

/// A card's key: `(card, "e:…" | "c:…")`.
pub(super) type Key = (i64, String);

/// The content key of an event for a card.
pub(super) fn content_key(card: i64, content: &str) -> Key {
    (card, format!("c:{content}"))
}

/// The event-id key of an event for a card.
pub(super) fn event_key(card: i64, event: &str) -> Key {
    (card, format!("e:{event}"))
}

/// The keys a batch holds and which it used.
#[derive(Default)]
pub(super) struct Claimed {
    held: HashSet<Key>,
    used: HashSet<Key>,
}

impl Claimed {
    /// Whether this batch holds both keys of a start.
    pub(super) fn holds(&self, content: &Key, event: Option<&Key>) -> bool {
        self.held.contains(content) && event.is_none_or(|k| self.held.contains(k))
    }

    /// A start used its content key.
    pub(super) fn used(&mut self, content: Key) {
        self.used.insert(content);
    }

    /// Gives back the content keys no start used (the event ids stay: any outcome counts).
    pub(super) async fn give_back(&self, txn: &DatabaseTransaction) -> Result<()> {
        let unused: Vec<&Key> = self
            .held
            .iter()
            .filter(|k| k.1.starts_with("c:") && !self.used.contains(*k))
            .collect();
        for chunk in unused.chunks(crate::platform::db::MAX_BOUND_VALUES / 2) {
            let mut any = sea_orm::Condition::any();
            for (card, key) in chunk {
                any = any.add(
                    sea_orm::Condition::all()
                        .add(row::Column::WebhookId.eq(*card))
                        .add(row::Column::Key.eq(key.clone())),
                );
            }
            row::Entity::delete_many().filter(any).exec(txn).await?;
        }
        Ok(())
    }
}

/// Claims the keys of every start `events` (each with the card that delivered it) could make.
pub(super) async fn claim(
    backend: &Backend,
    txn: &DatabaseTransaction,
    lookups: &mut Lookups,
    events: &[(i64, &PushEvent)],
) -> Result<Claimed> {
    let mut wanted: BTreeSet<Key> = BTreeSet::new();
    for (via, event) in events {
        if event.rejected.is_some() {
            continue;
        }
        let Some(via) = lookups.card(txn, *via).await? else {
            continue;
        };
        let content = sha(&event.dedup_material());
        let tag = event.tag.clone().unwrap_or_default();
        for card in lookups.cards_on(txn, via.endpoint_id).await? {
            if card.enabled
                && lookups.matches(&card.image_pattern, &event.repository)
                && lookups.matches(&card.tag_pattern, &tag)
            {
                wanted.insert(content_key(card.id, &content));
                if let Some(id) = &event.event_id {
                    wanted.insert(event_key(card.id, &sha(id)));
                }
            }
        }
    }
    let now = backend.clock.now();
    let expired = now - Duration::minutes(DUPLICATE_WINDOW_MINUTES);
    let wanted: Vec<Key> = wanted.into_iter().collect();
    let mut claimed = Claimed::default();
    // three values a row, in key order across statements
    for chunk in wanted.chunks(crate::platform::db::MAX_BOUND_VALUES / 3) {
        let mut insert = Query::insert();
        insert.into_table(row::Entity).columns([
            row::Column::WebhookId,
            row::Column::Key,
            row::Column::At,
        ]);
        for (card, key) in chunk {
            insert
                .values([(*card).into(), key.clone().into(), now.into()])
                .map_err(|e| Error::Internal(format!("push keys: {e}")))?;
        }
        insert
            .on_conflict(
                OnConflict::columns([row::Column::WebhookId, row::Column::Key])
                    .update_column(row::Column::At)
                    .action_and_where(
                        Expr::col((row::Entity, row::Column::Key))
                            .like("c:%")
                            .and(Expr::col((row::Entity, row::Column::At)).lt(expired)),
                    )
                    .to_owned(),
            )
            .returning(Query::returning().columns([row::Column::WebhookId, row::Column::Key]));
        let stmt = txn.get_database_backend().build(&insert);
        for r in txn.query_all_raw(stmt).await? {
            claimed
                .held
                .insert((r.try_get("", "webhook_id")?, r.try_get("", "key")?));
        }
    }
    Ok(claimed)
}
