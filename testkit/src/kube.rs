//! A Kubernetes API server stand-in on loopback that speaks the real wire contract for what
//! Wharf uses: `GET /version`, and Deployments under `/apis/apps/v1/namespaces/{ns}/deployments`.
//! It authenticates like an API server: bearer tokens, HTTP basic, or a client certificate
//! signed by its client CA (over TLS). Errors are `Status` objects with the real codes.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// What the stand-in knows: who may sign in, who may not list where, and its Deployments.
#[derive(Debug, Default)]
pub struct Cluster {
    /// Reported by `/version`.
    pub git_version: String,
    /// Bearer token → user name.
    pub tokens: HashMap<String, String>,
    /// User name → password (HTTP basic).
    pub passwords: HashMap<String, String>,
    /// The user name a verified client certificate signs in as.
    pub client_certificate_user: Option<String>,
    /// (user, namespace) pairs that may not list Deployments (RBAC says no).
    pub denied: HashSet<(String, String)>,
    /// Deployments by (namespace, name).
    pub deployments: BTreeMap<(String, String), Value>,
    /// Each request as `METHOD path user`, for assertions.
    pub requests: Vec<String>,
}

impl Cluster {
    /// A cluster at version v1.33.2 that accepts `token` as user `user`.
    pub fn with_token(token: &str, user: &str) -> Cluster {
        let mut c = Cluster {
            git_version: "v1.33.2".to_owned(),
            ..Cluster::default()
        };
        c.tokens.insert(token.to_owned(), user.to_owned());
        c
    }
}

type Shared = Arc<Mutex<Cluster>>;

/// A running stand-in; it stops when dropped.
pub struct KubeApi {
    /// Its base URL (`http://127.0.0.1:port` or `https://…`).
    pub url: String,
    /// Its state, to arrange and to inspect.
    pub cluster: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// TLS settings: the server's certificate and key, and the CA that signs client certificates.
pub struct ServerTls {
    /// The server certificate (PEM).
    pub cert: String,
    /// Its key (PEM).
    pub key: String,
    /// The CA whose client certificates are accepted (PEM), if any.
    pub client_ca: Option<String>,
}

/// Who made a request, as the connection established it (a verified client certificate).
#[derive(Clone, Default)]
struct ConnectionIdentity(Option<String>);

fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    (
        code,
        Json(json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code.as_u16(),
        })),
    )
        .into_response()
}

fn authenticate(c: &Cluster, headers: &HeaderMap, conn: &ConnectionIdentity) -> Option<String> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match auth {
        Some(a) if a.starts_with("Bearer ") => c.tokens.get(&a[7..]).cloned(),
        Some(a) if a.starts_with("Basic ") => {
            let decoded = STANDARD.decode(&a[6..]).ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (user, password) = text.split_once(':')?;
            (c.passwords.get(user).map(String::as_str) == Some(password)).then(|| user.to_owned())
        }
        Some(_) => None,
        None => conn.0.clone(),
    }
}

async fn version(
    State(c): State<Shared>,
    Extension(conn): Extension<ConnectionIdentity>,
    headers: HeaderMap,
) -> Response {
    let mut c = c.lock().expect("cluster");
    let user = authenticate(&c, &headers, &conn);
    c.requests
        .push(format!("GET /version {}", user.as_deref().unwrap_or("-")));
    if user.is_none() {
        return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    let (major, minor) = c
        .git_version
        .trim_start_matches('v')
        .split_once('.')
        .map(|(a, b)| (a.to_owned(), b.split('.').next().unwrap_or("0").to_owned()))
        .unwrap_or_default();
    Json(json!({
        "major": major,
        "minor": minor,
        "gitVersion": c.git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }))
    .into_response()
}

async fn list_deployments(
    State(c): State<Shared>,
    Extension(conn): Extension<ConnectionIdentity>,
    Path(namespace): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut c = c.lock().expect("cluster");
    let user = authenticate(&c, &headers, &conn);
    c.requests.push(format!(
        "GET /apis/apps/v1/namespaces/{namespace}/deployments {}",
        user.as_deref().unwrap_or("-")
    ));
    let Some(user) = user else {
        return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    };
    if c.denied.contains(&(user.clone(), namespace.clone())) {
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!("deployments.apps is forbidden: User \"{user}\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"{namespace}\""),
        );
    }
    let items: Vec<Value> = c
        .deployments
        .iter()
        .filter(|((ns, _), _)| *ns == namespace)
        .map(|(_, d)| d.clone())
        .collect();
    Json(json!({
        "kind": "DeploymentList",
        "apiVersion": "apps/v1",
        "metadata": {"resourceVersion": "1"},
        "items": items,
    }))
    .into_response()
}

async fn not_found(req: Request) -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!(
            "the server could not find the requested resource ({})",
            req.uri().path()
        ),
    )
}

fn router(cluster: Shared) -> Router {
    Router::new()
        .route("/version", get(version))
        .route(
            "/apis/apps/v1/namespaces/{namespace}/deployments",
            get(list_deployments),
        )
        .fallback(not_found)
        .with_state(cluster)
}

impl KubeApi {
    /// Starts the stand-in over plain http.
    pub async fn start(cluster: Cluster) -> KubeApi {
        let cluster = Arc::new(Mutex::new(cluster));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let app = router(cluster.clone()).layer(Extension(ConnectionIdentity::default()));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        KubeApi { url, cluster, task }
    }

    /// Starts the stand-in over https with `tls`; a client certificate signed by the client CA
    /// signs in as [`Cluster::client_certificate_user`].
    pub async fn start_tls(cluster: Cluster, tls: ServerTls) -> KubeApi {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        use hyper_util::server::conn::auto::Builder;
        use hyper_util::service::TowerToHyperService;

        let client_user = cluster.client_certificate_user.clone();
        let cluster = Arc::new(Mutex::new(cluster));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(tls.cert.as_bytes())
                .collect::<Result<_, _>>()
                .expect("server certificate");
        let key = PrivateKeyDer::from_pem_slice(tls.key.as_bytes()).expect("server key");
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("protocols");
        let config = match &tls.client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                    roots.add(c.expect("client CA")).expect("client CA");
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .allow_unauthenticated()
                .build()
                .expect("client verifier");
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        }
        .with_single_cert(certs, key)
        .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("https://{}", listener.local_addr().expect("addr"));
        let app = router(cluster.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let app = app.clone();
                let client_user = client_user.clone();
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let verified = stream.get_ref().1.peer_certificates().is_some();
                    let identity = ConnectionIdentity(if verified { client_user } else { None });
                    let service = TowerToHyperService::new(app.layer(Extension(identity)));
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        KubeApi { url, cluster, task }
    }

    /// The requests seen so far.
    pub fn requests(&self) -> Vec<String> {
        self.cluster.lock().expect("cluster").requests.clone()
    }
}
