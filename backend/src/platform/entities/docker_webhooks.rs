use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "docker_webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: String,
    pub endpoint_id: i64,
    pub pipeline_id: i64,
    pub input: String,
    pub api_token_id: Option<i64>,
    pub image_pattern: String,
    pub tag_pattern: String,
    pub enabled: bool,
    pub send_result: bool,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub token_sealed: String,
    pub sync_state: String,
    pub sync_error: Option<String>,
    pub synced_at: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
