use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The live views' change feed. Every change of an execution's, a stage's or a task's status
/// gives the execution the next number of one global sequence (`executions.live_version`), in
/// the transaction that made the change: database triggers do it, so no code path can forget.
/// A client that has seen version `v` catches up with `live_version > v`, in order, across
/// restarts. The sequence is one row, so writers that bump it are serialised until they
/// commit and versions become visible in order (SQLite has a single writer anyway).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let common = [
            "CREATE TABLE live_sequence (id INTEGER PRIMARY KEY, value BIGINT NOT NULL)",
            "INSERT INTO live_sequence (id, value) VALUES (1, 0)",
            "ALTER TABLE executions ADD COLUMN live_version BIGINT NOT NULL DEFAULT 0",
            "CREATE INDEX idx_executions_live ON executions (live_version)",
        ];
        let sqlite = [
            "CREATE TRIGGER executions_live_insert AFTER INSERT ON executions BEGIN
               UPDATE live_sequence SET value = value + 1 WHERE id = 1;
               UPDATE executions SET live_version = (SELECT value FROM live_sequence WHERE id = 1) WHERE id = NEW.id;
             END",
            "CREATE TRIGGER executions_live_update AFTER UPDATE OF status, message, started_at, ended_at ON executions BEGIN
               UPDATE live_sequence SET value = value + 1 WHERE id = 1;
               UPDATE executions SET live_version = (SELECT value FROM live_sequence WHERE id = 1) WHERE id = NEW.id;
             END",
            "CREATE TRIGGER stage_runs_live AFTER UPDATE OF status, started_at, ended_at ON stage_runs BEGIN
               UPDATE live_sequence SET value = value + 1 WHERE id = 1;
               UPDATE executions SET live_version = (SELECT value FROM live_sequence WHERE id = 1) WHERE id = NEW.execution_id;
             END",
            "CREATE TRIGGER task_runs_live AFTER UPDATE OF status, message, started_at, ended_at ON task_runs BEGIN
               UPDATE live_sequence SET value = value + 1 WHERE id = 1;
               UPDATE executions SET live_version = (SELECT value FROM live_sequence WHERE id = 1) WHERE id = NEW.execution_id;
             END",
        ];
        let postgres = [
            "CREATE FUNCTION wharf_live_next() RETURNS BIGINT AS $$
               UPDATE live_sequence SET value = value + 1 WHERE id = 1 RETURNING value
             $$ LANGUAGE SQL",
            "CREATE FUNCTION wharf_live_execution() RETURNS trigger AS $$
             BEGIN NEW.live_version := wharf_live_next(); RETURN NEW; END
             $$ LANGUAGE plpgsql",
            "CREATE TRIGGER executions_live BEFORE INSERT OR UPDATE OF status, message, started_at, ended_at
             ON executions FOR EACH ROW EXECUTE FUNCTION wharf_live_execution()",
            "CREATE FUNCTION wharf_live_child() RETURNS trigger AS $$
             BEGIN UPDATE executions SET live_version = wharf_live_next() WHERE id = NEW.execution_id; RETURN NULL; END
             $$ LANGUAGE plpgsql",
            "CREATE TRIGGER stage_runs_live AFTER UPDATE OF status, started_at, ended_at
             ON stage_runs FOR EACH ROW EXECUTE FUNCTION wharf_live_child()",
            "CREATE TRIGGER task_runs_live AFTER UPDATE OF status, message, started_at, ended_at
             ON task_runs FOR EACH ROW EXECUTE FUNCTION wharf_live_child()",
        ];
        let db = manager.get_connection();
        let specific: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Postgres => &postgres,
            _ => &sqlite,
        };
        for sql in common.iter().chain(specific) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sqlite = [
            "DROP TRIGGER executions_live_insert",
            "DROP TRIGGER executions_live_update",
            "DROP TRIGGER stage_runs_live",
            "DROP TRIGGER task_runs_live",
        ];
        let postgres = [
            "DROP TRIGGER executions_live ON executions",
            "DROP TRIGGER stage_runs_live ON stage_runs",
            "DROP TRIGGER task_runs_live ON task_runs",
            "DROP FUNCTION wharf_live_child()",
            "DROP FUNCTION wharf_live_execution()",
            "DROP FUNCTION wharf_live_next()",
        ];
        let common = [
            "DROP INDEX idx_executions_live",
            "ALTER TABLE executions DROP COLUMN live_version",
            "DROP TABLE live_sequence",
        ];
        let db = manager.get_connection();
        let specific: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Postgres => &postgres,
            _ => &sqlite,
        };
        for sql in specific.iter().chain(&common) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
