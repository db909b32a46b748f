//! ① intake on a SQLite file: the group-commit writer on a thread of its own, with a
//! connection of its own. Each turn takes what has queued up, stores it in one transaction
//! with one prepared statement, and answers each delivery with its own row's outcome once the
//! transaction is committed.
//!
//! Through the pool, a turn went from the request tasks to the writer task, then to one of
//! the pool's connection threads and back, with the statement's text built anew; measured on
//! the side-by-side ingest benchmark, the pool's threads took a third of Wharf's CPU for
//! writing alone. Here the request tasks hand their deliveries straight to the thread that
//! owns the connection. PostgreSQL (and a database that is not a file) keep the pool's
//! writer ([`super::writer`]).

use super::writer::{take_queued, Gate, Pending};
use super::{WRITE_BATCH, WRITE_PACE};
use crate::Backend;
use chrono::SecondsFormat;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};

const INSERT: &str = "INSERT INTO webhook_deliveries \
    (webhook_id, received_at, source, payload, events, processed) VALUES (?1, ?2, ?3, ?4, ?5, 0)";

/// Opens the writer's connection as the pool opens its own: WAL (the file's mode, set when the
/// pool created it), synchronous NORMAL, foreign keys on, the same log size limit and 5 s busy
/// timeout.
fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(
        None,
        "journal_size_limit",
        crate::platform::db::JOURNAL_SIZE_LIMIT,
    )?;
    // checkpoints run beside the writer ([`super::run_checkpoints`])
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode is {mode}, not wal"
        )));
    }
    Ok(conn)
}

/// Starts the writer's thread when the backend stores on a SQLite file; otherwise (or when its
/// connection cannot be opened) gives the queue back for the pool's writer.
pub(super) fn spawn(
    backend: &Backend,
    rx: mpsc::Receiver<Pending>,
    wake: Arc<Notify>,
) -> Result<(), mpsc::Receiver<Pending>> {
    let Some(path) = crate::platform::db::sqlite_file(&backend.db) else {
        return Err(rx);
    };
    let conn = match open(&path) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, file = %path.display(), "the inbox writer's own SQLite connection did not open; writing through the pool");
            return Err(rx);
        }
    };
    let gate = backend.inbox_gate.clone();
    let spawned = std::thread::Builder::new()
        .name("wharf-inbox".to_owned())
        .spawn(move || run(conn, rx, &gate, &wake));
    if let Err(e) = spawned {
        // the queue went with the thread: deliveries are answered "the inbox writer has stopped"
        tracing::error!(error = %e, "the inbox writer's thread did not start");
    }
    Ok(())
}

fn run(mut conn: Connection, mut rx: mpsc::Receiver<Pending>, gate: &Gate, wake: &Notify) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    // when the last turn began, and how many deliveries it wrote
    let mut last = (Instant::now(), 0);
    while let Some(first) = rx.blocking_recv() {
        if let Some(wait) = pause(last.1, last.0.elapsed()) {
            std::thread::sleep(wait);
        }
        take_queued(first, &mut rx, &mut batch);
        last = (Instant::now(), batch.len());
        let turn = gate.blocking_writer_turn();
        let outcomes = write(&mut conn, &batch);
        gate.wrote(batch.len());
        drop(turn);
        for (p, outcome) in batch.drain(..).zip(outcomes) {
            let _ = p.reply.send(outcome);
        }
        wake.notify_one();
    }
}

/// How long the writer waits before it takes what has queued up: under load (the last turn
/// wrote more than one delivery) until [`WRITE_PACE`] has passed since that turn began,
/// otherwise not at all, so a lone delivery is written at once.
///
/// A commit writes its rows' pages and, whatever its size, about five more to the log (the
/// last leaf and the interior pages of the table and its index, the row counter of
/// AUTOINCREMENT, the file's header). Taking only what had queued, a burst's turns held about
/// 4 deliveries each, and these pages were most of the 9.0 KB written per delivery (log and
/// checkpoints, `/proc/<pid>/io`). Paced at 300 µs, a turn holds 9-10: 6.5 KB per delivery,
/// and the checkpoints that wait for the disk in the writer's turn have less to wait for. A
/// longer pace writes less but holds back the next requests of a client that waits for each
/// answer (600 µs stored 9-16 % fewer deliveries a second than 300 µs on bench-ingest).
fn pause(last_batch: usize, since_last_turn: Duration) -> Option<Duration> {
    if last_batch <= 1 {
        return None;
    }
    WRITE_PACE
        .checked_sub(since_last_turn)
        .filter(|wait| !wait.is_zero())
}

/// Stores `batch` in one transaction: each delivery's outcome, all failed when the transaction
/// did not commit. A row that fails (a card deleted meanwhile) fails alone: SQLite backs out
/// that statement and keeps the transaction, unless the error ended it, which is checked.
fn write(conn: &mut Connection, batch: &[Pending]) -> Vec<Result<(), String>> {
    let all_failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, n = batch.len(), "storing webhook deliveries failed");
        vec![Err(e.to_string()); batch.len()]
    };
    let txn = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(t) => t,
        Err(e) => return all_failed(&e),
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    {
        let mut insert = match txn.prepare_cached(INSERT) {
            Ok(s) => s,
            Err(e) => return all_failed(&e),
        };
        for p in batch {
            let received_at = p.received_at.to_rfc3339_opts(SecondsFormat::AutoSi, false);
            let row = insert.execute((
                p.webhook_id,
                received_at,
                p.source.as_str(),
                p.payload.as_str(),
                p.events.as_str(),
            ));
            if let Err(e) = row {
                if txn.is_autocommit() {
                    // the error rolled the whole transaction back
                    return all_failed(&e);
                }
                tracing::warn!(error = %e, webhook_id = p.webhook_id, "a webhook delivery was not stored");
                outcomes.push(Err(e.to_string()));
            } else {
                outcomes.push(Ok(()));
            }
        }
    }
    match txn.commit() {
        Ok(()) => outcomes,
        Err(e) => all_failed(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use tokio::sync::oneshot;

    fn pending(webhook_id: i64) -> Pending {
        Pending {
            webhook_id,
            source: super::super::Source::DockerHub,
            payload: r#"{"push_data": {"tag": "1.0"}}"#.to_owned(),
            events: "[]".to_owned(),
            received_at: Utc.with_ymd_and_hms(2026, 12, 3, 14, 5, 6).unwrap()
                + chrono::Duration::microseconds(123_456),
            reply: oneshot::channel().0,
        }
    }

    /// A file with the two tables as far as the writer needs them, in WAL mode.
    fn database(dir: &std::path::Path) -> Connection {
        let path = dir.join("w.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE docker_webhooks (id INTEGER PRIMARY KEY);
             CREATE TABLE webhook_deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT,
               webhook_id INTEGER NOT NULL REFERENCES docker_webhooks (id) ON DELETE CASCADE,
               received_at TEXT NOT NULL, source TEXT NOT NULL, payload TEXT NOT NULL,
               events TEXT NOT NULL, processed BOOLEAN NOT NULL,
               attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NULL);
             INSERT INTO docker_webhooks (id) VALUES (1), (2);",
        )
        .unwrap();
        drop(c);
        open(&path).unwrap()
    }

    #[test]
    fn a_lone_delivery_is_written_at_once_and_a_burst_in_turns_of_at_least_the_pace() {
        // after a lone delivery's turn, or the first since start: at once
        assert_eq!(pause(0, Duration::ZERO), None);
        assert_eq!(pause(1, Duration::from_micros(10)), None);
        // under load: until the pace has passed since the last turn began
        assert_eq!(
            pause(2, Duration::from_micros(100)),
            Some(WRITE_PACE - Duration::from_micros(100))
        );
        assert_eq!(pause(512, Duration::ZERO), Some(WRITE_PACE));
        assert_eq!(pause(32, WRITE_PACE), None);
        assert_eq!(pause(32, WRITE_PACE * 3), None);
    }

    #[test]
    fn a_delivery_for_a_deleted_card_fails_alone_and_the_rest_of_its_turn_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = database(dir.path());
        let batch = [pending(1), pending(99), pending(2)];
        let outcomes = write(&mut conn, &batch);
        assert!(outcomes[0].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");
        let refused = outcomes[1].as_ref().unwrap_err();
        assert!(refused.contains("FOREIGN KEY"), "{refused}");

        // committed: another connection sees the two rows, as the pool's writer stores them
        let other = Connection::open(dir.path().join("w.db")).unwrap();
        let rows: Vec<(i64, String, String, bool)> = other
            .prepare("SELECT webhook_id, received_at, source, processed FROM webhook_deliveries ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let at = "2026-12-03T14:05:06.123456+00:00".to_owned();
        assert_eq!(
            rows,
            [
                (1, at.clone(), "docker_hub".to_owned(), false),
                (2, at, "docker_hub".to_owned(), false)
            ]
        );
    }

    #[test]
    fn a_turn_that_cannot_begin_fails_every_delivery_and_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = database(dir.path());
        conn.busy_timeout(Duration::from_millis(50)).unwrap();
        // another connection holds the write lock
        let other = Connection::open(dir.path().join("w.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let outcomes = write(&mut conn, &[pending(1), pending(2)]);
        assert!(outcomes.iter().all(|o| o.is_err()), "{outcomes:?}");
        other.execute_batch("ROLLBACK").unwrap();
        let n: i64 = other
            .query_row("SELECT count(*) FROM webhook_deliveries", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
}
