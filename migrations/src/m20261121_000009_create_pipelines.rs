use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_users::Users;
use crate::m20261121_000002_create_projects::Projects;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pipelines {
    Table,
    Id,
    ProjectId,
    Name,
    // the YAML as saved (export gives it back)
    Definition,
    Enabled,
    Concurrency,
    DockerInputs,
    StageCount,
    // the next execution's index (executionIndex)
    NextIndex,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Executions {
    Table,
    Id,
    PipelineId,
    ProjectId,
    RunIndex,
    PipelineName,
    Status,
    // the checked definition the execution runs (JSON), fixed when it is queued
    Plan,
    Input,
    Output,
    Comments,
    Trigger,
    CreatedBy,
    Message,
    CancelRequested,
    PauseRequested,
    LeaseOwner,
    LeaseUntil,
    CreatedAt,
    StartedAt,
    EndedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StageRuns {
    Table,
    Id,
    ExecutionId,
    Position,
    Name,
    Status,
    StartedAt,
    EndedAt,
}

#[derive(DeriveIden)]
pub(crate) enum TaskRuns {
    Table,
    Id,
    ExecutionId,
    StagePosition,
    GroupPosition,
    StageName,
    Name,
    Kind,
    Status,
    Attempts,
    Message,
    Output,
    // what a waiting task keeps between steps (a User Operation's state, a poll's attempts)
    State,
    StartedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum TaskLogs {
    Table,
    Id,
    TaskRunId,
    Line,
    At,
    Text,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(pipelines_table()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pipelines_project_name")
                    .table(Pipelines::Table)
                    .col(Pipelines::ProjectId)
                    .col(Pipelines::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.create_table(executions_table()).await?;
        for (name, cols) in [
            (
                "idx_executions_pipeline_index",
                vec![Executions::PipelineId, Executions::RunIndex],
            ),
            (
                "idx_executions_status",
                vec![Executions::Status, Executions::Id],
            ),
            (
                "idx_executions_project",
                vec![Executions::ProjectId, Executions::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Executions::Table);
            for c in cols {
                index.col(c);
            }
            if name == "idx_executions_pipeline_index" {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager.create_table(stage_runs_table()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_stage_runs_execution")
                    .table(StageRuns::Table)
                    .col(StageRuns::ExecutionId)
                    .col(StageRuns::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.create_table(task_runs_table()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_task_runs_execution")
                    .table(TaskRuns::Table)
                    .col(TaskRuns::ExecutionId)
                    .col(TaskRuns::StagePosition)
                    .col(TaskRuns::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.create_table(task_logs_table()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_task_logs_run_line")
                    .table(TaskLogs::Table)
                    .col(TaskLogs::TaskRunId)
                    .col(TaskLogs::Line)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            TaskLogs::Table.into_iden(),
            TaskRuns::Table.into_iden(),
            StageRuns::Table.into_iden(),
            Executions::Table.into_iden(),
            Pipelines::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn pipelines_table() -> TableCreateStatement {
    Table::create()
        .table(Pipelines::Table)
        .if_not_exists()
        .col(big_pk_auto(Pipelines::Id))
        .col(big_integer(Pipelines::ProjectId))
        .col(string_len(Pipelines::Name, 256))
        .col(text(Pipelines::Definition))
        .col(boolean(Pipelines::Enabled))
        .col(string_len(Pipelines::Concurrency, 32))
        .col(boolean(Pipelines::DockerInputs))
        .col(integer(Pipelines::StageCount))
        .col(big_integer(Pipelines::NextIndex).default(1))
        .col(big_integer_null(Pipelines::CreatedBy))
        .col(timestamp_with_time_zone(Pipelines::CreatedAt))
        .col(timestamp_with_time_zone(Pipelines::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(Pipelines::Table, Pipelines::ProjectId)
                .to(Projects::Table, Projects::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(Pipelines::Table, Pipelines::CreatedBy)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::SetNull),
        )
        .to_owned()
}

fn executions_table() -> TableCreateStatement {
    Table::create()
        .table(Executions::Table)
        .if_not_exists()
        .col(big_pk_auto(Executions::Id))
        .col(big_integer(Executions::PipelineId))
        .col(big_integer(Executions::ProjectId))
        .col(big_integer(Executions::RunIndex))
        .col(string_len(Executions::PipelineName, 256))
        .col(string_len(Executions::Status, 16))
        .col(text(Executions::Plan))
        .col(text(Executions::Input))
        .col(text_null(Executions::Output))
        .col(text(Executions::Comments))
        .col(string_len(Executions::Trigger, 32))
        .col(big_integer_null(Executions::CreatedBy))
        .col(text_null(Executions::Message))
        .col(boolean(Executions::CancelRequested).default(false))
        .col(boolean(Executions::PauseRequested).default(false))
        .col(string_len_null(Executions::LeaseOwner, 64))
        .col(timestamp_with_time_zone_null(Executions::LeaseUntil))
        .col(timestamp_with_time_zone(Executions::CreatedAt))
        .col(timestamp_with_time_zone_null(Executions::StartedAt))
        .col(timestamp_with_time_zone_null(Executions::EndedAt))
        .col(timestamp_with_time_zone(Executions::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(Executions::Table, Executions::PipelineId)
                .to(Pipelines::Table, Pipelines::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn stage_runs_table() -> TableCreateStatement {
    Table::create()
        .table(StageRuns::Table)
        .if_not_exists()
        .col(big_pk_auto(StageRuns::Id))
        .col(big_integer(StageRuns::ExecutionId))
        .col(integer(StageRuns::Position))
        .col(string_len(StageRuns::Name, 64))
        .col(string_len(StageRuns::Status, 16))
        .col(timestamp_with_time_zone_null(StageRuns::StartedAt))
        .col(timestamp_with_time_zone_null(StageRuns::EndedAt))
        .foreign_key(
            ForeignKey::create()
                .from(StageRuns::Table, StageRuns::ExecutionId)
                .to(Executions::Table, Executions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn task_runs_table() -> TableCreateStatement {
    Table::create()
        .table(TaskRuns::Table)
        .if_not_exists()
        .col(big_pk_auto(TaskRuns::Id))
        .col(big_integer(TaskRuns::ExecutionId))
        .col(integer(TaskRuns::StagePosition))
        .col(integer(TaskRuns::GroupPosition))
        .col(string_len(TaskRuns::StageName, 64))
        .col(string_len(TaskRuns::Name, 64))
        .col(string_len(TaskRuns::Kind, 32))
        .col(string_len(TaskRuns::Status, 16))
        .col(integer(TaskRuns::Attempts).default(0))
        .col(text_null(TaskRuns::Message))
        .col(text_null(TaskRuns::Output))
        .col(text_null(TaskRuns::State))
        .col(timestamp_with_time_zone_null(TaskRuns::StartedAt))
        .col(timestamp_with_time_zone_null(TaskRuns::EndedAt))
        .foreign_key(
            ForeignKey::create()
                .from(TaskRuns::Table, TaskRuns::ExecutionId)
                .to(Executions::Table, Executions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn task_logs_table() -> TableCreateStatement {
    Table::create()
        .table(TaskLogs::Table)
        .if_not_exists()
        .col(big_pk_auto(TaskLogs::Id))
        .col(big_integer(TaskLogs::TaskRunId))
        .col(integer(TaskLogs::Line))
        .col(timestamp_with_time_zone(TaskLogs::At))
        .col(text(TaskLogs::Text))
        .foreign_key(
            ForeignKey::create()
                .from(TaskLogs::Table, TaskLogs::TaskRunId)
                .to(TaskRuns::Table, TaskRuns::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}
