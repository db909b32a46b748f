use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TaskRuns {
    Table,
    Input,
}

/// A task's bound input: its input with every `${…}` binding resolved (secrets masked), as
/// the task ran with it, for the task panel of the execution page.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TaskRuns::Table)
                    .add_column(ColumnDef::new(TaskRuns::Input).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TaskRuns::Table)
                    .drop_column(TaskRuns::Input)
                    .to_owned(),
            )
            .await
    }
}
