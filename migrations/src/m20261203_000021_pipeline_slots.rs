use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Aria's numeric `concurrency`: a pipeline may run up to `pipelines.max_running` executions
/// at once (1 unless its definition says a number). `pipeline_slots` replaces `pipeline_heads`:
/// it holds a pipeline's first `max_running` active executions (its running slots), one row
/// each, keyed by (pipeline, head). Each head of 000017 becomes the first `max_running` of four index seeks
/// (one per active status, each reading at most that many ids), so keeping them still costs the
/// same behind ten queued runs or ten thousand. The triggers of 000017 and 000019 are replaced
/// with ones that keep the slots; a pipeline whose `max_running` changes has its slots kept
/// again at once.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // the old triggers name the table that goes: they go first
        let (before, after) = match manager.get_database_backend() {
            DatabaseBackend::Postgres => (Vec::new(), postgres()),
            _ => (sqlite_drops(), sqlite()),
        };
        for sql in before.iter().chain(common().iter()).chain(&after) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "pipeline slots cannot be undone: restore a backup taken before the upgrade".to_owned(),
        ))
    }
}

/// The column, the table keyed by (pipeline, head) that replaces `pipeline_heads`, and the
/// slots of today's executions.
fn common() -> [String; 4] {
    [
        "ALTER TABLE pipelines ADD COLUMN max_running INTEGER NOT NULL DEFAULT 1".to_owned(),
        "CREATE TABLE pipeline_slots (pipeline_id BIGINT NOT NULL, project_id BIGINT NOT NULL, head_id BIGINT NOT NULL, PRIMARY KEY (pipeline_id, head_id))".to_owned(),
        "INSERT INTO pipeline_slots (pipeline_id, project_id, head_id) SELECT pipeline_id, project_id, head_id FROM pipeline_heads".to_owned(),
        "DROP TABLE pipeline_heads".to_owned(),
    ]
}

/// Pipeline P's running slots, kept: its first `max_running` active executions (the least ids
/// of four index seeks, each reading at most that many), and the queued ones among them given
/// the change-feed version `next`, so open pages hear that they are next.
pub(crate) fn refresh(p: &str, project: &str, bump: &str) -> String {
    let n = format!("(SELECT COALESCE(MAX(max_running), 1) FROM pipelines WHERE id = {p})");
    let seek = |status: &str, alias: &str| {
        format!("SELECT id FROM (SELECT id FROM executions WHERE pipeline_id = {p} AND status = '{status}' ORDER BY id LIMIT {n}) AS {alias}")
    };
    format!(
        "DELETE FROM pipeline_slots WHERE pipeline_id = {p};
         INSERT INTO pipeline_slots (pipeline_id, project_id, head_id)
         SELECT {p}, {project}, id FROM ({} UNION ALL {} UNION ALL {} UNION ALL {}) AS actives
         ORDER BY id LIMIT {n};
         {bump};",
        seek("QUEUED", "q"),
        seek("RUNNING", "r"),
        seek("WAITING", "w"),
        seek("PAUSED", "pa"),
    )
}

fn sqlite() -> Vec<String> {
    let body = |p: &str, project: &str| {
        let next = "(SELECT value FROM live_sequence WHERE id = 1)";
        let bump = format!(
            "UPDATE executions SET live_version = {next}
             WHERE id IN (SELECT head_id FROM pipeline_slots WHERE pipeline_id = {p})
               AND status = 'QUEUED'"
        );
        format!(
            "UPDATE live_sequence SET value = value + 1 WHERE id = 1; {}",
            refresh(p, project, &bump)
        )
    };
    vec![
        format!(
            "CREATE TRIGGER executions_head_insert AFTER INSERT ON executions BEGIN {} END",
            body("NEW.pipeline_id", "NEW.project_id")
        ),
        format!(
            "CREATE TRIGGER executions_head_update AFTER UPDATE OF status ON executions
             WHEN OLD.status <> NEW.status BEGIN {} END",
            body("NEW.pipeline_id", "NEW.project_id")
        ),
        format!(
            "CREATE TRIGGER executions_head_delete AFTER DELETE ON executions BEGIN {} END",
            body("OLD.pipeline_id", "OLD.project_id")
        ),
        format!(
            "CREATE TRIGGER pipelines_max_running AFTER UPDATE OF max_running ON pipelines
             WHEN OLD.max_running <> NEW.max_running BEGIN {} END",
            body("NEW.id", "NEW.project_id")
        ),
    ]
}

fn sqlite_drops() -> Vec<String> {
    [
        "DROP TRIGGER executions_head_insert",
        "DROP TRIGGER executions_head_update",
        "DROP TRIGGER executions_head_delete",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn postgres() -> Vec<String> {
    // as in 000019: the bump skips a slot's row another transaction holds
    let bump = "UPDATE executions SET live_version = wharf_live_next()
                WHERE id IN (SELECT e.id FROM executions e
                             JOIN pipeline_slots h ON h.head_id = e.id
                             WHERE h.pipeline_id = p AND e.status = 'QUEUED'
                             FOR UPDATE OF e SKIP LOCKED)";
    let function = |name: &str, table_is_pipelines: bool| {
        let (p, project) = if table_is_pipelines {
            ("NEW.id", "NEW.project_id")
        } else {
            ("NEW.pipeline_id", "NEW.project_id")
        };
        let pick = if table_is_pipelines {
            format!("p := {p}; project := {project};")
        } else {
            "IF TG_OP = 'DELETE' THEN p := OLD.pipeline_id; project := OLD.project_id;
             ELSE p := NEW.pipeline_id; project := NEW.project_id; END IF;"
                .to_owned()
        };
        format!(
            "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
             DECLARE p BIGINT; project BIGINT;
             BEGIN
               {pick}
               {}
               RETURN NULL;
             END $$ LANGUAGE plpgsql",
            refresh("p", "project", bump)
        )
    };
    vec![
        function("wharf_pipeline_head", false),
        function("wharf_pipeline_slots", true),
        "CREATE TRIGGER pipelines_max_running AFTER UPDATE OF max_running ON pipelines
         FOR EACH ROW WHEN (OLD.max_running IS DISTINCT FROM NEW.max_running)
         EXECUTE FUNCTION wharf_pipeline_slots()"
            .to_owned(),
    ]
}
