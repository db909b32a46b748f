//! A running task's log, stored line by line as it is written (so the browser can follow it),
//! capped at [`MAX_LOG_BYTES`], and a task's output capped at [`MAX_OUTPUT_BYTES`].

use super::*;
use crate::platform::entities::task_logs;
use crate::{Backend, Result};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::{json, Value};
use std::sync::Arc;

/// A running task's log as it is written: each line is stored (masked) at once, so the task's
/// log streams to the browser while the task runs. The lines written here are the first lines
/// of the task's [`Outcome::logs`]; [`Engine::record`] stores only the rest.
#[derive(Clone)]
pub(crate) struct LiveLog {
    pub(super) backend: Backend,
    pub(super) task_run_id: i64,
    pub(super) ctx: Arc<Context>,
    /// Lines stored before the task started (a task run again after a restart keeps them).
    pub(super) base: i32,
    /// Their bytes.
    pub(super) base_bytes: usize,
    pub(super) written: Arc<std::sync::atomic::AtomicI32>,
    pub(super) written_bytes: Arc<std::sync::atomic::AtomicUsize>,
    /// A line could not be stored: the rest wait for the end, so the stored lines stay the
    /// first lines of the task's log.
    pub(super) stopped: Arc<std::sync::atomic::AtomicBool>,
}

impl LiveLog {
    pub(super) async fn start(
        backend: &Backend,
        task_run_id: i64,
        ctx: Arc<Context>,
    ) -> Result<Self> {
        Ok(Self {
            backend: backend.clone(),
            task_run_id,
            ctx,
            base: stored_lines(&backend.db, task_run_id).await?,
            base_bytes: stored_bytes(&backend.db, task_run_id).await?,
            written: Arc::default(),
            written_bytes: Arc::default(),
            stopped: Arc::default(),
        })
    }

    /// Stores one line now. A line that cannot be stored is kept, with every line after it,
    /// for the end of the task.
    pub(crate) async fn line(&self, text: &str) {
        use std::sync::atomic::Ordering;
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        let n = self.written.load(Ordering::SeqCst);
        let bytes = self.written_bytes.load(Ordering::SeqCst);
        if self.base_bytes + bytes + text.len() > MAX_LOG_BYTES {
            // the end of the task stores the note that the log was cut here
            self.stopped.store(true, Ordering::SeqCst);
            return;
        }
        let stored = task_logs::ActiveModel {
            task_run_id: Set(self.task_run_id),
            line: Set(self.base + n + 1),
            at: Set(self.backend.clock.now()),
            text: Set(self.ctx.mask(text)),
            ..Default::default()
        }
        .insert(&self.backend.db)
        .await;
        match stored {
            Ok(_) => {
                self.written.store(n + 1, Ordering::SeqCst);
                self.written_bytes.fetch_add(text.len(), Ordering::SeqCst);
            }
            Err(_) => self.stopped.store(true, Ordering::SeqCst),
        }
    }

    pub(super) fn written(&self) -> usize {
        usize::try_from(self.written.load(std::sync::atomic::Ordering::SeqCst)).unwrap_or(0)
    }
}

pub(super) async fn stored_bytes(
    db: &impl sea_orm::ConnectionTrait,
    task_run_id: i64,
) -> Result<usize> {
    // LENGTH counts characters on both databases: close enough to bytes for a 10 MiB cap
    let total: Option<i64> = task_logs::Entity::find()
        .select_only()
        .column_as(Expr::cust("COALESCE(SUM(LENGTH(text)), 0)"), "total")
        .filter(task_logs::Column::TaskRunId.eq(task_run_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(usize::try_from(total.unwrap_or(0)).unwrap_or(0))
}

/// `output` as stored: whole when it is at most [`MAX_OUTPUT_BYTES`] as JSON, else a note and
/// the start of it.
pub(super) fn bounded_output(output: &Value) -> Option<String> {
    if output.is_null() {
        return None;
    }
    let text = output.to_string();
    if text.len() <= MAX_OUTPUT_BYTES {
        return Some(text);
    }
    let mut cut = 64 * 1024;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(
        json!({
            "truncated": true,
            "note": format!(
                "The output was {} KiB, more than the 1 MiB kept: only its start is shown.",
                text.len() / 1024
            ),
            "start": &text[..cut],
        })
        .to_string(),
    )
}

pub(super) async fn stored_lines(
    db: &impl sea_orm::ConnectionTrait,
    task_run_id: i64,
) -> Result<i32> {
    Ok(i32::try_from(
        task_logs::Entity::find()
            .filter(task_logs::Column::TaskRunId.eq(task_run_id))
            .count(db)
            .await?,
    )
    .unwrap_or(i32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_over_the_cap_keeps_a_note_and_its_start() {
        assert_eq!(bounded_output(&Value::Null), None);
        let small = json!({"a": 1});
        assert_eq!(bounded_output(&small).as_deref(), Some(r#"{"a":1}"#));
        let big = json!({"body": "é".repeat(MAX_OUTPUT_BYTES)});
        let kept: Value = serde_json::from_str(&bounded_output(&big).unwrap()).unwrap();
        assert_eq!(kept["truncated"], true);
        assert!(kept["note"]
            .as_str()
            .unwrap()
            .contains("more than the 1 MiB kept"));
        assert!(kept["start"].as_str().unwrap().len() <= 64 * 1024);
    }
}
