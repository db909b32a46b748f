//! Executions: the list, the detail page's view, actions, the Home dashboard.

use super::*;
#[cfg(feature = "ssr")]
use backend::access::projects;

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
    use domain::executions::ExecutionAction as Asked;
    let simple = match Asked::parse(&action) {
        Some(Asked::Cancel) => Some(Action::Cancel),
        Some(Asked::Pause) => Some(Action::Pause),
        Some(Asked::Resume) => Some(Action::Resume),
        _ => None,
    };
    if let Some(a) = simple {
        act(&b, actor, project, id, a).await?;
        return Ok(None);
    }
    match Asked::parse(&action) {
        Some(Asked::Cancel | Asked::Pause | Asked::Resume) | None => {
            Err(AppError::invalid("action", "Unknown action."))
        }
        Some(Asked::Rerun) => match rerun(&b, actor, project, id).await? {
            Started::Queued(r) => Ok(Some(r.id)),
            Started::Skipped { active_index } => Err(AppError::new(
                domain::ErrorCode::Conflict,
                format!("Not started: execution #{active_index} is still running and this pipeline skips runs while one is active."),
            )),
        },
        Some(Asked::Delete) => {
            delete(&b, actor, project, id).await?;
            Ok(None)
        }
    }
}

/// The home dashboard of one project as the server renders it, and the change-feed version
/// its live stream resumes after.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HomeView {
    /// The version of the latest executions shown.
    pub version: i64,
    /// The dashboard's HTML (`pages::home::fragment`), every value escaped.
    pub html: String,
}

/// The home dashboard of one project, rendered on the server.
#[server]
pub async fn get_home(project_id: i64) -> Result<HomeView, AppError> {
    let (actor, _) = actor()?;
    let d = backend::live::dashboard(&backend()?, actor, project_id).await?;
    Ok(HomeView {
        version: d.latest.version,
        html: crate::pages::home::fragment::render(d),
    })
}
