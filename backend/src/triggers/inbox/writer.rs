//! ① intake: the group-commit writer. [`Inbox::accept`] returns once the raw payload and its
//! events are committed with others that queued meanwhile; [`Gate`] lets the writer go before
//! the processor.

use super::*;
use crate::platform::entities::webhook_deliveries as deliveries;
use crate::{Backend, Error, Result};
use chrono::{DateTime, Utc};
use domain::registry_events::PushEvent;
use sea_orm::{EntityTrait, Set};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

/// How the inbox's writer and processor take turns. A delivery's 2xx waits for its commit, so
/// the writer goes first: the processor, whose work can wait, lets writes pass before it takes
/// the lock. After a lone delivery it waits [`WRITER_QUIET`]; during a burst (a commit of
/// [`BURST_BATCH`] or more) it waits until the burst pauses for [`BURST_QUIET`], at most
/// [`PROCESSOR_MAX_WAIT`], and then keeps its turns for [`PROCESSOR_SLICE`] so that a
/// sustained burst is still processed (about a quarter of the time).
#[derive(Debug)]
pub struct Gate {
    lock: tokio::sync::Mutex<()>,
    epoch: std::time::Instant,
    /// When the writer last committed, in microseconds since `epoch`.
    last_write: AtomicU64,
    /// How many deliveries that commit held.
    last_batch: AtomicUsize,
    /// Deliveries stored or processed since start (what the checkpoints pace themselves by:
    /// each adds to the write-ahead log).
    logged: AtomicU64,
    /// Until when (microseconds since `epoch`) the processor goes without waiting.
    slice_until: AtomicU64,
    /// Deliveries handed to the writer and not yet written.
    waiting: AtomicUsize,
    /// Microseconds between the last commit and the one before it.
    last_gap: AtomicU64,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            lock: tokio::sync::Mutex::new(()),
            epoch: std::time::Instant::now(),
            last_write: AtomicU64::new(0),
            last_batch: AtomicUsize::new(0),
            logged: AtomicU64::new(0),
            slice_until: AtomicU64::new(0),
            waiting: AtomicUsize::new(0),
            last_gap: AtomicU64::new(u64::MAX),
        }
    }
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Gate {
    fn now_micros(&self) -> u64 {
        micros(self.epoch.elapsed())
    }

    pub(super) async fn writer_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.lock.lock().await
    }

    /// The writer's turn, from a thread outside the runtime (the SQLite writer's).
    pub(super) fn blocking_writer_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.lock.blocking_lock()
    }

    /// A delivery was handed to the writer (taken back with [`Gate::left`] if it could not be).
    fn handed(&self) {
        self.waiting.fetch_add(1, Ordering::Relaxed);
    }

    /// `deliveries` handed to the writer are no longer waiting (written, or never sent).
    fn left(&self, deliveries: usize) {
        let _ = self
            .waiting
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                Some(w.saturating_sub(deliveries))
            });
    }

    pub(super) fn wrote(&self, deliveries: usize) {
        self.left(deliveries);
        self.processed(deliveries);
        self.last_batch.store(deliveries, Ordering::Relaxed);
        let now = self.now_micros();
        let before = self.last_write.swap(now, Ordering::Relaxed);
        // the first commit since start has no commit before it
        let gap = if before == 0 {
            u64::MAX
        } else {
            now.saturating_sub(before)
        };
        self.last_gap.store(gap, Ordering::Relaxed);
    }

    /// Counts deliveries written to the log other than by the writer (the processor's).
    pub(super) fn processed(&self, deliveries: usize) {
        self.logged.fetch_add(
            u64::try_from(deliveries).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Deliveries stored or processed since start.
    pub(super) fn logged(&self) -> u64 {
        self.logged.load(Ordering::Relaxed)
    }

    /// Whether the processor can go without waiting: the last commit was a lone delivery's
    /// (small, and [`WRITER_QUIET`] after the one before) and no delivery waits to be written.
    /// Its execution then starts at once. Under a steady stream of small commits the queue is
    /// often empty for a moment; going then halved what the writer stored (bench-ingest).
    fn writer_idle(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) == 0
            && self.last_batch.load(Ordering::Relaxed) < BURST_BATCH
            && self.last_gap.load(Ordering::Relaxed) >= micros(WRITER_QUIET)
    }

    /// How long the writer must have been quiet for the processor to go now.
    fn quiet(&self) -> u64 {
        if self.last_batch.load(Ordering::Relaxed) >= BURST_BATCH {
            micros(BURST_QUIET)
        } else {
            micros(WRITER_QUIET)
        }
    }

    pub(super) async fn processor_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        let begun = self.now_micros();
        if begun >= self.slice_until.load(Ordering::Relaxed) {
            loop {
                let now = self.now_micros();
                let since_write = now.saturating_sub(self.last_write.load(Ordering::Relaxed));
                if since_write >= self.quiet() || self.writer_idle() {
                    break;
                }
                if now.saturating_sub(begun) >= micros(PROCESSOR_MAX_WAIT) {
                    // the burst goes on: the processor's slice
                    self.slice_until.store(
                        now.saturating_add(micros(PROCESSOR_SLICE)),
                        Ordering::Relaxed,
                    );
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
        self.lock.lock().await
    }
}

pub(super) struct Pending {
    pub(super) webhook_id: i64,
    pub(super) source: Source,
    pub(super) payload: String,
    pub(super) events: String,
    pub(super) received_at: DateTime<Utc>,
    pub(super) reply: oneshot::Sender<std::result::Result<(), String>>,
}

/// The durable inbox's front door.
#[derive(Clone, Debug)]
pub struct Inbox {
    tx: mpsc::Sender<Pending>,
    wake: Arc<Notify>,
}

impl Inbox {
    /// Starts the writer: on a SQLite file, a thread with its own connection
    /// ([`super::sqlite_writer`]); otherwise a task on the current tokio runtime writing
    /// through the pool.
    pub fn start(backend: Backend) -> Inbox {
        let (tx, rx) = mpsc::channel(8192);
        let wake = Arc::new(Notify::new());
        if let Err(rx) = super::sqlite_writer::spawn(&backend, rx, wake.clone()) {
            tokio::spawn(writer(backend, rx, wake.clone()));
        }
        Inbox { tx, wake }
    }

    /// What wakes the processor.
    pub fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Stores a delivery; returns once it is committed.
    pub async fn accept(
        &self,
        backend: &Backend,
        webhook_id: i64,
        source: Source,
        payload: &[u8],
        events: &[PushEvent],
    ) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            webhook_id,
            source,
            // a delivery read as JSON is UTF-8: the lossy copy is only a fallback
            payload: std::str::from_utf8(payload).map_or_else(
                |_| String::from_utf8_lossy(payload).into_owned(),
                str::to_owned,
            ),
            events: serde_json::to_string(events).map_err(|e| Error::Internal(e.to_string()))?,
            received_at: backend.clock.now(),
            reply,
        };
        let gate = &backend.inbox_gate;
        gate.handed();
        if self.tx.send(pending).await.is_err() {
            gate.left(1);
            return Err(Error::Internal("the inbox writer has stopped".to_owned()));
        }
        answer
            .await
            .map_err(|_| Error::Internal("the inbox writer has stopped".to_owned()))?
            .map_err(Error::Internal)
    }
}

/// A turn's deliveries: `first` and whatever has queued up behind it, at most [`WRITE_BATCH`].
pub(super) fn take_queued(
    first: Pending,
    rx: &mut mpsc::Receiver<Pending>,
    batch: &mut Vec<Pending>,
) {
    batch.push(first);
    while batch.len() < WRITE_BATCH {
        match rx.try_recv() {
            Ok(p) => batch.push(p),
            Err(_) => break,
        }
    }
}

async fn writer(backend: Backend, mut rx: mpsc::Receiver<Pending>, wake: Arc<Notify>) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    while let Some(first) = rx.recv().await {
        batch.reserve(WRITE_BATCH);
        take_queued(first, &mut rx, &mut batch);
        let turn = backend.inbox_gate.writer_turn().await;
        let stored = batch.len();
        while !batch.is_empty() {
            let rest = batch.split_off(batch.len().min(ROWS_PER_STATEMENT));
            let outcome = write_rows(&backend, &batch).await;
            if let Err(e) = &outcome {
                tracing::error!(error = %e, n = batch.len(), "storing webhook deliveries failed");
            }
            // each its own statement's answer: a statement stores all its rows or none, and
            // each delivery stands alone
            for p in batch.drain(..) {
                let _ = p.reply.send(outcome.clone());
            }
            batch = rest;
        }
        backend.inbox_gate.wrote(stored);
        drop(turn);
        wake.notify_one();
    }
}

/// Rows one statement stores: six values each, within the bound-values limit.
const ROWS_PER_STATEMENT: usize = crate::platform::db::MAX_BOUND_VALUES / 6;

/// Stores `rows` with one multi-row INSERT: atomic and, once it returns, committed (one round
/// trip to the database, where a transaction took three).
async fn write_rows(backend: &Backend, rows: &[Pending]) -> std::result::Result<(), String> {
    let models = rows.iter().map(|p| deliveries::ActiveModel {
        webhook_id: Set(p.webhook_id),
        received_at: Set(p.received_at),
        source: Set(p.source.as_str().to_owned()),
        payload: Set(p.payload.clone()),
        events: Set(p.events.clone()),
        processed: Set(false),
        ..Default::default()
    });
    deliveries::Entity::insert_many(models)
        .exec(&backend.db)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn the_processor_goes_at_once_when_nothing_waits_to_be_written() {
        let gate = Gate::default();
        gate.wrote(1);
        let t = Instant::now();
        drop(gate.processor_turn().await);
        assert!(t.elapsed() < WRITER_QUIET, "{:?}", t.elapsed());

        // a lone delivery's commit, but another one handed to the writer: the writer goes first
        tokio::time::sleep(WRITER_QUIET + Duration::from_millis(1)).await;
        gate.handed();
        gate.handed();
        gate.wrote(1);
        let t = Instant::now();
        drop(gate.processor_turn().await);
        assert!(t.elapsed() >= WRITER_QUIET, "{:?}", t.elapsed());

        // commits close together, nothing queued at this moment: a stream, not a lone delivery
        gate.wrote(1);
        gate.wrote(1);
        let t = Instant::now();
        drop(gate.processor_turn().await);
        assert!(t.elapsed() >= WRITER_QUIET, "{:?}", t.elapsed());

        // after a burst's commit it waits for the burst to pause, queue or not
        gate.wrote(BURST_BATCH);
        let t = Instant::now();
        drop(gate.processor_turn().await);
        assert!(t.elapsed() >= BURST_QUIET, "{:?}", t.elapsed());
    }

    #[tokio::test]
    async fn the_processor_waits_out_a_burst_but_is_never_starved() {
        let gate = Arc::new(Gate::default());
        // a lone delivery: the processor goes within milliseconds
        gate.wrote(1);
        let t = Instant::now();
        drop(gate.processor_turn().await);
        assert!(t.elapsed() < Duration::from_millis(40), "{:?}", t.elapsed());

        // a burst: commits of 16 deliveries every millisecond, for 1.6 s
        let writer = {
            let gate = gate.clone();
            tokio::spawn(async move {
                let end = Instant::now() + Duration::from_millis(1600);
                while Instant::now() < end {
                    drop(gate.writer_turn().await);
                    gate.wrote(16);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let t = Instant::now();
        drop(gate.processor_turn().await);
        let waited = t.elapsed();
        assert!(
            waited >= PROCESSOR_MAX_WAIT - Duration::from_millis(20)
                && waited < PROCESSOR_MAX_WAIT + Duration::from_millis(300),
            "the processor lets the burst pass, then takes its turn: {waited:?}"
        );
        // its slice: the next turns come at once, though the burst goes on
        let t = Instant::now();
        drop(gate.processor_turn().await);
        drop(gate.processor_turn().await);
        assert!(
            t.elapsed() < Duration::from_millis(100),
            "{:?}",
            t.elapsed()
        );
        writer.await.unwrap();

        // the burst over: the processor goes once the writer has been quiet for BURST_QUIET
        tokio::time::sleep(PROCESSOR_SLICE).await;
        let t = Instant::now();
        drop(gate.processor_turn().await);
        assert!(
            t.elapsed() < BURST_QUIET + Duration::from_millis(40),
            "{:?}",
            t.elapsed()
        );
    }
}
