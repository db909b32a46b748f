use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stage_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub execution_id: i64,
    pub position: i32,
    pub name: String,
    pub status: domain::executions::RunStatus,
    pub started_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
