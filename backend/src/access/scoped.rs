//! The one project-scoped look-up: a row of a table whose rows belong to projects, found by its
//! id within a project (or its project found by its id). A row of another project answers the
//! same "not found" as a row that does not exist, so ids tell nothing across projects.

use crate::platform::entities::{
    docker_webhooks, endpoints, executions, pipelines, variables, webhook_activity,
};
use crate::{Error, Result};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PrimaryKeyTrait, QueryFilter, QuerySelect,
};

/// A table whose rows belong to a project.
pub trait InProject: EntityTrait {
    /// What one row is called in "not found" errors.
    const NAME: &'static str;
    /// The column naming the row's project.
    fn project_column() -> Self::Column;
}

macro_rules! in_project {
    ($($entity:ident => $name:literal),* $(,)?) => {
        $(impl InProject for $entity::Entity {
            const NAME: &'static str = $name;
            fn project_column() -> Self::Column {
                $entity::Column::ProjectId
            }
        })*
    };
}

in_project! {
    docker_webhooks => "webhook",
    endpoints => "endpoint",
    executions => "execution",
    pipelines => "pipeline",
    variables => "variable",
    webhook_activity => "activity",
}

/// The row `id` of project `project_id`.
pub async fn find<E>(db: &impl ConnectionTrait, project_id: i64, id: i64) -> Result<E::Model>
where
    E: InProject,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    E::find_by_id(id)
        .filter(E::project_column().eq(project_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound(E::NAME))
}

/// The project of row `id` (for routes that name only the row).
pub async fn project_of<E>(db: &impl ConnectionTrait, id: i64) -> Result<i64>
where
    E: InProject,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    E::find_by_id(id)
        .select_only()
        .column(E::project_column())
        .into_tuple::<i64>()
        .one(db)
        .await?
        .ok_or(Error::NotFound(E::NAME))
}
