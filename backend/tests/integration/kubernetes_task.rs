//! The Kubernetes task through kube-rs against the Kubernetes API stand-in (discovery,
//! namespaces, Deployments, Services, ConfigMaps, server-side apply, Status errors, rollout
//! status it is told to report), on a real SQLite file.

use crate::support::{world, World};
use backend::engine::Engine;
use backend::platform::secrets::SecretValue;
use backend::project::endpoints::{self, EndpointInput};
use backend::project::pipelines;
use backend::runs::executions::{self, Started, Trigger};
use domain::executions::{ExecutionDetail, RunStatus};
use std::collections::BTreeMap;
use std::time::Duration;
use testkit::kube::{Cluster, KubeApi, Rollout};

const TOKEN: &str = "deployer-token-k8s-9a1";
const USER: &str = "system:serviceaccount:web:deployer";

async fn cluster() -> (World, KubeApi, Engine) {
    let w = world().await;
    let mut c = Cluster::with_token(TOKEN, USER);
    c.add_namespace("web");
    let api = KubeApi::start(c).await;
    endpoints::create(
        &w.backend,
        w.member,
        w.project,
        EndpointInput::kubernetes_token("dev", &api.url, SecretValue::new(TOKEN), "web"),
    )
    .await
    .unwrap();
    let engine = Engine::new(w.backend.clone(), "worker-k", Duration::from_secs(30)).unwrap();
    (w, api, engine)
}

fn deployment(image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{ app: web }}
spec:
  replicas: 2
  selector:
    matchLabels: {{ app: web }}
  template:
    metadata:
      labels: {{ app: web }}
    spec:
      containers:
        - name: web
          image: {image}
"#
    )
}

/// A one-task pipeline: a Kubernetes task with `input` (YAML lines, indented by 10).
async fn run_task(w: &World, engine: &Engine, name: &str, input: &str) -> ExecutionDetail {
    let yaml = testkit::pipeline!("kubernetes-task-one-task", NAME = name, INPUT = input);
    let p = match pipelines::create(&w.backend, w.member, w.project, &yaml).await {
        Ok(p) => p,
        Err(e) => panic!("{e:?}\n{yaml}"),
    };
    run_pipeline(w, engine, p.id, &[]).await
}

async fn run_pipeline(
    w: &World,
    engine: &Engine,
    pipeline: i64,
    input: &[(&str, &str)],
) -> ExecutionDetail {
    let given: BTreeMap<String, String> = input
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let Started::Queued(r) = executions::start(
        &w.backend,
        w.member,
        w.project,
        pipeline,
        given,
        "",
        Trigger::Api,
    )
    .await
    .unwrap() else {
        panic!("not queued")
    };
    while engine.step().await.unwrap() {}
    executions::get(&w.backend, w.member, w.project, r.id)
        .await
        .unwrap()
}

fn indent(text: &str, by: usize) -> String {
    text.lines()
        .map(|l| format!("{}{l}\n", " ".repeat(by)))
        .collect()
}

fn task(d: &ExecutionDetail) -> (RunStatus, String, serde_json::Value) {
    let t = &d.stages[0].tasks[0];
    (
        t.status,
        t.message.clone().unwrap_or_default(),
        t.output
            .as_deref()
            .map(|o| serde_json::from_str(o).unwrap())
            .unwrap_or_default(),
    )
}

#[tokio::test]
async fn apply_is_server_side_and_idempotent_with_several_documents_and_bindings() {
    let (w, api, engine) = cluster().await;
    let manifests = format!(
        "{}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {{ app: web }}\n  ports: [{{ port: 80 }}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  TAG: ${{input.TAG}}\n",
        deployment("registry.local/web:${input.TAG}")
    );
    let input = format!(
        "          endpoint: dev\n          action: APPLY\n          waitForRollout: true\n          rolloutTimeout: 5\n          yaml: |\n{}",
        indent(&manifests, 12)
    );
    let d = run_task(&w, &engine, "apply", &input).await;
    let (status, message, out) = task(&d);
    assert_eq!(status, RunStatus::Completed, "{message}");
    assert_eq!(
        message,
        "APPLY: Deployment web applied, Service web applied, ConfigMap web-config applied."
    );
    assert_eq!(out["objects"].as_array().unwrap().len(), 3);
    assert_eq!(out["objects"][0]["rollout"], "complete");
    assert_eq!(out["objects"][0]["status"]["availableReplicas"], 2);
    assert_eq!(out["namespace"], "web");
    let version = {
        let c = api.cluster.lock().unwrap();
        let dep = c.object("deployments", "web", "web").unwrap();
        assert_eq!(
            dep["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.local/web:v1"
        );
        assert_eq!(dep["metadata"]["managedFields"][0]["manager"], "wharf");
        assert_eq!(
            c.object("configmaps", "web", "web-config").unwrap()["data"]["TAG"],
            "v1"
        );
        let version = dep["metadata"]["resourceVersion"].clone();
        let patches = c.count("PATCH", "/apis/apps/v1/namespaces/web/deployments/web");
        assert_eq!(patches, 1);
        version
    };

    // the same pipeline again: applied again, nothing changes
    let p = pipelines::list(&w.backend, w.member, w.project, 0, 10)
        .await
        .unwrap()
        .0[0]
        .id;
    let d = run_pipeline(&w, &engine, p, &[]).await;
    assert_eq!(task(&d).0, RunStatus::Completed);
    let c = api.cluster.lock().unwrap();
    let dep = c.object("deployments", "web", "web").unwrap();
    assert_eq!(
        dep["metadata"]["resourceVersion"], version,
        "apply twice changes nothing"
    );
    assert_eq!(
        dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    assert_eq!(c.count("POST", "/apis"), 0, "apply never creates with POST");
}

#[tokio::test]
async fn errors_from_the_cluster_become_clear_task_messages() {
    let (w, api, engine) = cluster().await;
    // 409: CREATE of something that exists
    let input = format!(
        "          endpoint: dev\n          action: CREATE\n          yaml: |\n{}",
        indent(&deployment("nginx:1.27"), 12)
    );
    let d = run_task(&w, &engine, "create", &input).await;
    assert_eq!(task(&d).0, RunStatus::Completed, "{}", task(&d).1);
    let p = pipelines::list(&w.backend, w.member, w.project, 0, 10)
        .await
        .unwrap()
        .0[0]
        .id;
    let d = run_pipeline(&w, &engine, p, &[]).await;
    assert_eq!(
        task(&d).1,
        "CREATE Deployment web in namespace web: the cluster answered 409 AlreadyExists: deployments.apps \"web\" already exists"
    );
    assert_eq!(d.row.status, RunStatus::Failed);

    // 422: invalid object
    let broken = deployment("").replace("image: \n", "image: \"\"\n");
    let input = format!(
        "          endpoint: dev\n          action: APPLY\n          yaml: |\n{}",
        indent(&broken, 12)
    );
    let d = run_task(&w, &engine, "invalid", &input).await;
    assert_eq!(
        task(&d).1,
        "APPLY Deployment web in namespace web: the cluster answered 422 Invalid: Deployment.apps \"web\" is invalid: spec.template.spec.containers[web].image: Required value"
    );

    // 403: RBAC says no in that namespace
    api.cluster
        .lock()
        .unwrap()
        .denied
        .insert((USER.to_owned(), "kube-system".to_owned()));
    let d = run_task(
        &w,
        &engine,
        "forbidden",
        "          endpoint: dev\n          action: GET\n          namespace: kube-system\n          kind: ConfigMap\n          name: coredns\n",
    )
    .await;
    assert_eq!(
        task(&d).1,
        "GET ConfigMap coredns in namespace kube-system: the cluster answered 403 Forbidden: configmaps \"coredns\" is forbidden: User \"system:serviceaccount:web:deployer\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"kube-system\""
    );

    // 404 and a kind the cluster does not serve
    let d = run_task(
        &w,
        &engine,
        "missing",
        "          endpoint: dev\n          action: DELETE\n          kind: Service\n          name: gone\n",
    )
    .await;
    assert_eq!(
        task(&d).1,
        "DELETE Service gone in namespace web: the cluster answered 404 NotFound: services \"gone\" not found"
    );
    let d = run_task(
        &w,
        &engine,
        "unknown-kind",
        "          endpoint: dev\n          action: GET\n          apiVersion: batch/v1\n          kind: CronJob\n          name: nightly\n",
    )
    .await;
    assert_eq!(
        task(&d).1,
        "The cluster does not serve CronJob in batch/v1."
    );
}

#[tokio::test]
async fn rollout_wait_succeeds_fails_or_times_out_and_rollback_restores_the_previous_template() {
    let (w, api, engine) = cluster().await;
    let manifest = indent(&deployment("${input.IMAGE}"), 12);
    let yaml = testkit::pipeline!("kubernetes-task-deploy", MANIFEST = manifest);
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    assert_eq!(
        task(&run_pipeline(&w, &engine, p.id, &[]).await).0,
        RunStatus::Completed
    );

    api.cluster.lock().unwrap().rollout = Rollout::Progressing;
    let d = run_pipeline(&w, &engine, p.id, &[("IMAGE", "nginx:1.27")]).await;
    assert_eq!(
        task(&d).1,
        "The rollout of Deployment web in namespace web did not finish within 2 seconds: 0 of 2 replicas updated, 0 available."
    );

    api.cluster.lock().unwrap().rollout = Rollout::DeadlineExceeded;
    let d = run_pipeline(&w, &engine, p.id, &[("IMAGE", "nginx:1.28")]).await;
    assert_eq!(
        task(&d).1,
        "The rollout of Deployment web in namespace web failed: ProgressDeadlineExceeded: ReplicaSet has timed out progressing."
    );

    // ROLLBACK: back from nginx:1.28 (revision 3) to nginx:1.27 (revision 2)
    api.cluster.lock().unwrap().rollout = Rollout::Complete;
    let d = run_task(
        &w,
        &engine,
        "undo",
        "          endpoint: dev\n          action: ROLLBACK\n          kind: Deployment\n          name: web\n          waitForRollout: true\n",
    )
    .await;
    let (status, message, out) = task(&d);
    assert_eq!(status, RunStatus::Completed, "{message}");
    assert_eq!(out["objects"][0]["result"], "rolled back");
    let dep = api
        .cluster
        .lock()
        .unwrap()
        .object("deployments", "web", "web")
        .unwrap();
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    assert_eq!(
        dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "4"
    );
    let log = executions::task_log(&w.backend, w.member, w.project, d.row.id, "Deploy", "K")
        .await
        .unwrap();
    assert!(
        log.contains(
            &"ROLLBACK Deployment web in namespace web: rolled back from revision 3 to revision 2"
                .to_owned()
        ),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_running_tasks_log_can_be_read_while_it_waits_and_holds_each_line_once_after() {
    let (w, api, engine) = cluster().await;
    let manifest = indent(&deployment("${input.IMAGE}"), 12);
    let yaml = testkit::pipeline!("kubernetes-task-deploy-progressing", MANIFEST = manifest);
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    api.cluster.lock().unwrap().rollout = Rollout::Progressing;
    let Started::Queued(r) = executions::start(
        &w.backend,
        w.member,
        w.project,
        p.id,
        BTreeMap::new(),
        "",
        Trigger::Api,
    )
    .await
    .unwrap() else {
        panic!("not queued")
    };
    let running = tokio::spawn({
        let engine = engine.clone();
        async move { while engine.step().await.unwrap() {} }
    });
    let log = || executions::task_log(&w.backend, w.viewer, w.project, r.id, "Deploy", "Apply");
    let mut waited = 0;
    let lines = loop {
        let lines = log().await.unwrap();
        if lines.iter().any(|l| l.starts_with("Waiting up to 30 s")) {
            break lines;
        }
        waited += 1;
        assert!(waited < 100, "no live log line after 5 s: {lines:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(lines[0].starts_with("APPLY Deployment web in namespace web: applied"));
    let d = executions::get(&w.backend, w.member, w.project, r.id)
        .await
        .unwrap();
    assert_eq!(task(&d).0, RunStatus::Running, "the task still waits");

    api.cluster.lock().unwrap().rollout = Rollout::Complete;
    running.await.unwrap();
    let d = executions::get(&w.backend, w.member, w.project, r.id)
        .await
        .unwrap();
    assert_eq!(task(&d).0, RunStatus::Completed);
    // the bound input: the task's input as it ran, ${input.IMAGE} resolved
    let input: serde_json::Value =
        serde_json::from_str(d.stages[0].tasks[0].input.as_deref().unwrap()).unwrap();
    assert!(input["yaml"]
        .as_str()
        .unwrap()
        .contains("image: nginx:1.26"));
    assert_eq!(input["endpoint"], "dev");
    let all = log().await.unwrap();
    assert_eq!(&all[..2], &lines[..2], "the lines stored live stay, once");
    assert_eq!(
        all.iter()
            .filter(|l| l.starts_with("Waiting up to"))
            .count(),
        1
    );
    assert!(all
        .last()
        .unwrap()
        .starts_with("Rollout of Deployment web in namespace web complete"));
}

#[tokio::test]
async fn a_value_with_a_newline_fills_one_scalar_and_adds_no_field_to_the_applied_object() {
    let (w, api, engine) = cluster().await;
    let yaml = testkit::pipeline!("kubernetes-task-inject");
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    // the attack: a tag that would add hostPID to the pod spec if it were pasted into the text
    let hostile =
        "x\n      hostPID: true\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: planted }";
    let d = run_pipeline(&w, &engine, p.id, &[("TAG", hostile)]).await;
    assert_eq!(d.row.status, RunStatus::Completed, "{d:#?}");
    let c = api.cluster.lock().unwrap();
    let dep = c.object("deployments", "web", "web").unwrap();
    let pod = &dep["spec"]["template"]["spec"];
    assert!(pod.get("hostPID").is_none(), "{pod}");
    assert_eq!(
        pod["containers"][0]["image"],
        format!("acme/web:{hostile}").as_str()
    );
    assert_eq!(
        dep["spec"]["replicas"], 2,
        "a whole-scalar number keeps its type"
    );
    assert!(c.object("configmaps", "web", "planted").is_none());
}
