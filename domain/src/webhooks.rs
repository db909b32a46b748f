//! Docker webhook cards and their Activity, as the Triggers › Docker page and the REST API
//! show them. The secure token never appears here: only the listener path, and the token is
//! handed out on its own, on request, to members who may use the project.

use crate::executions::RunStatus;
use crate::registry_events::Pattern;
use crate::views::TokenStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The listener for Docker Hub's payload.
pub const DOCKER_HUB_LISTENER: &str = "/pipelines/api/docker-hub-webhooks";
/// The listener for CNCF distribution and Harbor notifications.
pub const REGISTRY_LISTENER: &str = "/pipelines/api/registry-webhooks";
/// How long the same repository, tag and digest counts as a duplicate.
pub const DUPLICATE_WINDOW_MINUTES: i64 = 10;

/// Where a card stands with Docker Hub's copy of its webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SyncState {
    /// Not a Docker Hub card: nothing to keep in sync.
    None,
    /// Docker Hub has the webhook as the card says.
    InSync,
    /// The last attempt failed; `sync_error` says why.
    Error,
}

impl SyncState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::None => "none",
            SyncState::InSync => "in_sync",
            SyncState::Error => "error",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Self {
        match s {
            "in_sync" => SyncState::InSync,
            "error" => SyncState::Error,
            _ => SyncState::None,
        }
    }
}

/// What the New/Edit Webhook for Docker form sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookForm {
    /// The card's name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The Docker Registry endpoint whose pushes it listens to.
    #[serde(deserialize_with = "crate::serde_util::integral")]
    pub endpoint_id: i64,
    /// The pipeline it runs (it must have the Docker inputs).
    #[serde(deserialize_with = "crate::serde_util::integral")]
    pub pipeline_id: i64,
    /// Values for the pipeline's inputs; the event's values override the Docker ones.
    #[serde(default)]
    pub input: BTreeMap<String, String>,
    /// An API token (refresh token) whose owner the executions run as. Empty on an edit: keep.
    #[serde(default)]
    pub api_token: String,
    /// The repository: a name (`acme/web`), a glob or a `/regular expression/`.
    pub image: String,
    /// The tag: exact, a glob such as `v*`, or a `/regular expression/`; empty: any tag.
    #[serde(default)]
    pub tag: String,
    /// Whether pushes trigger.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// POST the execution's result to the event's callback URL (Docker Hub).
    #[serde(default)]
    pub send_result: bool,
}

fn yes() -> bool {
    true
}

impl WebhookForm {
    /// Checks what can be checked without the database: name, patterns, sizes.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(("name", "Give the webhook a name.".to_owned()));
        }
        if name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err((
                "name",
                "A webhook name has at most 64 characters and no control characters.".to_owned(),
            ));
        }
        if self.description.chars().count() > 2000 {
            return Err(("description", "At most 2000 characters.".to_owned()));
        }
        if self.image.trim().is_empty() {
            return Err((
                "image",
                "Name the image's repository (acme/web), or give a /regular expression/."
                    .to_owned(),
            ));
        }
        Pattern::parse(&self.image).map_err(|e| ("image", format!("Image: {e}.")))?;
        Pattern::parse(&self.tag).map_err(|e| ("tag", format!("Tag: {e}.")))?;
        for (k, v) in &self.input {
            if v.len() > 64 * 1024 {
                return Err(("input", format!("{k}: at most 64 KiB.")));
            }
        }
        Ok(())
    }
}

/// A webhook card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookCard {
    /// Its id.
    pub id: i64,
    /// Its project.
    pub project_id: i64,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The Docker Registry endpoint.
    pub endpoint_id: i64,
    /// The endpoint's name.
    pub endpoint_name: String,
    /// Whether the endpoint is Docker Hub (the card is then kept in sync there).
    pub docker_hub: bool,
    /// The pipeline it runs.
    pub pipeline_id: i64,
    /// The pipeline's name.
    pub pipeline_name: String,
    /// Values passed to the pipeline's inputs.
    pub input: BTreeMap<String, String>,
    /// The API token's name, when one is set and still exists.
    pub api_token_name: Option<String>,
    /// Where that token stands.
    pub api_token_status: Option<TokenStatus>,
    /// The image pattern.
    pub image: String,
    /// The tag pattern (empty: any).
    pub tag: String,
    /// Whether pushes trigger.
    pub enabled: bool,
    /// Whether the result is sent back to the registry.
    pub send_result: bool,
    /// The listener's path (the full URL adds the public URL and `?secureToken=…`).
    pub listener_path: String,
    /// Docker Hub sync.
    pub sync_state: SyncState,
    /// The last sync error.
    pub sync_error: Option<String>,
    /// When it was last in sync.
    pub synced_at: Option<DateTime<Utc>>,
    /// The last event's time.
    pub last_event_at: Option<DateTime<Utc>>,
    /// The last event's result.
    pub last_event_status: Option<ActivityStatus>,
    /// The last event's message.
    pub last_event_message: Option<String>,
    /// Events recorded for this card.
    pub event_count: i64,
    /// Of which started an execution.
    pub triggered_count: i64,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Where the result callback of a delivery stands (Docker Hub's `callback_url`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "Text",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
pub enum CallbackState {
    /// To be sent once the execution ends.
    Pending,
    /// Sent, and the registry took it.
    Sent,
    /// Sending failed; the message says why.
    Failed,
}

impl CallbackState {
    /// The shown form.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackState::Pending => "PENDING",
            CallbackState::Sent => "SENT",
            CallbackState::Failed => "FAILED",
        }
    }
}

/// What an event did for a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "Text",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
pub enum ActivityStatus {
    /// An execution started.
    Triggered,
    /// The same push was already handled; no execution.
    Duplicate,
    /// The card is disabled.
    Disabled,
    /// The tag (or image) did not match the card.
    NotMatched,
    /// The card's API token is expired, revoked or missing.
    InvalidToken,
    /// The pipeline could not start (disabled, deleted, an input refused).
    Failed,
    /// skip-if-running: an execution of the pipeline was already active.
    Skipped,
    /// The event's image reference is not valid (a tag with a newline, a repository with
    /// markup …): it starts nothing.
    Rejected,
}

impl ActivityStatus {
    /// Every status.
    pub const ALL: [ActivityStatus; 8] = [
        ActivityStatus::Triggered,
        ActivityStatus::Duplicate,
        ActivityStatus::Disabled,
        ActivityStatus::NotMatched,
        ActivityStatus::InvalidToken,
        ActivityStatus::Failed,
        ActivityStatus::Skipped,
        ActivityStatus::Rejected,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityStatus::Triggered => "TRIGGERED",
            ActivityStatus::Duplicate => "DUPLICATE",
            ActivityStatus::Disabled => "DISABLED",
            ActivityStatus::NotMatched => "NOT_MATCHED",
            ActivityStatus::InvalidToken => "INVALID_TOKEN",
            ActivityStatus::Failed => "FAILED",
            ActivityStatus::Skipped => "SKIPPED",
            ActivityStatus::Rejected => "REJECTED",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The label people read.
    pub fn label(self) -> &'static str {
        match self {
            ActivityStatus::Triggered => "Triggered",
            ActivityStatus::Duplicate => "Duplicate",
            ActivityStatus::Disabled => "Disabled",
            ActivityStatus::NotMatched => "Not matched",
            ActivityStatus::InvalidToken => "Invalid token",
            ActivityStatus::Failed => "Failed",
            ActivityStatus::Skipped => "Skipped",
            ActivityStatus::Rejected => "Rejected",
        }
    }
}

/// One Activity row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityRow {
    /// Its id (the keyset for pages).
    pub id: i64,
    /// The card.
    pub webhook_id: i64,
    /// The card's name.
    pub webhook_name: String,
    /// When the delivery was accepted.
    pub received_at: DateTime<Utc>,
    /// Who pushed.
    pub owner: String,
    /// The full image reference.
    pub image: String,
    /// The repository.
    pub repository: String,
    /// The tag.
    pub tag: Option<String>,
    /// The manifest digest.
    pub digest: Option<String>,
    /// The pipeline.
    pub pipeline_id: Option<i64>,
    /// Its name.
    pub pipeline_name: Option<String>,
    /// The execution started, if any.
    pub execution_id: Option<i64>,
    /// Its `#index`.
    pub execution_index: Option<i64>,
    /// Its status now.
    pub execution_status: Option<RunStatus>,
    /// What happened.
    pub status: ActivityStatus,
    /// In words.
    pub message: String,
    /// Who resubmitted it, when this row is a resubmission.
    pub resubmitted_by: Option<String>,
    /// The row it resubmitted.
    pub resubmit_of: Option<i64>,
    /// Where its result callback stands, when the delivery asked for one.
    pub callback_state: Option<CallbackState>,
    /// Callback outcome in words.
    pub callback_message: Option<String>,
}

/// One Activity row with what the registry sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityDetail {
    /// The row.
    pub row: ActivityRow,
    /// `docker_hub`, `distribution` or `harbor`.
    pub source: String,
    /// The payload as received, pretty-printed when it is JSON.
    pub payload: String,
}

/// One page of Activity, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityPage {
    /// The rows.
    pub rows: Vec<ActivityRow>,
    /// Pass as `before` for the next (older) page; none when this is the last.
    pub next_before: Option<i64>,
}

/// Activity filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFilter {
    /// One card.
    pub webhook_id: Option<i64>,
    /// One status.
    pub status: Option<ActivityStatus>,
    /// Text in the image, owner, tag or message.
    pub text: Option<String>,
    /// Rows older than this id.
    pub before: Option<i64>,
    /// Page size (default 50, at most 200).
    pub limit: Option<u64>,
}
