use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Several Wharf processes on one PostgreSQL database.
///
/// 1. **No hot row on the status path.** Until now every status change updated the one
///    `live_sequence` row inside its transaction, so every writer of a status waited for the
///    one before it to commit, and a transaction that locked a pipeline after bumping it met
///    one that did the opposite (a deadlock). On PostgreSQL a change now marks its execution
///    `live_version = -1` (visible to no one else) and the number is given at commit, by a
///    deferred constraint trigger, from a sequence, under a transaction-level advisory lock
///    taken after every other lock: the lock is held only from the commit's start to its end,
///    and it is released after the transaction is visible, so versions still become visible in
///    order (a reader that has seen `v` never later finds a committed change below `v`). The
///    holder only writes rows it holds already, so it never waits while holding it. SQLite has
///    one writer at a time and keeps its triggers.
/// 2. **Wake-ups across processes**: the same triggers send `NOTIFY wharf` (execution changes,
///    new deliveries, changed cards), naming the process that made the change
///    (`wharf.instance`, a connection setting each process gives its own connections) so that
///    a process ignores its own.
/// 3. **Callbacks claimed with a lease** (`callback_owner`, `callback_until`), so one process
///    sends each.
/// 4. **A push's idempotency by a unique key** (`push_keys`, primary key (card, key)): the
///    event id and the content key a start claims, in the transaction that starts it.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let timestamp = match manager.get_database_backend() {
            DatabaseBackend::Postgres => "TIMESTAMPTZ",
            _ => "TEXT",
        };
        let common = [
            "ALTER TABLE webhook_activity ADD COLUMN callback_owner TEXT NULL".to_owned(),
            format!("ALTER TABLE webhook_activity ADD COLUMN callback_until {timestamp} NULL"),
            format!(
                "CREATE TABLE push_keys (webhook_id BIGINT NOT NULL, key TEXT NOT NULL, at {timestamp} NOT NULL, PRIMARY KEY (webhook_id, key))"
            ),
        ];
        let specific: Vec<String> = match manager.get_database_backend() {
            DatabaseBackend::Postgres => postgres(),
            _ => Vec::new(),
        };
        for sql in common.iter().chain(&specific) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "many writers cannot be undone: restore a backup taken before the upgrade".to_owned(),
        ))
    }
}

/// The advisory lock that orders the change feed's versions at commit.
const FEED_LOCK: i64 = 7_310_022;

fn postgres() -> Vec<String> {
    let me = "COALESCE(current_setting('wharf.instance', true), '')";
    vec![
        "CREATE SEQUENCE wharf_live_seq".to_owned(),
        "SELECT setval('wharf_live_seq', GREATEST(value, 1), value > 0) FROM live_sequence WHERE id = 1"
            .to_owned(),
        // every trigger of 000013, 000019 and 000021 takes its number here: a mark now, the
        // number at commit
        "CREATE OR REPLACE FUNCTION wharf_live_next() RETURNS BIGINT AS $$ SELECT -1::BIGINT $$ LANGUAGE SQL"
            .to_owned(),
        format!(
            "CREATE FUNCTION wharf_live_commit() RETURNS trigger AS $$
             BEGIN
               PERFORM pg_advisory_xact_lock({FEED_LOCK});
               UPDATE executions SET live_version = nextval('wharf_live_seq')
               WHERE id = NEW.id AND live_version < 0;
               PERFORM pg_notify('wharf', 'v ' || NEW.id || ' ' || NEW.project_id || ' ' || NEW.status || ' ' || {me});
               RETURN NULL;
             END $$ LANGUAGE plpgsql"
        ),
        "CREATE CONSTRAINT TRIGGER executions_live_commit AFTER INSERT OR UPDATE ON executions
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.live_version < 0)
         EXECUTE FUNCTION wharf_live_commit()"
            .to_owned(),
        // an execution's own status change: the engines, the callbacks
        format!(
            "CREATE FUNCTION wharf_notify_status() RETURNS trigger AS $$
             BEGIN
               PERFORM pg_notify('wharf', 'x ' || NEW.id || ' ' || NEW.project_id || ' ' || NEW.status || ' ' || {me});
               RETURN NULL;
             END $$ LANGUAGE plpgsql"
        ),
        "CREATE TRIGGER executions_notify_insert AFTER INSERT ON executions
         FOR EACH ROW EXECUTE FUNCTION wharf_notify_status()"
            .to_owned(),
        "CREATE TRIGGER executions_notify_update AFTER UPDATE OF status ON executions
         FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
         EXECUTE FUNCTION wharf_notify_status()"
            .to_owned(),
        // a new delivery (the processors) and a changed card (the listeners' token caches)
        format!(
            "CREATE FUNCTION wharf_notify_table() RETURNS trigger AS $$
             BEGIN
               PERFORM pg_notify('wharf', TG_ARGV[0] || ' 0 0 - ' || {me});
               RETURN NULL;
             END $$ LANGUAGE plpgsql"
        ),
        "CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries
         FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_table('d')"
            .to_owned(),
        "CREATE TRIGGER docker_webhooks_notify AFTER INSERT OR UPDATE OR DELETE ON docker_webhooks
         FOR EACH STATEMENT EXECUTE FUNCTION wharf_notify_table('c')"
            .to_owned(),
        "DROP TABLE live_sequence".to_owned(),
        // the running slots are kept at commit too, under the same lock: each keeper then
        // sees every change committed before it, so two transactions changing one pipeline's
        // executions at once can neither both insert a slot nor leave a stale one
        "DROP TRIGGER executions_head ON executions".to_owned(),
        "DROP TRIGGER pipelines_max_running ON pipelines".to_owned(),
        slots_function("wharf_pipeline_head", false),
        slots_function("wharf_pipeline_slots", true),
        "CREATE CONSTRAINT TRIGGER executions_head_commit AFTER INSERT OR DELETE OR UPDATE OF status
         ON executions DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
         EXECUTE FUNCTION wharf_pipeline_head()"
            .to_owned(),
        "CREATE CONSTRAINT TRIGGER pipelines_max_running_commit AFTER UPDATE OF max_running
         ON pipelines DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
         WHEN (OLD.max_running IS DISTINCT FROM NEW.max_running)
         EXECUTE FUNCTION wharf_pipeline_slots()"
            .to_owned(),
    ]
}

/// The slot keeper of 000021, run at commit under the feed's lock; a queued slot's new
/// version is taken there and then (the skipped rows' own transactions number them).
fn slots_function(name: &str, on_pipelines: bool) -> String {
    let bump = "UPDATE executions SET live_version = nextval('wharf_live_seq')
                WHERE id IN (SELECT e.id FROM executions e
                             JOIN pipeline_slots h ON h.head_id = e.id
                             WHERE h.pipeline_id = p AND e.status = 'QUEUED'
                             FOR UPDATE OF e SKIP LOCKED)";
    let pick = if on_pipelines {
        "p := NEW.id; project := NEW.project_id;"
    } else {
        "IF TG_OP = 'DELETE' THEN p := OLD.pipeline_id; project := OLD.project_id;
         ELSE p := NEW.pipeline_id; project := NEW.project_id; END IF;"
    };
    format!(
        "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
         DECLARE p BIGINT; project BIGINT;
         BEGIN
           {pick}
           PERFORM pg_advisory_xact_lock({FEED_LOCK});
           {}
           RETURN NULL;
         END $$ LANGUAGE plpgsql",
        crate::m20261203_000021_pipeline_slots::refresh("p", "project", bump)
    )
}
