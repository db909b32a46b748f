//! Claims and leases: which execution a worker takes next (a pipeline's head, projects
//! round-robin), the heartbeat that keeps and fences the lease, and its release.

use super::*;
use crate::platform::entities::{executions as exec_rows, pipeline_slots, project_claims};
use crate::platform::events::publish;
use crate::Result;
use chrono::{DateTime, Utc};
use domain::executions::RunStatus;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set};
use std::sync::Arc;

impl Engine {
    /// Claims an execution that has work to do, or `None`. Only the heads of the pipelines'
    /// queues can run (a pipeline's first `max_running` active executions, oldest first), and
    /// the database keeps them in `pipeline_slots`: the claim reads those, never the queued runs
    /// behind them, and takes projects round-robin (the one whose work was claimed longest ago
    /// first). A look without locks comes first (idle workers look four times a second); the
    /// claim itself picks and takes one head in a transaction, `FOR UPDATE SKIP LOCKED` on
    /// PostgreSQL, so workers of several processes each take a different head instead of
    /// queueing for the same one (SQLite's write lock makes the transaction alone).
    pub(super) async fn claim(&self) -> Result<Option<exec_rows::Model>> {
        let db = &self.backend.db;
        if self.pick(db, false).await?.is_none() {
            return Ok(None);
        }
        let txn = crate::platform::db::begin_write(db).await?;
        let Some((id, was, project)) = self.pick(&txn, true).await? else {
            txn.rollback().await?;
            return Ok(None);
        };
        let now = self.backend.lease_now();
        exec_rows::Entity::update_many()
            .col_expr(
                exec_rows::Column::LeaseOwner,
                Expr::value(self.owner.clone()),
            )
            .col_expr(
                exec_rows::Column::LeaseUntil,
                self.backend.lease_end(self.lease_chrono()),
            )
            .col_expr(exec_rows::Column::Status, Expr::value(RunStatus::Running))
            .col_expr(
                exec_rows::Column::StartedAt,
                Func::coalesce([Expr::col(exec_rows::Column::StartedAt), Expr::expr(now)]).into(),
            )
            .filter(exec_rows::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        let last: Option<i64> = project_claims::Entity::find()
            .select_only()
            .column_as(project_claims::Column::LastClaim.max(), "m")
            .into_tuple::<Option<i64>>()
            .one(&txn)
            .await?
            .flatten();
        self.took_from(&txn, project, last.unwrap_or(0) + 1).await?;
        txn.commit().await?;
        if was != RunStatus::Running {
            publish(&self.backend, id, project, None, None, RunStatus::Running);
        }
        Ok(exec_rows::Entity::find_by_id(id).one(db).await?)
    }

    /// The head to take next: `(id, status, project)` of a pipeline's head that can go now
    /// (QUEUED, RUNNING with a free lease — its worker stopped —, or WAITING past its deadline,
    /// to see whether the wait expired), of the project whose work was claimed longest ago.
    /// `lock` takes its row, skipping rows other transactions hold.
    async fn pick(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        lock: bool,
    ) -> Result<Option<(i64, RunStatus, i64)>> {
        use sea_orm::sea_query::{JoinType, LockBehavior, LockType, Order, Query};
        let e = exec_rows::Entity;
        let ready = Condition::any()
            .add(exec_rows::Column::Status.eq(RunStatus::Queued))
            .add(
                Condition::all()
                    .add(exec_rows::Column::Status.eq(RunStatus::Running))
                    .add(self.free()),
            )
            .add(
                Condition::all()
                    .add(exec_rows::Column::Status.eq(RunStatus::Waiting))
                    .add(
                        Expr::col((e, exec_rows::Column::LeaseUntil)).lt(self.backend.lease_now()),
                    ),
            );
        let last_claim = Expr::col((project_claims::Entity, project_claims::Column::LastClaim));
        let mut q = Query::select();
        q.column((e, exec_rows::Column::Id))
            .column((e, exec_rows::Column::Status))
            .column((e, exec_rows::Column::ProjectId))
            .from(e)
            .join(
                JoinType::InnerJoin,
                pipeline_slots::Entity,
                Expr::col((pipeline_slots::Entity, pipeline_slots::Column::HeadId))
                    .equals((e, exec_rows::Column::Id)),
            )
            .join(
                JoinType::LeftJoin,
                project_claims::Entity,
                Expr::col((project_claims::Entity, project_claims::Column::ProjectId))
                    .equals((e, exec_rows::Column::ProjectId)),
            )
            .cond_where(ready)
            .order_by_expr(
                Func::coalesce([last_claim, Expr::val(0i64)]).into(),
                Order::Asc,
            )
            .order_by((e, exec_rows::Column::Id), Order::Asc)
            .limit(1);
        if lock {
            q.lock_with_tables_behavior(LockType::Update, [e], LockBehavior::SkipLocked);
        }
        let stmt = db.get_database_backend().build(&q);
        let Some(row) = db.query_one_raw(stmt).await? else {
            return Ok(None);
        };
        let id: i64 = row.try_get("", "id")?;
        let status: RunStatus = row.try_get("", "status")?;
        let project: i64 = row.try_get("", "project_id")?;
        Ok(Some((id, status, project)))
    }

    /// A lease nobody holds now: none, or run out.
    fn free(&self) -> Condition {
        Condition::any()
            .add(exec_rows::Column::LeaseUntil.is_null())
            .add(
                Expr::col((exec_rows::Entity, exec_rows::Column::LeaseUntil))
                    .lt(self.backend.lease_now()),
            )
    }

    /// Notes that work of `project` was claimed as the `n`th claim (round-robin order).
    pub(super) async fn took_from(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        project: i64,
        n: i64,
    ) -> Result<()> {
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
        .exec(db)
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
                let beat = exec_rows::Entity::update_many()
                    .col_expr(
                        exec_rows::Column::LeaseUntil,
                        engine.backend.lease_end(engine.lease_chrono()),
                    )
                    .filter(exec_rows::Column::Id.eq(id))
                    .filter(exec_rows::Column::LeaseOwner.eq(engine.owner.clone()))
                    .filter(
                        Expr::col(exec_rows::Column::LeaseUntil).gte(engine.backend.lease_now()),
                    )
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
