//! Projects and their members. Every project-scoped service calls [`authorize`] first: one rule
//! set for the UI and the API alike. A project the caller cannot see answers "not found".

use crate::access::accounts::Actor;
use crate::error::conflict_on_unique;
use crate::platform::entities::{project_members as members, projects, users};
use crate::{Backend, Error, Result};
use domain::role::ProjectAction;
use domain::views::{MemberRow, ProjectDetail, ProjectSummary};
use domain::{Email, ProjectName, ProjectRole};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

/// The longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

fn parse_description(input: &str) -> Result<String> {
    let s = input.trim();
    if s.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Error::invalid(
            "description",
            format!("A description has at most {MAX_DESCRIPTION_CHARS} characters."),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::invalid(
            "description",
            "A description cannot contain control characters.",
        ));
    }
    Ok(s.to_owned())
}

/// The role `actor` acts with in `project_id`, or `NotFound` when they have none (or the
/// project does not exist: the two are indistinguishable on purpose).
pub async fn role_in(
    db: &impl ConnectionTrait,
    actor: Actor,
    project_id: i64,
) -> Result<ProjectRole> {
    let exists = projects::Entity::find_by_id(project_id).count(db).await? > 0;
    if !exists {
        return Err(Error::NotFound("project"));
    }
    let membership = members::Entity::find_by_id((project_id, actor.user_id))
        .one(db)
        .await?
        .map(|m| m.role);
    ProjectRole::effective(membership, actor.is_admin).ok_or(Error::NotFound("project"))
}

/// The first write of a transaction that will write to a project's objects: SQLite cannot
/// upgrade a transaction that has read to a writer once another connection has written
/// (`SQLITE_BUSY_SNAPSHOT`), so such transactions take the write lock before reading. It changes
/// nothing; on PostgreSQL it is a row lock on the project.
pub(crate) async fn write_first(db: &impl ConnectionTrait, project_id: i64) -> Result<()> {
    projects::Entity::update_many()
        .col_expr(
            projects::Column::Id,
            sea_orm::sea_query::Expr::col(projects::Column::Id),
        )
        .filter(projects::Column::Id.eq(project_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Whether `actor` administers `project_id` now (system administrators administer every
/// project); a project they cannot see is a plain no.
pub(crate) async fn administers(
    db: &impl ConnectionTrait,
    actor: Actor,
    project_id: i64,
) -> Result<bool> {
    match role_in(db, actor, project_id).await {
        Ok(role) => Ok(role == ProjectRole::Administrator),
        Err(Error::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Checks that `actor` may perform `action` in `project_id` and returns their role.
pub async fn authorize(
    db: &impl ConnectionTrait,
    actor: Actor,
    project_id: i64,
    action: ProjectAction,
) -> Result<ProjectRole> {
    let role = role_in(db, actor, project_id).await?;
    if role.allows(action) {
        Ok(role)
    } else {
        Err(Error::Forbidden(
            match action {
                ProjectAction::Manage => "Only the project's administrators can do this.",
                _ => "Viewers cannot change anything in this project.",
            }
            .to_owned(),
        ))
    }
}

async fn member_counts(db: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, u64>> {
    let rows: Vec<(i64, i64)> = members::Entity::find()
        .select_only()
        .column(members::Column::ProjectId)
        .column_as(members::Column::UserId.count(), "n")
        .filter(members::Column::ProjectId.is_in(ids.iter().copied()))
        .group_by(members::Column::ProjectId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect())
}

fn summary(p: projects::Model, role: ProjectRole, member_count: u64) -> ProjectSummary {
    ProjectSummary {
        id: p.id,
        name: p.name,
        description: p.description,
        my_role: role,
        member_count,
        created_at: p.created_at,
    }
}

/// The projects `actor` can see, by name.
pub async fn list_for(backend: &Backend, actor: Actor) -> Result<Vec<ProjectSummary>> {
    let db = &backend.db;
    let my_roles: HashMap<i64, ProjectRole> = members::Entity::find()
        .filter(members::Column::UserId.eq(actor.user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| Ok((m.project_id, m.role)))
        .collect::<Result<_>>()?;
    let mut query = projects::Entity::find().order_by_asc(projects::Column::NameKey);
    if !actor.is_admin {
        query = query.filter(projects::Column::Id.is_in(my_roles.keys().copied()));
    }
    let found = query.all(db).await?;
    let ids: Vec<i64> = found.iter().map(|p| p.id).collect();
    let counts = member_counts(db, &ids).await?;
    Ok(found
        .into_iter()
        .filter_map(|p| {
            let role = ProjectRole::effective(my_roles.get(&p.id).copied(), actor.is_admin)?;
            let n = counts.get(&p.id).copied().unwrap_or(0);
            Some(summary(p, role, n))
        })
        .collect())
}

/// One project with its members.
pub async fn get(backend: &Backend, actor: Actor, project_id: i64) -> Result<ProjectDetail> {
    let db = &backend.db;
    let role = authorize(db, actor, project_id, ProjectAction::View).await?;
    let project = projects::Entity::find_by_id(project_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("project"))?;
    let rows = members::Entity::find()
        .filter(members::Column::ProjectId.eq(project_id))
        .find_also_related(users::Entity)
        .all(db)
        .await?;
    let mut member_rows = rows
        .into_iter()
        .filter_map(|(m, u)| {
            let u = u?;
            Some(MemberRow {
                user_id: u.id,
                email: u.email,
                display_name: u.display_name,
                role: m.role,
            })
        })
        .collect::<Vec<_>>();
    member_rows.sort_by(|a, b| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
    });
    let n = u64::try_from(member_rows.len()).unwrap_or(0);
    Ok(ProjectDetail {
        project: summary(project, role, n),
        members: member_rows,
    })
}

/// Creates a project (system administrators only); its creator becomes its administrator.
#[tracing::instrument(skip_all, fields(actor = actor.user_id))]
pub async fn create(
    backend: &Backend,
    actor: Actor,
    name: &str,
    description: &str,
) -> Result<ProjectSummary> {
    actor.require_admin()?;
    let name = ProjectName::parse(name)?;
    let description = parse_description(description)?;
    let now = backend.clock.now();
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let project = projects::ActiveModel {
        name: Set(name.as_str().to_owned()),
        name_key: Set(name.unique_key()),
        description: Set(description),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "A project with that name already exists."))?;
    members::ActiveModel {
        project_id: Set(project.id),
        user_id: Set(actor.user_id),
        role: Set(ProjectRole::Administrator),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(summary(project, ProjectRole::Administrator, 1))
}

/// Renames a project and changes its description (project administrators).
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id))]
pub async fn update(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    name: &str,
    description: &str,
) -> Result<()> {
    let name = ProjectName::parse(name)?;
    let description = parse_description(description)?;
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    authorize(&txn, actor, project_id, ProjectAction::Manage).await?;
    let project = projects::Entity::find_by_id(project_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("project"))?;
    let mut model: projects::ActiveModel = project.into();
    model.name = Set(name.as_str().to_owned());
    model.name_key = Set(name.unique_key());
    model.description = Set(description);
    model.updated_at = Set(backend.clock.now());
    model
        .update(&txn)
        .await
        .map_err(|e| conflict_on_unique(e, "A project with that name already exists."))?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a project and its memberships (project administrators).
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id))]
pub async fn delete(backend: &Backend, actor: Actor, project_id: i64) -> Result<()> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    authorize(&txn, actor, project_id, ProjectAction::Manage).await?;
    projects::Entity::delete_by_id(project_id)
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// How many administrators the project has, their rows locked until the transaction ends
/// (`FOR UPDATE` on PostgreSQL; SQLite's write lock does it already): two administrators
/// demoting each other at once are counted one after the other, so one of them stays.
async fn administrator_count(db: &impl ConnectionTrait, project_id: i64) -> Result<u64> {
    let ids: Vec<i64> = members::Entity::find()
        .select_only()
        .column(members::Column::UserId)
        .filter(members::Column::ProjectId.eq(project_id))
        .filter(members::Column::Role.eq(ProjectRole::Administrator))
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.len() as u64)
}

const LAST_ADMIN: &str =
    "A project keeps at least one administrator. Make someone else an administrator first.";

/// Adds a user, found by e-mail address, to a project (project administrators).
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id))]
pub async fn add_member(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    email: &str,
    role: ProjectRole,
) -> Result<()> {
    let email = Email::parse(email)?;
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    authorize(&txn, actor, project_id, ProjectAction::Manage).await?;
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::invalid("email", "No Wharf user has that e-mail address. An administrator can create them on the Users page."))?;
    members::ActiveModel {
        project_id: Set(project_id),
        user_id: Set(user.id),
        role: Set(role),
        created_at: Set(backend.clock.now()),
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "That person is already a member of this project."))?;
    txn.commit().await?;
    Ok(())
}

/// Changes a member's role (project administrators). The last administrator keeps the role.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, user_id))]
pub async fn change_role(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    user_id: i64,
    role: ProjectRole,
) -> Result<()> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    authorize(&txn, actor, project_id, ProjectAction::Manage).await?;
    let member = members::Entity::find_by_id((project_id, user_id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("member"))?;
    let was_admin = member.role == ProjectRole::Administrator;
    if was_admin
        && role != ProjectRole::Administrator
        && administrator_count(&txn, project_id).await? <= 1
    {
        return Err(Error::Conflict(LAST_ADMIN.to_owned()));
    }
    let mut model: members::ActiveModel = member.into();
    model.role = Set(role);
    model.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Removes a member (project administrators). The last administrator stays.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, user_id))]
pub async fn remove_member(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    user_id: i64,
) -> Result<()> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    authorize(&txn, actor, project_id, ProjectAction::Manage).await?;
    let member = members::Entity::find_by_id((project_id, user_id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("member"))?;
    if member.role == ProjectRole::Administrator
        && administrator_count(&txn, project_id).await? <= 1
    {
        return Err(Error::Conflict(LAST_ADMIN.to_owned()));
    }
    members::Entity::delete_by_id((project_id, user_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
