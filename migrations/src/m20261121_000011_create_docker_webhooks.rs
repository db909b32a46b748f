use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
}

/// Webhook cards (Triggers › Docker › Webhooks for Docker).
#[derive(DeriveIden)]
pub enum DockerWebhooks {
    Table,
    Id,
    ProjectId,
    Name,
    Description,
    // the Docker Registry endpoint whose pushes it listens to
    EndpointId,
    PipelineId,
    // JSON object: the pipeline inputs' values to pass
    Input,
    // the API token the executions run as (its owner); never the token itself
    ApiTokenId,
    ImagePattern,
    TagPattern,
    Enabled,
    // POST the result to the event's callback_url
    SendResult,
    // SHA-256 of the secure token, for look-up; the token itself sealed, for the listener URL
    TokenHash,
    TokenSealed,
    // none, in_sync, error (Docker Hub webhooks)
    SyncState,
    SyncError,
    SyncedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

/// The durable inbox: each accepted delivery, raw and normalised, committed before the 2xx.
#[derive(DeriveIden)]
pub enum WebhookDeliveries {
    Table,
    Id,
    // the card whose token authenticated the delivery
    WebhookId,
    ReceivedAt,
    // docker_hub, distribution, harbor
    Source,
    Payload,
    // JSON list of the normalised push events
    Events,
    Processed,
}

/// Activity: what each push event did for each card it concerned.
#[derive(DeriveIden)]
pub enum WebhookActivity {
    Table,
    Id,
    DeliveryId,
    WebhookId,
    ProjectId,
    ReceivedAt,
    Owner,
    Image,
    Repository,
    Tag,
    Digest,
    DedupKey,
    // SHA-256 of the registry's event id, when it sent one
    EventKey,
    // TRIGGERED, DUPLICATE, DISABLED, NOT_MATCHED, INVALID_TOKEN, FAILED, SKIPPED
    Status,
    Message,
    PipelineId,
    PipelineName,
    ExecutionId,
    ResubmittedBy,
    ResubmitOf,
    CallbackUrl,
    // PENDING, SENT, FAILED
    CallbackState,
    CallbackMessage,
    // the normalised event (JSON), for resubmission
    Event,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(docker_webhooks_table()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_docker_webhooks_name")
                    .table(DockerWebhooks::Table)
                    .col(DockerWebhooks::ProjectId)
                    .col(DockerWebhooks::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.create_table(webhook_deliveries_table()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_pending")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Processed)
                    .col(WebhookDeliveries::Id)
                    .to_owned(),
            )
            .await?;
        manager.create_table(webhook_activity_table()).await?;
        for (name, cols) in [
            (
                "idx_webhook_activity_project",
                vec![WebhookActivity::ProjectId, WebhookActivity::Id],
            ),
            (
                "idx_webhook_activity_webhook",
                vec![WebhookActivity::WebhookId, WebhookActivity::Id],
            ),
            (
                "idx_webhook_activity_dedup",
                vec![WebhookActivity::DedupKey, WebhookActivity::ReceivedAt],
            ),
            (
                "idx_webhook_activity_event",
                vec![WebhookActivity::EventKey],
            ),
            (
                "idx_webhook_activity_delivery",
                vec![WebhookActivity::DeliveryId],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(WebhookActivity::Table);
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            WebhookActivity::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            DockerWebhooks::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn docker_webhooks_table() -> TableCreateStatement {
    Table::create()
        .table(DockerWebhooks::Table)
        .if_not_exists()
        .col(big_pk_auto(DockerWebhooks::Id))
        .col(big_integer(DockerWebhooks::ProjectId))
        .col(string_len(DockerWebhooks::Name, 64))
        .col(text(DockerWebhooks::Description))
        .col(big_integer(DockerWebhooks::EndpointId))
        .col(big_integer(DockerWebhooks::PipelineId))
        .col(text(DockerWebhooks::Input))
        .col(big_integer_null(DockerWebhooks::ApiTokenId))
        .col(string_len(DockerWebhooks::ImagePattern, 256))
        .col(string_len(DockerWebhooks::TagPattern, 256))
        .col(boolean(DockerWebhooks::Enabled))
        .col(boolean(DockerWebhooks::SendResult))
        .col(string_len_uniq(DockerWebhooks::TokenHash, 64))
        .col(text(DockerWebhooks::TokenSealed))
        .col(string_len(DockerWebhooks::SyncState, 16))
        .col(text_null(DockerWebhooks::SyncError))
        .col(timestamp_with_time_zone_null(DockerWebhooks::SyncedAt))
        .col(big_integer_null(DockerWebhooks::CreatedBy))
        .col(timestamp_with_time_zone(DockerWebhooks::CreatedAt))
        .col(timestamp_with_time_zone(DockerWebhooks::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(DockerWebhooks::Table, DockerWebhooks::ProjectId)
                .to(Projects::Table, Projects::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(DockerWebhooks::Table, DockerWebhooks::ApiTokenId)
                .to(ApiTokens::Table, ApiTokens::Id)
                .on_delete(ForeignKeyAction::SetNull),
        )
        .to_owned()
}

fn webhook_deliveries_table() -> TableCreateStatement {
    Table::create()
        .table(WebhookDeliveries::Table)
        .if_not_exists()
        .col(big_pk_auto(WebhookDeliveries::Id))
        .col(big_integer(WebhookDeliveries::WebhookId))
        .col(timestamp_with_time_zone(WebhookDeliveries::ReceivedAt))
        .col(string_len(WebhookDeliveries::Source, 16))
        .col(text(WebhookDeliveries::Payload))
        .col(text(WebhookDeliveries::Events))
        .col(boolean(WebhookDeliveries::Processed))
        .foreign_key(
            ForeignKey::create()
                .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                .to(DockerWebhooks::Table, DockerWebhooks::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn webhook_activity_table() -> TableCreateStatement {
    Table::create()
        .table(WebhookActivity::Table)
        .if_not_exists()
        .col(big_pk_auto(WebhookActivity::Id))
        .col(big_integer(WebhookActivity::DeliveryId))
        .col(big_integer(WebhookActivity::WebhookId))
        .col(big_integer(WebhookActivity::ProjectId))
        .col(timestamp_with_time_zone(WebhookActivity::ReceivedAt))
        .col(text(WebhookActivity::Owner))
        .col(text(WebhookActivity::Image))
        .col(text(WebhookActivity::Repository))
        .col(text_null(WebhookActivity::Tag))
        .col(text_null(WebhookActivity::Digest))
        .col(string_len(WebhookActivity::DedupKey, 64))
        .col(string_len_null(WebhookActivity::EventKey, 64))
        .col(string_len(WebhookActivity::Status, 16))
        .col(text(WebhookActivity::Message))
        .col(big_integer_null(WebhookActivity::PipelineId))
        .col(string_len_null(WebhookActivity::PipelineName, 128))
        .col(big_integer_null(WebhookActivity::ExecutionId))
        .col(string_len_null(WebhookActivity::ResubmittedBy, 320))
        .col(big_integer_null(WebhookActivity::ResubmitOf))
        .col(text_null(WebhookActivity::CallbackUrl))
        .col(string_len_null(WebhookActivity::CallbackState, 16))
        .col(text_null(WebhookActivity::CallbackMessage))
        .col(text(WebhookActivity::Event))
        .foreign_key(
            ForeignKey::create()
                .from(WebhookActivity::Table, WebhookActivity::DeliveryId)
                .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(WebhookActivity::Table, WebhookActivity::WebhookId)
                .to(DockerWebhooks::Table, DockerWebhooks::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}
