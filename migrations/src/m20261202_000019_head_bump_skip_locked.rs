use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The head of queue trigger of migration 000017, on PostgreSQL, without a lock-order deadlock.
/// It gave a queued new head the next change-feed version by updating that head's row inside
/// whatever transaction changed a status; two transactions each changing one execution of a
/// pipeline and then bumping the other's row deadlocked (seen: starting a run while a worker
/// ended the one before). The bump now skips a head row another transaction holds: that
/// transaction is changing the head itself, and its own change takes the next version. SQLite
/// has one writer at a time and keeps its trigger.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(&function(
                "UPDATE executions SET live_version = wharf_live_next()
                 WHERE id = (SELECT e.id FROM executions e
                             JOIN pipeline_heads h ON h.head_id = e.id
                             WHERE h.pipeline_id = p AND e.status = 'QUEUED'
                             FOR UPDATE OF e SKIP LOCKED)",
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(&function(
                "UPDATE executions SET live_version = wharf_live_next()
                 WHERE id = (SELECT head_id FROM pipeline_heads WHERE pipeline_id = p)
                   AND status = 'QUEUED'",
            ))
            .await?;
        Ok(())
    }
}

/// The trigger function of migration 000017 with `bump` as its last statement.
fn function(bump: &str) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION wharf_pipeline_head() RETURNS trigger AS $$
         DECLARE p BIGINT; project BIGINT;
         BEGIN
           IF TG_OP = 'DELETE' THEN p := OLD.pipeline_id; project := OLD.project_id;
           ELSE p := NEW.pipeline_id; project := NEW.project_id; END IF;
           DELETE FROM pipeline_heads WHERE pipeline_id = p;
           INSERT INTO pipeline_heads (pipeline_id, project_id, head_id)
           SELECT p, project, h FROM (SELECT MIN(m) AS h FROM (
             SELECT MIN(id) AS m FROM executions WHERE pipeline_id = p AND status = 'QUEUED'
             UNION ALL SELECT MIN(id) FROM executions WHERE pipeline_id = p AND status = 'RUNNING'
             UNION ALL SELECT MIN(id) FROM executions WHERE pipeline_id = p AND status = 'WAITING'
             UNION ALL SELECT MIN(id) FROM executions WHERE pipeline_id = p AND status = 'PAUSED'
           ) AS actives) AS least WHERE h IS NOT NULL;
           {bump};
           RETURN NULL;
         END $$ LANGUAGE plpgsql"
    )
}
