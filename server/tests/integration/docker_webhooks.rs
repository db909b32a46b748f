//! Docker triggers over HTTP: the listeners (tokens, limits, malformed bodies, the documented
//! Docker Hub payload, distribution envelopes from a real docker-registry), matching and
//! deduplication, Activity with its filters, pages and Resubmit, and the Docker Hub sync against
//! the Docker Hub stand-in.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const HUB_EXAMPLE: &str = include_str!("../../../testkit/fixtures/docker_hub_example.json");

fn deploy() -> String {
    testkit::pipeline!("docker-webhooks-deploy")
}

struct Setup {
    api: Api,
    project: i64,
    pipeline: i64,
    endpoint: i64,
    refresh: String,
    refresh_id: i64,
}

async fn setup(server: &TestServer, endpoint: Value) -> Setup {
    let api = Api::new(server).await;
    let (_, p) = api
        .send("POST", "/projects", Some(json!({"name": "web"})))
        .await;
    let project = p["id"].as_i64().unwrap();
    let (status, pl) = api
        .send(
            "POST",
            &format!("/projects/{project}/pipelines"),
            Some(json!({ "yaml": &deploy() })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pl}");
    let (status, e) = api
        .send(
            "POST",
            &format!("/projects/{project}/endpoints"),
            Some(endpoint),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    let (_, t) = api
        .send(
            "POST",
            "/tokens",
            Some(json!({"email": "root@example.com", "password": PASSWORD, "name": "webhooks"})),
        )
        .await;
    Setup {
        project,
        pipeline: pl["id"].as_i64().unwrap(),
        endpoint: e["id"].as_i64().unwrap(),
        refresh: t["refreshToken"].as_str().unwrap().to_owned(),
        refresh_id: t["id"].as_i64().unwrap(),
        api,
    }
}

impl Setup {
    fn card(&self, name: &str, image: &str, tag: &str) -> Value {
        json!({
            "name": name, "description": "deploys on push", "endpointId": self.endpoint,
            "pipelineId": self.pipeline, "input": {"ENVIRONMENT": "production"},
            "apiToken": self.refresh, "image": image, "tag": tag, "sendResult": false,
        })
    }

    async fn create(&self, card: Value) -> Value {
        let (status, c) = self
            .api
            .send(
                "POST",
                &format!("/projects/{}/docker-webhooks", self.project),
                Some(card),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        c
    }

    async fn listener_url(&self, card: i64) -> String {
        let (_, u) = self
            .api
            .send(
                "GET",
                &format!("/docker-webhooks/{card}/listener-url"),
                None,
            )
            .await;
        u["url"].as_str().unwrap().to_owned()
    }

    async fn activity(&self, query: &str) -> Value {
        let (status, a) = self
            .api
            .send(
                "GET",
                &format!("/projects/{}/docker-activity?{query}", self.project),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{a}");
        a
    }

    /// Waits until Activity has `n` rows; returns them, newest first.
    async fn rows(&self, n: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let a = self.activity("pageSize=200").await;
            let rows = a["items"].as_array().unwrap().clone();
            if rows.len() >= n {
                assert_eq!(rows.len(), n, "{rows:#?}");
                return rows;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "Activity never reached {n} rows: {rows:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn executions(&self) -> Vec<Value> {
        let (_, e) = self
            .api
            .send(
                "GET",
                &format!("/projects/{}/executions?pageSize=200", self.project),
                None,
            )
            .await;
        e["items"].as_array().unwrap().clone()
    }
}

async fn post(
    url: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, String) {
    let res = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

fn hub_payload(repo: &str, tag: &str, pushed_at: f64) -> String {
    let (ns, name) = repo.split_once('/').unwrap();
    json!({
        "callback_url": format!("https://registry.hub.docker.com/u/{repo}/hook/1/"),
        "push_data": {"pushed_at": pushed_at, "pusher": "alice", "tag": tag},
        "repository": {"repo_name": repo, "namespace": ns, "name": name},
    })
    .to_string()
}

/// A project with a registry endpoint and the card of Docker Hub's documented example
/// (`svendowideit/testhook`, any tag).
async fn testhook(server: &TestServer) -> (Setup, Value) {
    let s = setup(
        server,
        json!({"name": "hub", "serverType": "docker_registry", "url": "http://127.0.0.1:1"}),
    )
    .await;
    let card = s
        .create(s.card("testhook", "svendowideit/testhook", ""))
        .await;
    (s, card)
}

#[tokio::test]
async fn a_refused_delivery_gets_its_status_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let (s, card) = testhook(&server).await;
    let url = s.listener_url(card["id"].as_i64().unwrap()).await;
    let token = url.split("secureToken=").nth(1).unwrap().to_owned();
    let hub = server.url("/pipelines/api/docker-hub-webhooks");
    let hub_url = format!("{hub}?secureToken={token}");
    let wrong = format!("{hub}?secureToken=wharf_wh_{}", "A".repeat(43));
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let example = HUB_EXAMPLE.to_owned();
    // why, the URL, the content type, the body, the answer and a word the answer must hold
    let table: [(&str, &str, &str, String, StatusCode, &str); 7] = [
        (
            "no token",
            &hub,
            "application/json",
            example.clone(),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            "a wrong token",
            &wrong,
            "application/json",
            example.clone(),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            "not JSON",
            &hub_url,
            "text/plain",
            example.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "",
        ),
        (
            "over 1 MiB",
            &hub_url,
            "application/json",
            big,
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
        (
            "cut short",
            &hub_url,
            "application/json",
            "{\"repository\": ".to_owned(),
            StatusCode::BAD_REQUEST,
            "Malformed delivery",
        ),
        (
            "empty",
            &hub_url,
            "application/json",
            "{}".to_owned(),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            "no push in it",
            &hub_url,
            "application/json",
            "[]".to_owned(),
            StatusCode::BAD_REQUEST,
            "",
        ),
    ];
    for (why, url, content_type, body, want, word) in table {
        let (status, answer) = post(url, content_type, body).await;
        assert_eq!(status, want, "{why}: {answer}");
        assert!(answer.contains(word), "{why}: {answer}");
    }
    let res = reqwest::Client::new().get(&hub_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "GET");
    assert!(s.activity("").await["items"].as_array().unwrap().is_empty());
    server.stop().await;
}

/// The listeners are mounted outside the session, CSRF and bearer machinery (a flood of wrong
/// tokens costs little): their answers still have the API's format and headers, and set no cookie.
#[tokio::test]
async fn listener_answers_keep_the_api_format_and_headers_and_set_no_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let (s, card) = testhook(&server).await;
    let url = s.listener_url(card["id"].as_i64().unwrap()).await;
    let token = url.split("secureToken=").nth(1).unwrap().to_owned();
    let client = reqwest::Client::new();
    for listener in ["docker-hub-webhooks", "registry-webhooks"] {
        let base = server.url(&format!("/pipelines/api/{listener}"));
        let good = format!("{base}?secureToken={token}");
        let wrong = format!("{base}?secureToken=wharf_wh_{}", "B".repeat(43));
        let answers = [
            // a wrong token, and a browser's cookie-bearing cross-site form post
            client
                .post(&wrong)
                .header("content-type", "application/json")
                .body(HUB_EXAMPLE)
                .send()
                .await
                .unwrap(),
            client
                .post(&wrong)
                .header("origin", "https://evil.example")
                .header("cookie", "wharf_session=forged")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("a=b")
                .send()
                .await
                .unwrap(),
            client.get(&good).send().await.unwrap(),
            client.delete(&good).send().await.unwrap(),
            client
                .post(&good)
                .header("content-type", "application/json")
                .body("{")
                .send()
                .await
                .unwrap(),
        ];
        let wanted = [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::METHOD_NOT_ALLOWED,
            StatusCode::METHOD_NOT_ALLOWED,
            StatusCode::BAD_REQUEST,
        ];
        for (res, want) in answers.into_iter().zip(wanted) {
            let what = format!("{listener} {want}");
            assert_eq!(res.status(), want, "{what}");
            let h = res.headers().clone();
            assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
            assert_eq!(h["x-frame-options"], "DENY", "{what}");
            assert!(h.contains_key("content-security-policy"), "{what}");
            assert_eq!(h["cache-control"], "no-cache", "{what}");
            assert!(h.get("set-cookie").is_none(), "{what}: no session is made");
            if want == StatusCode::METHOD_NOT_ALLOWED {
                assert_eq!(h["allow"], "POST", "{what}");
            }
            let body: serde_json::Value = res.json().await.unwrap();
            assert!(
                body["code"].is_string() && body["message"].is_string(),
                "{what}: {body}"
            );
        }
    }
    // still in the API's document
    let doc: serde_json::Value = client
        .get(server.url("/pipelines/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/pipelines/api/docker-hub-webhooks",
        "/pipelines/api/registry-webhooks",
    ] {
        assert!(doc["paths"][path]["post"].is_object(), "{path} documented");
    }
    assert!(s.activity("").await["items"].as_array().unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn docker_hub_deliveries_trigger_once_and_activity_says_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let (s, card) = testhook(&server).await;
    let id = card["id"].as_i64().unwrap();
    assert_eq!(card["listenerPath"], "/pipelines/api/registry-webhooks");
    assert_eq!(card["enabled"], true);
    assert!(card.get("token_sealed").is_none() && !card.to_string().contains("wharf_wh_"));
    let url = s.listener_url(id).await;
    let token = url.split("secureToken=").nth(1).unwrap().to_owned();
    assert!(token.len() >= 43, "at least 256 bits: {token}");
    let hub_url = server.url(&format!(
        "/pipelines/api/docker-hub-webhooks?secureToken={token}"
    ));

    // the documented example, byte for byte: accepted, triggers, inputs from the event
    let (status, body) = post(&hub_url, "application/json", HUB_EXAMPLE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = s.rows(1).await;
    assert_eq!(rows[0]["status"], "TRIGGERED", "{:#}", rows[0]);
    assert_eq!(rows[0]["owner"], "trustedbuilder");
    assert_eq!(rows[0]["image"], "svendowideit/testhook:latest");
    assert_eq!(rows[0]["webhookName"], "testhook");
    let execution = rows[0]["executionId"].as_i64().unwrap();
    let e = s.api.wait_for(execution, "COMPLETED").await;
    assert_eq!(e["trigger"], "docker");
    assert_eq!(e["input"]["DOCKER_IMAGE"], "svendowideit/testhook:latest");
    assert_eq!(e["input"]["DOCKER_REPO_NAMESPACE"], "svendowideit");
    assert_eq!(e["input"]["DOCKER_REPO_NAME"], "testhook");
    assert_eq!(e["input"]["DOCKER_EVENT_OWNER_NAME"], "trustedbuilder");
    assert_eq!(e["input"]["ENVIRONMENT"], "production");

    // Docker Hub delivers it again: a duplicate, still one execution
    assert_eq!(
        post(&hub_url, "application/json", HUB_EXAMPLE).await.0,
        StatusCode::OK
    );
    let rows = s.rows(2).await;
    assert_eq!(rows[0]["status"], "DUPLICATE");
    assert!(rows[0]["message"]
        .as_str()
        .unwrap()
        .contains("Duplicate of the event"));
    assert_eq!(s.executions().await.len(), 1);

    // hostile strings: refused with the reason, recorded as REJECTED (as data), nothing starts
    let hostile = hub_payload(
        "<script>alert(1)</script>/x'; DROP TABLE users;--",
        "../../etc",
        2.0,
    );
    let (status, body) = post(&hub_url, "application/json", hostile.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("Rejected: the repository"), "{body}");
    let rows = s.rows(3).await;
    assert_eq!(rows[0]["status"], "REJECTED");
    assert!(rows[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Rejected: the repository is not a valid name"));
    assert!(rows[0]["repository"]
        .as_str()
        .unwrap()
        .contains("<script>alert(1)</script>"));
    // the registry resends it (it retries what was not 2xx): no second row
    assert_eq!(
        post(&hub_url, "application/json", hostile).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(s.executions().await.len(), 1);

    // a tag filter: latest ignored, v2 triggers
    let mut changed = s.card("testhook", "svendowideit/testhook", "v*");
    changed["apiToken"] = json!("");
    let (status, c) = s
        .api
        .send("PUT", &format!("/docker-webhooks/{id}"), Some(changed))
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(
        c["apiTokenName"], "webhooks",
        "the empty token kept the one set"
    );
    post(
        &hub_url,
        "application/json",
        hub_payload("svendowideit/testhook", "latest", 3.0),
    )
    .await;
    post(
        &hub_url,
        "application/json",
        hub_payload("svendowideit/testhook", "v2", 4.0),
    )
    .await;
    let rows = s.rows(5).await;
    assert_eq!(rows[1]["status"], "NOT_MATCHED");
    assert_eq!(rows[1]["message"], "Tag latest does not match v*.");
    assert_eq!(rows[0]["status"], "TRIGGERED");
    assert_eq!(rows[0]["tag"], "v2");

    // disabled: recorded, nothing runs
    let (_, c) = s
        .api
        .send("POST", &format!("/docker-webhooks/{id}/disable"), None)
        .await;
    assert_eq!(c["enabled"], false);
    post(
        &hub_url,
        "application/json",
        hub_payload("svendowideit/testhook", "v3", 5.0),
    )
    .await;
    let rows = s.rows(6).await;
    assert_eq!(
        (rows[0]["status"].as_str(), rows[0]["message"].as_str()),
        (Some("DISABLED"), Some("Webhook disabled"))
    );
    assert_eq!(s.executions().await.len(), 2);
    s.api
        .send("POST", &format!("/docker-webhooks/{id}/enable"), None)
        .await;

    // Resubmit: a new execution from the stored event, saying who did it
    let first = rows.last().unwrap()["id"].as_i64().unwrap();
    let (status, r) = s
        .api
        .send("POST", &format!("/docker-activity/{first}/resubmit"), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["status"], "TRIGGERED");
    assert_eq!(r["resubmittedBy"], "root@example.com");
    assert_eq!(r["resubmitOf"], first);
    assert_eq!(s.executions().await.len(), 3);

    // the raw payload, exactly what was sent (pretty-printed)
    let (_, d) = s
        .api
        .send("GET", &format!("/docker-activity/{first}"), None)
        .await;
    assert_eq!(d["source"], "docker_hub");
    assert!(d["payload"]
        .as_str()
        .unwrap()
        .contains("\"repo_name\": \"svendowideit/testhook\""));

    // filters and keyset pages
    let a = s.activity("status=DUPLICATE").await;
    assert_eq!(a["items"].as_array().unwrap().len(), 1);
    let a = s.activity("text=script").await;
    assert_eq!(a["items"].as_array().unwrap().len(), 1);
    let a = s.activity(&format!("webhookId={id}&pageSize=4")).await;
    assert_eq!(a["items"].as_array().unwrap().len(), 4);
    assert_eq!(
        (
            a["page"].as_u64(),
            a["pageSize"].as_u64(),
            a["total"].as_u64()
        ),
        (Some(1), Some(4), Some(7))
    );
    let b = s
        .activity(&format!("webhookId={id}&pageSize=4&page=2"))
        .await;
    assert_eq!(b["items"].as_array().unwrap().len(), 3);
    assert!(
        b["items"][0]["id"].as_i64() < a["items"][3]["id"].as_i64(),
        "newest first"
    );
    let (status, _) = s
        .api
        .send(
            "GET",
            &format!("/projects/{}/docker-activity?status=BOGUS", s.project),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // a revoked API token: said so, nothing runs
    s.api
        .send("DELETE", &format!("/tokens/{}", s.refresh_id), None)
        .await;
    post(
        &hub_url,
        "application/json",
        hub_payload("svendowideit/testhook", "v4", 6.0),
    )
    .await;
    let rows = s.rows(8).await;
    assert_eq!(rows[0]["status"], "INVALID_TOKEN");
    assert_eq!(
        rows[0]["message"],
        "Invalid API token. Verify webhook configuration."
    );
    assert_eq!(s.executions().await.len(), 3);

    // the endpoint and the pipeline cannot go while the card uses them
    let (status, err) = s
        .api
        .send(
            "DELETE",
            &format!("/projects/{}/endpoints/{}", s.project, s.endpoint),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("webhook testhook"),
        "{err}"
    );
    let (status, _) = s
        .api
        .send("DELETE", &format!("/pipelines/{}", s.pipeline), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // a new token: the old URL stops working at once
    s.api
        .send(
            "POST",
            &format!("/docker-webhooks/{id}/regenerate-token"),
            None,
        )
        .await;
    assert_eq!(
        post(&hub_url, "application/json", HUB_EXAMPLE).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = s
        .api
        .send("DELETE", &format!("/docker-webhooks/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(s.activity("").await["items"].as_array().unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_real_registry_push_triggers_with_the_registry_host_in_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let s = setup(
        &server,
        json!({"name": "local", "serverType": "docker_registry", "url": "http://127.0.0.1:1"}),
    )
    .await;
    let card = s.create(s.card("web", "acme/web", "")).await;
    let url = s.listener_url(card["id"].as_i64().unwrap()).await;
    let (base, token) = url.split_once("?secureToken=").unwrap();
    // distribution sends the token as its endpoint header (Authorization: Bearer)
    let registry = testkit::registry::Registry::with_notifications(base, Some(token));
    let digest = testkit::registry::push_image(&registry, "acme/web", "1.0", None);
    let rows = s.rows(1).await;
    assert_eq!(rows[0]["status"], "TRIGGERED", "{:#}", rows[0]);
    let image = format!("127.0.0.1:{}/acme/web:1.0", registry.port);
    assert_eq!(rows[0]["image"], image.as_str());
    assert_eq!(rows[0]["digest"], digest.as_str());
    let e = s
        .api
        .wait_for(rows[0]["executionId"].as_i64().unwrap(), "COMPLETED")
        .await;
    assert_eq!(e["input"]["DOCKER_IMAGE"], image.as_str());
    assert_eq!(e["input"]["DOCKER_DIGEST"], digest.as_str());
    assert_eq!(e["input"]["DOCKER_REPO_NAMESPACE"], "acme");

    // a multi-architecture push (per-platform manifests by digest, then the tagged index) and
    // blob pushes and pulls in one envelope: one event, one execution
    let envelope = |id: &str, media: &str, tag: Option<&str>, action: &str| {
        let mut target = json!({"mediaType": media, "repository": "acme/web", "digest": format!("sha256:{:0>64}", id.bytes().map(|b| format!("{b:02x}")).collect::<String>())});
        if let Some(t) = tag {
            target["tag"] = json!(t);
        }
        json!({"id": id, "action": action, "target": target, "actor": {"name": "ci"}, "request": {"host": "reg.example:5000"}})
    };
    let body = json!({"events": [
        envelope("b1", "application/octet-stream", None, "push"),
        envelope("m1", "application/vnd.oci.image.manifest.v1+json", None, "push"),
        envelope("m2", "application/vnd.oci.image.manifest.v1+json", None, "push"),
        envelope("i1", "application/vnd.oci.image.index.v1+json", Some("2.0"), "push"),
        envelope("i1p", "application/vnd.oci.image.index.v1+json", Some("2.0"), "pull"),
    ]});
    let res = reqwest::Client::new()
        .post(base)
        .bearer_auth(token)
        .header(
            "content-type",
            "application/vnd.docker.distribution.events.v2+json",
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["accepted"], 1);
    let rows = s.rows(2).await;
    assert_eq!(rows[0]["image"], "reg.example:5000/acme/web:2.0");
    assert_eq!(rows[0]["owner"], "ci");
    // the registry retries the same event id: a duplicate
    let res = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/vnd.docker.distribution.events.v1+json")
        .body(json!({"events": [envelope("i1", "application/vnd.oci.image.index.v1+json", Some("2.0"), "push")]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rows = s.rows(3).await;
    assert_eq!(rows[0]["status"], "DUPLICATE");
    // only pulls: nothing recorded
    let res = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body(json!({"events": [envelope("p9", "application/vnd.oci.image.manifest.v1+json", Some("1.0"), "pull")]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["accepted"], 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.rows(3).await;
    server.stop().await;
}

#[tokio::test]
async fn docker_hub_cards_are_kept_in_sync_with_docker_hub() {
    let hub =
        testkit::dockerhub::DockerHub::start("svendowideit", "hub-password", "dckr_pat_x").await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.admin_email = Some("root@example.com".into());
    c.admin_password = Some(PASSWORD.into());
    c.docker_hub_api = hub.url.clone();
    let server = start(c).await;
    let s = setup(
        &server,
        json!({"name": "hub", "serverType": "docker_hub", "url": "https://index.docker.io", "username": "svendowideit", "password": "hub-password"}),
    )
    .await;
    let card = s.create(s.card("web", "svendowideit/web", "")).await;
    let id = card["id"].as_i64().unwrap();
    assert_eq!(card["syncState"], "in_sync", "{card:#}");
    assert_eq!(card["listenerPath"], "/pipelines/api/docker-hub-webhooks");
    let hooks = hub.hooks();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].repository, "svendowideit/web");
    assert_eq!(hooks[0].hook_url, s.listener_url(id).await);

    // disable deletes it in Docker Hub, enable creates it again
    s.api
        .send("POST", &format!("/docker-webhooks/{id}/disable"), None)
        .await;
    assert!(hub.hooks().is_empty());
    s.api
        .send("POST", &format!("/docker-webhooks/{id}/enable"), None)
        .await;
    assert_eq!(hub.hooks().len(), 1);

    // Docker Hub fails: the card says so; Retry sync repairs it once Docker Hub is back
    hub.set_failing(true);
    let (_, c) = s
        .api
        .send(
            "POST",
            &format!("/docker-webhooks/{id}/regenerate-token"),
            None,
        )
        .await;
    assert_eq!(c["syncState"], "error");
    assert!(c["syncError"].as_str().unwrap().contains("503"), "{c:#}");
    let (status, err) = s
        .api
        .send("DELETE", &format!("/docker-webhooks/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    hub.set_failing(false);
    let (_, c) = s
        .api
        .send("POST", &format!("/docker-webhooks/{id}/retry-sync"), None)
        .await;
    assert_eq!(c["syncState"], "in_sync", "{c:#}");
    assert!(c["syncError"].is_null());
    assert_eq!(
        hub.hooks()[0].hook_url,
        s.listener_url(id).await,
        "the new token is in Docker Hub"
    );

    // a pattern cannot be a Docker Hub webhook: said on the card
    let mut pattern = s.card("many", "svendowideit/*", "");
    pattern["apiToken"] = json!(s.refresh);
    let c = s.create(pattern).await;
    assert_eq!(c["syncState"], "error");
    assert!(c["syncError"]
        .as_str()
        .unwrap()
        .contains("exact repository name"));

    let (status, _) = s
        .api
        .send("DELETE", &format!("/docker-webhooks/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(hub.hooks().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_corpus_of_hostile_deliveries_is_rejected_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let s = setup(
        &server,
        json!({"name": "hub", "serverType": "docker_registry", "url": "http://127.0.0.1:1"}),
    )
    .await;
    let card = s.create(s.card("any", "acme/web", "")).await;
    let url = s.listener_url(card["id"].as_i64().unwrap()).await;
    let token = url.split("secureToken=").nth(1).unwrap().to_owned();
    let hub_url = server.url(&format!(
        "/pipelines/api/docker-hub-webhooks?secureToken={token}"
    ));
    let long = "a".repeat(200 * 1024);
    let corpus: Vec<(&str, &str)> = vec![
        ("acme/web", "x\r\ny"),
        ("acme/web", "x\n      hostPID: true"),
        ("acme/web", "v 1"),
        ("acme/web", "../../etc/passwd"),
        ("acme/web", ""),
        ("acme/web", &long),
        ("acme/web", "😀"),
        ("acme/web", "-rc1"),
        ("h/<script>x</script>", "v1"),
        ("Acme/Web", "v1"),
        ("acme//web", "v1"),
        ("acme/../web", "v1"),
        ("acme/web\u{0}", "v1"),
        ("acme/we b", "v1"),
    ];
    for (i, (repo, tag)) in corpus.iter().enumerate() {
        let (ns, name) = repo.split_once('/').unwrap_or(("", repo));
        let body = json!({
            "push_data": {"pushed_at": i, "pusher": "mallory", "tag": tag},
            "repository": {"repo_name": repo, "namespace": ns, "name": name},
        })
        .to_string();
        let (status, reason) = post(&hub_url, "application/json", body).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{repo:?} {tag:?}: {reason}"
        );
        assert!(reason.contains("Rejected: "), "{reason}");
    }
    // an envelope of more pushes than one delivery may carry is refused unread
    let pushes: Vec<Value> = (0..101)
        .map(|i| {
            json!({"id": format!("e{i}"), "action": "push", "actor": {"name": "ci"},
                "request": {"host": "127.0.0.1:5000"},
                "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "repository": "acme/web", "tag": format!("v{i}"),
                           "digest": format!("sha256:{i:064x}")}})
        })
        .collect();
    let (status, reason) = post(
        &url,
        "application/json",
        json!({ "events": pushes }).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reason}");
    assert!(
        reason.contains("At most 100 image pushes per delivery; this one has 101"),
        "{reason}"
    );
    let rows = s.rows(corpus.len()).await;
    assert!(rows.iter().all(|r| r["status"] == "REJECTED"), "{rows:#?}");
    assert!(rows
        .iter()
        .all(|r| r["tag"].as_str().unwrap_or_default().chars().count() <= 121));
    assert!(
        s.executions().await.is_empty(),
        "no hostile event started anything"
    );
}
