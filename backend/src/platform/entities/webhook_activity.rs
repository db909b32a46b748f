use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_activity")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub delivery_id: i64,
    pub webhook_id: i64,
    pub project_id: i64,
    pub received_at: DateTimeUtc,
    pub owner: String,
    pub image: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub dedup_key: String,
    pub event_key: Option<String>,
    pub status: domain::webhooks::ActivityStatus,
    pub message: String,
    pub pipeline_id: Option<i64>,
    pub pipeline_name: Option<String>,
    pub execution_id: Option<i64>,
    pub resubmitted_by: Option<String>,
    pub resubmit_of: Option<i64>,
    pub callback_url: Option<String>,
    pub callback_state: Option<domain::webhooks::CallbackState>,
    pub callback_message: Option<String>,
    pub event: String,
    pub callback_owner: Option<String>,
    pub callback_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
