//! Pipelines exported from Aria Automation Pipelines: they import (what Wharf cannot run
//! imports disabled, with what needs attention), their Aria inputs and bindings run, and a
//! Pipeline task runs another pipeline and hands its outputs on. Real SQLite (or PostgreSQL).

use crate::support::{world_with, World};
use backend::engine::Engine;
use backend::platform::secrets::SecretValue;
use backend::project::pipelines;
use backend::project::variables::{self, VariableInput};
use backend::runs::executions::{self, Started, Trigger};
use backend::ManualClock;
use chrono::{TimeZone, Utc};
use domain::executions::RunStatus;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const UNSUPPORTED: &str = include_str!("../../../testkit/fixtures/aria/unsupported-tasks.yaml");
const DOCKER: &str = include_str!("../../../testkit/fixtures/aria/docker-kubernetes.yaml");

async fn setup() -> (World, Arc<ManualClock>, Engine) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap(),
    ));
    let w = world_with(clock.clone()).await;
    let engine = Engine::new(w.backend.clone(), "worker-1", Duration::from_secs(30)).unwrap();
    (w, clock, engine)
}

/// Steps the engine until nothing is left to do, the clock moving on a second a step (the
/// parent's wake-up is due just before now).
async fn drain(engine: &Engine, clock: &ManualClock) {
    let mut idle = 0;
    for _ in 0..200 {
        if engine.step().await.unwrap() {
            idle = 0;
        } else {
            idle += 1;
            if idle > 3 {
                return;
            }
        }
        clock.advance(chrono::Duration::seconds(1));
    }
    panic!("the engine never settles");
}

async fn echo_server() -> String {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/echo",
        post(|body: String| async move { axum::Json(serde_json::json!({"received": body})) }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn start(w: &World, pipeline: i64, input: &[(&str, &str)]) -> backend::Result<Started> {
    executions::start(
        &w.backend,
        w.member,
        w.project,
        pipeline,
        given(input),
        "",
        Trigger::Manual,
    )
    .await
}

#[tokio::test]
async fn a_pipeline_task_runs_its_child_and_hands_on_the_childs_outputs() {
    let (w, clock, engine) = setup().await;
    let base = echo_server().await;
    let child = pipelines::create(
        &w.backend,
        w.member,
        w.project,
        &testkit::pipeline!("aria-child", BASE = base),
    )
    .await
    .unwrap();
    assert!(child.enabled && child.attention.is_empty(), "{child:?}");
    assert_eq!(child.input_meta[0].1.description, "What to send");
    let parent = pipelines::create(
        &w.backend,
        w.member,
        w.project,
        &testkit::pipeline!("aria-parent"),
    )
    .await
    .unwrap();
    assert!(parent.enabled && parent.attention.is_empty(), "{parent:?}");
    let Started::Queued(run) = start(&w, parent.id, &[("TAG", "v7")]).await.unwrap() else {
        panic!("queued");
    };
    drain(&engine, &clock).await;
    let d = executions::get(&w.backend, w.member, w.project, run.id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed, "{d:#?}");
    let said = d
        .output
        .iter()
        .find(|(k, _)| k == "said")
        .map(|(_, v)| v.clone());
    assert_eq!(
        said.as_deref(),
        Some("release v7 from mia@example.com in Call Service"),
        "the child's output, with ${{requestBy}} and ${{name}} bound: {d:#?}"
    );
    let task = &d.stages[0].tasks[0];
    assert!(
        task.message
            .as_deref()
            .is_some_and(|m| m.starts_with("Call Service #1 completed")),
        "{task:?}"
    );
    let (children, _) = executions::list(&w.backend, w.member, w.project, Some(child.id), 0, 10)
        .await
        .unwrap();
    assert_eq!(children.len(), 1, "one child, started once");
    assert_eq!(children[0].trigger, "pipeline");
    assert_eq!(children[0].status, RunStatus::Completed);
}

#[tokio::test]
async fn a_failing_child_fails_the_task_and_a_parent_cannot_leak_a_secret_into_its_inputs() {
    let (w, clock, engine) = setup().await;
    // the child calls a closed port: it fails, and so does the task that waits for it
    let child = pipelines::create(
        &w.backend,
        w.member,
        w.project,
        &testkit::pipeline!(
            "aria-child",
            BASE = format!("http://127.0.0.1:{}", testkit::registry::CLOSED_PORT)
        ),
    )
    .await
    .unwrap();
    let parent = pipelines::create(
        &w.backend,
        w.member,
        w.project,
        &testkit::pipeline!("aria-parent"),
    )
    .await
    .unwrap();
    let Started::Queued(run) = start(&w, parent.id, &[]).await.unwrap() else {
        panic!()
    };
    drain(&engine, &clock).await;
    let d = executions::get(&w.backend, w.member, w.project, run.id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Failed, "{d:#?}");
    let m = d.stages[0].tasks[0].message.clone().unwrap_or_default();
    assert!(m.starts_with("Call Service #1 ended FAILED"), "{m}");

    // attack: a member binds a SECRET variable into the child's inputs, which everyone who can
    // see the child execution would read
    variables::create(
        &w.backend,
        w.member,
        w.project,
        VariableInput {
            name: "TOKEN".into(),
            kind: "SECRET".into(),
            value: Some(SecretValue::new("hunter2-secret")),
            description: String::new(),
        },
    )
    .await
    .unwrap();
    let leaky = testkit::pipeline!("aria-parent")
        .replace("release ${input.TAG}", "${var.TOKEN}")
        .replace("Release Everything", "Leaky");
    let leaky = pipelines::create(&w.backend, w.member, w.project, &leaky)
        .await
        .unwrap();
    let Started::Queued(run) = start(&w, leaky.id, &[]).await.unwrap() else {
        panic!()
    };
    drain(&engine, &clock).await;
    let d = executions::get(&w.backend, w.member, w.project, run.id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Failed);
    let m = d.stages[0].tasks[0].message.clone().unwrap_or_default();
    assert!(
        m.contains("comes from a SECRET or RESTRICTED variable"),
        "{m}"
    );
    let (children, _) = executions::list(&w.backend, w.member, w.project, Some(child.id), 0, 10)
        .await
        .unwrap();
    assert_eq!(children.len(), 1, "the leaky run started no child");

    // a pipeline that runs itself is refused when saved
    let selfish = testkit::pipeline!("aria-parent")
        .replace("pipeline: Call Service", "pipeline: Release Everything");
    let e = pipelines::update(&w.backend, w.member, w.project, parent.id, &selfish)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("a pipeline cannot run itself"),
        "{e}"
    );
    // a mandatory input needs a value
    let e = start(&w, child.id, &[("MESSAGE", " ")]).await.unwrap_err();
    assert!(e.to_string().contains("MESSAGE is mandatory"), "{e}");
}

#[tokio::test]
async fn an_export_wharf_cannot_run_yet_imports_disabled_with_what_needs_attention() {
    let (w, _clock, _engine) = setup().await;
    let p = pipelines::create(&w.backend, w.member, w.project, UNSUPPORTED)
        .await
        .unwrap();
    assert!(!p.enabled, "imported disabled");
    let a = p.attention.join("\n");
    for expected in [
        "Jenkins Build: Jenkins tasks are not supported by Wharf",
        "CI Build: CI tasks are not supported by Wharf",
        "Copy Files: SSH tasks are not supported by Wharf",
        "Run Workflow: vRO tasks are not supported by Wharf",
        "Apply From Git.input.yaml: reads its YAML from a Git endpoint",
        "Apply From Git.endpoints.kubernetesServer: this project has no Kubernetes endpoint named 'prod-cluster'",
    ] {
        assert!(a.contains(expected), "{expected}\n{a}");
    }
    // it cannot be enabled, by the switch or by saving YAML that says so
    let e = pipelines::set_enabled(&w.backend, w.member, w.project, p.id, true)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot be enabled until"), "{e}");
    let e = pipelines::update(&w.backend, w.member, w.project, p.id, UNSUPPORTED)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot be enabled until"), "{e}");
    assert!(
        !pipelines::get(&w.backend, w.member, w.project, p.id)
            .await
            .unwrap()
            .0
            .enabled
    );
    // nothing was lost: the export still has every task as written
    let exported = pipelines::export(&w.backend, w.member, w.project, p.id)
        .await
        .unwrap();
    for kept in [
        "type: Jenkins",
        "jenkinsServer",
        "make build",
        "workflowId",
        "filePath",
        "scm: \"web-repo\"",
    ] {
        assert!(exported.contains(kept), "{kept}\n{exported}");
    }
    assert!(exported.contains("enabled: false"));

    // the Docker export needs only its cluster: once the endpoint exists, it imports enabled
    let p = pipelines::create(&w.backend, w.member, w.project, DOCKER)
        .await
        .unwrap();
    assert!(!p.enabled);
    assert_eq!(
        p.attention.len(),
        3,
        "three tasks name dev-cluster: {:#?}",
        p.attention
    );
}

#[tokio::test]
async fn an_aria_numeric_concurrency_runs_that_many_at_once_and_queues_the_rest() {
    use backend::runs::user_operations;
    use domain::executions::QueueWait;
    let (w, clock, engine) = setup().await;
    let yaml = testkit::pipeline!("engine-approval")
        .replace("name: approval", "name: approval\nconcurrency: '2'");
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let Started::Queued(r) = start(&w, p.id, &[]).await.unwrap() else {
            panic!("queued")
        };
        ids.push(r.id);
    }
    drain(&engine, &clock).await;
    let status = |id: i64| {
        let w = &w;
        async move {
            executions::get(&w.backend, w.member, w.project, id)
                .await
                .unwrap()
                .row
                .status
        }
    };
    assert_eq!(
        [
            status(ids[0]).await,
            status(ids[1]).await,
            status(ids[2]).await
        ],
        [RunStatus::Waiting, RunStatus::Waiting, RunStatus::Queued],
        "two run at once; the third waits for a slot"
    );
    let third = backend::live::summary(&w.backend, w.member, ids[2])
        .await
        .unwrap();
    assert!(
        matches!(
            third.queue,
            Some(QueueWait::Behind {
                index: 1,
                at_once: 2,
                ..
            })
        ),
        "{:?}",
        third.queue
    );
    assert_eq!(
        third.queue.as_ref().map(QueueWait::describe).as_deref(),
        Some("Waiting for approval #1 (WAITING for approval): this pipeline runs 2 at a time")
    );
    // the first is approved and ends: its slot goes to the third
    let ops = user_operations::waiting_for(&w.backend, w.member)
        .await
        .unwrap();
    assert_eq!(ops.len(), 2);
    let first = ops
        .iter()
        .find(|o| o.description == "Run 1")
        .expect("run 1 waits");
    user_operations::respond(&w.backend, w.member, first.id, true, "")
        .await
        .unwrap();
    drain(&engine, &clock).await;
    assert_eq!(
        [
            status(ids[0]).await,
            status(ids[1]).await,
            status(ids[2]).await
        ],
        [RunStatus::Completed, RunStatus::Waiting, RunStatus::Waiting]
    );
    // the export keeps Aria's number
    let exported = pipelines::export(&w.backend, w.member, w.project, p.id)
        .await
        .unwrap();
    assert!(exported.contains("concurrency: '2'"), "{exported}");
}

#[tokio::test]
async fn canceling_a_parent_cancels_the_child_it_waits_for() {
    use backend::runs::executions::Action;
    use backend::runs::user_operations;
    let (w, clock, engine) = setup().await;
    // the child waits for an approval; the parent waits for the child
    pipelines::create(
        &w.backend,
        w.member,
        w.project,
        &testkit::pipeline!("engine-approval"),
    )
    .await
    .unwrap();
    let parent = testkit::pipeline!("aria-parent")
        .replace("pipeline: Call Service", "pipeline: approval")
        .replace("MESSAGE: release ${input.TAG}", "TAG: ${input.TAG}");
    let parent = pipelines::create(&w.backend, w.member, w.project, &parent)
        .await
        .unwrap();
    let Started::Queued(run) = start(&w, parent.id, &[]).await.unwrap() else {
        panic!()
    };
    drain(&engine, &clock).await;
    let d = executions::get(&w.backend, w.member, w.project, run.id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Waiting, "{d:#?}");
    assert_eq!(
        user_operations::waiting_for(&w.backend, w.member)
            .await
            .unwrap()
            .len(),
        1
    );
    executions::act(&w.backend, w.member, w.project, run.id, Action::Cancel)
        .await
        .unwrap();
    let (all, _) = executions::list(&w.backend, w.member, w.project, None, 0, 10)
        .await
        .unwrap();
    let child = all
        .iter()
        .find(|e| e.trigger == "pipeline")
        .expect("the child");
    assert_eq!(child.status, RunStatus::Canceled, "{child:?}");
    assert_eq!(
        child.message.as_deref(),
        Some("Canceled with the execution that started it.")
    );
    assert!(
        user_operations::waiting_for(&w.backend, w.member)
            .await
            .unwrap()
            .is_empty(),
        "its approval is withdrawn"
    );
    drain(&engine, &clock).await;
    let d = executions::get(&w.backend, w.member, w.project, run.id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Canceled);
}
