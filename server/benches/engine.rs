//! Benchmark (not a test; `cargo bench -p server --bench engine`): the figures for issue 4.
//! - Throughput: executions per second of a three-stage pipeline of Condition tasks, run by the
//!   server's own worker pool (4 workers) on SQLite: 400 executions queued through the REST API
//!   across 20 pipelines (an execution of one pipeline runs at a time, as with Aria's queue).
//! - Latency: from `POST /pipelines/{id}/executions` to its first task RUNNING, one execution at
//!   a time on an idle server: the task's `startedAt` minus the execution's `createdAt` (both
//!   stamped by the server), and the client-side time from sending the POST to its answer.
//!
//! The server runs in-process (release build) on a fresh SQLite file; requests cross loopback.

use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const PIPELINES: usize = 20;
const EXECUTIONS: usize = 400;
const LATENCY_RUNS: usize = 200;

fn summary(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label}: n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms min={:.2} ms max={:.2} ms",
        ms.len(),
        pick(0.5),
        pick(0.9),
        pick(0.99),
        ms[0],
        ms[ms.len() - 1]
    );
}

fn three_stages(name: &str) -> String {
    format!(
        "kind: PIPELINE\nname: {name}\ninput:\n  TAG: v1\nstageOrder: [One, Two, Three]\nstages:\n  One:\n    taskOrder: [A]\n    tasks:\n      A: {{ type: Condition, input: {{ condition: '${{input.TAG}} matches \"^v\"' }} }}\n  Two:\n    taskOrder: [B]\n    tasks:\n      B: {{ type: Condition, input: {{ condition: '${{executionIndex}} >= 1' }} }}\n  Three:\n    taskOrder: [C]\n    tasks:\n      C: {{ type: Condition, input: {{ condition: '${{One.A.output.result}} == true' }} }}\n"
    )
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = server::config::Config::for_tests(dir.path());
    config.admin_email = Some("root@example.com".into());
    config.admin_password = Some(PASSWORD.into());
    config.workers = 4;
    let prepared = server::prepare(&config).await.expect("server");
    let addr = prepared.local_addr().expect("addr");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let token = shutdown.clone();
    let handle = tokio::spawn(async move { prepared.serve(token).await });
    let c = reqwest::Client::new();
    let api = |p: &str| format!("http://{addr}/pipelines/api{p}");
    let refresh: Value = c
        .post(api("/tokens"))
        .json(&json!({"email": "root@example.com", "password": PASSWORD, "name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let login: Value = c
        .post(api("/login"))
        .json(&json!({"refreshToken": refresh["refreshToken"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = login["token"].as_str().unwrap().to_owned();
    let project: Value = c
        .post(api("/projects"))
        .bearer_auth(&bearer)
        .json(&json!({"name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project = project["id"].as_i64().unwrap();
    let mut pipelines = Vec::new();
    for i in 0..=PIPELINES {
        let p: Value = c
            .post(api(&format!("/projects/{project}/pipelines")))
            .bearer_auth(&bearer)
            .json(&json!({"yaml": three_stages(&format!("p{i}"))}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pipelines.push(p["id"].as_i64().unwrap());
    }
    let latency_pipeline = pipelines.pop().unwrap();

    // latency first, on an idle server
    let mut server_ms = Vec::new();
    let mut post_ms = Vec::new();
    for _ in 0..LATENCY_RUNS {
        let sent = Instant::now();
        let run: Value = c
            .post(api(&format!("/pipelines/{latency_pipeline}/executions")))
            .bearer_auth(&bearer)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        post_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
        let id = run["execution"]["id"].as_i64().unwrap();
        loop {
            let e: Value = c
                .get(api(&format!("/executions/{id}")))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if e["status"] == "COMPLETED" {
                let created =
                    chrono::DateTime::parse_from_rfc3339(e["createdAt"].as_str().unwrap()).unwrap();
                let started = chrono::DateTime::parse_from_rfc3339(
                    e["stages"][0]["tasks"][0]["startedAt"].as_str().unwrap(),
                )
                .unwrap();
                server_ms.push((started - created).num_microseconds().unwrap() as f64 / 1000.0);
                break;
            }
            assert!(e["status"] != "FAILED", "{e}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    summary("POST → first task RUNNING (server timestamps)", server_ms);
    summary("POST round trip (client)", post_ms);

    // throughput
    let started = Instant::now();
    for i in 0..EXECUTIONS {
        let res = c
            .post(api(&format!(
                "/pipelines/{}/executions",
                pipelines[i % PIPELINES]
            )))
            .bearer_auth(&bearer)
            .json(&json!({"input": {"TAG": format!("v{i}")}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
    }
    let queued = started.elapsed();
    loop {
        let mut done = 0;
        let mut page = 1;
        loop {
            let list: Value = c
                .get(api(&format!(
                    "/projects/{project}/executions?pageSize=200&page={page}"
                )))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let items = list["items"].as_array().unwrap();
            done += items
                .iter()
                .filter(|e| e["status"] == "COMPLETED" && e["pipelineId"] != latency_pipeline)
                .count();
            assert!(!items.iter().any(|e| e["status"] == "FAILED"));
            if items.len() < 200 {
                break;
            }
            page += 1;
        }
        if done == EXECUTIONS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all = started.elapsed();
    println!(
        "throughput: {EXECUTIONS} executions × 3 stages over {PIPELINES} pipelines, 4 workers, SQLite: queued in {:.2} s, all completed in {:.2} s → {:.1} executions/s ({:.1} tasks/s)",
        queued.as_secs_f64(),
        all.as_secs_f64(),
        EXECUTIONS as f64 / all.as_secs_f64(),
        3.0 * EXECUTIONS as f64 / all.as_secs_f64()
    );
    shutdown.cancel();
    let _ = handle.await;
}
