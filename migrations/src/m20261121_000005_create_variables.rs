use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000002_create_projects::Projects;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Variables {
    Table,
    Id,
    ProjectId,
    Name,
    Kind,
    Description,
    // REGULAR variables keep their value here
    Value,
    // SECRET and RESTRICTED variables keep only this: sealed under the key file
    SealedValue,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Variables::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Variables::Id))
                    .col(big_integer(Variables::ProjectId))
                    .col(string_len(Variables::Name, 128))
                    .col(string_len(Variables::Kind, 16))
                    .col(text(Variables::Description).default(""))
                    .col(text_null(Variables::Value))
                    .col(text_null(Variables::SealedValue))
                    .col(timestamp_with_time_zone(Variables::CreatedAt))
                    .col(timestamp_with_time_zone(Variables::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Variables::Table, Variables::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // names are unique per project: `${var.NAME}` must mean one thing
        manager
            .create_index(
                Index::create()
                    .name("idx_variables_project_name")
                    .table(Variables::Table)
                    .col(Variables::ProjectId)
                    .col(Variables::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Variables::Table).to_owned())
            .await
    }
}
