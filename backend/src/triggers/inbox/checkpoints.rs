//! The served process's SQLite checkpoints: what has been committed moves from the write-ahead
//! log into the database file beside the commits, not in them.

use super::Gate;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::fs::File;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How often the log is checkpointed while deliveries stream in ...
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// ... that is, when at least this many were stored or processed since the last pass (about
/// 1.7 MB of the documented Docker Hub payload stored, near SQLite's own 1,000 pages; the
/// processor's marks and Activity rows draining a burst count too) ...
const STREAM_DELIVERIES: u64 = 1000;
/// ... and otherwise this often (each pass that copies anything waits for the disk twice,
/// which a lone delivery's commit and its execution's start should not meet five times a
/// second).
const CHECKPOINT_IDLE: Duration = Duration::from_secs(5);
/// A log of this many frames (16 MiB of 4 KiB pages) is finished under the inbox's gate
/// ([`reset`]). A quarter of `JOURNAL_SIZE_LIMIT`: with the frames written until the pass in
/// the gate runs, the log stays under the limit, so reusing it does not also cut it back (a
/// truncation that waited 15-36 ms for the disk inside the writer's turn, each reset of a
/// burst, when the log was finished at 64 MiB).
const RESET_FRAMES: i64 = 4_096;

/// Checkpoints a SQLite database every [`CHECKPOINT_EVERY`] while the inbox stores deliveries
/// or processes deliveries by the thousand, otherwise every [`CHECKPOINT_IDLE`], until `stop` resolves (at once on
/// PostgreSQL).
///
/// No connection checkpoints when it commits (`wal_autocheckpoint = 0`, set by
/// `platform::db`; SQLite's default is every 1,000 pages). A checkpoint waits for the disk
/// twice (the log, then the file); run by the committing connection inside the inbox's turn it
/// held up every delivery waiting for the next turn. Here a passive checkpoint, on one of the
/// pool's connection threads, copies the log while the writers go on. The log is reused from
/// its start (and cut back to `JOURNAL_SIZE_LIMIT`) only when a write begins with every frame
/// copied, which commits made during the copy prevent; so once the log passes
/// [`RESET_FRAMES`], one more pass runs in the inbox's turn, where it has only the last
/// pass's commits left to copy. A process that does not serve (a command, a test) leaves the
/// log to SQLite, which checkpoints it when the last connection closes.
pub async fn run_checkpoints(
    db: DatabaseConnection,
    gate: Arc<Gate>,
    stop: impl Future<Output = ()>,
) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    tokio::pin!(stop);
    let files = kept_open(&db);
    let mut failing = false;
    // when the last pass ran (the first runs at once) and what had been stored by then
    let mut last: (Option<std::time::Instant>, u64) = (None, gate.logged());
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(CHECKPOINT_EVERY) => {}
        }
        let streaming = gate.logged().saturating_sub(last.1) >= STREAM_DELIVERIES;
        if !streaming && last.0.is_some_and(|at| at.elapsed() < CHECKPOINT_IDLE) {
            continue;
        }
        last = (Some(std::time::Instant::now()), gate.logged());
        let outcome = match checkpoint(&db).await {
            Ok(frames) if frames >= RESET_FRAMES => reset(&db, &gate, files).await,
            other => other,
        };
        match outcome {
            Ok(_) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "checkpointing the database failed");
            }
            Err(_) => {}
        }
    }
}

/// Finishes a log of [`RESET_FRAMES`] or more, so that the next write starts it again from its
/// beginning: the files flushed, what came meanwhile copied, flushed again, and the last pass
/// in the writer's turn, which then waits for the disk only for the few milliseconds of
/// commits since. With one flush before the turn, a 10 s burst's 2xx answers still had a p99
/// of 53-136 ms; with two (and resets twice as often), 28-32 ms (`bench-ingest.sh`, intake
/// alone).
async fn reset(
    db: &DatabaseConnection,
    gate: &Gate,
    files: &'static [File],
) -> Result<i64, sea_orm::DbErr> {
    flush(files).await;
    checkpoint(db).await?;
    flush(files).await;
    let _turn = gate.writer_turn().await;
    checkpoint(db).await
}

/// The database file and its log, opened once for [`flush`] and never closed.
///
/// Closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's
/// included. Opened and closed at each flush, they let the `sqlite3` command (reading the
/// database beside the served process, as `bench-ingest.sh` does) take the lock that says it
/// is the last connection, checkpoint and reset the log under the writer: "database disk
/// image is malformed". Leaked on purpose, they are closed only when the process exits.
fn kept_open(db: &DatabaseConnection) -> &'static [File] {
    let Some(file) = crate::platform::db::sqlite_file(db) else {
        return &[];
    };
    let mut log = file.clone().into_os_string();
    log.push("-wal");
    let opened: Vec<File> = [std::path::PathBuf::from(log), file]
        .iter()
        .filter_map(|path| File::open(path).ok())
        .collect();
    Box::leak(opened.into_boxed_slice())
}

/// Writes the database file and the log to the disk, outside the writer's turn.
///
/// A passive pass that does not reach the log's end copies pages into the database file
/// without waiting for the disk; the pass that reaches it waits for everything copied since
/// the last such pass (SQLite must, before the log can be reused). In the writer's turn, that
/// wait held every delivery of a burst for 100-125 ms every second or so (`perf trace`: the
/// turn's `fsync` of the database file). Flushed here first, the pass in the turn waits only
/// for what it copies itself. An error here costs only that: the pass in the turn syncs anyway.
async fn flush(files: &'static [File]) {
    let flushed = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        for file in files {
            file.sync_data()?;
        }
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|flushed| flushed);
    if let Err(e) = flushed {
        tracing::debug!(error = %e, "flushing the database before a checkpoint");
    }
}

/// One passive checkpoint; the log's length in frames.
async fn checkpoint(db: &DatabaseConnection) -> Result<i64, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await?;
    Ok(row
        .and_then(|r| r.try_get_by_index::<i64>(1).ok())
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::db::{connect_and_migrate, DbConfig};

    #[tokio::test]
    async fn commits_stay_in_the_log_until_the_checkpoints_move_them_paced_by_the_deliveries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.db");
        let db = connect_and_migrate(&DbConfig {
            url: format!("sqlite://{}", file.display()),
            max_connections: 2,
            instance: String::new(),
        })
        .await
        .unwrap();
        // what migrating wrote is checkpointed once: from here on the file only grows by
        // checkpoints
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .unwrap();
        let size = || std::fs::metadata(&file).unwrap().len();
        let before = size();
        db.execute_unprepared(
            "CREATE TABLE filler (x TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
             INSERT INTO filler SELECT printf('%.1000c', 'x') FROM n;",
        )
        .await
        .unwrap();
        // 5 MB committed (1,250 pages), more than SQLite's automatic checkpoint would have let pass
        assert_eq!(size(), before, "no commit checkpoints");

        let gate = Arc::new(Gate::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let checkpoints = tokio::spawn(run_checkpoints(db.clone(), gate.clone(), async move {
            let _ = stopped.await;
        }));
        let grows_to = |target: u64, within: Duration| async move {
            let t = std::time::Instant::now();
            while size() < target && t.elapsed() < within {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            size() >= target
        };
        // the first pass runs at once
        assert!(grows_to(before + 5_000_000, Duration::from_secs(2)).await);

        // then, with no deliveries streaming in, not before CHECKPOINT_IDLE
        let before = size();
        db.execute_unprepared("INSERT INTO filler SELECT x FROM filler")
            .await
            .unwrap();
        assert!(!grows_to(before + 5_000_000, Duration::from_secs(1)).await);
        // ... unless a thousand deliveries were stored or processed: within CHECKPOINT_EVERY
        gate.wrote(600);
        assert!(!grows_to(before + 5_000_000, Duration::from_millis(500)).await);
        // (the processor's deliveries count too)
        gate.processed(400);
        assert!(
            grows_to(before + 5_000_000, Duration::from_secs(1)).await,
            "checkpointed: {} bytes",
            size()
        );
        stop.send(()).unwrap();
        checkpoints.await.unwrap();
    }
}
