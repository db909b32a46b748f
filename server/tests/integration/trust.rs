//! Trust boundaries over HTTP: sessions, security headers and the sign-in redirect, and the
//! endpoint API's refusal to keep a secret for a changed destination.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn every_response_carries_the_security_headers_and_pages_a_nonce_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (server, browser) = with_admin(dir.path()).await;
    for (path, page) in [
        ("/", true),
        ("/executions", true),
        ("/healthz", false),
        ("/pipelines/api/openapi.json", false),
        ("/pipelines/api/nothing-here", false),
    ] {
        let res = browser.get(server.url(path)).send().await.unwrap();
        let h = res.headers();
        let header = |k: &str| {
            h.get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        if page {
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let nonce = csp
                .split("'nonce-")
                .nth(1)
                .and_then(|r| r.split('\'').next())
                .unwrap_or_else(|| panic!("{path}: no nonce in {csp}"))
                .to_owned();
            assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("script-src 'self'"));
            let html = res.text().await.unwrap();
            // every inline script of the page carries the nonce the header allows
            for script in html.split("<script").skip(1) {
                let tag = script.split('>').next().unwrap_or_default();
                if !tag.contains("src=") {
                    assert!(
                        tag.contains(&format!("nonce=\"{nonce}\"")),
                        "{path}: <script{tag}>"
                    );
                }
            }
        } else {
            assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn signing_in_never_leads_to_another_site() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    for next in [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "/%2f/evil.example",
        "/%5C%5Cevil.example",
        "https://evil.example/",
        "/%09/evil.example",
    ] {
        let b = browser();
        let res = call::<app::api::SignIn>(
            &b,
            &server,
            &[
                ("email", "root@example.com"),
                ("password", PASSWORD),
                ("next", next),
            ],
        )
        .await;
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("/");
        assert_eq!(location, "/", "next={next:?} led to {location:?}");
    }
    let b = browser();
    let res = call::<app::api::SignIn>(
        &b,
        &server,
        &[
            ("email", "root@example.com"),
            ("password", PASSWORD),
            ("next", "/executions?status=FAILED"),
        ],
    )
    .await;
    assert_eq!(
        res.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/executions?status=FAILED")
    );
    server.stop().await;
}

/// Waits until the open stream `res` ends (or sends `signed-out`); the time it took.
async fn until_stream_ends(mut res: reqwest::Response) -> Duration {
    let start = Instant::now();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), res.chunk()).await {
            Ok(Ok(Some(chunk))) if String::from_utf8_lossy(&chunk).contains("signed-out") => {
                return start.elapsed()
            }
            Ok(Ok(Some(_))) => {}
            Ok(_) => return start.elapsed(),
            Err(_) => panic!("the stream was still open after 10 s"),
        }
    }
}

#[tokio::test]
async fn a_password_reset_or_disabling_revokes_tokens_and_ends_live_streams_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let root = Api::new(&server).await;
    for email in ["mia@example.com", "vic@example.com"] {
        let (status, u) = root
            .send(
                "POST",
                "/users",
                Some(json!({"email": email, "displayName": "M", "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{u}");
    }
    let (_, users) = root.send("GET", "/users", None).await;
    let id_of = |email: &str| {
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .and_then(|u| u["id"].as_i64())
            .unwrap()
    };
    let c = reqwest::Client::new();
    for (email, change) in [
        (
            "mia@example.com",
            json!({"password": "a brand new password"}),
        ),
        ("vic@example.com", json!({"disabled": true})),
    ] {
        let (refresh, access, _) = tokens_for(&server, email, PASSWORD).await;
        let b = browser();
        sign_in(&b, &server, email, PASSWORD).await;
        let stream = b.get(server.url("/live/executions")).send().await.unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
        let (status, body) = if change.get("password").is_some() {
            root.send(
                "POST",
                &format!("/users/{}/password", id_of(email)),
                Some(change),
            )
            .await
        } else {
            root.send("PATCH", &format!("/users/{}", id_of(email)), Some(change))
                .await
        };
        assert!(status.is_success(), "{status} {body}");
        let took = until_stream_ends(stream).await;
        println!("{email}: the live stream ended {took:?} after the change");
        assert!(
            took < Duration::from_secs(4),
            "{email}: the stream ended after {took:?}"
        );
        // the access token and the refresh token stopped working
        let res = c
            .get(server.url("/pipelines/api/projects"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{email}");
        let res = c
            .post(server.url("/pipelines/api/login"))
            .json(&json!({"refreshToken": refresh}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{email}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_endpoint_api_asks_for_the_password_again_when_the_url_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let api = Api::new(&server).await;
    let (_, p) = api
        .send("POST", "/projects", Some(json!({"name": "web"})))
        .await;
    let project = p["id"].as_i64().unwrap();
    let (status, e) = api
        .send(
            "POST",
            &format!("/projects/{project}/endpoints"),
            Some(json!({"name": "reg", "kind": "docker_registry", "serverType": "docker_registry",
                        "url": "http://127.0.0.1:1", "username": "alice", "password": "stored-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    let path = format!("/projects/{project}/endpoints/{}", e["id"]);
    let (status, err) = api
        .send("PATCH", &path, Some(json!({"url": "http://127.0.0.2:1"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["field"], "password");
    assert!(
        err["message"].as_str().unwrap().contains("URL changed"),
        "{err}"
    );
    let (_, kept) = api.send("GET", &path, None).await;
    assert_eq!(kept["url"], "http://127.0.0.1:1", "nothing changed");
    let (status, moved) = api
        .send(
            "PATCH",
            &path,
            Some(json!({"url": "http://127.0.0.2:1", "password": "the-new-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    server.stop().await;
}
