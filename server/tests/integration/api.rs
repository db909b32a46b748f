//! The REST API over HTTP: tokens, bearer access, errors, and the OpenAPI document.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn started() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    (server, dir)
}

fn api(server: &TestServer, path: &str) -> String {
    server.url(&format!("/pipelines/api{path}"))
}

async fn refresh_token_for(c: &reqwest::Client, server: &TestServer, email: &str) -> Value {
    let res = c
        .post(api(server, "/tokens"))
        .json(&json!({"email": email, "password": PASSWORD, "name": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn refresh_token(c: &reqwest::Client, server: &TestServer) -> Value {
    refresh_token_for(c, server, "root@example.com").await
}

async fn exchange(c: &reqwest::Client, server: &TestServer, refresh: &Value) -> String {
    let login: Value = c
        .post(api(server, "/login"))
        .json(&json!({"refreshToken": refresh}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"].as_str().unwrap().to_owned()
}

async fn access_for(c: &reqwest::Client, server: &TestServer, email: &str) -> String {
    let created = refresh_token_for(c, server, email).await;
    exchange(c, server, &created["refreshToken"]).await
}

#[tokio::test]
async fn a_token_is_created_exchanged_used_and_revoked_over_the_api() {
    let (server, _dir) = started().await;
    let c = reqwest::Client::new();
    let created = refresh_token(&c, &server).await;
    let refresh = created["refreshToken"].as_str().unwrap();
    assert!(refresh.starts_with("wharf_rt_"));
    assert!(created["expiresAt"].as_str().is_some());

    let access = exchange(&c, &server, &created["refreshToken"]).await;

    let list = c
        .get(api(&server, "/tokens"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let list: Value = list.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["status"], "active");
    assert!(
        !list.to_string().contains(refresh),
        "the token itself is never listed"
    );

    let id = created["id"].as_i64().unwrap();
    let res = c
        .delete(api(&server, &format!("/tokens/{id}")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = c
        .get(api(&server, "/tokens"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");
    let res = c
        .post(api(&server, "/login"))
        .json(&json!({"refreshToken": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_clear_errors_with_stable_codes() {
    let (server, _dir) = started().await;
    let c = reqwest::Client::new();
    let token = access_for(&c, &server, "root@example.com").await;
    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            c.post(api(&server, "/tokens"))
                .json(&json!({"email": "root@example.com", "password": "wrong", "name": "x"})),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            c.post(api(&server, "/tokens"))
                .header("content-type", "application/json")
                .body("{not json"),
            StatusCode::BAD_REQUEST,
            "malformed",
        ),
        (
            c.post(api(&server, "/tokens"))
                .json(&json!({"email": "a@b.c", "password": "p", "name": "x", "admin": true})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            c.post(api(&server, "/tokens"))
                .json(&json!({"email": "a@b.c"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            c.post(api(&server, "/tokens"))
                .header("content-type", "text/plain")
                .body("email=a"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            c.post(api(&server, "/login"))
                .json(&json!({"refreshToken": "wharf_rt_nope"})),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            c.get(api(&server, "/tokens")),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            c.get(api(&server, "/tokens"))
                .bearer_auth("wharf_at_forged"),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        // 401 before anything else: an anonymous caller learns nothing of routes or methods
        (
            c.get(api(&server, "/no-such-thing")),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            c.delete(api(&server, "/projects")),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            c.get(api(&server, "/no-such-thing")).bearer_auth(&token),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            c.delete(api(&server, "/projects")).bearer_auth(&token),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            c.get(api(&server, "/projects/not-a-number"))
                .bearer_auth(&token),
            StatusCode::BAD_REQUEST,
            "malformed",
        ),
        (
            c.get(api(&server, "/projects?pageSize=0"))
                .bearer_auth(&token),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            c.get(api(&server, "/projects?colour=red"))
                .bearer_auth(&token),
            StatusCode::BAD_REQUEST,
            "malformed",
        ),
        (
            c.post(api(&server, "/registry-webhooks"))
                .json(&json!({"events": []})),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            c.post(api(&server, "/login"))
                .header("content-type", "application/json")
                .body(vec![b' '; 2 * 1024 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (i, (req, status, code)) in cases.into_iter().enumerate() {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), status, "case {i}");
        let body: Value = res
            .json()
            .await
            .unwrap_or_else(|e| panic!("case {i}: not JSON: {e}"));
        assert_eq!(body["code"], code, "case {i}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "case {i}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn list_calls_are_paginated() {
    let (server, _dir) = started().await;
    let c = reqwest::Client::new();
    for _ in 0..3 {
        refresh_token(&c, &server).await;
    }
    let created = refresh_token(&c, &server).await;
    let access = &exchange(&c, &server, &created["refreshToken"]).await;
    let page: Value = c
        .get(api(&server, "/tokens?page=2&pageSize=3"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 4);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["pageSize"], 3);
    let res = c
        .get(api(&server, "/tokens?pageSize=1000"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_and_the_routes_agree() {
    let (server, _dir) = started().await;
    let c = reqwest::Client::new();
    let doc: Value = c
        .get(api(&server, "/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
            // every documented operation is served: never 404/405 from the router
            let url = server.url(
                &path
                    .replace("{id}", "1")
                    .replace("{userId}", "1")
                    .replace("{variableId}", "1"),
            );
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = c
                .request(m, &url)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert!(
                res.status() != StatusCode::METHOD_NOT_ALLOWED
                    && !(res.status() == StatusCode::NOT_FOUND
                        && res.json::<Value>().await.unwrap()["message"]
                            == "There is no such API route."),
                "{method} {path} is documented but not routed"
            );
        }
    }
    documented.sort();
    // and every route the API serves is documented: this is the whole list
    assert_eq!(
        documented,
        vec![
            "DELETE /pipelines/api/docker-webhooks/{id}",
            "DELETE /pipelines/api/executions/{id}",
            "DELETE /pipelines/api/pipelines/{id}",
            "DELETE /pipelines/api/projects/{id}",
            "DELETE /pipelines/api/projects/{id}/endpoints/{endpointId}",
            "DELETE /pipelines/api/projects/{id}/members/{userId}",
            "DELETE /pipelines/api/projects/{id}/variables/{variableId}",
            "DELETE /pipelines/api/tokens/{id}",
            "GET /pipelines/api/docker-activity/{id}",
            "GET /pipelines/api/docker-webhooks/{id}",
            "GET /pipelines/api/docker-webhooks/{id}/listener-url",
            "GET /pipelines/api/executions/{id}",
            "GET /pipelines/api/executions/{id}/stages/{stage}/tasks/{task}/log",
            "GET /pipelines/api/pipelines/{id}",
            "GET /pipelines/api/pipelines/{id}/export",
            "GET /pipelines/api/projects",
            "GET /pipelines/api/projects/{id}",
            "GET /pipelines/api/projects/{id}/docker-activity",
            "GET /pipelines/api/projects/{id}/docker-webhooks",
            "GET /pipelines/api/projects/{id}/endpoints",
            "GET /pipelines/api/projects/{id}/endpoints/{endpointId}",
            "GET /pipelines/api/projects/{id}/executions",
            "GET /pipelines/api/projects/{id}/pipelines",
            "GET /pipelines/api/projects/{id}/variables",
            "GET /pipelines/api/tokens",
            "GET /pipelines/api/user-operations",
            "GET /pipelines/api/user-operations/{id}",
            "GET /pipelines/api/users",
            "PATCH /pipelines/api/pipelines/{id}",
            "PATCH /pipelines/api/projects/{id}",
            "PATCH /pipelines/api/projects/{id}/endpoints/{endpointId}",
            "PATCH /pipelines/api/projects/{id}/members/{userId}",
            "PATCH /pipelines/api/projects/{id}/variables/{variableId}",
            "PATCH /pipelines/api/users/{id}",
            "POST /pipelines/api/docker-activity/{id}/resubmit",
            "POST /pipelines/api/docker-hub-webhooks",
            "POST /pipelines/api/docker-webhooks/{id}/{action}",
            "POST /pipelines/api/executions/{id}/actions",
            "POST /pipelines/api/login",
            "POST /pipelines/api/pipelines/{id}/executions",
            "POST /pipelines/api/pipelines/{id}/inject-docker-inputs",
            "POST /pipelines/api/projects",
            "POST /pipelines/api/projects/{id}/docker-webhooks",
            "POST /pipelines/api/projects/{id}/endpoints",
            "POST /pipelines/api/projects/{id}/endpoints/certificate",
            "POST /pipelines/api/projects/{id}/endpoints/{endpointId}/validate",
            "POST /pipelines/api/projects/{id}/members",
            "POST /pipelines/api/projects/{id}/pipelines",
            "POST /pipelines/api/projects/{id}/pipelines/import",
            "POST /pipelines/api/projects/{id}/variables",
            "POST /pipelines/api/registry-webhooks",
            "POST /pipelines/api/tokens",
            "POST /pipelines/api/user-operations/{id}/approve",
            "POST /pipelines/api/user-operations/{id}/reject",
            "POST /pipelines/api/users",
            "POST /pipelines/api/users/{id}/password",
            "PUT /pipelines/api/docker-webhooks/{id}",
        ]
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    server.stop().await;
}

async fn create_project(c: &reqwest::Client, server: &TestServer, token: &str, name: &str) -> i64 {
    let res = c
        .post(api(server, "/projects"))
        .bearer_auth(token)
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn projects_members_and_variables_follow_the_same_rules_over_the_api() {
    let (server, _dir) = started().await;
    let c = reqwest::Client::new();
    let root = access_for(&c, &server, "root@example.com").await;
    let web = create_project(&c, &server, &root, "web").await;
    let ops = create_project(&c, &server, &root, "ops").await;

    // a viewer, made through the UI's server function and added over the API
    let browser = browser();
    sign_in(&browser, &server, "root@example.com", PASSWORD).await;
    call::<app::api::CreateUser>(
        &browser,
        &server,
        &[
            ("email", "viv@example.com"),
            ("display_name", "Viv"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let res = c
        .post(api(&server, &format!("/projects/{web}/members")))
        .bearer_auth(&root)
        .json(&json!({"email": "viv@example.com", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = c
        .post(api(&server, &format!("/projects/{web}/variables")))
        .bearer_auth(&root)
        .json(&json!({"name": "PULL_SECRET", "kind": "SECRET", "value": "api-secret-value"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = res.text().await.unwrap();
    assert!(!body.contains("api-secret-value"), "{body}");

    let viv = access_for(&c, &server, "viv@example.com").await;
    let list: Value = c
        .get(api(&server, "/projects"))
        .bearer_auth(&viv)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["myRole"], "viewer");
    let vars = c
        .get(api(&server, &format!("/projects/{web}/variables")))
        .bearer_auth(&viv)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        vars.contains("PULL_SECRET") && !vars.contains("api-secret-value"),
        "{vars}"
    );
    let res = c
        .patch(api(&server, &format!("/projects/{web}")))
        .bearer_auth(&viv)
        .json(&json!({"name": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = c
        .post(api(&server, &format!("/projects/{web}/variables")))
        .bearer_auth(&viv)
        .json(&json!({"name": "X", "kind": "REGULAR", "value": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // another project's objects are not found, not forbidden
    for path in [
        format!("/projects/{ops}"),
        format!("/projects/{ops}/variables"),
    ] {
        let res = c
            .get(api(&server, &path))
            .bearer_auth(&viv)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // the administrator renames; fields left out keep their values
    let res = c
        .patch(api(&server, &format!("/projects/{web}")))
        .bearer_auth(&root)
        .json(&json!({"description": "site"}))
        .send()
        .await
        .unwrap();
    let p: Value = res.json().await.unwrap();
    assert_eq!(
        (p["name"].as_str(), p["description"].as_str()),
        (Some("web"), Some("site"))
    );
    let res = c
        .patch(api(&server, &format!("/projects/{web}")))
        .bearer_auth(&root)
        .json(&json!({"name": "OPS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "conflict");
    server.stop().await;
}

#[tokio::test]
async fn endpoints_take_a_password_never_return_it_and_validate_in_words() {
    let (server, _dir) = started().await;
    let c = reqwest::Client::new();
    let root = access_for(&c, &server, "root@example.com").await;
    let web = create_project(&c, &server, &root, "web").await;
    let res = c
        .post(api(&server, &format!("/projects/{web}/endpoints")))
        .bearer_auth(&root)
        .json(&json!({"name": "local", "serverType": "docker_registry", "url": "http://127.0.0.1:1", "username": "alice", "password": "endpoint-pass-never-shown"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["hasSecret"], true);
    assert!(!created.to_string().contains("endpoint-pass-never-shown"));
    let id = created["id"].as_i64().unwrap();

    let v: Value = c
        .post(api(
            &server,
            &format!("/projects/{web}/endpoints/{id}/validate"),
        ))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ok"], false);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("No registry at this URL"),
        "{v}"
    );

    let list = c
        .get(api(&server, &format!("/projects/{web}/endpoints")))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("No registry at this URL") && !list.contains("endpoint-pass-never-shown"),
        "{list}"
    );
    // renaming keeps the stored password
    let patched: Value = c
        .patch(api(&server, &format!("/projects/{web}/endpoints/{id}")))
        .bearer_auth(&root)
        .json(&json!({"name": "renamed"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (patched["name"].as_str(), patched["hasSecret"].as_bool()),
        (Some("renamed"), Some(true))
    );
    // plain http has no certificate to accept
    let res = c
        .post(api(
            &server,
            &format!("/projects/{web}/endpoints/certificate"),
        ))
        .bearer_auth(&root)
        .json(&json!({"url": "http://127.0.0.1:1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = c
        .delete(api(&server, &format!("/projects/{web}/endpoints/{id}")))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    server.stop().await;
}
