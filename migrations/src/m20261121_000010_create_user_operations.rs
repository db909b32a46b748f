use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000009_create_pipelines::{Executions, TaskRuns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserOperations {
    Table,
    Id,
    ExecutionId,
    // the User Operation task that waits
    TaskRunId,
    ProjectId,
    PipelineName,
    RunIndex,
    StageName,
    TaskName,
    Summary,
    Description,
    // JSON array of e-mail addresses, lower case
    Approvers,
    // PENDING, APPROVED, REJECTED, EXPIRED
    Status,
    ResponseComment,
    RespondedBy,
    RespondedAt,
    ExpiresAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserOperations::Table)
                    .if_not_exists()
                    .col(big_pk_auto(UserOperations::Id))
                    .col(big_integer(UserOperations::ExecutionId))
                    .col(big_integer_uniq(UserOperations::TaskRunId))
                    .col(big_integer(UserOperations::ProjectId))
                    .col(string_len(UserOperations::PipelineName, 128))
                    .col(big_integer(UserOperations::RunIndex))
                    .col(string_len(UserOperations::StageName, 64))
                    .col(string_len(UserOperations::TaskName, 64))
                    .col(text(UserOperations::Summary))
                    .col(text(UserOperations::Description))
                    .col(text(UserOperations::Approvers))
                    .col(string_len(UserOperations::Status, 16))
                    .col(text_null(UserOperations::ResponseComment))
                    .col(string_len_null(UserOperations::RespondedBy, 320))
                    .col(timestamp_with_time_zone_null(UserOperations::RespondedAt))
                    .col(timestamp_with_time_zone(UserOperations::ExpiresAt))
                    .col(timestamp_with_time_zone(UserOperations::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserOperations::Table, UserOperations::ExecutionId)
                            .to(Executions::Table, Executions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserOperations::Table, UserOperations::TaskRunId)
                            .to(TaskRuns::Table, TaskRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_operations_status")
                    .table(UserOperations::Table)
                    .col(UserOperations::Status)
                    .col(UserOperations::ProjectId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserOperations::Table).to_owned())
            .await
    }
}
