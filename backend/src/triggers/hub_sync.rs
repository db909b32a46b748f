//! Keeps Docker Hub's webhooks as Docker Hub cards say: an enabled card has a webhook named
//! `wharf-<card id>` on its repository whose hook URL is the card's listener URL; a disabled
//! or deleted card has none. Docker Hub's API: sign in (`POST /v2/users/login` or, with an
//! access token, `POST /v2/auth/token`), then `POST` / `DELETE`
//! `/v2/repositories/{namespace}/{repo}/webhook_pipeline/…`.

use crate::clients::dockerhub::{self, HubSession};
use crate::clients::registry;
use crate::platform::entities::{docker_webhooks as row, endpoints as endpoint_rows};
use crate::project::endpoints::{self, Resolved};
use crate::{Backend, Result};
use domain::endpoints::RegistryServerType;
use domain::registry_events::Pattern;
use domain::webhooks::SyncState;
use reqwest::{Client, StatusCode};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

fn hook_name(card_id: i64) -> String {
    format!("wharf-{card_id}")
}

/// The Docker Hub repository a card's image names: `acme/web`, or `web` in the endpoint
/// user's namespace. Patterns cannot be synced: Docker Hub webhooks are per repository.
fn hub_repo(image: &str, username: &str) -> std::result::Result<(String, String), String> {
    match Pattern::parse(image) {
        Ok(Pattern::Exact(name)) => Ok(match name.split_once('/') {
            Some((ns, repo)) => (ns.to_owned(), repo.to_owned()),
            None => (username.to_owned(), name),
        }),
        _ => Err(
            "Docker Hub webhooks are per repository: give the card an exact repository name (namespace/name) to sync it."
                .to_owned(),
        ),
    }
}

struct Hub {
    client: Client,
    base: String,
    session: HubSession,
}

async fn hub_for(
    backend: &Backend,
    m: &row::Model,
) -> Result<Option<std::result::Result<Hub, String>>> {
    let Some(e) = endpoint_rows::Entity::find_by_id(m.endpoint_id)
        .one(&backend.db)
        .await?
    else {
        return Ok(None);
    };
    if RegistryServerType::parse(&e.server_type) != Some(RegistryServerType::DockerHub) {
        return Ok(None);
    }
    let Resolved::Registry { creds, .. } =
        endpoints::resolve(backend, m.project_id, &e.name).await?
    else {
        return Ok(None);
    };
    let Some(creds) = creds else {
        return Ok(Some(Err(format!(
            "{} has no Docker Hub credentials: Wharf signs in to manage the webhook.",
            e.name
        ))));
    };
    let client = match registry::client(&backend.outbound) {
        Ok(c) => c,
        Err(e) => return Ok(Some(Err(format!("cannot build an HTTP client: {e}")))),
    };
    let base = backend.docker_hub_api.to_string();
    Ok(Some(
        dockerhub::login(&client, &base, &creds)
            .await
            .map(|session| Hub {
                client,
                base,
                session,
            })
            .map_err(|p| format!("Signing in to Docker Hub failed: {p}")),
    ))
}

impl Hub {
    fn pipelines_url(&self, ns: &str, repo: &str) -> String {
        format!(
            "{}/v2/repositories/{ns}/{repo}/webhook_pipeline/",
            self.base
        )
    }

    async fn delete(&self, ns: &str, repo: &str, card_id: i64) -> std::result::Result<(), String> {
        let url = format!("{}{}/", self.pipelines_url(ns, repo), hook_name(card_id));
        let res = self
            .client
            .delete(&url)
            .bearer_auth(&self.session.token)
            .send()
            .await
            .map_err(|_| "Docker Hub's API did not answer.".to_owned())?;
        match res.status() {
            s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
            s => Err(format!(
                "Docker Hub answered {s} when Wharf deleted the webhook on {ns}/{repo}."
            )),
        }
    }

    async fn create(
        &self,
        ns: &str,
        repo: &str,
        card_id: i64,
        hook_url: &str,
        callback: bool,
    ) -> std::result::Result<(), String> {
        let body = serde_json::json!({
            "name": hook_name(card_id),
            "expect_final_callback": callback,
            "webhooks": [{ "name": hook_name(card_id), "hook_url": hook_url }],
            "registry": "registry-1.docker.io",
        });
        let res = self
            .client
            .post(self.pipelines_url(ns, repo))
            .bearer_auth(&self.session.token)
            .json(&body)
            .send()
            .await
            .map_err(|_| "Docker Hub's API did not answer.".to_owned())?;
        match res.status() {
            s if s.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(format!(
                "Docker Hub has no repository {ns}/{repo} that this account can manage."
            )),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(format!(
                "Docker Hub does not let this account manage webhooks of {ns}/{repo}."
            )),
            s => Err(format!(
                "Docker Hub answered {s} when Wharf created the webhook on {ns}/{repo}."
            )),
        }
    }
}

/// Makes Docker Hub match the card (after a create or change; `before` is the card as it was)
/// and records the outcome on the card. Not a Docker Hub card: nothing to do.
pub(crate) async fn sync(
    backend: &Backend,
    m: row::Model,
    before: Option<&row::Model>,
) -> Result<row::Model> {
    let hub = match hub_for(backend, &m).await? {
        None => return Ok(m),
        Some(Err(message)) => return record_sync(backend, m, Err(message)).await,
        Some(Ok(hub)) => hub,
    };
    let outcome = async {
        let (ns, repo) = hub_repo(&m.image_pattern, &hub.session.username)?;
        if let Some(old) = before {
            if let Ok(old_repo) = hub_repo(&old.image_pattern, &hub.session.username) {
                if old_repo != (ns.clone(), repo.clone()) {
                    hub.delete(&old_repo.0, &old_repo.1, m.id).await?;
                }
            }
        }
        // Docker Hub has no "update": the webhook is replaced
        hub.delete(&ns, &repo, m.id).await?;
        if m.enabled {
            let token =
                crate::triggers::listener::open_token(backend, &m).map_err(|e| e.to_string())?;
            let url = crate::triggers::listener::full_url(
                backend,
                Some(RegistryServerType::DockerHub),
                token.expose(),
            );
            hub.create(&ns, &repo, m.id, &url, m.send_result).await?;
        }
        Ok::<(), String>(())
    }
    .await;
    if let Err(message) = &outcome {
        tracing::warn!(webhook_id = m.id, %message, "Docker Hub sync failed");
    }
    record_sync(backend, m, outcome).await
}

/// Deletes the card's webhook in Docker Hub (before the card is deleted).
pub(crate) async fn remove(backend: &Backend, m: &row::Model) -> std::result::Result<(), String> {
    let hub = match hub_for(backend, m).await.map_err(|e| e.public_message())? {
        None => return Ok(()),
        Some(hub) => hub?,
    };
    match hub_repo(&m.image_pattern, &hub.session.username) {
        Ok((ns, repo)) => hub.delete(&ns, &repo, m.id).await,
        // never synced: nothing in Docker Hub to delete
        Err(_) => Ok(()),
    }
}

/// Stores the outcome of a Docker Hub sync on the card.
async fn record_sync(
    backend: &Backend,
    m: row::Model,
    outcome: std::result::Result<(), String>,
) -> Result<row::Model> {
    let now = backend.clock.now();
    let mut a: row::ActiveModel = m.into();
    match outcome {
        Ok(()) => {
            a.sync_state = Set(SyncState::InSync.as_str().to_owned());
            a.sync_error = Set(None);
            a.synced_at = Set(Some(now));
        }
        Err(message) => {
            a.sync_state = Set(SyncState::Error.as_str().to_owned());
            a.sync_error = Set(Some(message));
        }
    }
    Ok(a.update(&backend.db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_repository_names_map_to_a_docker_hub_repository() {
        assert_eq!(
            hub_repo("acme/web", "alice"),
            Ok(("acme".into(), "web".into()))
        );
        assert_eq!(hub_repo("web", "alice"), Ok(("alice".into(), "web".into())));
        assert!(hub_repo("acme/*", "alice").is_err());
        assert!(hub_repo("/acme/.*/", "alice").is_err());
    }
}
