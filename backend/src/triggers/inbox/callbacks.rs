//! Callbacks: a Docker Hub event's result POSTed to its callback URL once the execution ends,
//! oldest first, only to the allowed hosts, retried a few times.

use crate::platform::entities::{executions as execution_rows, webhook_activity as activity};
use crate::{Backend, Result};
use domain::executions::RunStatus;
use domain::webhooks::CallbackState;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::future::Future;

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
        .and_where(execution_rows::Column::Status.is_in(crate::project::pipelines::ACTIVE))
        .to_owned();
    let due = activity::Entity::find()
        .filter(activity::Column::CallbackState.eq(CallbackState::Pending))
        .filter(
            sea_orm::Condition::any()
                .add(activity::Column::ExecutionId.is_null())
                .add(activity::Column::ExecutionId.not_in_subquery(running)),
        )
        .filter(unclaimed(backend))
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
            .map(|e| (Some(e.status), e.message, e.pipeline_name, e.run_index));
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
        if !claim(backend, a.id).await? {
            continue;
        }
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
            Ok(m) => (CallbackState::Sent, m),
            Err(m) => (CallbackState::Failed, m),
        };
        activity::Entity::update_many()
            .col_expr(activity::Column::CallbackState, Expr::value(cb_state))
            .col_expr(activity::Column::CallbackMessage, Expr::value(message))
            .filter(activity::Column::Id.eq(a.id))
            .filter(activity::Column::CallbackOwner.eq(backend.instance.to_string()))
            .exec(&backend.db)
            .await?;
        settled += 1;
    }
    Ok(settled)
}

/// How long a process holds a callback it is sending: longer than three tries take (10 s
/// each, 2 s and 4 s between), so that another process sends it only when this one stopped.
const CALLBACK_LEASE_SECONDS: i64 = 120;

/// A callback no process is sending now.
fn unclaimed(backend: &Backend) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(activity::Column::CallbackUntil.is_null())
        .add(Expr::col(activity::Column::CallbackUntil).lt(backend.lease_now()))
}

/// Takes callback `id` for this process (one conditional UPDATE, so one process sends it).
async fn claim(backend: &Backend, id: i64) -> Result<bool> {
    let claimed = activity::Entity::update_many()
        .col_expr(
            activity::Column::CallbackOwner,
            Expr::value(backend.instance.to_string()),
        )
        .col_expr(
            activity::Column::CallbackUntil,
            backend.lease_end(chrono::Duration::seconds(CALLBACK_LEASE_SECONDS)),
        )
        .filter(activity::Column::Id.eq(id))
        .filter(activity::Column::CallbackState.eq(CallbackState::Pending))
        .filter(unclaimed(backend))
        .exec(&backend.db)
        .await?;
    Ok(claimed.rows_affected == 1)
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

/// The HTTP client callbacks go out with.
pub type CallbackClient = reqwest::Client;

/// The client callbacks go out with: no redirects, 10 s, the public roots and `extra_roots`
/// (PEM certificate authorities, for a registry behind a private one).
pub fn callback_client(
    policy: &crate::clients::outbound::OutboundPolicy,
    extra_roots: &[u8],
) -> std::result::Result<reqwest::Client, String> {
    let mut builder = policy.builder().timeout(std::time::Duration::from_secs(10));
    if !extra_roots.is_empty() {
        let roots = reqwest::Certificate::from_pem_bundle(extra_roots)
            .map_err(|e| format!("the callback CA file holds no readable certificate: {e}"))?;
        if roots.is_empty() {
            return Err("the callback CA file holds no certificate".to_owned());
        }
        for root in roots {
            builder = builder.add_root_certificate(root);
        }
    }
    builder.build().map_err(|e| e.to_string())
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
