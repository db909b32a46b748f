//! The Kubernetes task, through kube-rs on a Kubernetes endpoint: GET, CREATE, APPLY
//! (server-side apply under the field manager `wharf`), DELETE and ROLLBACK (a Deployment to
//! its previous revision, as `kubectl rollout undo` does), on the objects of a local YAML
//! definition (several documents allowed, bindings resolved) or on one `kind` + `name`.
//! Optionally waits for Deployments' rollouts, as `kubectl rollout status` does.

use super::{Context, LiveLog, Outcome};
use crate::clients::kubernetes::{self, ClusterAccess};
use crate::project::endpoints::{self, Resolved};
use crate::{Backend, Error};
use domain::executions::RunStatus;
use domain::pipeline::{self, Task};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::{pinned_kind, Scope};
use serde_json::{json, Value};
use std::time::Duration;

/// Server-side apply's field manager: the owner of the fields Wharf sets.
pub const FIELD_MANAGER: &str = "wharf";
const DEFAULT_ROLLOUT_TIMEOUT: u64 = 300;
const MAX_OBJECTS: usize = 50;
const REVISION: &str = "deployment.kubernetes.io/revision";

/// One object to act on.
struct Target {
    api_version: String,
    kind: String,
    name: String,
    body: Value,
}

fn object_targets(task: &Task, ctx: &Context) -> Result<Vec<Target>, String> {
    let text = |k: &str| task.input.get(k).and_then(Value::as_str);
    let objects = match text("yaml").filter(|y| !y.trim().is_empty()) {
        // parsed first, then bound: each binding fills one scalar and cannot add keys,
        // documents or anchors, whatever its value holds
        Some(yaml) => pipeline::documents(yaml)
            .map_err(|e| format!("The YAML definition: {e}"))?
            .iter()
            .map(|d| ctx.bind_document(d))
            .collect::<Result<Vec<_>, _>>()?,
        None => {
            let kind = ctx.substitute(text("kind").unwrap_or_default())?;
            let api_version = match text("apiVersion") {
                Some(v) => ctx.substitute(v)?,
                None if matches!(
                    kind.as_str(),
                    "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
                ) =>
                {
                    "apps/v1".to_owned()
                }
                None => "v1".to_owned(),
            };
            let name = ctx.substitute(text("name").unwrap_or_default())?;
            vec![json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}})]
        }
    };
    if objects.is_empty() {
        return Err("The YAML definition has no objects.".to_owned());
    }
    if objects.len() > MAX_OBJECTS {
        return Err(format!("At most {MAX_OBJECTS} objects per task."));
    }
    objects
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
            let which = format!("Object {} of the YAML definition", i + 1);
            let api_version = field("apiVersion").ok_or(format!("{which} has no apiVersion."))?;
            let kind = field("kind").ok_or(format!("{which} has no kind."))?;
            let name = body["metadata"]["name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .ok_or(format!("{which} ({kind}) has no metadata.name."))?
                .to_owned();
            Ok(Target {
                api_version,
                kind,
                name,
                body,
            })
        })
        .collect()
}

/// Says what the cluster answered, in words.
fn refused(e: kube::Error, url: &str, doing: &str) -> String {
    match e {
        kube::Error::Api(s) if s.code != 401 => {
            let reason = if s.reason.is_empty() {
                String::new()
            } else {
                format!(" {}", s.reason)
            };
            format!(
                "{doing}: the cluster answered {}{reason}: {}",
                s.code, s.message
            )
        }
        other => format!("{doing}: {}", kubernetes::problem(other, url, doing)),
    }
}

pub(super) async fn run(ctx: &Context, backend: &Backend, live: &LiveLog, task: &Task) -> Outcome {
    let text = |k: &str| {
        task.input
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    // 1. the cluster, by the endpoint the task names
    let access = match cluster_of(ctx, backend, text("endpoint")).await {
        Ok(a) => a,
        Err(m) => return Outcome::failed(m),
    };
    let namespace = match ctx.substitute(text("namespace")) {
        Ok(n) if !n.is_empty() => n,
        Ok(_) => access.namespace.clone(),
        Err(m) => return Outcome::failed(m),
    };
    let targets = match object_targets(task, ctx) {
        Ok(t) => t,
        Err(m) => return Outcome::failed(m),
    };
    let client = match kubernetes::client(&backend.outbound, &access) {
        Ok(c) => c,
        Err(p) => return Outcome::failed(p.to_string()),
    };
    let action = text("action");
    let mut run = Run {
        client,
        access: &access,
        namespace,
        logs: Vec::new(),
        live,
        objects: Vec::new(),
        continue_on_conflict: task
            .input
            .get("continueOnConflict")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    };
    for t in &targets {
        if let Err(m) = run.act(action, t).await {
            return run.finish(RunStatus::Failed, m, action);
        }
    }
    let wait = task
        .input
        .get("waitForRollout")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if wait && matches!(action, "CREATE" | "APPLY" | "ROLLBACK") {
        let limit = Duration::from_secs(
            task.input
                .get("rolloutTimeout")
                .and_then(Value::as_u64)
                .unwrap_or(DEFAULT_ROLLOUT_TIMEOUT),
        );
        for t in targets.iter().filter(|t| t.kind == "Deployment") {
            if let Err(m) = run.wait_for_rollout(t, limit).await {
                return run.finish(RunStatus::Failed, m, action);
            }
        }
    }
    let summary = format!("{action}: {}.", run.summary());
    run.finish(RunStatus::Completed, summary, action)
}

/// Step 1: the Kubernetes endpoint named by `endpoint` (bindings resolved), or why not.
async fn cluster_of(
    ctx: &Context,
    backend: &Backend,
    endpoint: &str,
) -> Result<ClusterAccess, String> {
    let endpoint = ctx.substitute(endpoint)?;
    match endpoints::resolve(backend, ctx.project_id, &endpoint).await {
        Ok(Resolved::Kubernetes(a)) => Ok(a),
        Ok(Resolved::Registry { .. }) => Err(format!(
            "Endpoint {endpoint} is a Docker Registry, not a Kubernetes cluster."
        )),
        Err(Error::NotFound(_)) => Err(format!("The project has no endpoint named {endpoint}.")),
        Err(e) => Err(e.public_message()),
    }
}

struct Run<'a> {
    client: kube::Client,
    access: &'a ClusterAccess,
    namespace: String,
    logs: Vec<String>,
    /// Where each line goes at once, for the live log.
    live: &'a LiveLog,
    objects: Vec<Value>,
    /// CREATE of an object that exists is not a failure (Aria's "Continue on conflict").
    continue_on_conflict: bool,
}

impl Run<'_> {
    /// "Deployment web created, Service web unchanged".
    fn summary(&self) -> String {
        self.objects
            .iter()
            .map(|o| {
                let field = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
                format!("{} {} {}", field("kind"), field("name"), field("result"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Adds a line to the task's log, stored at once.
    async fn log(&mut self, line: String) {
        self.live.line(&line).await;
        self.logs.push(line);
    }

    fn finish(self, status: RunStatus, message: String, action: &str) -> Outcome {
        let first = self.objects.first().cloned().unwrap_or(Value::Null);
        Outcome {
            status,
            message: Some(message),
            output: json!({
                "action": action,
                "namespace": self.namespace,
                "kind": first["kind"],
                "name": first["name"],
                "result": first["result"],
                "objects": self.objects,
            }),
            logs: self.logs,
        }
    }

    /// The resource for a target, and an API in its namespace (or cluster-wide).
    async fn api(&self, t: &Target) -> Result<(Api<DynamicObject>, String), String> {
        let (group, version) = match t.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", t.api_version.as_str()),
        };
        let gvk = GroupVersionKind::gvk(group, version, &t.kind);
        let (ar, caps) = pinned_kind(&self.client, &gvk).await.map_err(|e| match e {
            kube::Error::Api(ref s) if s.code == 404 => format!(
                "The cluster does not serve {} in {}.",
                t.kind, t.api_version
            ),
            kube::Error::Discovery(_) => format!(
                "The cluster does not serve {} in {}.",
                t.kind, t.api_version
            ),
            other => refused(
                other,
                &self.access.url,
                &format!("looking up {} in {}", t.kind, t.api_version),
            ),
        })?;
        if caps.scope == Scope::Namespaced {
            let ns = t.body["metadata"]["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or(&self.namespace)
                .to_owned();
            Ok((Api::namespaced_with(self.client.clone(), &ns, &ar), ns))
        } else {
            Ok((Api::all_with(self.client.clone(), &ar), String::new()))
        }
    }

    fn describe(t: &Target, ns: &str) -> String {
        if ns.is_empty() {
            format!("{} {}", t.kind, t.name)
        } else {
            format!("{} {} in namespace {ns}", t.kind, t.name)
        }
    }

    fn record(&mut self, t: &Target, ns: &str, result: &str, obj: Option<&DynamicObject>) {
        let status = obj
            .and_then(|o| o.data.get("status").cloned())
            .unwrap_or(Value::Null);
        self.objects.push(json!({
            "apiVersion": t.api_version,
            "kind": t.kind,
            "name": t.name,
            "namespace": ns,
            "result": result,
            "uid": obj.and_then(|o| o.metadata.uid.clone()),
            "resourceVersion": obj.and_then(|o| o.metadata.resource_version.clone()),
            "status": status,
        }));
    }

    async fn act(&mut self, action: &str, t: &Target) -> Result<(), String> {
        let (api, ns) = self.api(t).await?;
        let what = Self::describe(t, &ns);
        let url = self.access.url.clone();
        let body = || -> Result<DynamicObject, String> {
            let mut obj: DynamicObject = serde_json::from_value(t.body.clone())
                .map_err(|e| format!("{what}: not a Kubernetes object: {e}"))?;
            if !ns.is_empty() {
                obj.metadata.namespace = Some(ns.clone());
            }
            Ok(obj)
        };
        match action {
            "GET" => {
                let o = api
                    .get(&t.name)
                    .await
                    .map_err(|e| refused(e, &url, &format!("GET {what}")))?;
                self.log(format!("GET {what}: found")).await;
                self.record(t, &ns, "found", Some(&o));
            }
            "CREATE" => match api.create(&PostParams::default(), &body()?).await {
                Err(kube::Error::Api(s)) if s.code == 409 && self.continue_on_conflict => {
                    let line =
                        format!("CREATE {what}: already exists, kept (continue on conflict)");
                    self.log(line).await;
                    self.record(t, &ns, "exists", None);
                }
                created => {
                    let o = created.map_err(|e| refused(e, &url, &format!("CREATE {what}")))?;
                    self.log(format!("CREATE {what}: created")).await;
                    self.record(t, &ns, "created", Some(&o));
                }
            },
            "APPLY" => {
                let params = PatchParams::apply(FIELD_MANAGER).force();
                let o = api
                    .patch(&t.name, &params, &Patch::Apply(&body()?))
                    .await
                    .map_err(|e| refused(e, &url, &format!("APPLY {what}")))?;
                let rv = o.metadata.resource_version.clone().unwrap_or_default();
                self.log(format!(
                    "APPLY {what}: applied (field manager {FIELD_MANAGER}, resourceVersion {rv})"
                ))
                .await;
                self.record(t, &ns, "applied", Some(&o));
            }
            "DELETE" => {
                api.delete(&t.name, &DeleteParams::default())
                    .await
                    .map_err(|e| refused(e, &url, &format!("DELETE {what}")))?;
                self.log(format!("DELETE {what}: deleted")).await;
                self.record(t, &ns, "deleted", None);
            }
            "ROLLBACK" => {
                let o = self.rollback(&api, t, &ns).await?;
                self.record(t, &ns, "rolled back", Some(&o));
            }
            other => return Err(format!("{other} is not a Kubernetes action.")),
        }
        Ok(())
    }

    /// `kubectl rollout undo`: the Deployment's template becomes that of its ReplicaSet with
    /// the highest revision below the current one.
    async fn rollback(
        &mut self,
        api: &Api<DynamicObject>,
        t: &Target,
        ns: &str,
    ) -> Result<DynamicObject, String> {
        let what = Self::describe(t, ns);
        let url = self.access.url.clone();
        if t.kind != "Deployment" {
            return Err(format!("ROLLBACK works on a Deployment, not a {}.", t.kind));
        }
        let mut d = api
            .get(&t.name)
            .await
            .map_err(|e| refused(e, &url, &format!("GET {what}")))?;
        let revision = |annotations: Option<&std::collections::BTreeMap<String, String>>| {
            annotations
                .and_then(|a| a.get(REVISION))
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let current = revision(d.metadata.annotations.as_ref());
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let selector = d.data["spec"]["selector"]["matchLabels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let (rs_ar, _) = pinned_kind(
            &self.client,
            &GroupVersionKind::gvk("apps", "v1", "ReplicaSet"),
        )
        .await
        .map_err(|e| refused(e, &url, "looking up ReplicaSets"))?;
        let replica_sets: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), ns, &rs_ar);
        let owned = replica_sets
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| refused(e, &url, &format!("listing the ReplicaSets of {what}")))?;
        let previous = owned
            .items
            .into_iter()
            .filter(|rs| {
                rs.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| o.uid == uid)
            })
            .map(|rs| (revision(rs.metadata.annotations.as_ref()), rs))
            .filter(|(r, _)| *r < current && *r > 0)
            .max_by_key(|(r, _)| *r);
        let Some((to, rs)) = previous else {
            return Err(format!(
                "{what} has no earlier revision to roll back to (it is at revision {current})."
            ));
        };
        let mut template = rs.data["spec"]["template"].clone();
        if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
            labels.remove("pod-template-hash");
        }
        d.data["spec"]["template"] = template;
        if let Some(o) = d.data.as_object_mut() {
            o.remove("status");
        }
        let o = api
            .replace(&t.name, &PostParams::default(), &d)
            .await
            .map_err(|e| refused(e, &url, &format!("ROLLBACK {what}")))?;
        self.log(format!(
            "ROLLBACK {what}: rolled back from revision {current} to revision {to}"
        ))
        .await;
        Ok(o)
    }

    /// `kubectl rollout status`: every replica updated and available, for the latest
    /// generation; fails at ProgressDeadlineExceeded or after `limit`.
    async fn wait_for_rollout(&mut self, t: &Target, limit: Duration) -> Result<(), String> {
        let (api, ns) = self.api(t).await?;
        let what = Self::describe(t, &ns);
        let url = self.access.url.clone();
        let started = tokio::time::Instant::now();
        self.log(format!(
            "Waiting up to {} s for the rollout of {what}",
            limit.as_secs()
        ))
        .await;
        loop {
            let d = api
                .get(&t.name)
                .await
                .map_err(|e| refused(e, &url, &format!("GET {what}")))?;
            let generation = d.metadata.generation.unwrap_or(0);
            let st = &d.data["status"];
            let n = |k: &str| st[k].as_i64().unwrap_or(0);
            let wanted = d.data["spec"]["replicas"].as_i64().unwrap_or(1);
            let failed =
                st["conditions"].as_array().into_iter().flatten().find(|c| {
                    c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded"
                });
            if n("observedGeneration") >= generation {
                if let Some(c) = failed {
                    return Err(format!(
                        "The rollout of {what} failed: ProgressDeadlineExceeded: {}",
                        c["message"].as_str().unwrap_or_default()
                    ));
                }
                if n("updatedReplicas") >= wanted && n("availableReplicas") >= wanted {
                    self.log(format!(
                        "Rollout of {what} complete: {wanted} of {wanted} replicas updated and available"
                    )).await;
                    if let Some(o) = self
                        .objects
                        .iter_mut()
                        .rev()
                        .find(|o| o["kind"] == "Deployment" && o["name"] == t.name.as_str())
                    {
                        o["status"] = st.clone();
                        o["rollout"] = json!("complete");
                    }
                    return Ok(());
                }
            }
            if started.elapsed() >= limit {
                return Err(format!(
                    "The rollout of {what} did not finish within {} seconds: {} of {wanted} replicas updated, {} available.",
                    limit.as_secs(),
                    n("updatedReplicas"),
                    n("availableReplicas")
                ));
            }
            tokio::time::sleep(Duration::from_secs(1).min(limit)).await;
        }
    }
}
