use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub kind: domain::endpoints::EndpointKind,
    pub server_type: String,
    pub url: String,
    pub username: Option<String>,
    pub sealed_secret: Option<String>,
    pub restricted: bool,
    pub certificate_sha256: Option<String>,
    pub last_validated_at: Option<DateTimeUtc>,
    pub last_validation_ok: Option<bool>,
    pub last_validation_message: Option<String>,
    pub auth_method: Option<domain::endpoints::KubernetesAuth>,
    pub namespace: Option<String>,
    pub ca_data: Option<String>,
    pub client_certificate: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::projects::Entity",
        from = "Column::ProjectId",
        to = "super::projects::Column::Id",
        on_delete = "Cascade"
    )]
    Projects,
}

impl Related<super::projects::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Projects.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
