use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000002_create_projects::Projects;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Endpoints {
    Table,
    Id,
    ProjectId,
    Name,
    Kind,
    ServerType,
    Url,
    Username,
    // the password or token, sealed under the key file
    SealedSecret,
    Restricted,
    CertificateSha256,
    LastValidatedAt,
    LastValidationOk,
    LastValidationMessage,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Endpoints::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Endpoints::Id))
                    .col(big_integer(Endpoints::ProjectId))
                    .col(string_len(Endpoints::Name, 256))
                    .col(string_len(Endpoints::Kind, 32))
                    .col(string_len(Endpoints::ServerType, 32))
                    .col(text(Endpoints::Url))
                    .col(text_null(Endpoints::Username))
                    .col(text_null(Endpoints::SealedSecret))
                    .col(boolean(Endpoints::Restricted).default(false))
                    .col(string_len_null(Endpoints::CertificateSha256, 95))
                    .col(timestamp_with_time_zone_null(Endpoints::LastValidatedAt))
                    .col(boolean_null(Endpoints::LastValidationOk))
                    .col(text_null(Endpoints::LastValidationMessage))
                    .col(timestamp_with_time_zone(Endpoints::CreatedAt))
                    .col(timestamp_with_time_zone(Endpoints::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Endpoints::Table, Endpoints::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // one name per project; also the index the paginated list walks
        manager
            .create_index(
                Index::create()
                    .name("idx_endpoints_project_name")
                    .table(Endpoints::Table)
                    .col(Endpoints::ProjectId)
                    .col(Endpoints::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Endpoints::Table).to_owned())
            .await
    }
}
