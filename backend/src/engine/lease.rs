//! Claims and leases: which execution a worker takes next (a pipeline's head, projects
//! round-robin), the heartbeat that keeps and fences the lease, and its release.

use super::*;
use crate::platform::entities::{executions as exec_rows, pipeline_slots, project_claims};
use crate::platform::events::publish;
use crate::Result;
use chrono::{DateTime, Utc};
use domain::executions::RunStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set};
use std::collections::HashMap;
use std::sync::Arc;

impl Engine {
    /// Claims an execution that has work to do, or `None`. Only the heads of the pipelines'
    /// queues can run (a pipeline's first `max_running` active executions, oldest first), and
    /// the database keeps them in `pipeline_slots`: the claim reads those, never the queued runs
    /// behind them, and takes projects round-robin (the one whose work was claimed longest ago
    /// first).
    pub(super) async fn claim(&self) -> Result<Option<exec_rows::Model>> {
        let now = self.backend.clock.now();
        let mut candidates = self.claimable_heads(now).await?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let last: HashMap<i64, i64> = project_claims::Entity::find()
            .all(&self.backend.db)
            .await?
            .into_iter()
            .map(|c| (c.project_id, c.last_claim))
            .collect();
        candidates.sort_by_key(|c| (last.get(&c.project_id).copied().unwrap_or(0), c.id));
        let next_claim = last.values().max().copied().unwrap_or(0) + 1;
        for c in candidates {
            if self.take(&c, now).await? {
                self.took_from(c.project_id, next_claim).await?;
                if c.status != RunStatus::Running {
                    let running = RunStatus::Running;
                    publish(&self.backend, c.id, c.project_id, None, None, running);
                }
                return Ok(exec_rows::Entity::find_by_id(c.id)
                    .one(&self.backend.db)
                    .await?);
            }
        }
        Ok(None)
    }

    /// The pipelines' heads that can go now: QUEUED, RUNNING with a free lease (its worker
    /// stopped), or WAITING past its deadline (to see whether the wait expired).
    async fn claimable_heads(&self, now: DateTime<Utc>) -> Result<Vec<exec_rows::Model>> {
        let db = &self.backend.db;
        let heads: Vec<i64> = pipeline_slots::Entity::find()
            .select_only()
            .column(pipeline_slots::Column::HeadId)
            .into_tuple()
            .all(db)
            .await?;
        let ready = Condition::any()
            .add(exec_rows::Column::Status.eq(RunStatus::Queued))
            .add(
                Condition::all()
                    .add(exec_rows::Column::Status.eq(RunStatus::Running))
                    .add(free(now)),
            )
            .add(
                Condition::all()
                    .add(exec_rows::Column::Status.eq(RunStatus::Waiting))
                    .add(exec_rows::Column::LeaseUntil.lt(now)),
            );
        let mut candidates = Vec::new();
        for chunk in heads.chunks(crate::platform::db::MAX_BOUND_VALUES) {
            let found = exec_rows::Entity::find()
                .filter(exec_rows::Column::Id.is_in(chunk.iter().copied()))
                .filter(ready.clone())
                .all(db)
                .await?;
            candidates.extend(found);
        }
        Ok(candidates)
    }

    /// Takes candidate `c` under this worker's lease if nobody changed it meanwhile (one
    /// conditional UPDATE, so two workers never both take it).
    async fn take(&self, c: &exec_rows::Model, now: DateTime<Utc>) -> Result<bool> {
        let claimed = exec_rows::Entity::update_many()
            .col_expr(
                exec_rows::Column::LeaseOwner,
                Expr::value(self.owner.clone()),
            )
            .col_expr(
                exec_rows::Column::LeaseUntil,
                Expr::value(now + self.lease_chrono()),
            )
            .col_expr(exec_rows::Column::Status, Expr::value(RunStatus::Running))
            .col_expr(
                exec_rows::Column::StartedAt,
                Expr::value(c.started_at.unwrap_or(now)),
            )
            .filter(exec_rows::Column::Id.eq(c.id))
            .filter(exec_rows::Column::Status.eq(c.status))
            .filter(free(now))
            .exec(&self.backend.db)
            .await?;
        Ok(claimed.rows_affected == 1)
    }

    /// Notes that work of `project` was claimed as the `n`th claim (round-robin order).
    pub(super) async fn took_from(&self, project: i64, n: i64) -> Result<()> {
        use sea_orm::sea_query::OnConflict;
        project_claims::Entity::insert(project_claims::ActiveModel {
            project_id: Set(project),
            last_claim: Set(n),
        })
        .on_conflict(
            OnConflict::column(project_claims::Column::ProjectId)
                .update_column(project_claims::Column::LastClaim)
                .to_owned(),
        )
        .exec(&self.backend.db)
        .await?;
        Ok(())
    }
    pub(super) async fn release(&self, id: i64) -> Result<()> {
        exec_rows::Entity::update_many()
            .col_expr(
                exec_rows::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                exec_rows::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(exec_rows::Column::Id.eq(id))
            .filter(exec_rows::Column::LeaseOwner.eq(self.owner.clone()))
            .exec(&self.backend.db)
            .await?;
        Ok(())
    }
    /// Keeps the lease of `id` alive until the guard is dropped. Each beat checks and extends
    /// the lease in one statement (this worker's, not expired). The worker fences itself: when
    /// a beat finds the lease gone, or no beat has succeeded by the time the last extension
    /// runs out (a stalled database, a frozen process), it aborts the tasks it guards before
    /// another worker can take the execution over, and [`Heartbeat::lost`] says so.
    pub(super) fn heartbeat(&self, id: i64) -> Heartbeat {
        let engine = self.clone();
        let lost: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        let guarded: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (flag, tasks) = (lost.clone(), guarded.clone());
        let task = AbortOnDrop(tokio::spawn(async move {
            let every = engine.lease / 3;
            // the lease this worker last set lasts `lease` from a moment no earlier than the
            // beat's start, so stopping a little before start + lease stops before it expires
            let margin = engine.lease / 10;
            let mut holds_until = tokio::time::Instant::now() + engine.lease;
            loop {
                tokio::time::sleep(every).await;
                let started = tokio::time::Instant::now();
                let now = engine.backend.clock.now();
                let beat = exec_rows::Entity::update_many()
                    .col_expr(
                        exec_rows::Column::LeaseUntil,
                        Expr::value(now + engine.lease_chrono()),
                    )
                    .filter(exec_rows::Column::Id.eq(id))
                    .filter(exec_rows::Column::LeaseOwner.eq(engine.owner.clone()))
                    .filter(exec_rows::Column::LeaseUntil.gte(now))
                    .exec(&engine.backend.db);
                let fence = holds_until.checked_sub(margin).unwrap_or(holds_until);
                match tokio::time::timeout_at(fence, beat).await {
                    Ok(Ok(r)) if r.rows_affected > 0 => holds_until = started + engine.lease,
                    // a failed beat is retried while the lease lasts
                    Ok(Err(e)) if tokio::time::Instant::now() < fence => {
                        tracing::warn!(execution_id = id, error = %e, "heartbeat failed");
                    }
                    _ => {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                        if let Ok(tasks) = tasks.lock() {
                            tasks.iter().for_each(tokio::task::AbortHandle::abort);
                        }
                        tracing::warn!(
                            execution_id = id,
                            "the lease could not be kept; this worker stopped its tasks"
                        );
                        return;
                    }
                }
            }
        }));
        Heartbeat {
            _task: task,
            lost,
            guarded,
        }
    }
}

/// A running heartbeat: stops when dropped; [`Heartbeat::lost`] says whether it found the
/// lease taken or expired.
pub(super) struct Heartbeat {
    pub(super) _task: AbortOnDrop,
    pub(super) lost: Arc<std::sync::atomic::AtomicBool>,
    pub(super) guarded: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Heartbeat {
    pub(super) fn lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops `task` when the lease is lost (at once if it already is).
    pub(super) fn guard(&self, task: tokio::task::AbortHandle) {
        // checked under the lock the heartbeat takes after setting the flag, so a task is
        // either aborted here or in the heartbeat's list when it aborts
        match self.guarded.lock() {
            Ok(mut tasks) if !self.lost() => tasks.push(task),
            _ => task.abort(),
        }
    }
}

/// Aborts a background task when dropped (a step cut short stops its heartbeat).
pub(super) struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A lease nobody holds now: none, or run out.
fn free(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(exec_rows::Column::LeaseUntil.is_null())
        .add(exec_rows::Column::LeaseUntil.lt(now))
}
