//! Pipelines and the execution engine on a real SQLite file. Time comes from a ManualClock and
//! the tests step the workers themselves, so every run takes the same path.

use crate::support::{world_with, World};
use backend::engine::Engine;
use backend::platform::secrets::SecretValue;
use backend::project::pipelines;
use backend::project::variables::{self, VariableInput};
use backend::runs::executions::{self, Action, Started, Trigger};
use backend::{Error, ManualClock};
use chrono::{TimeZone, Utc};
use domain::executions::RunStatus;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

fn three_stages() -> String {
    testkit::pipeline!("engine-gates")
}

async fn setup() -> (World, Arc<ManualClock>, Engine) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap(),
    ));
    let w = world_with(clock.clone()).await;
    let engine = Engine::new(w.backend.clone(), "worker-1", Duration::from_secs(30)).unwrap();
    (w, clock, engine)
}

async fn drain(engine: &Engine) -> usize {
    let mut steps = 0;
    while engine.step().await.unwrap() {
        steps += 1;
        assert!(steps < 100, "the engine never settles");
    }
    steps
}

fn queued(s: Started) -> i64 {
    match s {
        Started::Queued(r) => r.id,
        other => panic!("expected a queued execution, got {other:?}"),
    }
}

async fn run(w: &World, pipeline: i64, input: &[(&str, &str)]) -> i64 {
    let given: BTreeMap<String, String> = input
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    queued(
        executions::start(
            &w.backend,
            w.member,
            w.project,
            pipeline,
            given,
            "",
            Trigger::Manual,
        )
        .await
        .unwrap(),
    )
}

#[tokio::test]
async fn stages_run_in_order_groups_in_parallel_with_statuses_times_and_outputs() {
    let (w, _clock, engine) = setup().await;
    let p = pipelines::create(&w.backend, w.member, w.project, &three_stages())
        .await
        .unwrap();
    assert_eq!(p.stage_count, 3);
    let mut events = w.backend.events.subscribe();
    let id = run(&w, p.id, &[]).await;
    let steps = drain(&engine).await;
    assert_eq!(
        steps, 5,
        "one step per taskOrder entry (4) and one to finish"
    );
    let d = executions::get(&w.backend, w.viewer, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed, "{d:#?}");
    assert_eq!(d.row.index, 1);
    assert!(d.row.started_at.is_some() && d.row.ended_at.is_some());
    assert_eq!(d.output, vec![("checked".to_owned(), "true".to_owned())]);
    let statuses: Vec<(String, RunStatus)> = d
        .stages
        .iter()
        .flat_map(|s| {
            s.tasks
                .iter()
                .map(move |t| (format!("{}.{}", s.name, t.name), t.status))
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("One.A".to_owned(), RunStatus::Completed),
            ("One.B".to_owned(), RunStatus::Completed),
            ("Two.Skip".to_owned(), RunStatus::Skipped),
            ("Two.Bad".to_owned(), RunStatus::Failed),
            ("Three.C".to_owned(), RunStatus::Completed),
        ]
    );
    assert!(d.stages.iter().all(|s| s.status == RunStatus::Completed
        && s.started_at.is_some()
        && s.ended_at.is_some()));
    let log = executions::task_log(&w.backend, w.viewer, w.project, id, "One", "A")
        .await
        .unwrap();
    assert_eq!(log, vec!["${input.TAG} matches \"^v\" → true"]);

    // every change was published: queued, running, then stages and tasks, completed last
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push((e.stage, e.task, e.status));
    }
    assert_eq!(seen.first(), Some(&(None, None, RunStatus::Queued)));
    assert_eq!(seen.last(), Some(&(None, None, RunStatus::Completed)));
    assert!(seen.contains(&(Some("Two".into()), Some("Skip".into()), RunStatus::Skipped)));
    assert!(seen.len() >= 2 + 3 * 2 + 5 * 2, "{seen:?}");
}

#[tokio::test]
async fn a_failed_task_fails_the_execution_and_an_unresolvable_binding_names_itself() {
    let (w, _clock, engine) = setup().await;
    let p = pipelines::create(&w.backend, w.member, w.project, &three_stages())
        .await
        .unwrap();
    let id = run(&w, p.id, &[("TAG", "release")]).await;
    drain(&engine).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Failed);
    assert_eq!(
        d.row.message.as_deref(),
        Some("Task One.A failed: The condition is false: ${input.TAG} matches \"^v\"")
    );
    assert_eq!(d.stages[0].status, RunStatus::Failed);
    assert_eq!(
        d.stages[1].status,
        RunStatus::Canceled,
        "later stages never ran"
    );
    assert!(d.stages[1].tasks.iter().all(|t| t.started_at.is_none()));

    let yaml = testkit::pipeline!("engine-vars");
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    let id = run(&w, p.id, &[]).await;
    drain(&engine).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(
        d.stages[0].tasks[0].message.as_deref(),
        Some("${var.MISSING} cannot be resolved: the project has no variable MISSING that this execution may use")
    );
}

/// An HTTP stand-in that echoes what it is sent and can hold a request for a while.
async fn echo_server(hold: Duration) -> String {
    use axum::routing::any;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route(
            "/echo",
            any(|body: String| async move { axum::Json(serde_json::json!({"received": body})) }),
        )
        .route(
            "/slow",
            any(move || async move {
                tokio::time::sleep(hold).await;
                "done"
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

#[tokio::test]
async fn rest_tasks_call_out_and_secret_values_are_masked_in_outputs() {
    let (w, _clock, engine) = setup().await;
    variables::create(
        &w.backend,
        w.member,
        w.project,
        VariableInput {
            name: "API_KEY".into(),
            kind: "SECRET".into(),
            value: Some(SecretValue::new("s3cr3t-api-key")),
            description: String::new(),
        },
    )
    .await
    .unwrap();
    let base = echo_server(Duration::ZERO).await;
    let yaml = testkit::pipeline!("engine-rest", BASE = base);
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    let id = run(&w, p.id, &[]).await;
    drain(&engine).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed, "{d:#?}");
    let out = d.stages[0].tasks[0].output.clone().unwrap();
    assert!(out.contains("key=******** run=1"), "{out}");
    assert!(!out.contains("s3cr3t-api-key"));
}

#[tokio::test]
async fn after_a_crash_an_expired_lease_resumes_safely_and_never_repeats_a_post() {
    let (w, clock, engine) = setup().await;
    let base = echo_server(Duration::from_secs(5)).await;
    let yaml = testkit::pipeline!("engine-slow", BASE = base);
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    let id = run(&w, p.id, &[]).await;
    // the worker dies in the middle of the POST
    assert!(
        tokio::time::timeout(Duration::from_millis(300), engine.step())
            .await
            .is_err()
    );
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Running);
    assert_eq!(d.stages[0].tasks[0].status, RunStatus::Running);
    // while the lease holds, nobody else takes it
    let other = Engine::new(w.backend.clone(), "worker-2", Duration::from_secs(30)).unwrap();
    assert!(!other.step().await.unwrap());
    clock.advance(chrono::Duration::seconds(31));
    drain(&other).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Failed);
    assert!(
        d.stages[0].tasks[0]
            .message
            .as_deref()
            .unwrap()
            .starts_with("Wharf stopped while this task was running. It was not run again"),
        "{d:#?}"
    );

    // a read-only task is simply run again
    let yaml = testkit::pipeline!("engine-slow-get", BASE = base);
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    let id = run(&w, p.id, &[]).await;
    // what a crash right after claiming leaves: RUNNING under a lease nobody keeps alive
    {
        use backend::platform::entities::executions as rows;
        use sea_orm::{ActiveModelTrait, EntityTrait, Set};
        let row = rows::Entity::find_by_id(id)
            .one(&w.backend.db)
            .await
            .unwrap()
            .unwrap();
        let mut a: rows::ActiveModel = row.into();
        a.status = Set(RunStatus::Running);
        a.lease_owner = Set(Some("crashed".to_owned()));
        a.lease_until = Set(Some(
            backend::Clock::now(clock.as_ref()) + chrono::Duration::seconds(30),
        ));
        a.update(&w.backend.db).await.unwrap();
    }
    clock.advance(chrono::Duration::seconds(31));
    drain(&other).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed, "{d:#?}");
}

#[tokio::test]
async fn concurrency_policies_hold_under_simultaneous_triggers() {
    let (w, _clock, engine) = setup().await;
    let skip = pipelines::create(
        &w.backend,
        w.member,
        w.project,
        &three_stages().replace("name: gates", "name: skip\nconcurrency: skip-if-running"),
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let b = w.backend.clone();
        let (actor, project) = (w.member, w.project);
        tasks.push(tokio::spawn(async move {
            executions::start(
                &b,
                actor,
                project,
                skip.id,
                BTreeMap::new(),
                "",
                Trigger::Api,
            )
            .await
        }));
    }
    let mut started = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Started::Queued(_) => started += 1,
            Started::Skipped { active_index } => assert_eq!(active_index, 1),
        }
    }
    assert_eq!(
        started, 1,
        "20 simultaneous runs of a skip-if-running pipeline make one execution"
    );

    let cancel = pipelines::create(
        &w.backend,
        w.member,
        w.project,
        &three_stages().replace("name: gates", "name: newest\nconcurrency: cancel-previous"),
    )
    .await
    .unwrap();
    let first = run(&w, cancel.id, &[]).await;
    engine.step().await.unwrap(); // the skip pipeline's execution
    engine.step().await.unwrap(); // first is now running
    let second = run(&w, cancel.id, &[]).await;
    let third = run(&w, cancel.id, &[]).await;
    drain(&engine).await;
    let status = |id| {
        let b = w.backend.clone();
        let (a, p) = (w.member, w.project);
        async move { executions::get(&b, a, p, id).await.unwrap().row }
    };
    let (f, s, t) = (
        status(first).await,
        status(second).await,
        status(third).await,
    );
    assert_eq!(f.status, RunStatus::Canceled);
    assert_eq!(
        f.message.as_deref(),
        Some("Canceled by execution #2 (cancel-previous).")
    );
    assert_eq!(s.status, RunStatus::Canceled);
    assert_eq!(
        s.message.as_deref(),
        Some("Canceled by execution #3 (cancel-previous).")
    );
    assert_eq!(t.status, RunStatus::Completed);

    // queue: the second waits for the first
    let queue = pipelines::create(
        &w.backend,
        w.member,
        w.project,
        &three_stages().replace("name: gates", "name: queue"),
    )
    .await
    .unwrap();
    let a = run(&w, queue.id, &[]).await;
    let b = run(&w, queue.id, &[]).await;
    engine.step().await.unwrap();
    assert_eq!(status(a).await.status, RunStatus::Running);
    assert_eq!(status(b).await.status, RunStatus::Queued);
    drain(&engine).await;
    assert_eq!(status(b).await.status, RunStatus::Completed);
    assert!(status(b).await.started_at >= status(a).await.ended_at);
}

#[tokio::test]
async fn cancel_pause_resume_rerun_and_delete() {
    let (w, _clock, engine) = setup().await;
    let p = pipelines::create(&w.backend, w.member, w.project, &three_stages())
        .await
        .unwrap();
    let id = run(&w, p.id, &[]).await;
    engine.step().await.unwrap();
    executions::act(&w.backend, w.member, w.project, id, Action::Pause)
        .await
        .unwrap();
    engine.step().await.unwrap();
    assert_eq!(
        executions::get(&w.backend, w.member, w.project, id)
            .await
            .unwrap()
            .row
            .status,
        RunStatus::Paused
    );
    assert!(
        !engine.step().await.unwrap(),
        "a paused execution is left alone"
    );
    executions::act(&w.backend, w.member, w.project, id, Action::Resume)
        .await
        .unwrap();
    drain(&engine).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed);

    let again = match executions::rerun(&w.backend, w.member, w.project, id)
        .await
        .unwrap()
    {
        Started::Queued(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!((again.index, again.comments.as_str()), (2, "Rerun of #1"));
    executions::act(&w.backend, w.member, w.project, again.id, Action::Cancel)
        .await
        .unwrap();
    assert_eq!(
        executions::get(&w.backend, w.member, w.project, again.id)
            .await
            .unwrap()
            .row
            .status,
        RunStatus::Canceled
    );
    assert!(matches!(
        executions::act(&w.backend, w.member, w.project, again.id, Action::Resume).await,
        Err(Error::Conflict(_))
    ));

    // viewers cannot act; other projects answer 404
    assert!(matches!(
        executions::act(&w.backend, w.viewer, w.project, id, Action::Cancel).await,
        Err(Error::Forbidden(_))
    ));
    executions::delete(&w.backend, w.member, w.project, again.id)
        .await
        .unwrap();
    assert!(matches!(
        executions::get(&w.backend, w.member, w.project, again.id).await,
        Err(Error::NotFound(_))
    ));
    // a disabled pipeline does not run
    pipelines::set_enabled(&w.backend, w.member, w.project, p.id, false)
        .await
        .unwrap();
    assert!(matches!(
        executions::start(
            &w.backend,
            w.member,
            w.project,
            p.id,
            BTreeMap::new(),
            "",
            Trigger::Api
        )
        .await,
        Err(Error::Conflict(_))
    ));
    // unknown inputs are refused
    pipelines::set_enabled(&w.backend, w.member, w.project, p.id, true)
        .await
        .unwrap();
    let given = BTreeMap::from([("NOPE".to_owned(), "1".to_owned())]);
    assert!(matches!(
        executions::start(
            &w.backend,
            w.member,
            w.project,
            p.id,
            given,
            "",
            Trigger::Api
        )
        .await,
        Err(Error::Invalid { .. })
    ));
}

fn approval() -> String {
    testkit::pipeline!("engine-approval")
}

#[tokio::test]
async fn user_operations_wait_without_a_worker_then_approve_reject_or_expire() {
    use backend::runs::user_operations;
    let (w, clock, engine) = setup().await;
    let p = pipelines::create(&w.backend, w.member, w.project, &approval())
        .await
        .unwrap();

    // approve: the execution waits, holds no lease, and goes on after the answer
    let id = run(&w, p.id, &[]).await;
    drain(&engine).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Waiting, "{d:#?}");
    assert_eq!(d.stages[0].tasks[0].status, RunStatus::Waiting);
    let mine = user_operations::waiting_for(&w.backend, w.member)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].summary, "Promote v7?");
    assert_eq!(mine[0].description, "Run 1");
    assert_eq!(mine[0].approvers, vec!["mia@example.com".to_owned()]);
    assert!(user_operations::waiting_for(&w.backend, w.viewer)
        .await
        .unwrap()
        .is_empty());
    let refused = user_operations::respond(&w.backend, w.viewer, mine[0].id, true, "")
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::Forbidden(_) | Error::NotFound(_)),
        "{refused:?}"
    );
    assert!(
        !engine.step().await.unwrap(),
        "nothing to do while it waits"
    );
    let answered = user_operations::respond(&w.backend, w.member, mine[0].id, true, "ship it")
        .await
        .unwrap();
    assert_eq!(
        answered.status,
        domain::executions::OperationStatus::Approved
    );
    let again = user_operations::respond(&w.backend, w.member, mine[0].id, false, "")
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Conflict(_)), "{again:?}");
    drain(&engine).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed, "{d:#?}");
    assert_eq!(
        d.stages[0].tasks[0].message.as_deref(),
        Some("Approved by mia@example.com: ship it")
    );

    // reject: the task fails with the reason
    let id = run(&w, p.id, &[]).await;
    drain(&engine).await;
    let op = user_operations::waiting_for(&w.backend, w.member)
        .await
        .unwrap()[0]
        .id;
    user_operations::respond(&w.backend, w.member, op, false, "not today")
        .await
        .unwrap();
    drain(&engine).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Failed);
    assert_eq!(
        d.row.message.as_deref(),
        Some("Task Gate.Approve failed: Rejected by mia@example.com: not today")
    );

    // expiry: the engine wakes it at the deadline and fails it
    let id = run(&w, p.id, &[]).await;
    drain(&engine).await;
    let op = user_operations::waiting_for(&w.backend, w.member)
        .await
        .unwrap()[0]
        .id;
    clock.advance(chrono::Duration::seconds(3600));
    assert!(!engine.step().await.unwrap(), "an hour in: still waiting");
    clock.advance(chrono::Duration::seconds(3601));
    drain(&engine).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Failed);
    assert!(
        d.row
            .message
            .as_deref()
            .unwrap()
            .contains("Expired: nobody approved"),
        "{d:#?}"
    );
    let late = user_operations::respond(&w.backend, w.member, op, true, "")
        .await
        .unwrap_err();
    assert!(matches!(late, Error::Conflict(_)), "{late:?}");

    // cancel while waiting: the operation leaves the list
    let id = run(&w, p.id, &[]).await;
    drain(&engine).await;
    executions::act(&w.backend, w.member, w.project, id, Action::Cancel)
        .await
        .unwrap();
    assert!(user_operations::waiting_for(&w.backend, w.member)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn poll_repeats_until_its_exit_criteria_hold_or_attempts_run_out() {
    use axum::routing::get;
    use std::sync::atomic::AtomicU64;
    let (w, _clock, engine) = setup().await;
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/state",
        get(move || {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            async move { axum::Json(serde_json::json!({"n": n, "ready": n >= 3})) }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let yaml = |attempts: u32| testkit::pipeline!("engine-poll", ATTEMPTS = attempts, BASE = base);
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml(5))
        .await
        .unwrap();
    let id = run(&w, p.id, &[]).await;
    drain(&engine).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed, "{d:#?}");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(d.stages[0].tasks[0]
        .output
        .as_deref()
        .unwrap()
        .contains("\"n\":3"));

    let p = pipelines::create(&w.backend, w.member, w.project, &yaml(2))
        .await
        .unwrap();
    count.store(0, Ordering::SeqCst);
    let id = run(&w, p.id, &[]).await;
    drain(&engine).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Failed);
    assert_eq!(
        d.stages[0].tasks[0].message.as_deref(),
        Some("The exit criteria did not hold after 2 call(s): ${S.Wait.output.body.ready} == true")
    );
    let log = executions::task_log(&w.backend, w.member, w.project, id, "S", "Wait")
        .await
        .unwrap();
    assert!(log.iter().any(|l| l.contains("attempt 2/2")), "{log:?}");
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_does_not_write_what_its_task_found() {
    let (w, clock, _) = setup().await;
    let base = echo_server(Duration::from_millis(1500)).await;
    let yaml = testkit::pipeline!("engine-slow-post", BASE = base);
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    let id = run(&w, p.id, &[]).await;
    // worker A's lease is short, so its heartbeat beats every 100 ms
    let a = Engine::new(w.backend.clone(), "worker-a", Duration::from_millis(300)).unwrap();
    let step = tokio::spawn(async move { a.step().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A stalls past its lease (the clock moves on); B takes the execution over
    clock.advance(chrono::Duration::seconds(10));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let b = Engine::new(w.backend.clone(), "worker-b", Duration::from_secs(30)).unwrap();
    drain(&b).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(
        d.row.status,
        RunStatus::Failed,
        "B refused to repeat the POST"
    );
    // A's POST comes back: A must not write its outcome over B's decision
    step.await.unwrap().unwrap();
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Failed);
    assert_eq!(d.stages[0].tasks[0].status, RunStatus::Failed, "{d:#?}");
}

/// A loopback service that counts the calls it is serving at once (a call the client abandons
/// stops counting when its connection closes) and in all.
#[derive(Default)]
struct Calls {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
    all: std::sync::atomic::AtomicUsize,
}

struct InFlight(Arc<Calls>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn counting_server(hold: Duration) -> (String, Arc<Calls>) {
    use axum::routing::get;
    let calls = Arc::new(Calls::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let c = calls.clone();
    let app = axum::Router::new().route(
        "/slow",
        get(move || {
            let c = c.clone();
            async move {
                c.all.fetch_add(1, Ordering::SeqCst);
                let now = c.now.fetch_add(1, Ordering::SeqCst) + 1;
                c.most.fetch_max(now, Ordering::SeqCst);
                let _in_flight = InFlight(c.clone());
                tokio::time::sleep(hold).await;
                "done"
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, calls)
}

#[tokio::test]
async fn a_worker_whose_heartbeat_stalls_stops_its_task_before_another_takes_over() {
    let (w, clock, _) = setup().await;
    let (base, calls) = counting_server(Duration::from_millis(1500)).await;
    let yaml = testkit::pipeline!("engine-slow-get-by-method", BASE = base);
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    let id = run(&w, p.id, &[]).await;
    let a = Engine::new(w.backend.clone(), "worker-a", Duration::from_millis(600)).unwrap();
    let step = tokio::spawn(async move { a.step().await });
    for _ in 0..100 {
        if calls.now.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(calls.now.load(Ordering::SeqCst), 1, "A's call is under way");
    // the database stalls A's heartbeat: another writer holds the lock past A's lease
    let lock = hold_write_lock(&w.backend.db).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        calls.now.load(Ordering::SeqCst),
        0,
        "A stopped its call when it could no longer keep the lease"
    );
    lock.rollback().await.unwrap();
    step.await.unwrap().unwrap();
    // the lease has run out: B takes the execution over and runs the GET again, alone
    clock.advance(chrono::Duration::seconds(10));
    let b = Engine::new(w.backend.clone(), "worker-b", Duration::from_secs(30)).unwrap();
    drain(&b).await;
    let d = executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed, "{d:#?}");
    assert_eq!(calls.all.load(Ordering::SeqCst), 2);
    assert_eq!(
        calls.most.load(Ordering::SeqCst),
        1,
        "the task never ran on two workers at once"
    );
}

/// Holds the database's write lock (SQLite) or the executions table's (PostgreSQL) until the
/// transaction ends.
async fn hold_write_lock(db: &sea_orm::DatabaseConnection) -> sea_orm::DatabaseTransaction {
    use sea_orm::ConnectionTrait;
    let tx = backend::platform::db::begin_write(db).await.unwrap();
    if tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        tx.execute_unprepared("LOCK TABLE executions IN EXCLUSIVE MODE")
            .await
            .unwrap();
    } else {
        // BEGIN IMMEDIATE takes the lock at once; a write makes sure of it
        tx.execute_unprepared("UPDATE executions SET id = id WHERE id < 0")
            .await
            .unwrap();
    }
    tx
}

#[tokio::test]
async fn a_member_cannot_start_a_pipeline_of_another_project_by_its_id() {
    let (w, _clock, _engine) = setup().await;
    let other = backend::access::projects::create(&w.backend, w.root, "other", "")
        .await
        .unwrap()
        .id;
    let p = pipelines::create(&w.backend, w.root, other, &three_stages())
        .await
        .unwrap();
    let start = |project| {
        executions::start(
            &w.backend,
            w.member,
            project,
            p.id,
            BTreeMap::new(),
            "",
            Trigger::Manual,
        )
    };
    // named under the member's own project: the same answer as an id that does not exist
    assert!(matches!(
        start(w.project).await,
        Err(Error::NotFound("pipeline"))
    ));
    // named under its own project: to a non-member that project does not exist
    assert!(matches!(
        start(other).await,
        Err(Error::NotFound("project"))
    ));
    // neither attempt took an index: the first real run is #1
    let Started::Queued(row) = executions::start(
        &w.backend,
        w.root,
        other,
        p.id,
        BTreeMap::new(),
        "",
        Trigger::Manual,
    )
    .await
    .unwrap() else {
        panic!("not queued")
    };
    assert_eq!(row.index, 1);
}
