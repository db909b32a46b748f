//! Real helpers started by tests: Debian's docker-registry on a loopback port, and a stand-in
//! for a registry that uses token authentication (Docker Hub's and Harbor's contract).

use backend::access::accounts::{self, Actor, NewUser};
use backend::access::projects;
use backend::platform::db::{connect_and_migrate, DbConfig};
use backend::platform::secrets::Sealer;
use backend::{Backend, SystemClock};
use domain::ProjectRole;
use std::sync::Arc;
#[allow(unused_imports)]
pub use testkit::registry::{free_port, push_image, Registry, CLOSED_PORT};

/// A registry stand-in with Docker's token authentication: `GET /v2/` challenges with
/// `Bearer realm=…/token`, and `/token` gives a token for the right basic credentials.
pub async fn token_registry(user: &'static str, password: &'static str) -> String {
    use axum::http::{header, HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let realm = format!("{base}/token");
    let expected_basic = format!(
        "Basic {}",
        base64_encode(format!("{user}:{password}").as_bytes())
    );
    let app = axum::Router::new()
        .route(
            "/v2/",
            get(move |headers: HeaderMap| {
                let realm = realm.clone();
                async move {
                    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some("Bearer stand-in-token") {
                        StatusCode::OK.into_response()
                    } else {
                        (
                            StatusCode::UNAUTHORIZED,
                            [(header::WWW_AUTHENTICATE, format!(r#"Bearer realm="{realm}",service="stand-in",scope="registry:catalog:*""#))],
                        )
                            .into_response()
                    }
                }
            }),
        )
        .route(
            "/token",
            get(move |headers: HeaderMap, q: axum::extract::RawQuery| {
                let expected = expected_basic.clone();
                async move {
                    let ok = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str())
                        && q.0.is_some_and(|q| q.contains("service=stand-in"));
                    if ok {
                        axum::Json(serde_json::json!({"token": "stand-in-token"})).into_response()
                    } else {
                        StatusCode::UNAUTHORIZED.into_response()
                    }
                }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The Docker Hub stand-in (sign-in and webhooks) where `user` signs in with `password` or
/// `access_token`; returns its base URL.
pub async fn docker_hub(
    user: &'static str,
    password: &'static str,
    access_token: &'static str,
) -> String {
    testkit::dockerhub::DockerHub::start(user, password, access_token)
        .await
        .url
}

pub const PW: &str = "correct horse battery";

/// A project "web" with an administrator (root), a member and a viewer, on a fresh SQLite file.
pub struct World {
    pub backend: Backend,
    pub root: Actor,
    pub member: Actor,
    pub viewer: Actor,
    pub project: i64,
    pub dir: tempfile::TempDir,
}

pub async fn world() -> World {
    world_with(Arc::new(SystemClock)).await
}

/// [`world`] with time from `clock`.
pub async fn world_with(clock: Arc<dyn backend::Clock>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = testkit::database::url(dir.path());
    let db = connect_and_migrate(&DbConfig {
        url,
        max_connections: 4,
        instance: String::new(),
    })
    .await
    .unwrap();
    let key =
        backend::platform::keys::MasterKey::load_or_create(&dir.path().join("wharf.key")).unwrap();
    let backend = Backend::new(db, clock, Arc::new(Sealer::new(&key)));
    let u = accounts::create_first_admin(&backend, "root@example.com", "Root", PW)
        .await
        .unwrap();
    let root = Actor {
        user_id: u.id,
        is_admin: true,
    };
    let mut actors = Vec::new();
    for email in ["mia@example.com", "vic@example.com"] {
        let r = accounts::create_user(
            &backend,
            root,
            NewUser {
                email: email.into(),
                display_name: email.into(),
                password: PW.into(),
                is_admin: false,
            },
        )
        .await
        .unwrap();
        actors.push(Actor {
            user_id: r.id,
            is_admin: false,
        });
    }
    let p = projects::create(&backend, root, "web", "").await.unwrap();
    projects::add_member(&backend, root, p.id, "mia@example.com", ProjectRole::Member)
        .await
        .unwrap();
    projects::add_member(&backend, root, p.id, "vic@example.com", ProjectRole::Viewer)
        .await
        .unwrap();
    World {
        backend,
        root,
        member: actors[0],
        viewer: actors[1],
        project: p.id,
        dir,
    }
}
