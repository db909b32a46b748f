use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Executions {
    Table,
    ProjectId,
    CreatedAt,
    Status,
}

#[derive(DeriveIden)]
enum WebhookActivity {
    Table,
    ExecutionId,
}

/// The dashboard counts a project's executions of the last day and week by status from the
/// index alone (project, created, status); the live views name the Docker webhook that started
/// each execution (activity by execution), which without an index read the whole Activity
/// table for every page.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_executions_project_created")
                    .table(Executions::Table)
                    .col(Executions::ProjectId)
                    .col(Executions::CreatedAt)
                    .col(Executions::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_activity_execution")
                    .table(WebhookActivity::Table)
                    .col(WebhookActivity::ExecutionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_webhook_activity_execution")
                    .table(WebhookActivity::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_executions_project_created")
                    .table(Executions::Table)
                    .to_owned(),
            )
            .await
    }
}
