use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pipelines {
    Table,
    SavedBy,
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    PlanSavedBy,
}

#[derive(DeriveIden)]
enum UserOperations {
    Table,
    Kind,
}

/// Restricted resources as Aria releases them: who saved the pipeline version an execution
/// runs (`pipelines.saved_by`, copied into `executions.plan_saved_by`), and approvals that
/// release a restricted variable or endpoint to one task (`user_operations.kind` RESTRICTED;
/// APPROVAL is a User Operation task's own).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // one column per statement: SQLite alters one at a time
        manager
            .alter_table(
                Table::alter()
                    .table(Pipelines::Table)
                    .add_column(ColumnDef::new(Pipelines::SavedBy).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Executions::Table)
                    .add_column(ColumnDef::new(Executions::PlanSavedBy).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(UserOperations::Table)
                    .add_column(
                        ColumnDef::new(UserOperations::Kind)
                            .string_len(16)
                            .not_null()
                            .default("APPROVAL"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            (Pipelines::Table.into_iden(), Pipelines::SavedBy.into_iden()),
            (
                Executions::Table.into_iden(),
                Executions::PlanSavedBy.into_iden(),
            ),
            (
                UserOperations::Table.into_iden(),
                UserOperations::Kind.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
