//! Server functions: each parses, authorises through the services, calls one service and maps
//! its error. Business rules live in `backend`.

use crate::error::AppError;
use domain::views::{CurrentUser, ProjectDetail, ProjectSummary, UserRow};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::ssr::{actor, backend, session, session_error};
#[cfg(feature = "ssr")]
use backend::access::{accounts, projects};

/// The session key of the project picked in the header's selector.
#[cfg(feature = "ssr")]
const PROJECT_KEY: &str = "wharf.project_id";

/// What the shell needs to draw itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The signed-in user.
    pub user: CurrentUser,
    /// The projects they can see.
    pub projects: Vec<ProjectSummary>,
    /// The project picked in the header's selector, if it is still visible to them.
    pub current_project: Option<i64>,
}

/// Where to go after signing in: only paths on this site, never another host.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(domain::names::LocalPath::parse)
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

/// The signed-in user, their projects and the selected one.
#[server]
pub async fn get_session_info() -> Result<SessionInfo, AppError> {
    let (actor, user) = actor()?;
    let backend = backend()?;
    let projects = projects::list_for(&backend, actor).await?;
    let session = session().await?;
    let picked: Option<i64> = session.get(PROJECT_KEY).await.map_err(session_error)?;
    let current_project = picked
        .filter(|id| projects.iter().any(|p| p.id == *id))
        .or_else(|| projects.first().map(|p| p.id));
    Ok(SessionInfo {
        user,
        projects,
        current_project,
    })
}

/// Creates the first administrator and signs them in.
#[server]
pub async fn create_admin(
    email: String,
    display_name: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    if password != password_confirm {
        crate::ssr::set_status(422);
        return Err(AppError::invalid(
            "password_confirm",
            "The two passwords differ.",
        ));
    }
    let backend = backend()?;
    let user = accounts::create_first_admin(&backend, &email, &display_name, &password).await?;
    start_session(user.id).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[cfg(feature = "ssr")]
async fn start_session(user_id: i64) -> Result<(), AppError> {
    let session = session().await?;
    // a new id at every sign-in, so a session id planted before sign-in is worth nothing after
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(backend::platform::sessions::USER_ID_KEY, user_id)
        .await
        .map_err(session_error)
}

/// Signs in with e-mail address and password.
#[server]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let backend = backend()?;
    let address = crate::ssr::client_address();
    let user = accounts::sign_in(&backend, &email, &password, &address).await?;
    start_session(user.id).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Ends the session.
#[server]
pub async fn sign_out() -> Result<(), AppError> {
    let session = session().await?;
    session.flush().await.map_err(session_error)?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Picks the project the header's selector shows.
#[server]
pub async fn select_project(project_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    let backend = backend()?;
    projects::role_in(&backend.db, actor, project_id).await?;
    let session = session().await?;
    session
        .insert(PROJECT_KEY, project_id)
        .await
        .map_err(session_error)
}

/// The projects the user can see.
#[server]
pub async fn list_projects() -> Result<Vec<ProjectSummary>, AppError> {
    let (actor, _) = actor()?;
    Ok(projects::list_for(&backend()?, actor).await?)
}

/// Creates a project (administrators).
#[server]
pub async fn create_project(name: String, description: String) -> Result<ProjectSummary, AppError> {
    let (actor, _) = actor()?;
    Ok(projects::create(&backend()?, actor, &name, &description).await?)
}

/// One project with its members.
#[server]
pub async fn get_project(project_id: i64) -> Result<ProjectDetail, AppError> {
    let (actor, _) = actor()?;
    Ok(projects::get(&backend()?, actor, project_id).await?)
}

/// Renames a project and changes its description.
#[server]
pub async fn update_project(
    project_id: i64,
    name: String,
    description: String,
) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(projects::update(&backend()?, actor, project_id, &name, &description).await?)
}

/// Deletes a project.
#[server]
pub async fn delete_project(project_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    projects::delete(&backend()?, actor, project_id).await?;
    leptos_axum::redirect("/projects");
    Ok(())
}

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<domain::ProjectRole, AppError> {
    domain::ProjectRole::parse(role).ok_or_else(|| {
        crate::ssr::set_status(422);
        AppError::invalid("role", "Pick administrator, member or viewer.")
    })
}

/// Adds a member to a project.
#[server]
pub async fn add_member(project_id: i64, email: String, role: String) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    let role = parse_role(&role)?;
    Ok(projects::add_member(&backend()?, actor, project_id, &email, role).await?)
}

/// Changes a member's role.
#[server]
pub async fn change_member_role(
    project_id: i64,
    user_id: i64,
    role: String,
) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    let role = parse_role(&role)?;
    Ok(projects::change_role(&backend()?, actor, project_id, user_id, role).await?)
}

/// Removes a member from a project.
#[server]
pub async fn remove_member(project_id: i64, user_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(projects::remove_member(&backend()?, actor, project_id, user_id).await?)
}

/// Every user (administrators).
#[server]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    let (actor, _) = actor()?;
    Ok(accounts::list_users(&backend()?, actor).await?)
}

/// Creates a user (administrators).
#[server]
pub async fn create_user(
    email: String,
    display_name: String,
    password: String,
    is_admin: Option<String>,
) -> Result<UserRow, AppError> {
    let (actor, _) = actor()?;
    let new = accounts::NewUser {
        email,
        display_name,
        password,
        is_admin: is_admin.is_some(),
    };
    Ok(accounts::create_user(&backend()?, actor, new).await?)
}

/// Gives a user a new password and ends their sessions (administrators).
#[server]
pub async fn reset_user_password(user_id: i64, password: String) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(accounts::reset_password(&backend()?, actor, user_id, &password).await?)
}

/// Disables or re-enables an account (administrators).
#[server]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<UserRow, AppError> {
    let (actor, _) = actor()?;
    Ok(accounts::set_disabled(&backend()?, actor, user_id, disabled).await?)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_only_leads_to_paths_on_this_site() {
        assert_eq!(safe_next(Some("/projects/3")), "/projects/3");
        assert_eq!(safe_next(Some("//evil.example/x")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/%2f/evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}

/// A project's variables (hidden kinds without their values).
#[server]
pub async fn list_variables(
    project_id: i64,
) -> Result<Vec<domain::variables::VariableRow>, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::variables::list(&backend()?, actor, project_id).await?)
}

#[cfg(feature = "ssr")]
fn variable_input(
    name: String,
    kind: String,
    value: String,
    description: String,
) -> backend::project::variables::VariableInput {
    backend::project::variables::VariableInput {
        name,
        kind,
        // an empty value on an edit keeps the stored one
        value: (!value.is_empty()).then(|| backend::platform::secrets::SecretValue::new(value)),
        description,
    }
}

/// Creates a variable. The response never carries a hidden value.
#[server]
pub async fn create_variable(
    project_id: i64,
    name: String,
    kind: String,
    value: String,
    description: String,
) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    let input = variable_input(name, kind, value, description);
    backend::project::variables::create(&backend()?, actor, project_id, input).await?;
    Ok(())
}

/// Changes a variable; an empty value keeps a hidden one.
#[server]
pub async fn update_variable(
    project_id: i64,
    variable_id: i64,
    name: String,
    kind: String,
    value: String,
    description: String,
) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    let input = variable_input(name, kind, value, description);
    backend::project::variables::update(&backend()?, actor, project_id, variable_id, input).await?;
    Ok(())
}

/// Deletes a variable.
#[server]
pub async fn delete_variable(project_id: i64, variable_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::variables::delete(&backend()?, actor, project_id, variable_id).await?)
}

/// The Generate Token dialog: the signed-in person confirms e-mail and password. The response
/// is the only time the token crosses the wire.
#[server]
pub async fn generate_token(
    name: String,
    email: String,
    password: String,
) -> Result<domain::views::IssuedToken, AppError> {
    let (_, me) = actor()?;
    let address = crate::ssr::client_address();
    Ok(backend::access::tokens::issue_for_signed_in(
        &backend()?,
        &me,
        &email,
        &password,
        &name,
        &address,
    )
    .await?)
}

/// My API tokens (never the tokens themselves).
#[server]
pub async fn list_my_tokens() -> Result<Vec<domain::views::TokenRow>, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::access::tokens::list_mine(&backend()?, actor).await?)
}

/// Revokes one of my tokens.
#[server]
pub async fn revoke_token(token_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::access::tokens::revoke(&backend()?, actor, token_id).await?)
}

/// Endpoints shown per page.
pub const ENDPOINTS_PER_PAGE: u64 = 50;

/// One page of a project's endpoints (credentials never included).
#[server]
pub async fn list_endpoints(
    project_id: i64,
    page: u64,
) -> Result<domain::endpoints::EndpointPage, AppError> {
    let (actor, _) = actor()?;
    let page = page.max(1);
    let (rows, total) = backend::project::endpoints::list(
        &backend()?,
        actor,
        project_id,
        (page - 1).saturating_mul(ENDPOINTS_PER_PAGE),
        ENDPOINTS_PER_PAGE,
    )
    .await?;
    Ok(domain::endpoints::EndpointPage {
        rows,
        total,
        page,
        page_size: ENDPOINTS_PER_PAGE,
    })
}

#[cfg(feature = "ssr")]
fn endpoint_input(
    form: domain::endpoints::EndpointForm,
) -> backend::project::endpoints::EndpointInput {
    backend::project::endpoints::EndpointInput {
        kind: form.kind,
        name: form.name,
        server_type: form.server_type,
        url: form.url,
        username: form.username,
        // an empty secret on an edit keeps the stored one
        secret: (!form.secret.is_empty())
            .then(|| backend::platform::secrets::SecretValue::new(form.secret)),
        restricted: form.restricted,
        certificate_sha256: form.certificate_sha256,
        auth_method: form.auth_method,
        namespace: form.namespace,
        ca_data: form.ca_data,
        client_certificate: form.client_certificate,
    }
}

/// Creates an endpoint (`endpoint_id` none) or changes one. The response never carries the
/// password, token or key.
#[server(input = server_fn::codec::Json)]
pub async fn save_endpoint(
    project_id: i64,
    endpoint_id: Option<i64>,
    form: domain::endpoints::EndpointForm,
) -> Result<domain::endpoints::EndpointRow, AppError> {
    let (actor, _) = actor()?;
    let backend = backend()?;
    let input = endpoint_input(form);
    Ok(match endpoint_id {
        None => backend::project::endpoints::create(&backend, actor, project_id, input).await?,
        Some(id) => {
            backend::project::endpoints::update(&backend, actor, project_id, id, input).await?
        }
    })
}

/// Deletes an endpoint.
#[server]
pub async fn delete_endpoint(project_id: i64, endpoint_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::endpoints::delete(&backend()?, actor, project_id, endpoint_id).await?)
}

/// Validates an endpoint with the real call; the outcome is also stored on it.
#[server]
pub async fn validate_endpoint(
    project_id: i64,
    endpoint_id: i64,
) -> Result<domain::endpoints::Validation, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::endpoints::validate(&backend()?, actor, project_id, endpoint_id).await?)
}

/// Fetches the certificate an https URL presents, for the Accept certificate dialog.
#[server]
pub async fn fetch_endpoint_certificate(
    project_id: i64,
    url: String,
) -> Result<domain::endpoints::CertificateView, AppError> {
    let (actor, _) = actor()?;
    let backend = backend()?;
    let c =
        backend::project::endpoints::fetch_certificate(&backend, actor, project_id, &url).await?;
    Ok(domain::endpoints::CertificateView {
        expired: c.not_after < backend.clock.now(),
        subject: c.subject,
        issuer: c.issuer,
        not_before: c.not_before,
        not_after: c.not_after,
        sha256: c.sha256,
        chain_len: c.chain_len,
    })
}

/// A project's pipelines (the first 200 by name).
#[server]
pub async fn list_pipelines(
    project_id: i64,
) -> Result<Vec<domain::executions::PipelineRow>, AppError> {
    let (actor, _) = actor()?;
    Ok(
        backend::project::pipelines::list(&backend()?, actor, project_id, 0, 200)
            .await?
            .0,
    )
}

/// One pipeline and its YAML.
#[server]
pub async fn get_pipeline(
    project_id: i64,
    pipeline_id: i64,
) -> Result<(domain::executions::PipelineRow, String), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::pipelines::get(&backend()?, actor, project_id, pipeline_id).await?)
}

/// Creates a pipeline from YAML (`pipeline_id` none: New and Import) or replaces its YAML.
#[server(input = server_fn::codec::Json)]
pub async fn save_pipeline(
    project_id: i64,
    pipeline_id: Option<i64>,
    yaml: String,
) -> Result<domain::executions::PipelineRow, AppError> {
    let (actor, _) = actor()?;
    let backend = backend()?;
    Ok(match pipeline_id {
        None => backend::project::pipelines::create(&backend, actor, project_id, &yaml).await?,
        Some(id) => {
            backend::project::pipelines::update(&backend, actor, project_id, id, &yaml).await?
        }
    })
}

/// Enables or disables a pipeline.
#[server]
pub async fn set_pipeline_enabled(
    project_id: i64,
    pipeline_id: i64,
    enabled: bool,
) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    backend::project::pipelines::set_enabled(&backend()?, actor, project_id, pipeline_id, enabled)
        .await?;
    Ok(())
}

/// Deletes a pipeline.
#[server]
pub async fn delete_pipeline(project_id: i64, pipeline_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::pipelines::delete(&backend()?, actor, project_id, pipeline_id).await?)
}

/// Runs a pipeline from the Run dialog; says what happened.
#[server(input = server_fn::codec::Json)]
pub async fn run_pipeline(
    project_id: i64,
    pipeline_id: i64,
    input: Vec<(String, String)>,
    comments: String,
) -> Result<String, AppError> {
    use backend::runs::executions::{start, Started, Trigger};
    let (actor, _) = actor()?;
    let given = input.into_iter().collect();
    Ok(
        match start(
            &backend()?,
            actor,
            project_id,
            pipeline_id,
            given,
            &comments,
            Trigger::Manual,
        )
        .await?
        {
            Started::Queued(r) => format!("Execution #{} of {} is queued.", r.index, r.pipeline_name),
            Started::Skipped { active_index } => format!(
                "Not started: execution #{active_index} is still running and this pipeline skips runs while one is active (skip-if-running)."
            ),
        },
    )
}

/// The user operations waiting for the signed-in user's answer.
#[server]
pub async fn list_user_operations() -> Result<Vec<domain::executions::UserOperationRow>, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::runs::user_operations::waiting_for(&backend()?, actor).await?)
}

/// Approves or rejects a user operation.
#[server]
pub async fn answer_user_operation(
    operation_id: i64,
    approve: bool,
    comment: String,
) -> Result<domain::executions::UserOperationRow, AppError> {
    let (actor, _) = actor()?;
    Ok(
        backend::runs::user_operations::respond(
            &backend()?,
            actor,
            operation_id,
            approve,
            &comment,
        )
        .await?,
    )
}

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

/// A page of the executions the signed-in user may see, with the live stream's version.
#[server(input = server_fn::codec::Json)]
pub async fn list_executions(
    filter: domain::executions::ExecutionFilter,
) -> Result<domain::executions::ExecutionsPage, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::live::page(&backend()?, actor, &filter, 25).await?)
}

/// Everything the execution detail page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionView {
    /// The live part (status, stages, tasks, version).
    pub summary: domain::executions::ExecutionSummary,
    /// Inputs (secret-looking ones masked by the backend), outputs, task outputs.
    pub detail: domain::executions::ExecutionDetail,
    /// Whether the signed-in user may cancel, pause, resume, rerun and delete it.
    pub can_act: bool,
    /// User Operations of this execution waiting for the signed-in user's answer.
    pub operations: Vec<domain::executions::UserOperationRow>,
    /// The change feed's version before the rest was read: the page follows its pipeline's
    /// changes from here (to learn which run its queued execution waits behind).
    pub feed_version: i64,
}

/// One execution for its detail page.
#[server]
pub async fn get_execution_view(id: i64) -> Result<ExecutionView, AppError> {
    use domain::role::ProjectAction;
    let (actor, _) = actor()?;
    let b = backend()?;
    let feed_version = backend::live::version(&b.db).await?;
    let summary = backend::live::summary(&b, actor, id).await?;
    let project = summary.project_id;
    let detail = backend::runs::executions::get(&b, actor, project, id).await?;
    let can_act = projects::role_in(&b.db, actor, project)
        .await?
        .allows(ProjectAction::Use);
    let operations = backend::runs::user_operations::waiting_for(&b, actor)
        .await?
        .into_iter()
        .filter(|o| o.execution_id == id)
        .collect();
    Ok(ExecutionView {
        summary,
        detail,
        can_act,
        operations,
        feed_version,
    })
}

/// Cancel, pause, resume, rerun or delete an execution. A rerun returns the new execution's id.
#[server]
pub async fn execution_action(id: i64, action: String) -> Result<Option<i64>, AppError> {
    use backend::runs::executions::{act, delete, rerun, Action, Started};
    let (actor, _) = actor()?;
    let b = backend()?;
    let project = backend::runs::executions::project_of(&b, id).await?;
    let simple = match action.as_str() {
        "cancel" => Some(Action::Cancel),
        "pause" => Some(Action::Pause),
        "resume" => Some(Action::Resume),
        _ => None,
    };
    if let Some(a) = simple {
        act(&b, actor, project, id, a).await?;
        return Ok(None);
    }
    match action.as_str() {
        "rerun" => Ok(match rerun(&b, actor, project, id).await? {
            Started::Queued(r) => Some(r.id),
            Started::Skipped { active_index } => {
                return Err(AppError::new(
                    domain::ErrorCode::Conflict,
                    format!("Not started: execution #{active_index} is still running and this pipeline skips runs while one is active."),
                ))
            }
        }),
        "delete" => {
            delete(&b, actor, project, id).await?;
            Ok(None)
        }
        _ => Err(AppError::invalid("action", "Unknown action.")),
    }
}

/// The home dashboard of one project.
#[server]
pub async fn get_dashboard(project_id: i64) -> Result<domain::executions::Dashboard, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::live::dashboard(&backend()?, actor, project_id).await?)
}
