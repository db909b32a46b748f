//! Docker webhook cards (Triggers › Docker › Webhooks for Docker): create, edit, enable,
//! disable, regenerate the secure token, delete; kept in sync with Docker Hub for Docker Hub
//! endpoints (`hub_sync`). The secure token and the listener's look-up are in `listener`;
//! what a delivery does is in `inbox`.

use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::error::conflict_on_unique;
use crate::platform::entities::{
    api_tokens, docker_webhooks as row, endpoints, pipelines, webhook_activity,
};
use crate::platform::secrets::SecretValue;
use crate::triggers::card_form::check_form;
use crate::triggers::listener::{
    full_url, listener_path, new_token, open_token, token_hash, PURPOSE,
};
use crate::{Backend, Error, Result};
use chrono::{DateTime, Utc};
use domain::endpoints::RegistryServerType;
use domain::role::ProjectAction;
use domain::webhooks::{ActivityStatus, SyncState, WebhookCard, WebhookForm};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::collections::{BTreeMap, HashMap};

pub(crate) fn parse_input(s: &str) -> BTreeMap<String, String> {
    serde_json::from_str(s).unwrap_or_default()
}

/// Builds the cards' views with their endpoint, pipeline, token and Activity summary.
async fn views(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    models: Vec<row::Model>,
) -> Result<Vec<WebhookCard>> {
    let related = Related::load(db, &models).await?;
    let activity = ActivitySummary::load(db, &models).await?;
    Ok(models
        .into_iter()
        .map(|m| related.card(m, &activity, now))
        .collect())
}

/// What the cards refer to: their endpoints, pipelines' names and API tokens.
struct Related {
    endpoints: HashMap<i64, endpoints::Model>,
    pipelines: HashMap<i64, String>,
    tokens: HashMap<i64, api_tokens::Model>,
}

impl Related {
    async fn load(db: &impl ConnectionTrait, models: &[row::Model]) -> Result<Related> {
        let endpoints = endpoints::Entity::find()
            .filter(endpoints::Column::Id.is_in(models.iter().map(|m| m.endpoint_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let pipelines = pipelines::Entity::find()
            .select_only()
            .column(pipelines::Column::Id)
            .column(pipelines::Column::Name)
            .filter(pipelines::Column::Id.is_in(models.iter().map(|m| m.pipeline_id)))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let tokens = api_tokens::Entity::find()
            .filter(api_tokens::Column::Id.is_in(models.iter().filter_map(|m| m.api_token_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        Ok(Related {
            endpoints,
            pipelines,
            tokens,
        })
    }

    fn card(&self, m: row::Model, activity: &ActivitySummary, now: DateTime<Utc>) -> WebhookCard {
        let endpoint = self.endpoints.get(&m.endpoint_id);
        let server_type = endpoint.and_then(|e| RegistryServerType::parse(&e.server_type));
        let token = m.api_token_id.and_then(|id| self.tokens.get(&id));
        let last = activity.last.get(&m.id);
        WebhookCard {
            id: m.id,
            project_id: m.project_id,
            endpoint_name: endpoint.map(|e| e.name.clone()).unwrap_or_default(),
            docker_hub: server_type == Some(RegistryServerType::DockerHub),
            pipeline_name: self
                .pipelines
                .get(&m.pipeline_id)
                .cloned()
                .unwrap_or_default(),
            input: parse_input(&m.input),
            api_token_name: token.map(|t| t.name.clone()),
            api_token_status: token.map(|t| crate::access::tokens::status(t, now)),
            listener_path: listener_path(server_type).to_owned(),
            sync_state: SyncState::parse(&m.sync_state),
            last_event_at: last.map(|a| a.received_at),
            last_event_status: last.map(|a| a.status),
            last_event_message: last.map(|a| a.message.clone()),
            event_count: activity.all.get(&m.id).map_or(0, |(n, _)| *n),
            triggered_count: activity.triggered.get(&m.id).copied().unwrap_or(0),
            name: m.name,
            description: m.description,
            endpoint_id: m.endpoint_id,
            pipeline_id: m.pipeline_id,
            image: m.image_pattern,
            tag: m.tag_pattern,
            enabled: m.enabled,
            send_result: m.send_result,
            sync_error: m.sync_error,
            synced_at: m.synced_at,
            updated_at: m.updated_at,
        }
    }
}

/// Each card's Activity in short: how many events, how many triggered, and the latest.
struct ActivitySummary {
    /// card → (events, id of the latest)
    all: HashMap<i64, (i64, i64)>,
    triggered: HashMap<i64, i64>,
    last: HashMap<i64, webhook_activity::Model>,
}

impl ActivitySummary {
    async fn load(db: &impl ConnectionTrait, models: &[row::Model]) -> Result<ActivitySummary> {
        let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
        let counts = |triggered: bool| {
            let mut q = webhook_activity::Entity::find()
                .select_only()
                .column(webhook_activity::Column::WebhookId)
                .column_as(webhook_activity::Column::Id.count(), "n")
                .column_as(webhook_activity::Column::Id.max(), "last")
                .filter(webhook_activity::Column::WebhookId.is_in(ids.clone()))
                .group_by(webhook_activity::Column::WebhookId);
            if triggered {
                q = q.filter(webhook_activity::Column::Status.eq(ActivityStatus::Triggered));
            }
            q.into_tuple::<(i64, i64, i64)>()
        };
        let all: HashMap<i64, (i64, i64)> = counts(false)
            .all(db)
            .await?
            .into_iter()
            .map(|(w, n, last)| (w, (n, last)))
            .collect();
        let triggered = counts(true)
            .all(db)
            .await?
            .into_iter()
            .map(|(w, n, _)| (w, n))
            .collect();
        let last = webhook_activity::Entity::find()
            .filter(webhook_activity::Column::Id.is_in(all.values().map(|(_, last)| *last)))
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.webhook_id, a))
            .collect();
        Ok(ActivitySummary {
            all,
            triggered,
            last,
        })
    }
}

/// A project's webhook cards, by name.
pub async fn list(backend: &Backend, actor: Actor, project_id: i64) -> Result<Vec<WebhookCard>> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let models = row::Entity::find()
        .filter(row::Column::ProjectId.eq(project_id))
        .order_by_asc(row::Column::Name)
        .all(&backend.db)
        .await?;
    views(&backend.db, backend.clock.now(), models).await
}

/// The project a card belongs to (for routes that name only the card).
pub async fn project_of(backend: &Backend, id: i64) -> Result<i64> {
    crate::access::scoped::project_of::<row::Entity>(&backend.db, id).await
}

async fn one_view(backend: &Backend, m: row::Model) -> Result<WebhookCard> {
    views(&backend.db, backend.clock.now(), vec![m])
        .await?
        .pop()
        .ok_or(Error::NotFound("webhook"))
}

/// One card.
pub async fn get(backend: &Backend, actor: Actor, project_id: i64, id: i64) -> Result<WebhookCard> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let m = crate::access::scoped::find::<row::Entity>(&backend.db, project_id, id).await?;
    one_view(backend, m).await
}

/// The card's full listener URL, secure token included (Copy on the card).
pub async fn listener_url(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
) -> Result<String> {
    authorize(&backend.db, actor, project_id, ProjectAction::Use).await?;
    let m = crate::access::scoped::find::<row::Entity>(&backend.db, project_id, id).await?;
    let token = open_token(backend, &m)?;
    let server_type = endpoints::Entity::find_by_id(m.endpoint_id)
        .one(&backend.db)
        .await?
        .and_then(|e| RegistryServerType::parse(&e.server_type));
    Ok(full_url(backend, server_type, token.expose()))
}

/// Creates a card with a new secure token (New Webhook for Docker), then creates its webhook
/// in Docker Hub for Docker Hub endpoints.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id))]
pub async fn create(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    form: WebhookForm,
) -> Result<WebhookCard> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    crate::access::projects::write_first(&txn, project_id).await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let checked = check_form(&txn, backend, role, project_id, &form, None, actor).await?;
    let token = new_token();
    let sealed = backend
        .sealer
        .seal(&SecretValue::new(token.clone()), PURPOSE)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let hub = RegistryServerType::parse(&checked.endpoint.server_type)
        == Some(RegistryServerType::DockerHub);
    let now = backend.clock.now();
    let m = row::ActiveModel {
        project_id: Set(project_id),
        name: Set(form.name.trim().to_owned()),
        description: Set(form.description.trim().to_owned()),
        endpoint_id: Set(form.endpoint_id),
        pipeline_id: Set(form.pipeline_id),
        input: Set(serde_json::to_string(&form.input).map_err(|e| Error::Internal(e.to_string()))?),
        api_token_id: Set(checked.api_token_id),
        image_pattern: Set(form.image.trim().to_owned()),
        tag_pattern: Set(form.tag.trim().to_owned()),
        enabled: Set(form.enabled),
        send_result: Set(form.send_result),
        token_hash: Set(token_hash(&token)),
        token_sealed: Set(sealed),
        sync_state: Set(if hub {
            SyncState::Error
        } else {
            SyncState::None
        }
        .as_str()
        .to_owned()),
        sync_error: Set(hub.then(|| "Not synced yet.".to_owned())),
        synced_at: Set(None),
        created_by: Set(Some(actor.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "This project already has a webhook with that name."))?;
    txn.commit().await?;
    backend.listeners.invalidate();
    let m = crate::triggers::hub_sync::sync(backend, m, None).await?;
    one_view(backend, m).await
}

/// Changes a card (Edit). An empty `api_token` keeps the one set.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, webhook_id = id))]
pub async fn update(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
    form: WebhookForm,
) -> Result<WebhookCard> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    crate::access::projects::write_first(&txn, project_id).await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let existing = crate::access::scoped::find::<row::Entity>(&txn, project_id, id).await?;
    let checked = check_form(
        &txn,
        backend,
        role,
        project_id,
        &form,
        existing.api_token_id,
        actor,
    )
    .await?;
    let hub = RegistryServerType::parse(&checked.endpoint.server_type)
        == Some(RegistryServerType::DockerHub);
    let before = existing.clone();
    let mut m: row::ActiveModel = existing.into();
    m.name = Set(form.name.trim().to_owned());
    m.description = Set(form.description.trim().to_owned());
    m.endpoint_id = Set(form.endpoint_id);
    m.pipeline_id = Set(form.pipeline_id);
    m.input = Set(serde_json::to_string(&form.input).map_err(|e| Error::Internal(e.to_string()))?);
    m.api_token_id = Set(checked.api_token_id);
    m.image_pattern = Set(form.image.trim().to_owned());
    m.tag_pattern = Set(form.tag.trim().to_owned());
    m.enabled = Set(form.enabled);
    m.send_result = Set(form.send_result);
    if !hub {
        m.sync_state = Set(SyncState::None.as_str().to_owned());
        m.sync_error = Set(None);
    }
    m.updated_at = Set(backend.clock.now());
    let m = m
        .update(&txn)
        .await
        .map_err(|e| conflict_on_unique(e, "This project already has a webhook with that name."))?;
    txn.commit().await?;
    backend.listeners.invalidate();
    let m = crate::triggers::hub_sync::sync(backend, m, Some(&before)).await?;
    one_view(backend, m).await
}

async fn change(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
    f: impl FnOnce(&mut row::ActiveModel) -> Result<()>,
) -> Result<(row::Model, row::Model)> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    crate::access::projects::write_first(&txn, project_id).await?;
    authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let existing = crate::access::scoped::find::<row::Entity>(&txn, project_id, id).await?;
    let before = existing.clone();
    let mut m: row::ActiveModel = existing.into();
    f(&mut m)?;
    m.updated_at = Set(backend.clock.now());
    let m = m.update(&txn).await?;
    txn.commit().await?;
    backend.listeners.invalidate();
    Ok((before, m))
}

/// Enables or disables a card (disabling deletes its Docker Hub webhook; enabling recreates it).
pub async fn set_enabled(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
    enabled: bool,
) -> Result<WebhookCard> {
    let (before, m) = change(backend, actor, project_id, id, |m| {
        m.enabled = Set(enabled);
        Ok(())
    })
    .await?;
    let m = crate::triggers::hub_sync::sync(backend, m, Some(&before)).await?;
    one_view(backend, m).await
}

/// Gives the card a new secure token; the old one stops working at once.
pub async fn regenerate_token(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
) -> Result<WebhookCard> {
    let token = new_token();
    let sealed = backend
        .sealer
        .seal(&SecretValue::new(token.clone()), PURPOSE)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let (before, m) = change(backend, actor, project_id, id, |m| {
        m.token_hash = Set(token_hash(&token));
        m.token_sealed = Set(sealed);
        Ok(())
    })
    .await?;
    // Docker Hub's hook URL carries the token: update it there too
    let m = crate::triggers::hub_sync::sync(backend, m, Some(&before)).await?;
    one_view(backend, m).await
}

/// Tries the Docker Hub sync again (Retry sync).
pub async fn retry_sync(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
) -> Result<WebhookCard> {
    authorize(&backend.db, actor, project_id, ProjectAction::Use).await?;
    let m = crate::access::scoped::find::<row::Entity>(&backend.db, project_id, id).await?;
    let m = crate::triggers::hub_sync::sync(backend, m, None).await?;
    one_view(backend, m).await
}

/// Deletes a card and its Activity. A Docker Hub card's webhook is deleted in Docker Hub first;
/// when that fails the card stays (so Retry is possible) unless `force` says to delete anyway.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, webhook_id = id))]
pub async fn delete(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
    force: bool,
) -> Result<()> {
    authorize(&backend.db, actor, project_id, ProjectAction::Use).await?;
    let m = crate::access::scoped::find::<row::Entity>(&backend.db, project_id, id).await?;
    if let Err(message) = crate::triggers::hub_sync::remove(backend, &m).await {
        if !force {
            let mut a: row::ActiveModel = m.clone().into();
            a.sync_state = Set(SyncState::Error.as_str().to_owned());
            a.sync_error = Set(Some(message.clone()));
            a.update(&backend.db).await?;
            return Err(Error::Conflict(format!(
                "Docker Hub did not delete its webhook: {message} The card is kept; retry, or delete it anyway."
            )));
        }
        tracing::warn!(webhook_id = id, %message, "deleted although Docker Hub kept its webhook");
    }
    row::Entity::delete_by_id(id).exec(&backend.db).await?;
    backend.listeners.invalidate();
    Ok(())
}
