use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "executions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub pipeline_id: i64,
    pub project_id: i64,
    pub run_index: i64,
    pub pipeline_name: String,
    pub status: domain::executions::RunStatus,
    pub plan: String,
    pub input: String,
    pub output: Option<String>,
    pub comments: String,
    pub trigger: String,
    pub created_by: Option<i64>,
    pub plan_saved_by: Option<i64>,
    pub message: Option<String>,
    pub cancel_requested: bool,
    pub pause_requested: bool,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The change-feed version (set by database triggers; see the `live` module).
    pub live_version: i64,
    /// The Pipeline task run that started it, if another pipeline did.
    pub parent_task_run_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
