//! Crash and restart: the real `wharf` binary runs a pipeline whose Kubernetes task is slow (it
//! waits for a rollout the stand-in never finishes), is killed with SIGKILL mid-task and started
//! again on the same database. The execution then ends explicitly (a CREATE is never repeated:
//! the stand-in sees one create) or completes (an APPLY, safe to repeat, runs again).

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};
use testkit::kube::{Cluster, KubeApi, Rollout};
use testkit::wharf::{access_token, Wharf};

const PASSWORD: &str = "crash-test-password-1";
const TOKEN: &str = "crash-test-kube-token";

/// Starts the real binary on `dir` with short leases (3 s), so a restart takes over quickly.
async fn start(dir: &Path, port: u16) -> Wharf {
    let extra = [("WHARF_LOG", "warn"), ("WHARF_LEASE_SECONDS", "3")];
    let bin = env!("CARGO_BIN_EXE_wharf");
    Wharf::start(bin, dir, port, PASSWORD, &extra, None).await
}

async fn token(base: &str) -> String {
    access_token(base, "root@example.com", PASSWORD).await
}

fn pipeline(name: &str, action: &str) -> String {
    testkit::pipeline!("crash-rollout", NAME = name, ACTION = action)
}

async fn execution(c: &reqwest::Client, base: &str, token: &str, id: i64) -> Value {
    c.get(format!("{base}/pipelines/api/executions/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn until(
    c: &reqwest::Client,
    base: &str,
    token: &str,
    id: i64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let e = execution(c, base, token, id).await;
        if done(&e) {
            return e;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "stuck: {e:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_sigkill_mid_task_never_repeats_a_create_and_leaves_nothing_stuck() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::with_token(TOKEN, "deployer");
    cluster.rollout = Rollout::Progressing;
    let kube = KubeApi::start(cluster).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let wharf = start(dir.path(), port).await;
    let base = wharf.base.clone();
    let c = reqwest::Client::new();
    let t = token(&base).await;
    let api = |p: &str| format!("{base}/pipelines/api{p}");
    let project: Value = c
        .post(api("/projects"))
        .bearer_auth(&t)
        .json(&json!({"name": "crash"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project = project["id"].as_i64().unwrap();
    let res = c
        .post(api(&format!("/projects/{project}/endpoints")))
        .bearer_auth(&t)
        .json(&json!({"name": "cluster", "kind": "kubernetes", "url": kube.url, "authMethod": "bearer_token", "password": TOKEN, "namespace": "default"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let mut runs = Vec::new();
    for (name, action) in [("created", "CREATE"), ("applied", "APPLY")] {
        let p: Value = c
            .post(api(&format!("/projects/{project}/pipelines")))
            .bearer_auth(&t)
            .json(&json!({"yaml": pipeline(name, action)}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(p["id"].is_i64(), "{p}");
        let run: Value = c
            .post(api(&format!("/pipelines/{}/executions", p["id"])))
            .bearer_auth(&t)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        runs.push(run["execution"]["id"].as_i64().unwrap());
    }
    // both tasks are mid-rollout: the objects exist, the tasks are RUNNING
    for id in &runs {
        until(&c, &base, &t, *id, |e| {
            e["stages"][0]["tasks"][0]["status"] == "RUNNING"
        })
        .await;
    }
    let deadline = Instant::now();
    while kube
        .cluster
        .lock()
        .unwrap()
        .object("deployments", "default", "applied")
        .is_none()
        || kube
            .cluster
            .lock()
            .unwrap()
            .object("deployments", "default", "created")
            .is_none()
    {
        assert!(deadline.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wharf.kill9();

    // the cluster finishes rolling out while Wharf is down; Wharf comes back on the same data
    kube.cluster.lock().unwrap().rollout = Rollout::Complete;
    let wharf = start(dir.path(), port).await;
    let t = token(&wharf.base).await;
    let created = until(&c, &wharf.base, &t, runs[0], |e| e["status"] != "RUNNING").await;
    assert_eq!(created["status"], "FAILED", "{created:#}");
    assert!(
        created["stages"][0]["tasks"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Wharf stopped while this task was running. It was not run again"),
        "{created:#}"
    );
    let applied = until(&c, &wharf.base, &t, runs[1], |e| e["status"] != "RUNNING").await;
    assert_eq!(applied["status"], "COMPLETED", "{applied:#}");
    let k = kube.cluster.lock().unwrap();
    assert_eq!(
        k.count("POST", "/apis/apps/v1/namespaces/default/deployments"),
        1,
        "the CREATE reached the cluster exactly once"
    );
    assert_eq!(
        k.count(
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/applied"
        ),
        2,
        "the APPLY ran again after the restart (safe: server-side apply is idempotent)"
    );
}
