//! Three `wharf` processes on one PostgreSQL database, on their own ports behind no balancer
//! (the test spreads the requests itself, retrying on the next replica as a balancer would).
//! Deliveries go round-robin, with resends of the same push to another replica; one replica
//! is SIGKILLed while they arrive and started again. Every 2xx is stored once and starts
//! exactly one execution, none is left unfinished; a callback goes out once; a User
//! Operation answered on one replica is answered on all; a browser on replica C sees an
//! execution started through replica A within 150 ms at p99; no replica logs a deadlock.
//! Runs when the suite has a PostgreSQL server (`WHARF_TEST_POSTGRES`).

use crate::support::{Api, PASSWORD};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use testkit::listener::{Answer, Listener};
use testkit::wharf::{access_token, free_port, Wharf};

const DELIVERIES: usize = 240;

struct Cluster {
    dir: tempfile::TempDir,
    ports: [u16; 3],
    replicas: Vec<Option<Wharf>>,
    logs: Vec<std::fs::File>,
    extra: Vec<(String, String)>,
}

impl Cluster {
    fn base(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    async fn start_all(&mut self) {
        let extra: Vec<(&str, &str)> = self
            .extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let bin = env!("CARGO_BIN_EXE_wharf");
        let (dir, p, l) = (self.dir.path(), self.ports, &self.logs);
        let (a, b, c) = tokio::join!(
            Wharf::start(bin, dir, p[0], PASSWORD, &extra, Some(&l[0])),
            Wharf::start(bin, dir, p[1], PASSWORD, &extra, Some(&l[1])),
            Wharf::start(bin, dir, p[2], PASSWORD, &extra, Some(&l[2])),
        );
        self.replicas = vec![Some(a), Some(b), Some(c)];
    }

    async fn start(&mut self, i: usize) {
        let extra: Vec<(&str, &str)> = self
            .extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let w = Wharf::start(
            env!("CARGO_BIN_EXE_wharf"),
            self.dir.path(),
            self.ports[i],
            PASSWORD,
            &extra,
            Some(&self.logs[i]),
        )
        .await;
        self.replicas[i] = Some(w);
    }
}

fn api(base: &str, token: &str) -> Api {
    Api {
        c: reqwest::Client::new(),
        base: format!("{base}/pipelines/api"),
        token: token.to_owned(),
    }
}

fn hub_push(tag: &str, pushed_at: f64, callback: Option<&str>) -> String {
    let mut body = json!({
        "push_data": {"pushed_at": pushed_at, "pusher": "alice", "tag": tag},
        "repository": {"repo_name": "team/app", "namespace": "team", "name": "app"},
    });
    if let Some(url) = callback {
        body["callback_url"] = json!(url);
    }
    body.to_string()
}

/// Posts `body` to replica `first`'s listener, then to the next ones while a replica is down
/// or answers 503 (as a balancer retries); whether one answered 2xx, and how many did not.
async fn deliver_counted(
    c: &reqwest::Client,
    urls: &[String],
    first: usize,
    body: &str,
) -> (bool, usize) {
    for k in 0..urls.len() {
        let url = &urls[(first + k) % urls.len()];
        let sent = c
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return (true, k),
            Ok(r) if r.status().is_client_error() => panic!("refused: {}", r.status()),
            _ => continue,
        }
    }
    (false, urls.len())
}

async fn deliver(c: &reqwest::Client, urls: &[String], first: usize, body: &str) -> bool {
    deliver_counted(c, urls, first, body).await.0
}

/// What the load sent: the tags accepted (2xx), the resends accepted, the posts a replica
/// did not answer (the killed one) and that went to the next.
#[derive(Default)]
struct Sent {
    accepted: HashSet<String>,
    resends: usize,
    passed_on: usize,
}

async fn rows(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
}

/// The executions' statuses, counted.
async fn statuses(db: &sea_orm::DatabaseConnection) -> HashMap<String, i64> {
    rows(
        db,
        "SELECT status, COUNT(*) AS n FROM executions GROUP BY status",
    )
    .await
    .iter()
    .map(|r| {
        (
            r.try_get("", "status").unwrap(),
            r.try_get("", "n").unwrap(),
        )
    })
    .collect()
}

async fn until<T>(what: &str, secs: u64, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(secs), "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_lose_nothing_duplicate_nothing_and_show_each_others_work_at_once() {
    if std::env::var("WHARF_TEST_POSTGRES").is_err() {
        eprintln!("skipped: replicas share a PostgreSQL database (set WHARF_TEST_POSTGRES)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = testkit::certs::TestCa::new("callbacks");
    let ca_file = dir.path().join("callback-ca.pem");
    std::fs::write(&ca_file, &ca.cert).unwrap();
    let hook = Listener::start_tls(Answer::Ok, &ca.server()).await;
    let logs = (0..3)
        .map(|i| std::fs::File::create(dir.path().join(format!("replica-{i}.log"))).unwrap())
        .collect();
    let extra = [
        ("WHARF_LOG", "warn"),
        ("WHARF_LEASE_SECONDS", "3"),
        ("WHARF_CALLBACK_HOSTS", "127.0.0.1"),
        ("WHARF_CALLBACK_CA_FILE", &ca_file.display().to_string()),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    let mut cl = Cluster {
        ports: [free_port(), free_port(), free_port()],
        replicas: vec![None, None, None],
        dir,
        logs,
        extra,
    };
    // all three at once on an empty database and data directory: one writes the key file the
    // others read, one migrates while the others wait
    cl.start_all().await;
    let db = backend::platform::db::connect(&backend::platform::db::DbConfig {
        url: testkit::database::url(cl.dir.path()),
        max_connections: 2,
        instance: String::new(),
    })
    .await
    .unwrap();
    let token = access_token(&cl.base(0), "root@example.com", PASSWORD).await;
    let (a, b, c) = (
        api(&cl.base(0), &token),
        api(&cl.base(1), &token),
        api(&cl.base(2), &token),
    );
    let (project, secure) = set_up(&a).await;
    let urls: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "{}/pipelines/api/docker-hub-webhooks?secureToken={secure}",
                cl.base(i)
            )
        })
        .collect();

    // 1. deliveries round-robin, every eighth sent again to the next replica; replica B is
    // killed while the second third arrives and started again before the last
    let sent = load(&mut cl, &urls).await;
    let accepted = &sent.accepted;
    assert!(
        sent.passed_on > 0,
        "the killed replica was down while deliveries arrived"
    );
    assert!(
        accepted.len() > DELIVERIES * 9 / 10,
        "{} accepted",
        accepted.len()
    );
    let settled = until("every execution ends", 120, async || {
        let s = statuses(&db).await;
        let open: i64 = ["QUEUED", "RUNNING", "WAITING", "PAUSED"]
            .iter()
            .filter_map(|k| s.get(*k))
            .sum();
        (open == 0).then_some(s)
    })
    .await;
    let triggered: HashMap<String, i64> = rows(
        &db,
        "SELECT tag, COUNT(*) AS n FROM webhook_activity WHERE status = 'TRIGGERED' GROUP BY tag",
    )
    .await
    .iter()
    .map(|r| (r.try_get("", "tag").unwrap(), r.try_get("", "n").unwrap()))
    .collect();
    for tag in accepted {
        assert_eq!(triggered.get(tag), Some(&1), "tag {tag} triggered once");
    }
    assert!(triggered.values().all(|n| *n == 1), "{triggered:?}");
    let executions: i64 = settled.values().sum();
    assert_eq!(
        executions as usize,
        triggered.len(),
        "one execution per push: {settled:?}"
    );
    assert_eq!(
        settled.get("COMPLETED").copied().unwrap_or(0),
        executions,
        "{settled:?}"
    );
    let stored = &rows(
        &db,
        "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE processed = false",
    )
    .await[0];
    assert_eq!(
        stored.try_get::<i64>("", "n").unwrap(),
        0,
        "every delivery processed"
    );
    // every stored delivery is one Activity row: the first of a push TRIGGERED, a resend
    // DUPLICATE. A post the killed replica stored but could not answer went on to the next
    // replica and was stored again, so it is a DUPLICATE too: at most one per post passed on.
    let count = async |sql: &str| rows(&db, sql).await[0].try_get::<i64>("", "n").unwrap() as usize;
    let duplicates =
        count("SELECT COUNT(*) AS n FROM webhook_activity WHERE status = 'DUPLICATE'").await;
    assert!(
        (sent.resends..=sent.resends + sent.passed_on).contains(&duplicates),
        "each resend answered 2xx is one DUPLICATE row, and each post passed on at most one more: \
         {duplicates} DUPLICATE rows, {} resends, {} passed on",
        sent.resends,
        sent.passed_on
    );
    let all = count("SELECT COUNT(*) AS n FROM webhook_activity").await;
    assert_eq!(
        all,
        accepted.len() + duplicates,
        "one Activity row per stored delivery"
    );
    let stored = count("SELECT COUNT(*) AS n FROM webhook_deliveries").await;
    assert_eq!(all, stored, "one Activity row per stored delivery");
    eprintln!(
        "replicas: {} pushes and {} resends accepted ({} posts passed on from the killed replica), {} executions, all COMPLETED",
        accepted.len(),
        sent.resends,
        sent.passed_on,
        executions,
    );

    // 2. a callback goes out once, whichever replicas could send it
    let callback = format!("{}/u/team/app/hook/once/", hook.url);
    assert!(
        deliver(
            &reqwest::Client::new(),
            &urls,
            2,
            &hub_push("cb", 9.0e9, Some(&callback))
        )
        .await
    );
    until("the callback is sent", 30, async || {
        hook.seen()
            .iter()
            .any(|s| s.line.contains("/hook/once/"))
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = hook
        .seen()
        .iter()
        .filter(|s| s.line.contains("/hook/once/"))
        .count();
    assert_eq!(sent, 1, "the callback was sent {sent} times");

    // 3. a User Operation answered on B is answered on A and C, and the run goes on
    answer_once(&a, &b, &c, project).await;

    // 4. a browser on C sees executions started through A
    let latencies = live_latency(&cl, &a, project).await;
    let p50 = latencies[latencies.len() / 2];
    let p99 = latencies[latencies.len() * 99 / 100];
    eprintln!("replicas: start on A → event on C: p50 {p50:?}, p99 {p99:?}");
    assert!(p99 < Duration::from_millis(150), "p99 {p99:?}");

    for i in 0..3 {
        let log = std::fs::read_to_string(cl.dir.path().join(format!("replica-{i}.log"))).unwrap();
        assert!(
            !log.to_lowercase().contains("deadlock"),
            "replica {i}: {log}"
        );
    }
}

/// Adds a pipeline of `yaml` to `project`; returns its id.
async fn add_pipeline(a: &Api, project: i64, yaml: &str) -> i64 {
    let path = format!("/projects/{project}/pipelines");
    let (status, pl) = a.send("POST", &path, Some(json!({ "yaml": yaml }))).await;
    assert!(status.is_success(), "{pl}");
    pl["id"].as_i64().unwrap()
}

/// The project, a pipeline taking the Docker inputs and a card on it that sends results;
/// returns the project and the card's secure token.
async fn set_up(a: &Api) -> (i64, String) {
    let (_, p) = a
        .send("POST", "/projects", Some(json!({"name": "web"})))
        .await;
    let project = p["id"].as_i64().unwrap();
    let pl = json!({"id": add_pipeline(a, project, &testkit::pipeline!("docker-webhooks-deploy")).await});
    let endpoint =
        json!({"name": "hub", "serverType": "docker_registry", "url": "http://127.0.0.1:1"});
    let (_, e) = a
        .send(
            "POST",
            &format!("/projects/{project}/endpoints"),
            Some(endpoint),
        )
        .await;
    let (_, t) = a
        .send(
            "POST",
            "/tokens",
            Some(json!({"email": "root@example.com", "password": PASSWORD, "name": "hook"})),
        )
        .await;
    let (status, card) = a
        .send(
            "POST",
            &format!("/projects/{project}/docker-webhooks"),
            Some(json!({
                "name": "app", "endpointId": e["id"], "pipelineId": pl["id"],
                "apiToken": t["refreshToken"], "image": "team/app", "tag": "", "sendResult": true,
            })),
        )
        .await;
    assert!(status.is_success(), "{card}");
    let card = card["id"].as_i64().unwrap();
    let (_, u) = a
        .send(
            "GET",
            &format!("/docker-webhooks/{card}/listener-url"),
            None,
        )
        .await;
    let url = u["url"].as_str().unwrap();
    (
        project,
        url.split("secureToken=").nth(1).unwrap().to_owned(),
    )
}

/// Sends the deliveries in three waves, killing replica B during the second and starting it
/// again before the third; returns the tags some replica answered 2xx for.
async fn load(cl: &mut Cluster, urls: &[String]) -> Sent {
    let client = reqwest::Client::new();
    let mut sent = Sent::default();
    let third = DELIVERIES / 3;
    for wave in 0..3 {
        let mut sends = tokio::task::JoinSet::new();
        for i in wave * third..(wave + 1) * third {
            let (client, urls) = (client.clone(), urls.to_vec());
            sends.spawn(async move {
                let tag = format!("v{i}");
                let body = hub_push(&tag, 1.7e9 + i as f64, None);
                let (ok, passed) = deliver_counted(&client, &urls, i % 3, &body).await;
                let (mut resent, mut passed_again) = (false, 0);
                if i % 8 == 0 {
                    // the registry sends it again, and the balancer picks another replica
                    (resent, passed_again) =
                        deliver_counted(&client, &urls, (i + 1) % 3, &body).await;
                }
                (tag, ok, resent, passed + passed_again)
            });
            if sends.len() >= 8 {
                if let Some(Ok(r)) = sends.join_next().await {
                    sent.add(r);
                }
            }
            if wave == 1 && i == third + third / 4 {
                if let Some(w) = cl.replicas[1].take() {
                    w.kill9();
                }
            }
        }
        while let Some(r) = sends.join_next().await {
            if let Ok(r) = r {
                sent.add(r);
            }
        }
        if wave == 1 {
            cl.start(1).await;
        }
    }
    sent
}

impl Sent {
    fn add(&mut self, (tag, ok, resent, passed): (String, bool, bool, usize)) {
        if ok {
            self.accepted.insert(tag);
        }
        self.resends += usize::from(resent);
        self.passed_on += passed;
    }
}

async fn answer_once(a: &Api, b: &Api, c: &Api, project: i64) {
    let pl =
        json!({"id": add_pipeline(a, project, &testkit::pipeline!("pipelines-api-gated")).await});
    let (status, run) = a
        .send(
            "POST",
            &format!("/pipelines/{}/executions", pl["id"]),
            Some(json!({"input": {"TAG": "v9"}})),
        )
        .await;
    assert!(status.is_success(), "{run}");
    let eid = run["execution"]["id"].as_i64().unwrap();
    c.wait_for(eid, "WAITING").await;
    let (_, ops) = b.send("GET", "/user-operations", None).await;
    let op = ops[0]["id"].as_i64().unwrap();
    let (status, answered) = b
        .send(
            "POST",
            &format!("/user-operations/{op}/approve"),
            Some(json!({"comment": "go"})),
        )
        .await;
    assert!(status.is_success(), "{answered}");
    for other in [a, c] {
        let (status, again) = other
            .send(
                "POST",
                &format!("/user-operations/{op}/reject"),
                Some(json!({})),
            )
            .await;
        assert_eq!(
            status,
            reqwest::StatusCode::CONFLICT,
            "answered once: {again}"
        );
    }
    a.wait_for(eid, "COMPLETED").await;
    let done: Value = c.wait_for(eid, "COMPLETED").await;
    assert_eq!(
        done["stages"][1]["tasks"][0]["output"]["respondedBy"],
        "root@example.com"
    );
}

/// Starts runs through A one at a time while a signed-in browser on C follows the live
/// stream; returns how long each took from the request to its event on C, sorted.
async fn live_latency(cl: &Cluster, a: &Api, project: i64) -> Vec<Duration> {
    let pl = json!({"id": add_pipeline(a, project, &testkit::pipeline!("live-quick")).await});
    let browser = crate::support::browser();
    let c = cl.base(2);
    let res = browser
        .post(format!(
            "{c}{}",
            <app::api::SignIn as leptos::server_fn::ServerFn>::PATH
        ))
        .header("origin", &c)
        .form(&[("email", "root@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    let mut stream = browser
        .get(format!("{c}/live/executions"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(i64, Instant)>();
    let reader = tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = stream.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                    if let Ok(v) = serde_json::from_str::<Value>(data.trim()) {
                        if let Some(id) = v["row"]["id"].as_i64() {
                            let _ = tx.send((id, Instant::now()));
                        }
                    }
                }
            }
        }
    });
    let mut latencies = Vec::new();
    let path = format!("/pipelines/{}/executions", pl["id"]);
    for _ in 0..100 {
        let sent = Instant::now();
        let (status, run) = a.send("POST", &path, Some(json!({}))).await;
        assert!(status.is_success(), "{run}");
        let id = run["execution"]["id"].as_i64().unwrap();
        let seen = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match rx.recv().await {
                    Some((e, at)) if e == id => return at,
                    Some(_) => continue,
                    None => panic!("the stream ended"),
                }
            }
        })
        .await
        .expect("the execution reached C's stream");
        latencies.push(seen - sent);
        a.wait_for(id, "COMPLETED").await;
    }
    reader.abort();
    latencies.sort();
    latencies
}

/// When the database goes away: liveness holds, readiness fails, the webhook listener answers
/// 503 (so registries send again) and stores nothing; when it is back, all three recover by
/// themselves, the listening connection included.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_its_database_a_replica_stays_alive_is_not_ready_and_answers_webhooks_503() {
    if std::env::var("WHARF_TEST_POSTGRES").is_err() {
        eprintln!("skipped: needs a PostgreSQL database (set WHARF_TEST_POSTGRES)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let bin = env!("CARGO_BIN_EXE_wharf");
    let w = Wharf::start(
        bin,
        dir.path(),
        port,
        PASSWORD,
        &[("WHARF_LOG", "error")],
        None,
    )
    .await;
    let token = access_token(&w.base, "root@example.com", PASSWORD).await;
    let a = api(&w.base, &token);
    let (project, secure) = set_up(&a).await;
    let url = format!(
        "{}/pipelines/api/docker-hub-webhooks?secureToken={secure}",
        w.base
    );
    let executions = format!("/projects/{project}/executions?pageSize=50");
    let c = reqwest::Client::new();
    let post = |tag: &'static str| {
        c.post(&url)
            .header("content-type", "application/json")
            .body(hub_push(tag, 1.8e9, None))
            .send()
    };
    assert_eq!(post("before").await.unwrap().status(), 200);
    let get = |path: &'static str| c.get(format!("{}{path}", w.base)).send();

    testkit::database::cut_off(dir.path(), true);
    assert_eq!(
        get("/healthz").await.unwrap().status(),
        200,
        "liveness holds"
    );
    until("readiness fails", 20, async || {
        (get("/readyz").await.unwrap().status() == 503).then_some(())
    })
    .await;
    let refused = post("during").await.unwrap();
    assert_eq!(refused.status(), 503, "a registry sends it again");
    assert!(refused.text().await.unwrap().contains("again"));

    testkit::database::cut_off(dir.path(), false);
    until("ready again", 30, async || {
        (get("/readyz").await.unwrap().status() == 200).then_some(())
    })
    .await;
    assert_eq!(post("after").await.unwrap().status(), 200);
    until("the delivery after the outage runs", 30, async || {
        let (_, e) = a.send("GET", &executions, None).await;
        let items = e["items"].as_array().cloned().unwrap_or_default();
        (items.len() == 2 && items.iter().all(|x| x["status"] == "COMPLETED")).then_some(())
    })
    .await;
}
