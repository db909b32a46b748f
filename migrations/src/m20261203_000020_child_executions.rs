use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Executions {
    Table,
    ParentTaskRunId,
}

/// Pipeline tasks: an execution started by another pipeline's Pipeline task names that task's
/// run, so its end wakes the waiting parent and a chain of pipelines can be bounded.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Executions::Table)
                    .add_column(
                        ColumnDef::new(Executions::ParentTaskRunId)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Executions::Table)
                    .drop_column(Executions::ParentTaskRunId)
                    .to_owned(),
            )
            .await
    }
}
