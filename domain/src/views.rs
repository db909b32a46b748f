//! The data shapes the UI shows. They cross the wire between server functions and the browser,
//! so they hold no secrets: no password hashes, no session ids.

use crate::ProjectRole;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The signed-in person, as the shell needs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    /// The user's id.
    pub id: i64,
    /// Their e-mail address (their sign-in name).
    pub email: String,
    /// Their name as shown.
    pub display_name: String,
    /// Whether they administer the whole installation.
    pub is_admin: bool,
}

/// One row of the Users page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// The user's id.
    pub id: i64,
    /// Their e-mail address.
    pub email: String,
    /// Their name as shown.
    pub display_name: String,
    /// Whether they administer the whole installation.
    pub is_admin: bool,
    /// Whether their account is disabled (they cannot sign in).
    pub disabled: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// A project as listed for a person, with the role they act with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    /// The project's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its description (may be empty).
    pub description: String,
    /// The role the viewer acts with in it.
    pub my_role: ProjectRole,
    /// How many members it has.
    pub member_count: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A member of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    /// The member's user id.
    pub user_id: i64,
    /// Their e-mail address.
    pub email: String,
    /// Their name as shown.
    pub display_name: String,
    /// Their role in the project.
    pub role: ProjectRole,
}

/// A project with its members, for the project's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectDetail {
    /// The project and the viewer's role in it.
    pub project: ProjectSummary,
    /// Its members, by name.
    pub members: Vec<MemberRow>,
}

/// Where an API token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TokenStatus {
    /// Usable.
    Active,
    /// Past its six months.
    Expired,
    /// Revoked by its owner.
    Revoked,
}

/// One of my API tokens, without the token itself (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// The token's id.
    pub id: i64,
    /// What its owner called it.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was last exchanged for an access token.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Where it stands now.
    pub status: TokenStatus,
}

/// A token just created: the only time the token itself crosses the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    /// The refresh token, to paste into a webhook or exchange at `/pipelines/api/login`.
    pub token: String,
    /// Its row, as "My tokens" lists it.
    pub row: TokenRow,
}

/// What every view shows in place of a hidden value (a secret variable, a token, a password
/// in a log or an output): one string for the pages, the API and the engine's masking.
pub const MASK: &str = "********";

/// What the pipeline designer offers in its pickers, for one project: names only, nothing
/// secret (a variable's value never leaves the server).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignerPicks {
    /// Kubernetes endpoints by name (the Kubernetes task's cluster picker).
    pub kubernetes_endpoints: Vec<String>,
    /// Docker Registry endpoints by name (the Registry task's picker).
    pub registry_endpoints: Vec<String>,
    /// The members' e-mail addresses (a User Operation's approvers).
    pub members: Vec<String>,
    /// The variables' names (`${var.NAME}` in the binding picker).
    pub variables: Vec<String>,
    /// The project's pipelines with their inputs (the Pipeline task's picker).
    pub pipelines: Vec<(String, Vec<String>)>,
}
