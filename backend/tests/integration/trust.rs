//! Trust boundaries, each written as the attack a project member would try: the test performs
//! the attack and shows that it fails.

use crate::support::{world, Registry};
use backend::endpoints::{self, EndpointInput};
use backend::secrets::SecretValue;
use backend::Error;
use domain::endpoints::RegistryServerType;
use testkit::listener::{Answer, Listener};

const REGISTRY_PASSWORD: &str = "alice-password-never-leaves";
const CLUSTER_TOKEN: &str = "sa-token-bound-to-its-cluster";

fn field_of(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::Invalid { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_member_who_moves_a_registry_endpoint_to_their_listener_receives_no_password() {
    let w = world().await;
    let registry = Registry::with_htpasswd("alice", REGISTRY_PASSWORD);
    let listener = Listener::start(Answer::BasicChallenge).await;
    let original = EndpointInput::registry(
        "prod registry",
        RegistryServerType::DockerRegistry,
        &registry.url,
        "alice",
        Some(SecretValue::new(REGISTRY_PASSWORD)),
    );
    let e = endpoints::create(&w.backend, w.root, w.project, original.clone())
        .await
        .unwrap();

    // the attack: change only the URL, leave the password empty ("keep"), then Validate
    let mut moved = original.clone();
    moved.url = listener.url.clone();
    moved.secret = None;
    assert_eq!(
        field_of(endpoints::update(&w.backend, w.member, w.project, e.id, moved.clone()).await),
        "secret"
    );
    let v = endpoints::validate(&w.backend, w.member, w.project, e.id)
        .await
        .unwrap();
    assert!(
        v.ok,
        "the endpoint still points at the real registry: {}",
        v.message
    );
    assert!(listener.seen().is_empty(), "{:?}", listener.seen());

    // the same for the server type, and with a new password the move is the member's own
    let mut retyped = original.clone();
    retyped.server_type = RegistryServerType::Harbor.as_str().to_owned();
    retyped.secret = None;
    assert_eq!(
        field_of(endpoints::update(&w.backend, w.member, w.project, e.id, retyped).await),
        "secret"
    );
    moved.secret = Some(SecretValue::new("the-members-own-password"));
    endpoints::update(&w.backend, w.member, w.project, e.id, moved)
        .await
        .unwrap();
    endpoints::validate(&w.backend, w.member, w.project, e.id)
        .await
        .unwrap();
    assert!(!listener.seen().is_empty());
    assert!(!listener.saw(REGISTRY_PASSWORD));
    assert!(!listener.saw(&base64(&format!("alice:{REGISTRY_PASSWORD}"))));
}

#[tokio::test]
async fn a_member_who_moves_a_cluster_endpoint_or_its_method_must_give_the_token_again() {
    let w = world().await;
    let listener = Listener::start(Answer::BasicChallenge).await;
    let original = EndpointInput::kubernetes_token(
        "dev cluster",
        "https://127.0.0.1:6443",
        SecretValue::new(CLUSTER_TOKEN),
        "web",
    );
    let e = endpoints::create(&w.backend, w.member, w.project, original.clone())
        .await
        .unwrap();
    let mut moved = original.clone();
    moved.url = listener.url.clone();
    moved.secret = None;
    assert_eq!(
        field_of(endpoints::update(&w.backend, w.member, w.project, e.id, moved).await),
        "secret"
    );
    let mut basic = original.clone();
    basic.auth_method = "basic".to_owned();
    basic.username = "admin".to_owned();
    basic.secret = None;
    assert_eq!(
        field_of(endpoints::update(&w.backend, w.member, w.project, e.id, basic).await),
        "secret"
    );
    let mut pinned = original.clone();
    pinned.certificate_sha256 = Some(vec!["AB"; 32].join(":"));
    pinned.secret = None;
    assert_eq!(
        field_of(endpoints::update(&w.backend, w.member, w.project, e.id, pinned).await),
        "secret"
    );
    let stored = endpoints::get(&w.backend, w.member, w.project, e.id)
        .await
        .unwrap();
    assert_eq!(stored.url, "https://127.0.0.1:6443");
    assert!(listener.seen().is_empty());

    // a rename or a new namespace keeps the token: the destination is the same
    let mut renamed = original.clone();
    renamed.name = "dev".to_owned();
    renamed.namespace = "other".to_owned();
    renamed.secret = None;
    let kept = endpoints::update(&w.backend, w.member, w.project, e.id, renamed)
        .await
        .unwrap();
    assert!(kept.has_secret);
}

fn base64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A REST pipeline calling `url`, with `extra` lines under the task's input.
fn rest_pipeline(name: &str, url: &str, extra: &str) -> String {
    format!(
        "kind: PIPELINE\nname: {name}\nstageOrder: [S]\nstages:\n  S:\n    taskOrder: [Call]\n    tasks:\n      Call:\n        type: REST\n        input:\n          url: '{url}'\n{extra}"
    )
}

async fn run_to_end(w: &crate::support::World, yaml: &str) -> domain::executions::ExecutionDetail {
    use backend::executions::{self, Started, Trigger};
    let engine = backend::engine::Engine::new(
        w.backend.clone(),
        "worker",
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let p = backend::pipelines::create(&w.backend, w.member, w.project, yaml)
        .await
        .unwrap();
    let Started::Queued(row) = executions::start(
        &w.backend,
        w.member,
        w.project,
        p.id,
        Default::default(),
        "",
        Trigger::Manual,
    )
    .await
    .unwrap() else {
        panic!("not queued")
    };
    let mut steps = 0;
    while engine.step().await.unwrap() {
        steps += 1;
        assert!(steps < 50);
    }
    executions::get(&w.backend, w.member, w.project, row.id)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_rest_task_against_a_server_streaming_50_mib_keeps_at_most_1_mib() {
    let w = world().await;
    let listener = Listener::start(Answer::Stream(50 * 1024 * 1024)).await;
    let d = run_to_end(
        &w,
        &rest_pipeline("big", &format!("{}/big", listener.url), ""),
    )
    .await;
    let task = &d.stages[0].tasks[0];
    assert_eq!(
        task.status,
        domain::executions::RunStatus::Completed,
        "{task:?}"
    );
    let out: serde_json::Value = serde_json::from_str(task.output.as_deref().unwrap()).unwrap();
    let body = out["body"].as_str().unwrap();
    assert_eq!(body.len(), backend::engine::MAX_RESPONSE_BYTES);
    assert_eq!(out["truncated"], true);
    assert!(out["note"].as_str().unwrap().contains("discarded"));
    // Wharf stopped reading: the server could hand over little more than what was kept
    // (socket buffers), never the 50 MiB
    assert!(
        listener.streamed() < 12 * 1024 * 1024,
        "{} bytes were read",
        listener.streamed()
    );
}

#[tokio::test]
async fn a_task_aimed_at_the_metadata_address_fails_with_the_policy_message() {
    let w = world().await;
    let d = run_to_end(
        &w,
        &rest_pipeline("meta", "http://169.254.169.254/latest/meta-data/", ""),
    )
    .await;
    let task = &d.stages[0].tasks[0];
    assert_eq!(task.status, domain::executions::RunStatus::Failed);
    let message = task.message.clone().unwrap_or_default();
    assert!(
        message.contains("outbound policy refuses 169.254.169.254")
            && message.contains("WHARF_OUTBOUND_ALLOW_LINK_LOCAL"),
        "{message}"
    );
    // a name that resolves there is refused too (checked after DNS): an IPv4-mapped form
    let d = run_to_end(
        &w,
        &rest_pipeline("mapped", "http://[::ffff:169.254.169.254]/", ""),
    )
    .await;
    assert_eq!(
        d.stages[0].tasks[0].status,
        domain::executions::RunStatus::Failed
    );
}

#[tokio::test]
async fn redirects_are_followed_only_when_the_task_asks_and_only_to_the_same_host() {
    let w = world().await;
    let same = Listener::start(Answer::RedirectTo("/again".to_owned())).await;
    let d = run_to_end(
        &w,
        &rest_pipeline("nofollow", &format!("{}/a", same.url), ""),
    )
    .await;
    let out: serde_json::Value =
        serde_json::from_str(d.stages[0].tasks[0].output.as_deref().unwrap()).unwrap();
    assert_eq!(out["status"], 302);
    assert_eq!(same.seen().len(), 1, "not followed unless asked");

    let d = run_to_end(
        &w,
        &rest_pipeline(
            "follow",
            &format!("{}/a", same.url),
            "          followRedirects: true\n",
        ),
    )
    .await;
    let task = &d.stages[0].tasks[0];
    assert_eq!(task.status, domain::executions::RunStatus::Failed);
    assert!(
        task.message
            .as_deref()
            .unwrap_or_default()
            .contains("more than 5 redirects"),
        "{task:?}"
    );

    let target = Listener::start(Answer::Ok).await;
    let elsewhere = Listener::start(Answer::RedirectTo(format!(
        "http://localhost:{}/x",
        target.port
    )))
    .await;
    let d = run_to_end(
        &w,
        &rest_pipeline(
            "cross",
            &format!("{}/a", elsewhere.url),
            "          followRedirects: true\n",
        ),
    )
    .await;
    let task = &d.stages[0].tasks[0];
    assert_eq!(task.status, domain::executions::RunStatus::Failed);
    assert!(
        task.message
            .as_deref()
            .unwrap_or_default()
            .contains("another host"),
        "{task:?}"
    );
    assert!(target.seen().is_empty());
}

#[tokio::test]
async fn secrets_are_masked_also_url_encoded_json_escaped_and_in_base64() {
    use backend::variables::{self, VariableInput};
    let w = world().await;
    const VALUE: &str = "p@ss w/rd+\"quoted\"";
    variables::create(
        &w.backend,
        w.member,
        w.project,
        VariableInput {
            name: "API_PASSWORD".into(),
            kind: "SECRET".into(),
            value: Some(SecretValue::new(VALUE)),
            description: String::new(),
        },
    )
    .await
    .unwrap();
    // the attack: make the value come back encoded in the URL, the error message and the output
    let listener = Listener::start(Answer::BasicChallenge).await;
    let yaml = rest_pipeline(
        "leak",
        &format!("{}/x?p=${{var.API_PASSWORD}}", listener.url),
        "          headers: { Authorization: 'Basic ${var.API_PASSWORD}' }\n",
    );
    let d = run_to_end(&w, &yaml).await;
    let task = &d.stages[0].tasks[0];
    let shown = format!(
        "{:?} {:?} {:?} {:?}",
        task.message, task.output, task.input, d.row.message
    );
    assert!(listener.saw("quoted"), "the call carried the value");
    // whatever form the URL parser, JSON or percent-encoding gave it, no part of it shows
    for form in [VALUE, "quoted", "w/rd", "w%2Frd"] {
        assert!(!shown.contains(form), "{form} shown in {shown}");
    }
    assert!(shown.contains(backend::masking::MASK));
}
