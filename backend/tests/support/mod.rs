//! Real helpers started by tests: Debian's docker-registry on a loopback port, and a stand-in
//! for a registry that uses token authentication (Docker Hub's and Harbor's contract).

#![allow(dead_code)]

use backend::accounts::{self, Actor, NewUser};
use backend::db::{connect_and_migrate, DbConfig};
use backend::secrets::Sealer;
use backend::{projects, Backend, SystemClock};
use domain::ProjectRole;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A loopback port where nothing ever listens (1, tcpmux, is never served here): connections
/// are refused at once.
pub const CLOSED_PORT: u16 = 1;

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
            port,
            "https",
        )
    }

    fn start(dir: tempfile::TempDir, auth: &str) -> Registry {
        Self::start_on(dir, auth, None, "http")
    }

    /// Starts on `port`, or on a free port when `None` (retrying if a parallel helper took it).
    fn start_on(dir: tempfile::TempDir, extra: &str, port: Option<u16>, scheme: &str) -> Registry {
        let d = dir.path().display().to_string();
        for _ in 0..5 {
            let port = port.unwrap_or_else(free_port);
            let config = format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {d}/data\nhttp:\n  addr: 127.0.0.1:{port}\n{}",
                extra.replace("{dir}", &d)
            );
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).expect("write config");
            if let Some(child) = spawn_registry(&config_path, port) {
                return Registry {
                    url: format!("{scheme}://127.0.0.1:{port}"),
                    port,
                    child,
                    _dir: dir,
                };
            }
        }
        panic!("docker-registry did not start on a free port in five tries");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts docker-registry and waits until it listens; `None` when it exited at once because a
/// parallel helper took the port between `free_port` and the bind.
fn spawn_registry(config_path: &std::path::Path, port: u16) -> Option<Child> {
    let mut child = Command::new("docker-registry")
        .arg("serve")
        .arg(config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry is installed by scripts/setup.sh --test");
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            // a registry that failed to bind exits at once; make sure the listener is ours
            std::thread::sleep(Duration::from_millis(50));
            return match child.try_wait() {
                Ok(None) => Some(child),
                _ => None,
            };
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "docker-registry did not listen on {port}"
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
    let url = format!("sqlite://{}/wharf.db", dir.path().display());
    let db = connect_and_migrate(&DbConfig {
        url,
        max_connections: 4,
    })
    .await
    .unwrap();
    let key = backend::keys::MasterKey::load_or_create(&dir.path().join("wharf.key")).unwrap();
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

/// Pushes a small real image (an OCI layout built here: one gzip'd tar layer and its config)
/// to `registry` as `repository:tag` with skopeo; returns the manifest digest.
pub fn push_image(
    registry: &Registry,
    repository: &str,
    tag: &str,
    creds: Option<(&str, &str)>,
) -> String {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let blobs = d.join("img/blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("blobs");
    std::fs::create_dir_all(d.join("src")).expect("src");
    std::fs::write(d.join("src/hello.txt"), format!("{repository}:{tag}\n")).expect("file");
    let tar = Command::new("tar")
        .args(["cf", "layer.tar", "-C", "src", "hello.txt"])
        .current_dir(d)
        .status()
        .expect("tar");
    assert!(tar.success());
    let diff = std::fs::read(d.join("layer.tar")).expect("layer");
    let gz = Command::new("gzip")
        .args(["-n", "-k", "layer.tar"])
        .current_dir(d)
        .status()
        .expect("gzip");
    assert!(gz.success());
    let layer = std::fs::read(d.join("layer.tar.gz")).expect("layer.gz");
    let put = |bytes: &[u8]| {
        let h = hex::encode(Sha256::digest(bytes));
        std::fs::write(blobs.join(&h), bytes).expect("blob");
        (format!("sha256:{h}"), bytes.len())
    };
    let (layer_digest, layer_size) = put(&layer);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", hex::encode(Sha256::digest(&diff)))]},
    })
    .to_string();
    let (config_digest, config_size) = put(config.as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size}],
    })
    .to_string();
    let (manifest_digest, manifest_size) = put(manifest.as_bytes());
    std::fs::write(
        d.join("img/oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("layout");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag}}],
    });
    std::fs::write(d.join("img/index.json"), index.to_string()).expect("index");
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
    if let Some((u, p)) = creds {
        cmd.arg(format!("--dest-creds={u}:{p}"));
    }
    let dest = format!("docker://127.0.0.1:{}/{repository}:{tag}", registry.port);
    let out = cmd
        .arg(format!("oci:{}:{tag}", d.join("img").display()))
        .arg(dest)
        .output()
        .expect("skopeo is installed by scripts/setup.sh --test");
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    manifest_digest
}
