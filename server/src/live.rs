//! Server-sent events for the live views. `GET /live/executions` streams the executions the
//! signed-in user may see (optionally of one project or one execution) as they change: each
//! event is an execution's whole live view, its id the execution's change-feed version. A
//! client that reconnects sends `Last-Event-ID` (browsers do it by themselves) and receives
//! every execution that changed after that version, each once in its latest state, also after
//! a restart: the versions are in the database. One too far behind gets a `reload` event.
//! `GET /live/executions/{id}/log` streams a task's log lines (event id = line number) until
//! the task has ended.

use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use backend::access::accounts::Actor;
use backend::live::{self, CatchUp};
use backend::platform::events::ExecutionEvent;
use backend::Backend;
use domain::views::CurrentUser;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tower_sessions::Session;

/// How often a stream looks at the database without being woken (changes made by another
/// Wharf process on the same database).
const POLL: Duration = Duration::from_secs(2);
/// How often a log stream looks for new lines (lines are not announced on the bus).
const LOG_POLL: Duration = Duration::from_millis(500);

/// What a live stream follows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveQuery {
    /// One project.
    project: Option<i64>,
    /// One pipeline.
    pipeline: Option<i64>,
    /// One execution.
    execution: Option<i64>,
    /// The version the page was rendered at (`Last-Event-ID` wins when both are sent).
    since: Option<i64>,
}

/// The task whose log to stream.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    stage: String,
    task: String,
}

fn last_event_id(headers: &HeaderMap) -> Option<i64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn actor_of(user: Option<Extension<CurrentUser>>) -> Option<Actor> {
    user.map(|Extension(u)| Actor {
        user_id: u.id,
        is_admin: u.is_admin,
    })
}

/// Who a stream serves: its user and the session it was opened with. The stream ends when
/// that session ends (sign-out, password reset, disabled account).
#[derive(Clone)]
struct Viewer {
    actor: Actor,
    session: Option<String>,
    checked: std::sync::Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
}

/// How often a stream checks that its session still signs its user in.
const SESSION_CHECK: Duration = Duration::from_secs(1);

impl Viewer {
    fn new(actor: Actor, session: &Session) -> Self {
        Self {
            actor,
            session: session.id().map(|id| id.to_string()),
            checked: std::sync::Arc::default(),
        }
    }

    /// False once the session no longer signs the user in (checked at most once a second).
    async fn still_signed_in(&self, backend: &Backend) -> bool {
        let now = tokio::time::Instant::now();
        {
            let Ok(mut last) = self.checked.lock() else {
                return false;
            };
            if last.is_some_and(|t| now.duration_since(t) < SESSION_CHECK) {
                return true;
            }
            *last = Some(now);
        }
        let Some(id) = &self.session else {
            return false;
        };
        backend::platform::sessions::still_signed_in(
            &backend.db,
            id,
            self.actor.user_id,
            backend.clock.now(),
        )
        .await
        // a database hiccup does not end the stream; the next check decides
        .unwrap_or(true)
    }
}

fn sse(rx: mpsc::Receiver<Event>) -> Response {
    Sse::new(ReceiverStream::new(rx).map(Ok::<_, Infallible>))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, "Sign in to follow executions.").into_response()
}

/// The executions stream.
pub async fn executions(
    State(s): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    session: Session,
    headers: HeaderMap,
    Query(q): Query<LiveQuery>,
) -> Response {
    let Some(actor) = actor_of(user) else {
        return unauthorized();
    };
    let viewer = Viewer::new(actor, &session);
    // subscribed before the first catch-up, so nothing published in between is missed
    let bus = s.backend.events.subscribe();
    let since = match last_event_id(&headers).or(q.since) {
        Some(v) => v,
        None => match live::version(&s.backend.db).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = ?e, "reading the change feed's version failed");
                return (StatusCode::SERVICE_UNAVAILABLE, "Try again in a moment.").into_response();
            }
        },
    };
    let (tx, rx) = mpsc::channel(64);
    let follow = Follow {
        backend: s.backend.clone(),
        closing: s.closing.clone(),
        viewer,
        scope: live::Scope {
            project: q.project,
            pipeline: q.pipeline,
            execution: q.execution,
        },
    };
    tokio::spawn(follow.run(since, bus, tx));
    sse(rx)
}

struct Follow {
    backend: Backend,
    closing: CancellationToken,
    viewer: Viewer,
    scope: live::Scope,
}

impl Follow {
    async fn run(
        self,
        mut cursor: i64,
        mut bus: broadcast::Receiver<ExecutionEvent>,
        tx: mpsc::Sender<Event>,
    ) {
        // reconnect quickly after a restart
        if tx
            .send(
                Event::default()
                    .retry(Duration::from_secs(1))
                    .comment("live"),
            )
            .await
            .is_err()
        {
            return;
        }
        loop {
            // both reads at once: the session check is on the path of every update it shows
            let (signed_in, changes) = tokio::join!(
                self.viewer.still_signed_in(&self.backend),
                live::changes_since(&self.backend, self.viewer.actor, self.scope, cursor)
            );
            if !signed_in {
                let _ = tx.send(Event::default().event("signed-out").data("")).await;
                return;
            }
            match changes {
                Ok(CatchUp::Changes(list)) => {
                    for e in list {
                        let Ok(ev) = Event::default()
                            .event("execution")
                            .id(e.version.to_string())
                            .json_data(&e)
                        else {
                            continue;
                        };
                        if tx.send(ev).await.is_err() {
                            return;
                        }
                        cursor = e.version;
                    }
                }
                Ok(CatchUp::TooFarBehind) => {
                    let _ = tx
                        .send(Event::default().event("reload").data("too far behind"))
                        .await;
                    return;
                }
                Err(e) => tracing::warn!(error = ?e, "reading the change feed failed; retrying"),
            }
            if !wait(&self.closing, &tx, &mut bus, self.scope.project, POLL).await {
                return;
            }
        }
    }
}

/// Waits for a change worth a look; false when the stream should end.
async fn wait(
    closing: &CancellationToken,
    tx: &mpsc::Sender<Event>,
    bus: &mut broadcast::Receiver<ExecutionEvent>,
    project: Option<i64>,
    poll: Duration,
) -> bool {
    let deadline = tokio::time::sleep(poll);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = closing.cancelled() => return false,
            _ = tx.closed() => return false,
            _ = &mut deadline => return true,
            r = bus.recv() => match r {
                Ok(e) if project.is_some_and(|p| p != e.project_id) => continue,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    // let a burst of changes settle into one look
                    while bus.try_recv().is_ok() {}
                    return true;
                }
                Err(broadcast::error::RecvError::Closed) => return false,
            },
        }
    }
}

/// A task's log stream.
pub async fn task_log(
    State(s): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<LogQuery>,
) -> Response {
    let Some(actor) = actor_of(user) else {
        return unauthorized();
    };
    let viewer = Viewer::new(actor, &session);
    let project = match backend::runs::executions::project_of(&s.backend, id).await {
        Ok(p) => p,
        Err(_) => return (StatusCode::NOT_FOUND, "No such execution.").into_response(),
    };
    let mut bus = s.backend.events.subscribe();
    let mut after = last_event_id(&headers).unwrap_or(0);
    let (tx, rx) = mpsc::channel(64);
    let backend = s.backend.clone();
    let closing = s.closing.clone();
    tokio::spawn(async move {
        loop {
            if !viewer.still_signed_in(&backend).await {
                let _ = tx.send(Event::default().event("signed-out").data("")).await;
                return;
            }
            let (lines, ended) = match backend::runs::executions::task_log_after(
                &backend, actor, project, id, &q.stage, &q.task, after,
            )
            .await
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx
                        .send(Event::default().event("gone").data(e.public_message()))
                        .await;
                    return;
                }
            };
            for (n, text) in lines {
                let Ok(ev) = Event::default()
                    .event("line")
                    .id(n.to_string())
                    .json_data(&text)
                else {
                    continue;
                };
                if tx.send(ev).await.is_err() {
                    return;
                }
                after = i64::from(n);
            }
            if ended {
                let _ = tx.send(Event::default().event("end").data("ended")).await;
                return;
            }
            if !wait(&closing, &tx, &mut bus, Some(project), LOG_POLL).await {
                return;
            }
        }
    });
    sse(rx)
}
