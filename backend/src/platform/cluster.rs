//! Wake-ups across Wharf processes that share one PostgreSQL database. The triggers of
//! migration 000022 send `NOTIFY wharf` when an execution changes, a delivery arrives or a
//! card changes, naming the process whose connection made the change (`wharf.instance`, a
//! setting [`crate::platform::db::connect`] gives each of a process's connections). [`listen`]
//! holds one connection that LISTENs and hands every other process's notices to the caller:
//! the server puts execution changes on this process's event bus (live views, idle workers,
//! callbacks), wakes the inbox's processor and reloads the listener's token cache. Polling
//! stays as the fallback; when the listening connection is lost, every kind of wake-up is
//! given once, since notices sent meanwhile are gone.

use domain::executions::RunStatus;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use std::future::Future;

/// The channel the triggers notify.
pub const CHANNEL: &str = "wharf";

/// What another process changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// An execution's own status changed (`x`).
    Status {
        /// The execution.
        execution_id: i64,
        /// Its project.
        project_id: i64,
        /// Its new status.
        status: RunStatus,
    },
    /// Something the live views show changed: the execution, a stage or a task (`v`).
    Changed {
        /// The execution.
        execution_id: i64,
        /// Its project.
        project_id: i64,
        /// Its status.
        status: RunStatus,
    },
    /// A webhook delivery was stored (`d`).
    Delivery,
    /// A card was created, changed or deleted (`c`).
    Cards,
    /// The listening connection was lost and is back: anything may have changed.
    Anything,
}

/// Reads a notification's payload, `kind id project status instance`; `None` for one sent by
/// `me` or one it does not know.
pub fn parse(payload: &str, me: &str) -> Option<Notice> {
    let mut parts = payload.splitn(5, ' ');
    let kind = parts.next()?;
    let id: i64 = parts.next()?.parse().ok()?;
    let project: i64 = parts.next()?.parse().ok()?;
    let status = parts.next()?;
    let from = parts.next().unwrap_or_default();
    if from == me {
        return None;
    }
    match kind {
        "x" => Some(Notice::Status {
            execution_id: id,
            project_id: project,
            status: RunStatus::parse(status)?,
        }),
        "v" => Some(Notice::Changed {
            execution_id: id,
            project_id: project,
            status: RunStatus::parse(status)?,
        }),
        "d" => Some(Notice::Delivery),
        "c" => Some(Notice::Cards),
        _ => None,
    }
}

/// Listens until `stop` resolves, calling `on` with every other process's notice. Does
/// nothing on SQLite (one process per database file).
pub async fn listen(
    db: DatabaseConnection,
    me: String,
    mut on: impl FnMut(Notice) + Send,
    stop: impl Future<Output = ()>,
) {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return stop.await;
    }
    tokio::pin!(stop);
    let pool = db.get_postgres_connection_pool().clone();
    let mut listener: Option<PgListener> = None;
    loop {
        let Some(l) = listener.as_mut() else {
            let connected = async {
                let mut l = PgListener::connect_with(&pool).await?;
                l.listen(CHANNEL).await?;
                Ok::<_, sea_orm::sqlx::Error>(l)
            };
            tokio::select! {
                _ = &mut stop => return,
                r = connected => match r {
                    Ok(l) => {
                        listener = Some(l);
                        on(Notice::Anything);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for other processes' changes; polling meanwhile");
                        tokio::select! {
                            _ = &mut stop => return,
                            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
                        }
                    }
                },
            }
            continue;
        };
        tokio::select! {
            _ = &mut stop => return,
            r = l.try_recv() => match r {
                Ok(Some(n)) => {
                    if let Some(notice) = parse(n.payload(), &me) {
                        on(notice);
                    }
                }
                // the connection was lost; the next call reconnects
                Ok(None) => on(Notice::Anything),
                Err(e) => {
                    tracing::warn!(error = %e, "listening for other processes' changes failed");
                    listener = None;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_of_other_processes_are_read_and_ones_own_are_not() {
        assert_eq!(
            parse("x 7 2 RUNNING abc", "me"),
            Some(Notice::Status {
                execution_id: 7,
                project_id: 2,
                status: RunStatus::Running
            })
        );
        assert_eq!(parse("x 7 2 RUNNING me", "me"), None);
        assert_eq!(
            parse("v 7 2 QUEUED other", "me"),
            Some(Notice::Changed {
                execution_id: 7,
                project_id: 2,
                status: RunStatus::Queued
            })
        );
        assert_eq!(parse("d 0 0 - other", "me"), Some(Notice::Delivery));
        assert_eq!(parse("c 0 0 - ", "me"), Some(Notice::Cards));
        assert_eq!(parse("x seven 2 RUNNING other", "me"), None);
        assert_eq!(parse("x 7 2 SIDEWAYS other", "me"), None);
        assert_eq!(parse("q 7 2 RUNNING other", "me"), None);
    }
}
