//! Real helpers started by tests: Debian's docker-registry on a loopback port, and a stand-in
//! for a registry that uses token authentication (Docker Hub's and Harbor's contract).

#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (the listener is closed before the helper binds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Debian's `docker-registry` (CNCF distribution 2.8), killed when dropped.
pub struct Registry {
    pub url: String,
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry that accepts `user`/`password` through htpasswd (bcrypt).
    pub fn with_htpasswd(user: &str, password: &str) -> Registry {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("htpasswd")
            .args(["-Bbn", user, password])
            .output()
            .expect("htpasswd (apache2-utils) is installed by scripts/setup.sh --test");
        assert!(out.status.success(), "htpasswd failed");
        std::fs::write(dir.path().join("htpasswd"), &out.stdout).expect("write htpasswd");
        Self::start(
            dir,
            "auth:\n  htpasswd:\n    realm: wharf-test\n    path: {dir}/htpasswd\n",
        )
    }

    /// Starts an anonymous registry serving TLS with the given PEM certificate and key, on
    /// `port` (or a free one).
    pub fn with_tls(cert_pem: &str, key_pem: &str, port: Option<u16>) -> Registry {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("cert.pem"), cert_pem).expect("write cert");
        std::fs::write(dir.path().join("key.pem"), key_pem).expect("write key");
        Self::start_on(
            dir,
            "  tls:\n    certificate: {dir}/cert.pem\n    key: {dir}/key.pem\n",
            port.unwrap_or_else(free_port),
            "https",
        )
    }

    fn start(dir: tempfile::TempDir, auth: &str) -> Registry {
        Self::start_on(dir, auth, free_port(), "http")
    }

    fn start_on(dir: tempfile::TempDir, extra: &str, port: u16, scheme: &str) -> Registry {
        let d = dir.path().display().to_string();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {d}/data\nhttp:\n  addr: 127.0.0.1:{port}\n{}",
            extra.replace("{dir}", &d)
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry is installed by scripts/setup.sh --test");
        let url = format!("{scheme}://127.0.0.1:{port}");
        wait_for_port(port, Duration::from_secs(10));
        Registry {
            url,
            port,
            child,
            _dir: dir,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_port(port: u16, within: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < within,
            "helper did not listen on {port} within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

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

/// A stand-in for Docker Hub's sign-in API (`POST /v2/users/login`, `POST /v2/auth/token`):
/// it accepts `user` with `password`, or `user` with `access_token`.
pub async fn docker_hub(
    user: &'static str,
    password: &'static str,
    access_token: &'static str,
) -> String {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::post;
    use axum::Json;
    use serde_json::{json, Value};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new()
        .route(
            "/v2/users/login",
            post(move |Json(b): Json<Value>| async move {
                if b["username"] == user && b["password"] == password {
                    Json(json!({"token": "hub-jwt-password"})).into_response()
                } else {
                    (
                        StatusCode::UNAUTHORIZED,
                        Json(json!({"detail": "Incorrect authentication credentials"})),
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/v2/auth/token",
            post(move |Json(b): Json<Value>| async move {
                if b["identifier"] == user && b["secret"] == access_token {
                    Json(json!({"access_token": "hub-jwt-pat"})).into_response()
                } else {
                    (
                        StatusCode::UNAUTHORIZED,
                        Json(json!({"detail": "invalid credentials"})),
                    )
                        .into_response()
                }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}
