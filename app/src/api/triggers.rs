//! Docker triggers: webhook cards and their Activity.

use super::*;

/// A project's Docker webhook cards.
#[server]
pub async fn list_webhooks(
    project_id: i64,
) -> Result<Vec<domain::webhooks::WebhookCard>, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::triggers::cards::list(&backend()?, actor, project_id).await?)
}

/// Creates a webhook card (`webhook_id` none) or changes one.
#[server(input = server_fn::codec::Json)]
pub async fn save_webhook(
    project_id: i64,
    webhook_id: Option<i64>,
    form: domain::webhooks::WebhookForm,
) -> Result<domain::webhooks::WebhookCard, AppError> {
    let (actor, _) = actor()?;
    let b = backend()?;
    Ok(match webhook_id {
        None => backend::triggers::cards::create(&b, actor, project_id, form).await?,
        Some(id) => backend::triggers::cards::update(&b, actor, project_id, id, form).await?,
    })
}

/// Enable, disable, regenerate-token or retry-sync on a card.
#[server]
pub async fn webhook_action(
    project_id: i64,
    webhook_id: i64,
    action: String,
) -> Result<domain::webhooks::WebhookCard, AppError> {
    use backend::triggers::cards as w;
    let (actor, _) = actor()?;
    let b = backend()?;
    Ok(match action.as_str() {
        "enable" => w::set_enabled(&b, actor, project_id, webhook_id, true).await?,
        "disable" => w::set_enabled(&b, actor, project_id, webhook_id, false).await?,
        "regenerate-token" => w::regenerate_token(&b, actor, project_id, webhook_id).await?,
        "retry-sync" => w::retry_sync(&b, actor, project_id, webhook_id).await?,
        _ => {
            return Err(AppError::new(
                domain::ErrorCode::Invalid,
                "Unknown webhook action.",
            ))
        }
    })
}

/// Deletes a card; `force` deletes it although Docker Hub kept its webhook.
#[server]
pub async fn delete_webhook(project_id: i64, webhook_id: i64, force: bool) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::triggers::cards::delete(&backend()?, actor, project_id, webhook_id, force).await?)
}

/// A card's listener URL with its secure token (Copy).
#[server]
pub async fn webhook_listener_url(project_id: i64, webhook_id: i64) -> Result<String, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::triggers::cards::listener_url(&backend()?, actor, project_id, webhook_id).await?)
}

/// One page of a project's Activity.
#[server(input = server_fn::codec::Json)]
pub async fn list_activity(
    project_id: i64,
    filter: domain::webhooks::ActivityFilter,
) -> Result<domain::webhooks::ActivityPage, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::triggers::inbox::list(&backend()?, actor, project_id, &filter).await?)
}

/// One Activity row with the payload as received.
#[server]
pub async fn get_activity(
    project_id: i64,
    activity_id: i64,
) -> Result<domain::webhooks::ActivityDetail, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::triggers::inbox::get(&backend()?, actor, project_id, activity_id).await?)
}

/// Starts a new execution from a stored event.
#[server]
pub async fn resubmit_activity(
    project_id: i64,
    activity_id: i64,
) -> Result<domain::webhooks::ActivityRow, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::triggers::inbox::resubmit(&backend()?, actor, project_id, activity_id).await?)
}
