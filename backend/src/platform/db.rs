//! Opening the database: SQLite by default (a file, WAL, foreign keys on, a real pool),
//! PostgreSQL when the URL says so. Migrations run here, before anything serves.

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use std::str::FromStr;
use std::time::Duration;

/// The most values one statement binds: under SQLite's oldest limit (999) and far under
/// PostgreSQL's (65,535), so a look-up by many keys is split into statements of this many.
pub const MAX_BOUND_VALUES: usize = 900;

/// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`,
/// waiting up to the busy timeout while the engine writes), so a transaction that reads and
/// then writes never fails because another writer moved on meanwhile (SQLITE_BUSY); on
/// PostgreSQL it is a plain `BEGIN`.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// One page of `query` (its order as given: `offset` rows skipped, at most `limit` kept) and
/// how many rows it has in all: every numbered list of the API and the pages.
pub async fn page<E>(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<E>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<E::Model>, u64), DbErr>
where
    E: sea_orm::EntityTrait,
    E::Model: Sync,
{
    use sea_orm::{PaginatorTrait, QuerySelect};
    let total = query.clone().count(db).await?;
    let rows = query.offset(offset).limit(limit).all(db).await?;
    Ok((rows, total))
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Most connections the pool keeps open.
    pub max_connections: u32,
    /// This process's name among those sharing a PostgreSQL database: every connection sets
    /// `wharf.instance` to it, so the triggers' notices say which process made a change and a
    /// process can ignore its own (`platform::cluster`). Empty: none.
    pub instance: String,
}

/// Opens the database named by `config.url` and applies every missing migration.
pub async fn connect_and_migrate(config: &DbConfig) -> Result<DatabaseConnection, DbErr> {
    if config.url.starts_with("sqlite:") {
        // sea-orm-migration runs SQLite's migrations statement by statement, outside any
        // transaction: through a pool, one statement could run on a connection that has not
        // yet seen the one before it (a test run once failed with "trigger … already exists"
        // right after its DROP). One connection of its own sees them all in order.
        let single = connect_sqlite(&DbConfig {
            max_connections: 1,
            ..config.clone()
        })
        .await?;
        Migrator::up(&single, None).await?;
        single.close().await?;
        return connect(config).await;
    }
    let db = connect(config).await?;
    migrate_alone(&db).await?;
    Ok(db)
}

/// The advisory lock replicas take around migrating.
const MIGRATION_LOCK: i64 = 7_310_000;

/// Migrates while holding a session-level advisory lock on a connection of its own (not one
/// of the pool's, which migrating uses): replicas started together migrate one at a time, and
/// those that come after the first find nothing left to do.
async fn migrate_alone(db: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::sqlx::{postgres::PgConnection, Connection};
    let locking =
        |e: sea_orm::sqlx::Error| DbErr::Custom(format!("taking the migration lock: {e}"));
    let options = db.get_postgres_connection_pool().connect_options();
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(locking)?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut conn)
        .await
        .map_err(locking)?;
    let migrated = Migrator::up(db, None).await;
    // ending the session lets go of the lock
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the migration lock's connection");
    }
    migrated
}

/// Opens the database without migrating.
pub async fn connect(config: &DbConfig) -> Result<DatabaseConnection, DbErr> {
    if config.url.starts_with("sqlite:") {
        connect_sqlite(config).await
    } else if config.url.starts_with("postgres://") || config.url.starts_with("postgresql://") {
        let mut options = ConnectOptions::new(config.url.clone());
        options
            .max_connections(config.max_connections)
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let instance = config.instance.clone();
        if !instance.is_empty() {
            options
                .map_sqlx_postgres_opts(move |o| o.options([("wharf.instance", instance.clone())]));
        }
        Database::connect(options).await
    } else {
        Err(DbErr::Custom(format!(
            "unsupported database URL {:?}: use sqlite://FILE or postgres://…",
            redact_url(&config.url)
        )))
    }
}

/// Bytes of write-ahead log SQLite keeps once it has been checkpointed (64 MiB).
pub const JOURNAL_SIZE_LIMIT: i64 = 64 << 20;

async fn connect_sqlite(config: &DbConfig) -> Result<DatabaseConnection, DbErr> {
    let options = SqliteConnectOptions::from_str(&config.url)
        .map_err(|e| DbErr::Custom(format!("bad SQLite URL: {e}")))?;
    let path = options.get_filename().to_path_buf();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            DbErr::Custom(format!(
                "cannot create the directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // WAL + NORMAL: a committed transaction survives the process being killed; on power
        // loss the last transactions before the crash may roll back (see ARCHITECTURE.md).
        .synchronous(SqliteSynchronous::Normal)
        // a write-ahead log grown by a burst is cut back to this when it is next reused
        .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string())
        // no checkpoints in a committing connection: the served process's checkpointer
        // (`triggers::inbox::run_checkpoints`) does them beside the commits
        .pragma("wal_autocheckpoint", "0")
        // savepoint journals (a webhook's start runs in a savepoint) and temporary tables in
        // memory: on disk, a start's savepoint spilled ~100 KB of page images to a temporary
        // file before its transaction could commit (strace of one processed delivery)
        .pragma("temp_store", "memory")
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(config.max_connections.max(1))
        // no ping before each checkout: a SQLite connection is a file opened in this process,
        // which cannot drop the way a network connection does, and the ping was a round trip
        // to the connection's worker thread before every statement run outside a transaction
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| DbErr::Custom(format!("cannot open {}: {e}", path.display())))?;
    Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// The database file when `db` stores on a SQLite file (not in memory, not PostgreSQL).
pub fn sqlite_file(db: &DatabaseConnection) -> Option<std::path::PathBuf> {
    if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let path = options.get_filename();
    path.is_file().then(|| path.to_path_buf())
}

/// Answers whether the database takes a query now (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://wharf:s3cret@127.0.0.1/wharf"),
            "postgres://wharf:***@127.0.0.1/wharf"
        );
        assert_eq!(
            redact_url("sqlite://data/wharf.db"),
            "sqlite://data/wharf.db"
        );
        assert_eq!(redact_url("postgres://wharf@h/db"), "postgres://wharf@h/db");
    }

    #[tokio::test]
    async fn a_new_sqlite_file_is_created_migrated_and_uses_wal_and_memory_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/w.db", dir.path().display());
        let db = connect_and_migrate(&DbConfig {
            url: url.clone(),
            max_connections: 4,
            instance: String::new(),
        })
        .await
        .unwrap();
        ping(&db).await.unwrap();
        let pragma = |name: &'static str| {
            let db = db.clone();
            async move {
                db.query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    format!("PRAGMA {name}"),
                ))
                .await
                .unwrap()
                .unwrap()
            }
        };
        let mode: String = pragma("journal_mode").await.try_get_by_index(0).unwrap();
        assert_eq!(mode, "wal");
        // savepoint journals in memory (2 = MEMORY)
        let temp: i32 = pragma("temp_store").await.try_get_by_index(0).unwrap();
        assert_eq!(temp, 2);
        // migrating again is a no-op
        drop(db);
        connect_and_migrate(&DbConfig {
            url,
            max_connections: 1,
            instance: String::new(),
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn an_unknown_database_scheme_is_refused_with_a_clear_message() {
        let err = connect(&DbConfig {
            url: "mysql://x:pw@h/db".into(),
            max_connections: 1,
            instance: String::new(),
        })
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unsupported database URL"), "{text}");
        assert!(!text.contains("pw@"), "{text}");
    }
}
