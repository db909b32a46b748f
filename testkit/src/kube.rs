//! A Kubernetes API server stand-in on loopback that speaks the real wire contract for what
//! Wharf uses: `GET /version`; discovery (`/api`, `/apis`, `/api/v1`, `/apis/apps/v1`);
//! Namespaces, Services, ConfigMaps, Deployments and ReplicaSets (get, list with label
//! selectors, create, replace, server-side apply PATCH, delete); Deployments get ReplicaSets
//! and revisions as the controller would, and the rollout status the test tells it to report.
//! It authenticates like an API server: bearer tokens, HTTP basic, or a client certificate
//! signed by its client CA (over TLS). Errors are `Status` objects with the real codes.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Extension, Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// What the stand-in knows: who may sign in, who may do nothing where, and its objects.
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
    /// (user, namespace) pairs that may do nothing in that namespace (RBAC says no).
    pub denied: HashSet<(String, String)>,
    /// Objects by (plural, namespace, name); cluster-scoped ones have an empty namespace.
    pub objects: BTreeMap<(String, String, String), Value>,
    /// What Deployments' rollouts report.
    pub rollout: Rollout,
    /// What the rollouts of the Deployments of these names report instead.
    pub rollouts: HashMap<String, Rollout>,
    /// How long writes take to answer (they take effect first): a slow cluster.
    pub write_delay: Option<std::time::Duration>,
    /// The last resourceVersion handed out.
    pub resource_version: u64,
    /// Each request as `METHOD path user`, for assertions.
    pub requests: Vec<String>,
}

/// What a Deployment's rollout reports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Rollout {
    /// Every replica updated and available.
    #[default]
    Complete,
    /// Still progressing (never finishes).
    Progressing,
    /// Failed: `ProgressDeadlineExceeded`.
    DeadlineExceeded,
}

impl Cluster {
    /// A cluster at version v1.33.2 that accepts `token` as user `user`.
    pub fn with_token(token: &str, user: &str) -> Cluster {
        let mut c = Cluster {
            git_version: "v1.33.2".to_owned(),
            ..Cluster::default()
        };
        c.tokens.insert(token.to_owned(), user.to_owned());
        for ns in ["default", "kube-system"] {
            c.add_namespace(ns);
        }
        c
    }

    /// Adds a namespace.
    pub fn add_namespace(&mut self, name: &str) {
        self.objects.insert(
            ("namespaces".into(), String::new(), name.into()),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        );
    }

    /// The stored object, if any.
    pub fn object(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        self.objects
            .get(&(plural.into(), namespace.into(), name.into()))
            .cloned()
    }

    /// How many requests were `METHOD path-prefix…`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        let prefix = format!("{method} {path_prefix}");
        self.requests
            .iter()
            .filter(|r| r.starts_with(&prefix))
            .count()
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

/// The resources the stand-in serves: (group version, plural, kind, namespaced).
const RESOURCES: [(&str, &str, &str, bool); 5] = [
    ("v1", "namespaces", "Namespace", false),
    ("v1", "services", "Service", true),
    ("v1", "configmaps", "ConfigMap", true),
    ("apps/v1", "deployments", "Deployment", true),
    ("apps/v1", "replicasets", "ReplicaSet", true),
];

const REVISION: &str = "deployment.kubernetes.io/revision";

fn resource_list(group_version: &str) -> Value {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.0 == group_version)
        .map(|(_, plural, kind, namespaced)| {
            json!({
                "name": plural,
                "singularName": kind.to_lowercase(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            })
        })
        .collect();
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})
}

/// A request's target, parsed from its path.
struct Target {
    group_version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespace: String,
    name: Option<String>,
}

fn target(path: &str) -> Option<Target> {
    let rest = path
        .strip_prefix("/api/v1/")
        .map(|r| ("v1", r))
        .or_else(|| path.strip_prefix("/apis/apps/v1/").map(|r| ("apps/v1", r)))?;
    let (gv, rest) = rest;
    let parts: Vec<&str> = rest.split('/').collect();
    let (namespace, plural, name) = match parts.as_slice() {
        ["namespaces", ns, plural] => (ns.to_string(), *plural, None),
        ["namespaces", ns, plural, name] => (ns.to_string(), *plural, Some(name.to_string())),
        [plural] => (String::new(), *plural, None),
        [plural, name] => (String::new(), *plural, Some(name.to_string())),
        _ => return None,
    };
    let r = RESOURCES
        .iter()
        .find(|r| r.0 == gv && r.1 == plural && r.3 != namespace.is_empty())?;
    Some(Target {
        group_version: r.0,
        plural: r.1,
        kind: r.2,
        namespace,
        name,
    })
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| {
            v.replace("%3D", "=")
                .replace("%2C", ",")
                .replace("%3A", ":")
        })
    })
}

fn dns_label_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Deep merge of `patch` into `base` (server-side apply, simplified: the applier's fields win).
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// The object without what the server maintains, to tell whether a write changes anything.
fn desired(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
        ] {
            m.remove(k);
        }
        if let Some(a) = m.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove(REVISION);
            if a.is_empty() {
                m.remove("annotations");
            }
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

/// What a Deployment's spec must have (the API server's validation, for the fields Wharf's
/// users get wrong).
fn invalid(kind: &str, obj: &Value) -> Option<String> {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    if !dns_label_ok(name) {
        return Some(format!("{kind}.apps \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'"));
    }
    if kind == "Deployment" {
        let containers = obj["spec"]["template"]["spec"]["containers"].as_array();
        if containers.is_none_or(|c| c.is_empty()) {
            return Some(format!("Deployment.apps \"{name}\" is invalid: spec.template.spec.containers: Required value"));
        }
        if let Some(c) = containers
            .into_iter()
            .flatten()
            .find(|c| c["image"].as_str().is_none_or(str::is_empty))
        {
            let cname = c["name"].as_str().unwrap_or_default();
            return Some(format!("Deployment.apps \"{name}\" is invalid: spec.template.spec.containers[{cname}].image: Required value"));
        }
        if obj["spec"]["selector"]["matchLabels"].as_object().is_none() {
            return Some(format!(
                "Deployment.apps \"{name}\" is invalid: spec.selector: Required value"
            ));
        }
    }
    None
}

impl Cluster {
    fn bump(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// Stores `obj` (new or changed), maintaining metadata, and for Deployments their
    /// ReplicaSets and revisions.
    fn store(&mut self, t: &Target, name: &str, mut obj: Value, manager: Option<&str>) -> Value {
        let key = (t.plural.to_owned(), t.namespace.clone(), name.to_owned());
        let previous = self.objects.get(&key).cloned();
        if let Some(prev) = &previous {
            if desired(prev) == desired(&obj) {
                return prev.clone();
            }
        }
        let rv = self.bump();
        let mut meta = obj["metadata"].as_object().cloned().unwrap_or_default();
        let uid = previous
            .as_ref()
            .and_then(|p| p["metadata"]["uid"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("00000000-0000-4000-8000-{:012}", self.resource_version));
        meta.insert("uid".into(), json!(uid));
        meta.insert("resourceVersion".into(), json!(rv));
        meta.insert("name".into(), json!(name));
        if !t.namespace.is_empty() {
            meta.insert("namespace".into(), json!(t.namespace));
        }
        meta.insert(
            "creationTimestamp".into(),
            previous
                .as_ref()
                .map(|p| p["metadata"]["creationTimestamp"].clone())
                .unwrap_or(json!("2026-11-21T09:00:00Z")),
        );
        let generation = previous
            .as_ref()
            .and_then(|p| p["metadata"]["generation"].as_i64())
            .unwrap_or(0)
            + 1;
        meta.insert("generation".into(), json!(generation));
        if let Some(m) = manager {
            meta.insert(
                "managedFields".into(),
                json!([{"manager": m, "operation": "Apply", "apiVersion": t.group_version}]),
            );
        }
        if t.kind == "Deployment" {
            let template = obj["spec"]["template"].clone();
            let revision = self.replica_set_for(&t.namespace, name, &uid, &template);
            if let Some(a) = meta
                .entry("annotations")
                .or_insert_with(|| json!({}))
                .as_object_mut()
            {
                a.insert(REVISION.into(), json!(revision.to_string()));
            }
        }
        obj["metadata"] = Value::Object(meta);
        if let Some(o) = obj.as_object_mut() {
            o.remove("status");
        }
        self.objects.insert(key, obj.clone());
        self.with_status(t.kind, obj)
    }

    /// The ReplicaSet for a Deployment's template: an existing one with the same template gets
    /// the next revision (that is how a rollback works), otherwise a new one. Returns the
    /// revision.
    fn replica_set_for(&mut self, ns: &str, deployment: &str, uid: &str, template: &Value) -> i64 {
        let owned: Vec<((String, String, String), Value)> = self
            .objects
            .iter()
            .filter(|((p, n, _), rs)| {
                p == "replicasets"
                    && n == ns
                    && rs["metadata"]["ownerReferences"][0]["uid"].as_str() == Some(uid)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let revision_of = |rs: &Value| {
            rs["metadata"]["annotations"][REVISION]
                .as_str()
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let max = owned
            .iter()
            .map(|(_, rs)| revision_of(rs))
            .max()
            .unwrap_or(0);
        let strip = |t: &Value| {
            let mut t = t.clone();
            if let Some(l) = t["metadata"]["labels"].as_object_mut() {
                l.remove("pod-template-hash");
            }
            t
        };
        if let Some((key, rs)) = owned
            .iter()
            .find(|(_, rs)| strip(&rs["spec"]["template"]) == strip(template))
        {
            if revision_of(rs) == max {
                return max;
            }
            let mut rs = rs.clone();
            rs["metadata"]["annotations"][REVISION] = json!((max + 1).to_string());
            self.objects.insert(key.clone(), rs);
            return max + 1;
        }
        let hash = format!("{:x}", 0x5f00_0000_u64 + self.resource_version);
        let mut t = template.clone();
        t["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        let name = format!("{deployment}-{hash}");
        let rv = self.bump();
        let rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name, "namespace": ns, "uid": format!("rs-{rv}"), "resourceVersion": rv,
                "labels": t["metadata"]["labels"].clone(),
                "annotations": {REVISION: (max + 1).to_string()},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment, "uid": uid, "controller": true}],
            },
            "spec": {"template": t},
        });
        self.objects
            .insert(("replicasets".into(), ns.into(), name), rs);
        max + 1
    }

    /// A stored object as the API returns it: Deployments get the status the cluster is told
    /// to report.
    fn with_status(&self, kind: &str, mut obj: Value) -> Value {
        if kind != "Deployment" {
            return obj;
        }
        let generation = obj["metadata"]["generation"].as_i64().unwrap_or(1);
        let replicas = obj["spec"]["replicas"].as_i64().unwrap_or(1);
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        obj["status"] = match self.rollouts.get(name).copied().unwrap_or(self.rollout) {
            Rollout::Complete => json!({
                "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": replicas, "availableReplicas": replicas,
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
                ],
            }),
            Rollout::Progressing => json!({
                "observedGeneration": generation, "replicas": replicas, "updatedReplicas": 0,
                "availableReplicas": 0, "unavailableReplicas": replicas,
                "conditions": [
                    {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"},
                ],
            }),
            Rollout::DeadlineExceeded => json!({
                "observedGeneration": generation, "replicas": replicas, "updatedReplicas": 0,
                "availableReplicas": 0, "unavailableReplicas": replicas,
                "conditions": [
                    {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                     "message": "ReplicaSet has timed out progressing."},
                ],
            }),
        };
        obj
    }
}

async fn api(
    State(c): State<Shared>,
    Extension(conn): Extension<ConnectionIdentity>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 4 << 20)
        .await
        .unwrap_or_default();
    let (response, delay) = {
        let mut c = c.lock().expect("cluster");
        let user = authenticate(&c, &headers, &conn);
        c.requests.push(format!(
            "{method} {path} {}",
            user.as_deref().unwrap_or("-")
        ));
        let delay = if method == axum::http::Method::GET {
            None
        } else {
            c.write_delay
        };
        (
            handle(&mut c, user, &method, &path, &query, &headers, &body),
            delay,
        )
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    response
}

fn handle(
    c: &mut Cluster,
    user: Option<String>,
    method: &axum::http::Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    use axum::http::Method;
    let Some(user) = user else {
        return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    };
    match path {
        "/api" => return Json(
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
        )
        .into_response(),
        "/apis" => {
            return Json(
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [{
                    "name": "apps",
                    "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                    "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
                }]}),
            )
            .into_response()
        }
        "/api/v1" => return Json(resource_list("v1")).into_response(),
        "/apis/apps/v1" => return Json(resource_list("apps/v1")).into_response(),
        _ => {}
    }
    let Some(t) = target(path) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("the server could not find the requested resource ({path})"),
        );
    };
    let group = if t.group_version == "v1" { "" } else { "apps" };
    let resource = if group.is_empty() {
        t.plural.to_owned()
    } else {
        format!("{}.{group}", t.plural)
    };
    let verb = match (method, &t.name) {
        (&Method::GET, None) => "list",
        (&Method::GET, Some(_)) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, _) => "delete",
        _ => {
            return status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        }
    };
    if c.denied.contains(&(user.clone(), t.namespace.clone())) {
        let name = t
            .name
            .clone()
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default();
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!("{resource}{name} is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{group}\" in the namespace \"{}\"", t.plural, t.namespace),
        );
    }
    if !t.namespace.is_empty()
        && verb != "list"
        && !c
            .objects
            .contains_key(&("namespaces".into(), String::new(), t.namespace.clone()))
    {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("namespaces \"{}\" not found", t.namespace),
        );
    }
    let key = |name: &str| (t.plural.to_owned(), t.namespace.clone(), name.to_owned());
    let not_found = |name: &str| {
        status(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("{resource} \"{name}\" not found"),
        )
    };
    let parse_body = || {
        serde_json::from_slice::<Value>(body)
            .ok()
            .filter(Value::is_object)
    };
    match verb {
        "list" => {
            let selector: Vec<(String, String)> = query_param(query, "labelSelector")
                .unwrap_or_default()
                .split(',')
                .filter_map(|kv| {
                    kv.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                })
                .collect();
            let items: Vec<Value> = c
                .objects
                .iter()
                .filter(|((p, ns, _), o)| {
                    p == t.plural
                        && (t.namespace.is_empty() || *ns == t.namespace)
                        && selector
                            .iter()
                            .all(|(k, v)| o["metadata"]["labels"][k].as_str() == Some(v))
                })
                .map(|(_, o)| c.with_status(t.kind, o.clone()))
                .collect();
            Json(json!({
                "kind": format!("{}List", t.kind), "apiVersion": t.group_version,
                "metadata": {"resourceVersion": c.resource_version.to_string()}, "items": items,
            }))
            .into_response()
        }
        "get" => {
            let name = t.name.clone().unwrap_or_default();
            match c.objects.get(&key(&name)) {
                Some(o) => Json(c.with_status(t.kind, o.clone())).into_response(),
                None => not_found(&name),
            }
        }
        "delete" => {
            let name = t.name.clone().unwrap_or_default();
            match c.objects.remove(&key(&name)) {
                Some(_) => Json(json!({
                    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "details": {"name": name, "group": group, "kind": t.plural},
                }))
                .into_response(),
                None => not_found(&name),
            }
        }
        "create" | "update" => {
            let Some(obj) = parse_body() else {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "the body is not a JSON object",
                );
            };
            let name = obj["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if let Some(m) = invalid(t.kind, &obj) {
                return status(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &m);
            }
            let exists = c.objects.get(&key(&name)).cloned();
            if verb == "create" {
                if exists.is_some() {
                    return status(
                        StatusCode::CONFLICT,
                        "AlreadyExists",
                        &format!("{resource} \"{name}\" already exists"),
                    );
                }
                let stored = c.store(&t, &name, obj, None);
                (StatusCode::CREATED, Json(stored)).into_response()
            } else {
                let Some(current) = exists else {
                    return not_found(&name);
                };
                let sent = obj["metadata"]["resourceVersion"].as_str();
                if sent.is_some() && sent != current["metadata"]["resourceVersion"].as_str() {
                    return status(StatusCode::CONFLICT, "Conflict", &format!("Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"));
                }
                Json(c.store(&t, &name, obj, None)).into_response()
            }
        }
        _ => {
            // PATCH: server-side apply only
            let name = t.name.clone().unwrap_or_default();
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if content_type != "application/apply-patch+yaml" {
                return status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    &format!("the stand-in supports server-side apply only, not {content_type}"),
                );
            }
            let Some(manager) = query_param(query, "fieldManager") else {
                return status(StatusCode::BAD_REQUEST, "BadRequest", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
            };
            let Some(obj) = parse_body() else {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "the body is not a JSON object",
                );
            };
            let mut merged = c
                .objects
                .get(&key(&name))
                .cloned()
                .unwrap_or_else(|| json!({}));
            merge(&mut merged, &obj);
            if let Some(m) = invalid(t.kind, &merged) {
                return status(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &m);
            }
            Json(c.store(&t, &name, merged, Some(&manager))).into_response()
        }
    }
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
        .route("/api", any(api))
        .route("/apis", any(api))
        .route("/api/{*rest}", any(api))
        .route("/apis/{*rest}", any(api))
        .fallback(not_found)
        .with_state(cluster)
}

impl KubeApi {
    /// Starts the test control of this stand-in (not part of the Kubernetes API) on its own
    /// port and returns its URL: `POST /rollout` with `{"name": "web", "rollout":
    /// "progressing" | "complete" | "deadline-exceeded"}` sets what the rollout of Deployment
    /// `name` reports (without a name: of every Deployment not named before).
    pub async fn control(&self) -> String {
        async fn set(State(cluster): State<Shared>, Json(b): Json<Value>) -> StatusCode {
            let rollout = match b["rollout"].as_str() {
                Some("progressing") => Rollout::Progressing,
                Some("complete") => Rollout::Complete,
                Some("deadline-exceeded") => Rollout::DeadlineExceeded,
                _ => return StatusCode::UNPROCESSABLE_ENTITY,
            };
            let mut c = cluster.lock().unwrap_or_else(|e| e.into_inner());
            match b["name"].as_str() {
                Some(name) => {
                    c.rollouts.insert(name.to_owned(), rollout);
                }
                None => c.rollout = rollout,
            }
            StatusCode::NO_CONTENT
        }
        let app = Router::new()
            .route("/rollout", axum::routing::post(set))
            .with_state(self.cluster.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        url
    }

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
