//! The webhook inbox. The listener authenticates a delivery, reads it into push events and
//! hands it to [`Inbox::accept`], which returns once the raw payload and the events are
//! committed (a single writer commits whatever has queued up in one transaction: group commit).
//! Only then does the listener answer 2xx. The processor ([`process_pending`]) then matches each
//! event against the cards and, in one transaction per batch, records Activity, starts
//! executions and marks the delivery processed, so a crash at any point neither loses an
//! accepted event nor starts its execution twice. Callbacks to Docker Hub go out once the
//! execution ends ([`send_due_callbacks`]).

mod activity;
mod callbacks;
mod checkpoints;
mod matching;
mod payload;
mod processor;
mod push_keys;
mod sqlite_writer;
mod writer;

pub(crate) use activity::rows_view;
pub use activity::{get, list, page, project_of, resubmit};
pub use callbacks::{
    callback_client, callback_refusal, run_callbacks, send_due_callbacks, CallbackClient,
};
pub use checkpoints::run_checkpoints;
pub use payload::{read_docker_hub, read_registry, Source};
pub use processor::{process_pending, run_processor, MAX_ATTEMPTS};
pub use writer::{Gate, Inbox};

/// Where Docker Hub callbacks may go unless configured otherwise.
pub const DEFAULT_CALLBACK_HOSTS: [&str; 2] = ["registry.hub.docker.com", "hub.docker.com"];
/// Most deliveries one turn of the writer takes (in statements of `ROWS_PER_STATEMENT`).
const WRITE_BATCH: usize = 512;
/// Under load, the SQLite writer begins a turn at most this often (a lone delivery is written
/// at once): larger turns write fewer pages per delivery (see `sqlite_writer::pause`).
const WRITE_PACE: std::time::Duration = std::time::Duration::from_micros(300);
/// Most deliveries one processing transaction takes.
const PROCESS_BATCH: u64 = 256;
/// The most image pushes one delivery may carry; a larger one is refused (413) unread.
pub const MAX_EVENTS_PER_DELIVERY: usize = 100;
/// The most executions one delivery may start (its events times the cards they match); the
/// rest are recorded as "Not started: limit of 100 executions per delivery."
pub const MAX_EXECUTIONS_PER_DELIVERY: usize = 100;
/// Most Activity rows one multi-row insert takes (23 values each).
const ROWS_PER_INSERT: usize = 500;
/// After a small commit the processor waits until the writer has been quiet this long, unless
/// the commit was a lone delivery's (this long after the one before) with none waiting to be
/// written: then it goes at once, and that delivery's execution starts without delay.
const WRITER_QUIET: std::time::Duration = std::time::Duration::from_millis(3);
/// A commit of at least this many deliveries means a burst is on ...
const BURST_BATCH: usize = 4;
/// ... and then the processor waits until the writer has been quiet this long: processing in
/// step with a burst (small batches, both contending for one writer and two cores) accepted
/// 2,900 deliveries/s where the writer alone takes 11,700/s and the processor alone 8,000/s.
const BURST_QUIET: std::time::Duration = std::time::Duration::from_millis(50);
/// ... but never longer than this, so that a sustained burst cannot starve it ...
const PROCESSOR_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// ... and once it has waited that long, it goes before the writer for this long.
const PROCESSOR_SLICE: std::time::Duration = std::time::Duration::from_millis(250);
