//! A stand-in for Docker Hub's API, the parts Wharf calls: sign-in (`POST /v2/users/login`
//! with a password, `POST /v2/auth/token` with an access token) and repository webhooks
//! (`GET`/`POST /v2/repositories/{namespace}/{repo}/webhook_pipeline/`,
//! `DELETE …/webhook_pipeline/{slug}/`), answering as Docker Hub documents. Accounts manage
//! only repositories in their own namespace. A test can make the webhook calls fail.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A webhook as the stand-in stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// `namespace/repo`.
    pub repository: String,
    /// Its name (and slug).
    pub name: String,
    /// Where Docker Hub would post.
    pub hook_url: String,
}

#[derive(Debug, Default)]
struct Hub {
    user: String,
    password: String,
    access_token: String,
    hooks: BTreeMap<(String, String), Hook>,
    failing: bool,
}

type Shared = Arc<Mutex<Hub>>;

/// A running stand-in.
#[derive(Debug, Clone)]
pub struct DockerHub {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    hub: Shared,
}

fn lock(hub: &Shared) -> std::sync::MutexGuard<'_, Hub> {
    hub.lock().unwrap_or_else(|e| e.into_inner())
}

fn detail(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "detail": message }))).into_response()
}

async fn login(State(hub): State<Shared>, Json(b): Json<Value>) -> Response {
    let h = lock(&hub);
    if b["username"] == h.user.as_str() && b["password"] == h.password.as_str() {
        Json(json!({ "token": "hub-jwt-password" })).into_response()
    } else {
        detail(
            StatusCode::UNAUTHORIZED,
            "Incorrect authentication credentials",
        )
    }
}

async fn auth_token(State(hub): State<Shared>, Json(b): Json<Value>) -> Response {
    let h = lock(&hub);
    if b["identifier"] == h.user.as_str() && b["secret"] == h.access_token.as_str() {
        Json(json!({ "access_token": "hub-jwt-pat" })).into_response()
    } else {
        detail(StatusCode::UNAUTHORIZED, "invalid credentials")
    }
}

/// Checks the bearer JWT and the namespace; the error response when either is wrong.
fn authorize(h: &Hub, headers: &HeaderMap, namespace: &str) -> Option<Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !matches!(bearer, Some("hub-jwt-password" | "hub-jwt-pat")) {
        return Some(detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        ));
    }
    if namespace != h.user {
        return Some(detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        ));
    }
    if h.failing {
        return Some(detail(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        ));
    }
    None
}

async fn list_hooks(
    State(hub): State<Shared>,
    headers: HeaderMap,
    Path((ns, repo)): Path<(String, String)>,
) -> Response {
    let h = lock(&hub);
    if let Some(r) = authorize(&h, &headers, &ns) {
        return r;
    }
    let repository = format!("{ns}/{repo}");
    let results: Vec<Value> = h
        .hooks
        .values()
        .filter(|k| k.repository == repository)
        .map(|k| json!({ "name": k.name, "slug": k.name, "webhooks": [{ "name": k.name, "hook_url": k.hook_url }] }))
        .collect();
    Json(json!({ "count": results.len(), "results": results })).into_response()
}

async fn create_hook(
    State(hub): State<Shared>,
    headers: HeaderMap,
    Path((ns, repo)): Path<(String, String)>,
    Json(b): Json<Value>,
) -> Response {
    let mut h = lock(&hub);
    if let Some(r) = authorize(&h, &headers, &ns) {
        return r;
    }
    let (Some(name), Some(hook_url)) = (b["name"].as_str(), b["webhooks"][0]["hook_url"].as_str())
    else {
        return detail(
            StatusCode::BAD_REQUEST,
            "name and webhooks[0].hook_url are required",
        );
    };
    let repository = format!("{ns}/{repo}");
    let key = (repository.clone(), name.to_owned());
    if h.hooks.contains_key(&key) {
        return detail(
            StatusCode::CONFLICT,
            "A webhook with this name already exists.",
        );
    }
    h.hooks.insert(
        key,
        Hook {
            repository,
            name: name.to_owned(),
            hook_url: hook_url.to_owned(),
        },
    );
    (
        StatusCode::CREATED,
        Json(json!({ "name": name, "slug": name, "webhooks": [{ "name": name, "hook_url": hook_url }] })),
    )
        .into_response()
}

async fn delete_hook(
    State(hub): State<Shared>,
    headers: HeaderMap,
    Path((ns, repo, slug)): Path<(String, String, String)>,
) -> Response {
    let mut h = lock(&hub);
    if let Some(r) = authorize(&h, &headers, &ns) {
        return r;
    }
    match h.hooks.remove(&(format!("{ns}/{repo}"), slug)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => detail(StatusCode::NOT_FOUND, "Not found."),
    }
}

impl DockerHub {
    /// Starts a stand-in where `user` signs in with `password` or `access_token`.
    pub async fn start(user: &str, password: &str, access_token: &str) -> DockerHub {
        let hub: Shared = Arc::new(Mutex::new(Hub {
            user: user.to_owned(),
            password: password.to_owned(),
            access_token: access_token.to_owned(),
            ..Hub::default()
        }));
        let app = Router::new()
            .route("/v2/users/login", post(login))
            .route("/v2/auth/token", post(auth_token))
            .route(
                "/v2/repositories/{ns}/{repo}/webhook_pipeline/",
                post(create_hook).get(list_hooks),
            )
            .route(
                "/v2/repositories/{ns}/{repo}/webhook_pipeline/{slug}/",
                delete(delete_hook),
            )
            .with_state(hub.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        DockerHub { url, hub }
    }

    /// The webhooks Docker Hub holds now.
    pub fn hooks(&self) -> Vec<Hook> {
        lock(&self.hub).hooks.values().cloned().collect()
    }

    /// Starts a control server for tests in other processes (Playwright): `POST /failing` with
    /// `{"failing": bool}`; `GET /hooks` lists the webhooks. Returns its base URL.
    pub async fn control(&self) -> String {
        let hub = self.hub.clone();
        let app = Router::new()
            .route(
                "/failing",
                post(|State(hub): State<Shared>, Json(b): Json<Value>| async move {
                    lock(&hub).failing = b["failing"].as_bool().unwrap_or(false);
                    StatusCode::NO_CONTENT
                }),
            )
            .route(
                "/hooks",
                axum::routing::get(|State(hub): State<Shared>| async move {
                    let hooks: Vec<Value> = lock(&hub)
                        .hooks
                        .values()
                        .map(|h| json!({"repository": h.repository, "name": h.name, "hook_url": h.hook_url}))
                        .collect();
                    Json(json!(hooks))
                }),
            )
            .with_state(hub);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        url
    }

    /// Makes the webhook calls answer 503 (sign-in keeps working).
    pub fn set_failing(&self, failing: bool) {
        lock(&self.hub).failing = failing;
    }
}
