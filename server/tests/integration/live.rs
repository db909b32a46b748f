//! The live stream (`/live/executions`, server-sent events) as a browser's EventSource uses it:
//! every change arrives; a client that reconnects with `Last-Event-ID` receives exactly the
//! executions that changed after it, each once and in order, also after a server restart.

use crate::support::{with_admin, Api, TestServer, PASSWORD};
use reqwest::Client;
use std::time::{Duration, Instant};

fn pipeline() -> String {
    testkit::pipeline!("live-quick")
}

#[derive(Debug, Clone)]
struct Ev {
    id: Option<i64>,
    event: String,
    data: serde_json::Value,
}

/// Reads the stream until `done` holds for what arrived (or 20 s pass), then hangs up.
async fn read(
    client: &Client,
    server: &TestServer,
    last_event_id: Option<i64>,
    done: impl Fn(&[Ev]) -> bool,
) -> Vec<Ev> {
    read_at(client, server, "/live/executions", last_event_id, done).await
}

/// [`read`] from `path` (a stream with its filters).
async fn read_at(
    client: &Client,
    server: &TestServer,
    path: &str,
    last_event_id: Option<i64>,
    done: impl Fn(&[Ev]) -> bool,
) -> Vec<Ev> {
    let mut req = client.get(server.url(path));
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id.to_string());
    } else {
        req = req.query(&[("since", "0")]);
    }
    let mut res = req.send().await.expect("stream");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut buf = String::new();
    let mut out = Vec::new();
    let start = Instant::now();
    while !done(&out) {
        let left = Duration::from_secs(20).saturating_sub(start.elapsed());
        let chunk = tokio::time::timeout(left, res.chunk())
            .await
            .unwrap_or_else(|_| panic!("stream stalled; got {out:#?}"))
            .expect("chunk")
            .expect("stream open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut ev = Ev {
                id: None,
                event: String::new(),
                data: serde_json::Value::Null,
            };
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    ev.id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    ev.event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if ev.event.is_empty() {
                continue; // the retry hint, keep-alives
            }
            ev.data = serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data));
            out.push(ev);
        }
    }
    out
}

fn status_of(e: &Ev) -> (i64, String) {
    (
        e.data["row"]["id"].as_i64().unwrap(),
        e.data["row"]["status"].as_str().unwrap().to_owned(),
    )
}

/// Whether every execution in `ids` has arrived in a final state.
fn all_completed(ids: &[i64]) -> impl Fn(&[Ev]) -> bool + '_ {
    move |evs| {
        ids.iter().all(|id| {
            evs.iter()
                .rev()
                .find(|e| status_of(e).0 == *id)
                .is_some_and(|e| status_of(e).1 == "COMPLETED")
        })
    }
}

async fn run(api: &Api, pipeline: i64, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let (s, out) = api
            .send(
                "POST",
                &format!("/pipelines/{pipeline}/executions"),
                Some(serde_json::json!({})),
            )
            .await;
        assert!(s.is_success(), "{out}");
        let id = out["execution"]["id"].as_i64().unwrap();
        api.wait_for(id, "COMPLETED").await;
        ids.push(id);
    }
    ids
}

fn assert_increasing(evs: &[Ev]) {
    let ids: Vec<i64> = evs
        .iter()
        .map(|e| e.id.expect("every event has an id"))
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "event ids must only grow (no duplicate, no reorder): {ids:?}"
    );
}

#[tokio::test]
async fn a_reconnecting_client_gets_exactly_what_it_missed_also_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (server, browser) = with_admin(dir.path()).await;
    let api = Api::new(&server).await;
    let (_, project) = api
        .send(
            "POST",
            "/projects",
            Some(serde_json::json!({"name": "live"})),
        )
        .await;
    let project = project["id"].as_i64().unwrap();
    let (_, p) = api
        .send(
            "POST",
            &format!("/projects/{project}/pipelines"),
            Some(serde_json::json!({ "yaml": &pipeline() })),
        )
        .await;
    let pipeline = p["id"].as_i64().unwrap();

    // without a session: refused
    let anonymous = Client::new()
        .get(server.url("/live/executions"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // connected: every execution's changes arrive, ids only grow
    let first = run(&api, pipeline, 3).await;
    let seen = read(&browser, &server, None, all_completed(&first)).await;
    assert_increasing(&seen);
    assert!(seen.iter().all(|e| e.event == "execution"));
    assert_eq!(seen[0].data["stages"][0]["name"], "Check");
    assert_eq!(seen[0].data["startedBy"], "root@example.com (API)");
    let last = seen.last().unwrap().id.unwrap();

    // away for a while: on return, exactly the two that changed, once each, in their final state
    let second = run(&api, pipeline, 2).await;
    let caught_up = read(&browser, &server, Some(last), all_completed(&second)).await;
    assert_increasing(&caught_up);
    let got: Vec<(i64, String)> = caught_up.iter().map(status_of).collect();
    assert_eq!(
        got,
        second
            .iter()
            .map(|id| (*id, "COMPLETED".to_owned()))
            .collect::<Vec<_>>(),
        "exactly the missed executions, each once"
    );
    assert!(caught_up.iter().all(|e| e.id.unwrap() > last));
    let last = caught_up.last().unwrap().id.unwrap();

    // a restart in between: the versions are in the database
    server.stop().await;
    let mut c = crate::support::config(dir.path());
    c.admin_email = Some("root@example.com".into());
    c.admin_password = Some(PASSWORD.into());
    let server = crate::support::start(c).await;
    let browser = crate::support::browser();
    crate::support::sign_in(&browser, &server, "root@example.com", PASSWORD).await;
    let api = Api::new(&server).await;
    let third = run(&api, pipeline, 1).await;
    let after_restart = read(&browser, &server, Some(last), all_completed(&third)).await;
    let got: Vec<(i64, String)> = after_restart.iter().map(status_of).collect();
    assert_eq!(got, vec![(third[0], "COMPLETED".to_owned())]);
    assert!(after_restart[0].id.unwrap() > last);
    server.stop().await;
}

#[tokio::test]
async fn a_stream_of_one_pipeline_carries_that_pipelines_executions_only() {
    let dir = tempfile::tempdir().unwrap();
    let (server, browser) = with_admin(dir.path()).await;
    let api = Api::new(&server).await;
    let (_, project) = api
        .send(
            "POST",
            "/projects",
            Some(serde_json::json!({"name": "two"})),
        )
        .await;
    let project = project["id"].as_i64().unwrap();
    let mut pipelines = Vec::new();
    for name in ["first", "second"] {
        let yaml = pipeline().replace("name: quick", &format!("name: {name}"));
        let (_, p) = api
            .send(
                "POST",
                &format!("/projects/{project}/pipelines"),
                Some(serde_json::json!({ "yaml": yaml })),
            )
            .await;
        pipelines.push(p["id"].as_i64().unwrap());
    }
    let mut ids = run(&api, pipelines[0], 1).await;
    ids.extend(run(&api, pipelines[1], 1).await);
    ids.extend(run(&api, pipelines[0], 1).await);
    let seen = read_at(
        &browser,
        &server,
        &format!("/live/executions?pipeline={}", pipelines[0]),
        None,
        all_completed(&[ids[0], ids[2]]),
    )
    .await;
    assert!(
        seen.iter()
            .all(|e| e.data["row"]["pipelineId"] == pipelines[0]),
        "{seen:#?}"
    );
    // an unknown filter is refused, not ignored
    let res = browser
        .get(server.url("/live/executions?pipline=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_stream_of_another_projects_pipeline_carries_nothing_to_an_outsider() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _admin) = with_admin(dir.path()).await;
    let api = Api::new(&server).await;
    let (_, project) = api
        .send(
            "POST",
            "/projects",
            Some(serde_json::json!({"name": "private"})),
        )
        .await;
    let (_, p) = api
        .send(
            "POST",
            &format!("/projects/{}/pipelines", project["id"]),
            Some(serde_json::json!({ "yaml": &pipeline() })),
        )
        .await;
    let pipeline = p["id"].as_i64().unwrap();
    let (status, _) = api
        .send(
            "POST",
            "/users",
            Some(serde_json::json!({"email": "out@example.com", "displayName": "Out", "password": PASSWORD})),
        )
        .await;
    assert!(status.is_success());
    let outsider = crate::support::browser();
    crate::support::sign_in(&outsider, &server, "out@example.com", PASSWORD).await;
    // the outsider names the pipeline's id in the URL; its runs happen meanwhile
    let mut res = outsider
        .get(server.url(&format!("/live/executions?pipeline={pipeline}&since=0")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ran = run(&api, pipeline, 2).await;
    assert_eq!(ran.len(), 2);
    let mut received = String::new();
    let until = Instant::now() + Duration::from_secs(3);
    while let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(until.saturating_duration_since(Instant::now()), res.chunk()).await
    {
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        !received.contains("event: execution") && !received.contains("\"row\""),
        "{received}"
    );
}
