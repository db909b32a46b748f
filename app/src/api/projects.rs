//! Projects and their members.

use super::*;
#[cfg(feature = "ssr")]
use backend::access::projects;

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
