//! The Activity tab's reads (keyset pages for the tab, numbered pages for the API, one row
//! with its payload) and Resubmit.

use super::matching::{row_model, start_for, Keys, Lookups, Origin};
use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::platform::entities::{
    docker_webhooks as cards, executions as execution_rows, users, webhook_activity as activity,
    webhook_deliveries as deliveries,
};
use crate::runs::executions::{self};
use crate::{Backend, Error, Result};
use domain::executions::RunStatus;
use domain::registry_events::{self, PushEvent};
use domain::role::ProjectAction;
use domain::webhooks::{ActivityDetail, ActivityFilter, ActivityPage, ActivityRow};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashMap;

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
    let runs: HashMap<i64, (i64, RunStatus)> = execution_rows::Entity::find()
        .select_only()
        .column(execution_rows::Column::Id)
        .column(execution_rows::Column::RunIndex)
        .column(execution_rows::Column::Status)
        .filter(execution_rows::Column::Id.is_in(execution_ids))
        .into_tuple::<(i64, i64, RunStatus)>()
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
                execution_status: run.map(|r| r.1),
                status: m.status,
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
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let q = filtered(project_id, filter).order_by_desc(activity::Column::Id);
    let offset = page.saturating_sub(1).saturating_mul(size);
    let (models, total) = crate::platform::db::page(&backend.db, q, offset, size).await?;
    Ok((rows_view(&backend.db, models).await?, total))
}

/// A project's Activity rows that pass `filter`'s card, status and text.
fn filtered(project_id: i64, filter: &ActivityFilter) -> sea_orm::Select<activity::Entity> {
    let mut q = activity::Entity::find().filter(activity::Column::ProjectId.eq(project_id));
    if let Some(w) = filter.webhook_id {
        q = q.filter(activity::Column::WebhookId.eq(w));
    }
    if let Some(s) = filter.status {
        q = q.filter(activity::Column::Status.eq(s));
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
    crate::access::scoped::project_of::<activity::Entity>(&backend.db, id).await
}
