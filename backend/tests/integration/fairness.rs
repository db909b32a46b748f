//! Fair claims: the engine finds the executions that may run now without scanning the queued
//! runs behind them, and takes projects round-robin.

use crate::support::{world_with, World};
use backend::engine::Engine;
use backend::platform::entities::executions as rows;
use backend::project::pipelines;
use backend::runs::executions::{self, Started, Trigger};
use backend::ManualClock;
use chrono::{TimeZone, Utc};
use domain::executions::RunStatus;
use sea_orm::{EntityTrait, Set};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn gated() -> String {
    testkit::pipeline!("fairness-gated")
}

fn quick(name: &str) -> String {
    testkit::pipeline!("fairness-quick", NAME = name)
}

async fn setup() -> (World, Engine) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap(),
    ));
    let w = world_with(clock).await;
    let engine = Engine::new(w.backend.clone(), "worker-1", Duration::from_secs(30)).unwrap();
    (w, engine)
}

async fn start(w: &World, project: i64, pipeline: i64) -> i64 {
    match executions::start(
        &w.backend,
        w.root,
        project,
        pipeline,
        Default::default(),
        "",
        Trigger::Manual,
    )
    .await
    .unwrap()
    {
        Started::Queued(r) => r.id,
        other => panic!("{other:?}"),
    }
}

/// `n` more queued runs like `template` (inserted directly: the claim reads only executions).
async fn pile_up(w: &World, template: &rows::Model, n: i64) {
    let mut batch = Vec::new();
    for i in 0..n {
        let mut m: rows::ActiveModel = template.clone().into();
        m.id = sea_orm::ActiveValue::NotSet;
        m.run_index = Set(template.run_index + 1 + i);
        m.status = Set(RunStatus::Queued);
        m.lease_owner = Set(None);
        m.lease_until = Set(None);
        m.started_at = Set(None);
        batch.push(m);
        if batch.len() == 500 {
            rows::Entity::insert_many(std::mem::take(&mut batch))
                .exec(&w.backend.db)
                .await
                .unwrap();
        }
    }
    if !batch.is_empty() {
        rows::Entity::insert_many(batch)
            .exec(&w.backend.db)
            .await
            .unwrap();
    }
}

async fn status(w: &World, id: i64) -> RunStatus {
    rows::Entity::find_by_id(id)
        .one(&w.backend.db)
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn ten_thousand_queued_runs_behind_a_waiting_one_do_not_delay_another_pipeline() {
    let (w, engine) = setup().await;
    let gated = pipelines::create(&w.backend, w.root, w.project, &gated())
        .await
        .unwrap();
    let first = start(&w, w.project, gated.id).await;
    assert!(engine.step().await.unwrap());
    assert_eq!(status(&w, first).await, RunStatus::Waiting);
    let template = rows::Entity::find_by_id(first)
        .one(&w.backend.db)
        .await
        .unwrap()
        .unwrap();
    pile_up(&w, &template, 10_000).await;
    // nothing of gated may run: the engine has nothing to do, and finds that out quickly
    let t = Instant::now();
    assert!(!engine.step().await.unwrap());
    let idle = t.elapsed();
    let other = pipelines::create(&w.backend, w.root, w.project, &quick("other"))
        .await
        .unwrap();
    let run = start(&w, w.project, other.id).await;
    let t = Instant::now();
    assert!(engine.step().await.unwrap(), "one claim cycle");
    let took = t.elapsed();
    assert_ne!(status(&w, run).await, RunStatus::Queued);
    println!("claim with 10,000 queued behind a waiting run: idle look {idle:?}, step {took:?}");
    assert!(idle < Duration::from_millis(500), "{idle:?}");
}

#[tokio::test]
async fn a_project_with_a_thousand_queued_runs_does_not_starve_a_project_with_one() {
    let (w, engine) = setup().await;
    // busy: 50 pipelines with 20 queued runs each (1,000 runs, 50 heads)
    for i in 0..50 {
        let p = pipelines::create(&w.backend, w.root, w.project, &quick(&format!("busy-{i}")))
            .await
            .unwrap();
        let first = start(&w, w.project, p.id).await;
        let template = rows::Entity::find_by_id(first)
            .one(&w.backend.db)
            .await
            .unwrap()
            .unwrap();
        pile_up(&w, &template, 19).await;
    }
    // the busy project has had its turn
    assert!(engine.step().await.unwrap());
    let quiet = backend::access::projects::create(&w.backend, w.root, "quiet", "")
        .await
        .unwrap();
    let p = pipelines::create(&w.backend, w.root, quiet.id, &quick("lonely"))
        .await
        .unwrap();
    let run = start(&w, quiet.id, p.id).await;
    assert!(engine.step().await.unwrap());
    assert_ne!(
        status(&w, run).await,
        RunStatus::Queued,
        "the quiet project's run went next"
    );
}

#[tokio::test]
async fn twenty_concurrent_wrong_passwords_count_twenty() {
    use backend::platform::entities::sign_in_throttle as throttle_rows;
    let (w, _engine) = setup().await;
    let key = backend::platform::throttle::account_key("mia@example.com");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let b = w.backend.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            backend::platform::throttle::record_failure(
                &b.db,
                b.clock.as_ref(),
                &key,
                backend::platform::throttle::ACCOUNT,
            )
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let row = throttle_rows::Entity::find_by_id(key)
        .one(&w.backend.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.failures, 20);
}

#[tokio::test]
async fn a_queued_run_says_what_it_waits_for_and_the_next_in_line_hears_when_that_changes() {
    use domain::executions::QueueWait;
    let (w, engine) = setup().await;
    let gated = pipelines::create(&w.backend, w.root, w.project, &gated())
        .await
        .unwrap();
    let first = start(&w, w.project, gated.id).await;
    engine.step().await.unwrap();
    let second = start(&w, w.project, gated.id).await;
    let third = start(&w, w.project, gated.id).await;
    let summary = |id| {
        let b = w.backend.clone();
        let root = w.root;
        async move { backend::live::summary(&b, root, id).await.unwrap() }
    };
    let s2 = summary(second).await;
    assert_eq!(
        s2.queue.as_ref().map(QueueWait::describe).as_deref(),
        Some("Waiting for gated #1 (WAITING for approval): this pipeline runs one at a time")
    );
    assert!(summary(first).await.queue.is_none());
    // #1 is approved and ends: #2 is next in line, and its change-feed version moved on
    let op = backend::runs::user_operations::waiting_for(&w.backend, w.root)
        .await
        .unwrap()[0]
        .id;
    backend::runs::user_operations::respond(&w.backend, w.root, op, true, "")
        .await
        .unwrap();
    while status(&w, first).await != RunStatus::Completed {
        assert!(engine.step().await.unwrap());
    }
    let s2_after = summary(second).await;
    assert!(s2_after.version > s2.version, "the new head was announced");
    assert!(
        matches!(
            s2_after.queue,
            Some(QueueWait::Workers { busy: 0, total: 4 })
        ),
        "{:?}",
        s2_after.queue
    );
    assert!(matches!(
        summary(third).await.queue,
        Some(QueueWait::Behind { index: 2, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_edits_while_four_workers_run_pipelines_meet_no_busy_error() {
    use backend::project::endpoints::{self, EndpointInput};
    use backend::project::variables::{self, VariableInput};
    use backend::runs::executions::Action;
    use backend::Error;
    use domain::endpoints::RegistryServerType;
    let w = crate::support::world().await;
    let listener = testkit::listener::Listener::start(testkit::listener::Answer::Ok).await;
    let engine = Engine::new(w.backend.clone(), "busy", Duration::from_secs(30)).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let workers = tokio::spawn(engine.run(4, Duration::from_millis(20), async move {
        let _ = stopped.await;
    }));
    let mut runs = Vec::new();
    let url = &listener.url;
    for i in 0..5 {
        let yaml = testkit::pipeline!("fairness-busy", I = i, URL = url);
        let p = pipelines::create(&w.backend, w.root, w.project, &yaml)
            .await
            .unwrap();
        for _ in 0..8 {
            runs.push(start(&w, w.project, p.id).await);
        }
    }
    let endpoint = endpoints::create(
        &w.backend,
        w.member,
        w.project,
        EndpointInput::registry(
            "reg",
            RegistryServerType::DockerRegistry,
            "http://127.0.0.1:1",
            "",
            None,
        ),
    )
    .await
    .unwrap();
    let mut edits = Vec::new();
    for i in 0..200usize {
        let b = w.backend.clone();
        let (member, project, run) = (w.member, w.project, runs[i % runs.len()]);
        edits.push(tokio::spawn(async move {
            let r: Result<(), Error> = match i % 5 {
                0 => variables::create(
                    &b,
                    member,
                    project,
                    VariableInput {
                        name: format!("V{i}"),
                        kind: "REGULAR".into(),
                        value: Some(backend::platform::secrets::SecretValue::new("v")),
                        description: String::new(),
                    },
                )
                .await
                .map(|_| ()),
                1 => endpoints::update(
                    &b,
                    member,
                    project,
                    endpoint.id,
                    EndpointInput::registry(
                        "reg",
                        RegistryServerType::DockerRegistry,
                        "http://127.0.0.1:1",
                        "",
                        None,
                    ),
                )
                .await
                .map(|_| ()),
                2 => executions::act(&b, member, project, run, Action::Pause)
                    .await
                    .map(|_| ()),
                3 => executions::act(&b, member, project, run, Action::Resume)
                    .await
                    .map(|_| ()),
                _ => executions::act(&b, member, project, run, Action::Cancel)
                    .await
                    .map(|_| ()),
            };
            r
        }));
    }
    let mut busy = Vec::new();
    for e in edits {
        // refusals about the request (a finished run cannot be paused) are fine; the database
        // being busy is not
        if let Err(err @ (Error::Db(_) | Error::Internal(_))) = e.await.unwrap() {
            busy.push(err.to_string());
        }
    }
    let _ = stop.send(());
    workers.await.unwrap();
    assert!(busy.is_empty(), "{} errors: {busy:?}", busy.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_new_run_wakes_an_idle_worker_without_waiting_for_the_poll() {
    let w = crate::support::world().await;
    let engine = Engine::new(w.backend.clone(), "wake", Duration::from_secs(30)).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // an idle worker would look again only after an hour: only the wake can start these runs
    let workers = tokio::spawn(engine.run(3, Duration::from_secs(3600), async move {
        let _ = stopped.await;
    }));
    // the workers' first look (at start) finds nothing; they are idle from then on
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let p = pipelines::create(&w.backend, w.root, w.project, &quick(&format!("wake-{i}")))
            .await
            .unwrap();
        ids.push(p.id);
    }
    for round in 0..2 {
        let began = Instant::now();
        let mut runs = Vec::new();
        for p in &ids {
            runs.push(start(&w, w.project, *p).await);
        }
        for r in runs {
            while status(&w, r).await != RunStatus::Completed {
                assert!(
                    began.elapsed() < Duration::from_secs(10),
                    "round {round}: run {r} did not complete; it is {:?}",
                    status(&w, r).await
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    let _ = stop.send(());
    workers.await.unwrap();
}

#[tokio::test]
async fn the_pipelines_list_names_each_pipelines_latest_run_and_only_its_own() {
    let (w, engine) = setup().await;
    let mut ids = Vec::new();
    for name in ["latest-a", "latest-b", "latest-c"] {
        ids.push(
            pipelines::create(&w.backend, w.root, w.project, &quick(name))
                .await
                .unwrap()
                .id,
        );
    }
    let first_a = start(&w, w.project, ids[0]).await;
    // #1 of a completes; #2 and #3 of a, and #1 of b, wait in their queues
    while status(&w, first_a).await != RunStatus::Completed {
        assert!(engine.step().await.unwrap());
    }
    start(&w, w.project, ids[0]).await;
    start(&w, w.project, ids[1]).await;
    start(&w, w.project, ids[0]).await;
    let (rows, _) = pipelines::list(&w.backend, w.member, w.project, 0, 10)
        .await
        .unwrap();
    let last = |id: i64| {
        rows.iter()
            .find(|p| p.id == id)
            .unwrap()
            .last_execution
            .map(|(index, status, _)| (index, status))
    };
    assert_eq!(last(ids[0]), Some((3, RunStatus::Queued)));
    assert_eq!(last(ids[1]), Some((1, RunStatus::Queued)));
    assert_eq!(last(ids[2]), None);
    let one = pipelines::get(&w.backend, w.member, w.project, ids[0])
        .await
        .unwrap();
    assert_eq!(
        one.0.last_execution.map(|(i, s, _)| (i, s)),
        Some((3, RunStatus::Queued))
    );
}
