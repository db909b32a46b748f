use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pipelines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub definition: String,
    pub enabled: bool,
    pub concurrency: String,
    pub docker_inputs: bool,
    pub stage_count: i32,
    pub next_index: i64,
    pub created_by: Option<i64>,
    pub saved_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// How many of its executions may run at once (Aria's numeric `concurrency`; 1 otherwise).
    pub max_running: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
