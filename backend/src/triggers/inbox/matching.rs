//! ③ match: an event against the cards (patterns compiled once a batch), duplicates by event
//! id and by content within the window, and the start of the card's pipeline
//! (`runs::executions::start_in`, in the batch's transaction).

use crate::access::accounts::Actor;
use crate::access::tokens::status as token_status;
use crate::platform::entities::{
    api_tokens, docker_webhooks as cards, pipelines, users, webhook_activity as activity,
};
use crate::runs::executions::{self, Started, Trigger};
use crate::triggers::cards::parse_input;
use crate::{Backend, Error, Result};
use chrono::{DateTime, Duration, Utc};
use domain::executions::RunStatus;
use domain::registry_events::{Pattern, PushEvent};
use domain::views::TokenStatus;
use domain::webhooks::{ActivityStatus, DUPLICATE_WINDOW_MINUTES};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

pub(super) fn sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// What one batch has looked up already.
#[derive(Default)]
pub(super) struct Lookups {
    pub(super) cards: HashMap<i64, Option<cards::Model>>,
    pub(super) on_endpoint: HashMap<i64, Vec<cards::Model>>,
    pub(super) owners: HashMap<i64, Option<Actor>>,
    /// Compiled card patterns (a glob or a regular expression is compiled once a batch).
    pub(super) patterns: HashMap<String, Pattern>,
}

impl Lookups {
    /// Whether `value` matches the card pattern `src` (one that no longer parses matches nothing).
    pub(super) fn matches(&mut self, src: &str, value: &str) -> bool {
        if !self.patterns.contains_key(src) {
            let p = Pattern::parse(src).unwrap_or_else(|_| Pattern::Exact("\u{0}".to_owned()));
            self.patterns.insert(src.to_owned(), p);
        }
        self.patterns.get(src).is_some_and(|p| p.matches(value))
    }

    pub(super) async fn card(
        &mut self,
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<Option<cards::Model>> {
        if let Some(c) = self.cards.get(&id) {
            return Ok(c.clone());
        }
        let c = cards::Entity::find_by_id(id).one(db).await?;
        self.cards.insert(id, c.clone());
        Ok(c)
    }

    /// Reads at once the cards `ids` and every card on their endpoints: one statement for a
    /// batch, where [`Self::card`] and [`Self::cards_on`] would read per card and per endpoint.
    pub(super) async fn preload(&mut self, db: &impl ConnectionTrait, ids: &[i64]) -> Result<()> {
        use sea_orm::sea_query::{Expr, ExprTrait, Query};
        let mut wanted: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !self.cards.contains_key(id))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut found: BTreeMap<i64, cards::Model> = BTreeMap::new();
        for chunk in wanted.chunks(crate::platform::db::MAX_BOUND_VALUES) {
            let endpoints = Query::select()
                .column(cards::Column::EndpointId)
                .from(cards::Entity)
                .and_where(Expr::col(cards::Column::Id).is_in(chunk.iter().copied()))
                .to_owned();
            for c in cards::Entity::find()
                .filter(cards::Column::EndpointId.in_subquery(endpoints))
                .all(db)
                .await?
            {
                found.insert(c.id, c);
            }
        }
        // each endpoint's list is whole (every card on it was read), in id order
        let mut on: HashMap<i64, Vec<cards::Model>> = HashMap::new();
        for c in found.values() {
            on.entry(c.endpoint_id).or_default().push(c.clone());
        }
        self.on_endpoint.extend(on);
        for id in wanted {
            self.cards.insert(id, found.get(&id).cloned());
        }
        for (id, c) in found {
            self.cards.entry(id).or_insert(Some(c));
        }
        Ok(())
    }

    pub(super) async fn cards_on(
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
    pub(super) async fn owner(
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
        // the token and its owner in one statement
        let found = api_tokens::Entity::find_by_id(id)
            .find_also_related(users::Entity)
            .one(db)
            .await?;
        let owner = match found {
            Some((t, Some(u))) if token_status(&t, now) == TokenStatus::Active && !u.disabled => {
                Some(Actor {
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
pub(super) struct Outcome {
    pub(super) status: ActivityStatus,
    pub(super) message: String,
    pub(super) execution: Option<(i64, i64)>,
    pub(super) pipeline: Option<(i64, String)>,
}

impl Outcome {
    pub(super) fn says(status: ActivityStatus, message: impl Into<String>) -> Self {
        Outcome {
            status,
            message: message.into(),
            execution: None,
            pipeline: None,
        }
    }
}

pub(super) type StartedList = Vec<(i64, Started, Vec<(i64, RunStatus)>)>;

/// The earlier Activity rows a batch's events may duplicate: `(card, key)` to the first row's
/// id and time, for registry event ids (any outcome) and for repository+tag+digest (rows that
/// triggered within the window).
#[derive(Default)]
pub(super) struct Seen {
    pub(super) by_event: HashMap<(i64, String), (i64, DateTime<Utc>)>,
    pub(super) by_content: HashMap<(i64, String), (i64, DateTime<Utc>)>,
}

/// The TRIGGERED rows since `since` of the content keys `keys` on `cards`, in id order: id,
/// card, key and arrival time.
fn triggered_rows(
    cards: &[i64],
    keys: &[String],
    since: DateTime<Utc>,
) -> sea_orm::Select<activity::Entity> {
    activity::Entity::find()
        .select_only()
        .columns([
            activity::Column::Id,
            activity::Column::WebhookId,
            activity::Column::DedupKey,
            activity::Column::ReceivedAt,
        ])
        .filter(activity::Column::DedupKey.is_in(keys.iter().cloned()))
        .filter(activity::Column::WebhookId.is_in(cards.iter().copied()))
        .filter(activity::Column::Status.eq(ActivityStatus::Triggered))
        .filter(activity::Column::ReceivedAt.gt(since))
        .filter(activity::Column::ResubmitOf.is_null())
        .order_by_asc(activity::Column::Id)
}

impl Seen {
    /// The earlier rows `events` could duplicate on `cards` (every card the events are
    /// evaluated against).
    pub(super) async fn load(
        backend: &Backend,
        db: &impl ConnectionTrait,
        cards: &[i64],
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
        // thousands); each chunk is read in id order, so the first row kept is the earliest.
        // The cards are named so that the index (dedup_key, webhook_id, status, received_at)
        // finds the TRIGGERED rows at once: on the key alone it read every row of that key,
        // and a push delivered again and again (each a DUPLICATE row) made each batch slower
        // than the one before. Each chunk pairs other cards or other keys, so the rows kept
        // per card and key are still the earliest.
        const CARDS_PER_QUERY: usize = 100;
        let keys_per_query = crate::platform::db::MAX_BOUND_VALUES - CARDS_PER_QUERY;
        let pairs: Vec<(&[i64], &[String])> = cards
            .chunks(CARDS_PER_QUERY)
            .flat_map(|on| content_keys.chunks(keys_per_query).map(move |k| (on, k)))
            .collect();
        for (on, chunk) in pairs {
            let rows = triggered_rows(on, chunk, since)
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
    pub(super) fn original(
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
    pub(super) fn would_be_original(&self, card: i64, row: &activity::ActiveModel) -> bool {
        let event = match &row.event_key {
            sea_orm::ActiveValue::Set(Some(k)) => !self.by_event.contains_key(&(card, k.clone())),
            _ => false,
        };
        event
            || matches!(&row.status, sea_orm::ActiveValue::Set(s) if *s == ActivityStatus::Triggered)
    }

    pub(super) fn remember(&mut self, m: &activity::Model) {
        if let Some(k) = &m.event_key {
            self.by_event
                .entry((m.webhook_id, k.clone()))
                .or_insert((m.id, m.received_at));
        }
        if m.status == ActivityStatus::Triggered {
            self.by_content
                .entry((m.webhook_id, m.dedup_key.clone()))
                .or_insert((m.id, m.received_at));
        }
    }
}

/// An event's duplicate keys.
pub(super) struct Keys {
    pub(super) content: String,
    pub(super) event: Option<String>,
}

/// What starts an execution from an event, and so who it runs as.
pub(super) enum Origin {
    /// The registry's delivery: the card's API token's owner.
    Delivery,
    /// Resubmit: the person who pressed it.
    Resubmit { by: Actor, email: String },
}

/// Starts the card's pipeline for the event, inside a savepoint so that a refusal leaves
/// nothing behind.
pub(super) async fn start_for(
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
    let input = inputs_for(&p, card, event);
    let pusher = if event.owner.is_empty() {
        "unknown"
    } else {
        &event.owner
    };
    let comments = format!(
        "Docker push of {} by {pusher} (webhook {}){extra_comment}",
        event.image(),
        card.name
    );
    let comments: String = comments.chars().take(2000).collect();
    // in a savepoint, so that a refusal (disabled, invalid input) leaves nothing behind
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
    let (s, events) = match result {
        Ok(started) => started,
        Err(e @ (Error::Db(_) | Error::Internal(_))) => return Err(e),
        Err(e) => {
            sp.rollback().await?;
            let mut refused = Outcome::says(ActivityStatus::Failed, e.public_message());
            refused.pipeline = pipeline;
            return Ok(refused);
        }
    };
    sp.commit().await?;
    let outcome = outcome_of(&s, &p.name, pipeline);
    started.push((card.project_id, s, events));
    Ok(outcome)
}

/// The Activity row's words for what starting the pipeline did.
fn outcome_of(s: &Started, pipeline_name: &str, pipeline: Option<(i64, String)>) -> Outcome {
    match s {
        Started::Queued(row) => Outcome {
            status: ActivityStatus::Triggered,
            message: format!("Execution #{} of {} queued.", row.index, row.pipeline_name),
            execution: Some((row.id, row.index)),
            pipeline,
        },
        Started::Skipped { active_index } => Outcome {
            status: ActivityStatus::Skipped,
            message: format!(
                "Execution #{active_index} of {pipeline_name} is still running (skip-if-running); no new execution."
            ),
            execution: None,
            pipeline,
        },
    }
}

/// The pipeline's inputs for an event: the card's values, then the event's Docker values over
/// them, only for inputs the pipeline declares.
fn inputs_for(
    p: &pipelines::Model,
    card: &cards::Model,
    event: &PushEvent,
) -> BTreeMap<String, String> {
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
    input
}

/// The Activity row for an event's outcome; `at` is the delivery's id and arrival.
pub(super) fn row_model(
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
        status: Set(o.status),
        message: Set(o.message),
        pipeline_id: Set(o.pipeline.as_ref().map(|p| p.0)),
        pipeline_name: Set(o.pipeline.map(|p| p.1)),
        execution_id: Set(o.execution.map(|e| e.0)),
        resubmitted_by: Set(resubmitted_by),
        resubmit_of: Set(resubmit_of),
        callback_url: Set(event.callback_url.clone()),
        callback_state: Set(wants_callback.then_some(domain::webhooks::CallbackState::Pending)),
        callback_message: Set(None),
        event: Set(serde_json::to_string(event).map_err(|e| Error::Internal(e.to_string()))?),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::db::{connect_and_migrate, DbConfig};
    use sea_orm::{DbBackend, QueryTrait, Statement};

    #[tokio::test]
    async fn earlier_pushes_are_looked_up_by_key_card_and_status_not_by_every_row_of_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let db = connect_and_migrate(&DbConfig {
            url: format!("sqlite://{}", dir.path().join("w.db").display()),
            max_connections: 1,
            instance: String::new(),
        })
        .await
        .unwrap();
        let keys = ["a".to_owned(), "b".to_owned()];
        let query = triggered_rows(&[1, 2], &keys, Utc::now()).build(DbBackend::Sqlite);
        let plan = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {}", query.sql),
                query.values.map(|v| v.0).unwrap_or_default(),
            ))
            .await
            .unwrap();
        let steps: Vec<String> = plan
            .iter()
            .map(|r| r.try_get::<String>("", "detail").unwrap())
            .collect();
        // the push delivered again and again leaves a DUPLICATE row each time: the lookup
        // reads only the TRIGGERED rows of its cards, however many rows the key has
        assert!(
            steps.iter().any(|s| s.contains(
                "idx_webhook_activity_dedup_triggered (dedup_key=? AND webhook_id=? AND status=? AND received_at>?)"
            )),
            "{steps:?}"
        );
    }
}
