use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Fair claims. `pipeline_heads` holds, for every pipeline with an active execution (QUEUED,
/// RUNNING, WAITING or PAUSED), its oldest active one: the only execution of that pipeline that
/// may run now. Database triggers keep it in the transaction that changes a status, so the
/// engine's claim reads the heads (one row a busy pipeline) and never scans the queued runs
/// behind them. `project_claims` remembers when each project's work was last claimed, so the
/// engine takes projects round-robin. An index serves the callback sender's "oldest due
/// first".
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let specific = match manager.get_database_backend() {
            DatabaseBackend::Postgres => postgres_triggers(),
            _ => sqlite_triggers(),
        };
        for sql in common().iter().chain(&specific) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sqlite = [
            "DROP TRIGGER executions_head_insert",
            "DROP TRIGGER executions_head_update",
            "DROP TRIGGER executions_head_delete",
        ];
        let postgres = [
            "DROP TRIGGER executions_head ON executions",
            "DROP FUNCTION wharf_pipeline_head()",
        ];
        let db = manager.get_connection();
        let specific: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Postgres => &postgres,
            _ => &sqlite,
        };
        for sql in specific.iter().chain(&[
            "DROP INDEX idx_webhook_activity_callback",
            "DROP TABLE project_claims",
            "DROP TABLE pipeline_heads",
            "DROP INDEX idx_executions_pipeline_status",
        ]) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

/// The head of pipeline P: the least of four index seeks (one per active status), so keeping
/// it costs the same with ten queued runs or ten thousand.
fn head(p: &str, project: &str) -> String {
    format!(
        "INSERT INTO pipeline_heads (pipeline_id, project_id, head_id)
         SELECT {p}, {project}, h FROM (SELECT MIN(m) AS h FROM (
           SELECT MIN(id) AS m FROM executions WHERE pipeline_id = {p} AND status = 'QUEUED'
           UNION ALL SELECT MIN(id) FROM executions WHERE pipeline_id = {p} AND status = 'RUNNING'
           UNION ALL SELECT MIN(id) FROM executions WHERE pipeline_id = {p} AND status = 'WAITING'
           UNION ALL SELECT MIN(id) FROM executions WHERE pipeline_id = {p} AND status = 'PAUSED'
         ) AS actives) AS least WHERE h IS NOT NULL"
    )
}

/// The index, the tables and the first heads, on every database.
fn common() -> [String; 5] {
    [
        "CREATE INDEX idx_executions_pipeline_status ON executions (pipeline_id, status, id)"
            .to_owned(),
        "CREATE TABLE pipeline_heads (pipeline_id BIGINT PRIMARY KEY, project_id BIGINT NOT NULL, head_id BIGINT NOT NULL)".to_owned(),
        "CREATE TABLE project_claims (project_id BIGINT PRIMARY KEY, last_claim BIGINT NOT NULL)".to_owned(),
        // callbacks due: the oldest pending first
        "CREATE INDEX idx_webhook_activity_callback ON webhook_activity (callback_state, id)"
            .to_owned(),
        "INSERT INTO pipeline_heads (pipeline_id, project_id, head_id)
         SELECT pipeline_id, MIN(project_id), MIN(id) FROM executions
         WHERE status IN ('QUEUED', 'RUNNING', 'WAITING', 'PAUSED') GROUP BY pipeline_id"
            .to_owned(),
    ]
}

/// The head may have changed: a queued head's "why it waits" changes with it, so it takes the
/// next change-feed version (as migration 000013 numbers changes) and open pages receive it.
fn bump(next: &str, p: &str) -> String {
    format!(
        "UPDATE executions SET live_version = {next}
         WHERE id = (SELECT head_id FROM pipeline_heads WHERE pipeline_id = {p})
           AND status = 'QUEUED'"
    )
}

fn refresh(p: &str, project: &str, next: &str) -> String {
    format!(
        "DELETE FROM pipeline_heads WHERE pipeline_id = {p}; {}; {};",
        head(p, project),
        bump(next, p)
    )
}

fn sqlite_triggers() -> Vec<String> {
    let sqlite_refresh = |p: &str, project: &str| {
        format!(
            "UPDATE live_sequence SET value = value + 1 WHERE id = 1; {}",
            refresh(p, project, "(SELECT value FROM live_sequence WHERE id = 1)")
        )
    };
    vec![
        format!(
            "CREATE TRIGGER executions_head_insert AFTER INSERT ON executions BEGIN {} END",
            sqlite_refresh("NEW.pipeline_id", "NEW.project_id")
        ),
        format!(
            "CREATE TRIGGER executions_head_update AFTER UPDATE OF status ON executions
             WHEN OLD.status <> NEW.status BEGIN {} END",
            sqlite_refresh("NEW.pipeline_id", "NEW.project_id")
        ),
        format!(
            "CREATE TRIGGER executions_head_delete AFTER DELETE ON executions BEGIN {} END",
            sqlite_refresh("OLD.pipeline_id", "OLD.project_id")
        ),
    ]
}

fn postgres_triggers() -> Vec<String> {
    vec![
        format!(
            "CREATE FUNCTION wharf_pipeline_head() RETURNS trigger AS $$
             DECLARE p BIGINT; project BIGINT;
             BEGIN
               IF TG_OP = 'DELETE' THEN p := OLD.pipeline_id; project := OLD.project_id;
               ELSE p := NEW.pipeline_id; project := NEW.project_id; END IF;
               {}
               RETURN NULL;
             END $$ LANGUAGE plpgsql",
            refresh("p", "project", "wharf_live_next()")
        ),
        "CREATE TRIGGER executions_head AFTER INSERT OR DELETE OR UPDATE OF status
         ON executions FOR EACH ROW EXECUTE FUNCTION wharf_pipeline_head()"
            .to_owned(),
    ]
}
