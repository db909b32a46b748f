use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookActivity {
    Table,
    DedupKey,
    WebhookId,
    Status,
    ReceivedAt,
}

/// The duplicate check looks for a card's TRIGGERED row with the same key in the last minutes;
/// keyed on the key alone, it scanned every DUPLICATE row a redelivered event had left.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_webhook_activity_dedup")
                    .table(WebhookActivity::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_activity_dedup_triggered")
                    .table(WebhookActivity::Table)
                    .col(WebhookActivity::DedupKey)
                    .col(WebhookActivity::WebhookId)
                    .col(WebhookActivity::Status)
                    .col(WebhookActivity::ReceivedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_webhook_activity_dedup_triggered")
                    .table(WebhookActivity::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_activity_dedup")
                    .table(WebhookActivity::Table)
                    .col(WebhookActivity::DedupKey)
                    .col(WebhookActivity::ReceivedAt)
                    .to_owned(),
            )
            .await
    }
}
