use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub execution_id: i64,
    pub stage_position: i32,
    pub group_position: i32,
    pub stage_name: String,
    pub name: String,
    pub kind: String,
    pub status: domain::executions::RunStatus,
    pub attempts: i32,
    pub message: Option<String>,
    pub output: Option<String>,
    pub state: Option<String>,
    pub started_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub input: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
