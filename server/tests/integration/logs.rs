//! Secrets never reach the logs: the real `wharf` binary runs as a child process at debug level,
//! its output captured to a file, while a user signs in, makes tokens, stores a SECRET variable
//! and Kubernetes and registry endpoints with credentials, and validates them (so the credentials
//! are used for real). Then the captured output is searched for every secret.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::kube::{Cluster, KubeApi};
use testkit::wharf::{free_port, Wharf};

const ADMIN_PASSWORD: &str = "admin-pass-9c1d-never-logged";
const VARIABLE_VALUE: &str = "variable-value-41aa-never-logged";
const KUBE_TOKEN: &str = "kube-token-77b2-never-logged";
const REGISTRY_PASSWORD: &str = "registry-pass-5e0f-never-logged";

#[tokio::test]
async fn no_secret_appears_in_the_logs_even_at_debug_level() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("wharf.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let port = free_port();
    let bin = env!("CARGO_BIN_EXE_wharf");
    let extra = [("WHARF_LOG", "debug")];
    let child = Wharf::start(bin, dir.path(), port, ADMIN_PASSWORD, &extra, Some(&log)).await;
    let base = child.base.clone();
    let c = reqwest::Client::new();
    let api = |path: &str| format!("{base}/pipelines/api{path}");

    let created: Value = c
        .post(api("/tokens"))
        .json(&json!({"email": "root@example.com", "password": ADMIN_PASSWORD, "name": "ci"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = created["refreshToken"].as_str().unwrap().to_owned();
    let login: Value = c
        .post(api("/login"))
        .json(&json!({"refreshToken": refresh}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = login["token"].as_str().unwrap().to_owned();
    // a wrong password is logged as a failure, without the password
    let res = c
        .post(api("/tokens"))
        .json(&json!({"email": "root@example.com", "password": "wrong-pass-never-logged", "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let project: Value = c
        .post(api("/projects"))
        .bearer_auth(&access)
        .json(&json!({"name": "web"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let web = project["id"].as_i64().unwrap();
    let res = c
        .post(api(&format!("/projects/{web}/variables")))
        .bearer_auth(&access)
        .json(&json!({"name": "DB_PASSWORD", "kind": "SECRET", "value": VARIABLE_VALUE}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let cluster = KubeApi::start(Cluster::with_token(KUBE_TOKEN, "deployer")).await;
    for body in [
        json!({"name": "cluster", "kind": "kubernetes", "url": cluster.url, "authMethod": "bearer_token", "password": KUBE_TOKEN, "namespace": "web"}),
        json!({"name": "registry", "serverType": "docker_registry", "url": format!("http://127.0.0.1:{}", free_port()), "username": "alice", "password": REGISTRY_PASSWORD}),
    ] {
        let e: Value = c
            .post(api(&format!("/projects/{web}/endpoints")))
            .bearer_auth(&access)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = e["id"].as_i64().expect("created");
        let v: Value = c
            .post(api(&format!("/projects/{web}/endpoints/{id}/validate")))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(v["message"].is_string(), "{v}");
    }
    assert_eq!(cluster.requests().len(), 2, "the token was really used");
    // every response so far, listed again, holds no secret either
    let listed = c
        .get(api(&format!("/projects/{web}/endpoints")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        + &c.get(api(&format!("/projects/{web}/variables")))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();

    drop(child);
    let output = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        output.contains("/pipelines/api/projects"),
        "the log captured the requests: {output}"
    );
    for secret in [
        ADMIN_PASSWORD,
        "wrong-pass-never-logged",
        VARIABLE_VALUE,
        KUBE_TOKEN,
        REGISTRY_PASSWORD,
        &refresh,
        &access,
    ] {
        assert!(
            !output.contains(secret),
            "{secret} is in the log:\n{output}"
        );
        assert!(!listed.contains(secret), "{secret} is in a response");
    }
}
