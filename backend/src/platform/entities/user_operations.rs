use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_operations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub execution_id: i64,
    #[sea_orm(unique)]
    pub task_run_id: i64,
    pub project_id: i64,
    pub pipeline_name: String,
    pub run_index: i64,
    pub stage_name: String,
    pub task_name: String,
    pub summary: String,
    pub description: String,
    pub approvers: String,
    pub status: domain::executions::OperationStatus,
    pub response_comment: Option<String>,
    pub responded_by: Option<String>,
    pub responded_at: Option<DateTimeUtc>,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub kind: domain::executions::OperationKind,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
