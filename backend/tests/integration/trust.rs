//! Trust boundaries, each written as the attack a project member would try: the test performs
//! the attack and shows that it fails.

use crate::support::{world, Registry};
use backend::platform::secrets::SecretValue;
use backend::project::endpoints::{self, EndpointInput};
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
    testkit::pipeline!("trust-call", NAME = name, URL = url, EXTRA = extra)
}

async fn run_to_end(w: &crate::support::World, yaml: &str) -> domain::executions::ExecutionDetail {
    use backend::runs::executions::{self, Started, Trigger};
    let engine = backend::engine::Engine::new(
        w.backend.clone(),
        "worker",
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let p = backend::project::pipelines::create(&w.backend, w.member, w.project, yaml)
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
    use backend::project::variables::{self, VariableInput};
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
    assert!(shown.contains(backend::platform::masking::MASK));
}

async fn restricted_variable(
    w: &crate::support::World,
    name: &str,
    kind: &str,
    value: &str,
) -> i64 {
    backend::project::variables::create(
        &w.backend,
        w.root,
        w.project,
        backend::project::variables::VariableInput {
            name: name.into(),
            kind: kind.into(),
            value: Some(SecretValue::new(value)),
            description: String::new(),
        },
    )
    .await
    .unwrap()
    .id
}

async fn start(
    w: &crate::support::World,
    who: backend::access::accounts::Actor,
    pipeline: i64,
) -> i64 {
    match backend::runs::executions::start(
        &w.backend,
        who,
        w.project,
        pipeline,
        Default::default(),
        "",
        backend::runs::executions::Trigger::Manual,
    )
    .await
    .unwrap()
    {
        backend::runs::executions::Started::Queued(r) => r.id,
        other => panic!("{other:?}"),
    }
}

async fn settle(engine: &backend::engine::Engine) {
    let mut n = 0;
    while engine.step().await.unwrap() {
        n += 1;
        assert!(n < 50);
    }
}

#[tokio::test]
async fn a_restricted_variable_is_released_only_to_administrators_runs_or_with_approval() {
    use backend::runs::user_operations;
    use domain::executions::RunStatus;
    const PROD: &str = "prod-password-value";
    let w = world().await;
    let engine = backend::engine::Engine::new(
        w.backend.clone(),
        "worker",
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    restricted_variable(&w, "PROD_PASSWORD", "RESTRICTED", PROD).await;
    let listener = Listener::start(Answer::Ok).await;
    let yaml = rest_pipeline(
        "deploy",
        &format!("{}/apply?p=${{var.PROD_PASSWORD}}", listener.url),
        "",
    );

    // the attack: a member puts the restricted variable into a pipeline; saving is refused
    let refused = backend::project::pipelines::create(&w.backend, w.member, w.project, &yaml).await;
    assert!(
        matches!(refused, Err(Error::Forbidden(ref m)) if m.contains("PROD_PASSWORD")),
        "{refused:?}"
    );

    // an administrator's pipeline started by a member waits before the task for an administrator
    let p = backend::project::pipelines::create(&w.backend, w.root, w.project, &yaml)
        .await
        .unwrap();
    let id = start(&w, w.member, p.id).await;
    settle(&engine).await;
    let d = backend::runs::executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Waiting);
    let task = &d.stages[0].tasks[0];
    assert_eq!(task.status, RunStatus::Waiting);
    assert_eq!(
        task.message.as_deref(),
        Some(
            "Task S › Call uses restricted variable PROD_PASSWORD; an administrator must approve."
        )
    );
    assert!(
        listener.seen().is_empty(),
        "nothing left before the approval"
    );
    assert!(user_operations::waiting_for(&w.backend, w.member)
        .await
        .unwrap()
        .is_empty());
    let waiting = user_operations::waiting_for(&w.backend, w.root)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].execution_id, id);
    // the member cannot approve it themselves
    let e = user_operations::respond(&w.backend, w.member, waiting[0].id, true, "")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");
    // an administrator approves: the value is released to that task, and who approved is kept
    user_operations::respond(&w.backend, w.root, waiting[0].id, true, "ok for today")
        .await
        .unwrap();
    settle(&engine).await;
    let d = backend::runs::executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed, "{d:#?}");
    assert!(listener.saw(PROD));
    let log = backend::runs::executions::task_log(&w.backend, w.member, w.project, id, "S", "Call")
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|l| l.contains("approved by root@example.com")),
        "{log:?}"
    );

    // rejected: the task fails and nothing is sent
    let before = listener.seen().len();
    let id = start(&w, w.member, p.id).await;
    settle(&engine).await;
    let op = user_operations::waiting_for(&w.backend, w.root)
        .await
        .unwrap()[0]
        .id;
    user_operations::respond(&w.backend, w.root, op, false, "not now")
        .await
        .unwrap();
    settle(&engine).await;
    let d = backend::runs::executions::get(&w.backend, w.member, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Failed);
    assert!(d.stages[0].tasks[0]
        .message
        .as_deref()
        .unwrap_or_default()
        .starts_with("Rejected by root@example.com: not now"));
    assert_eq!(listener.seen().len(), before);

    // saved by an administrator and started by one: released without asking
    let id = start(&w, w.root, p.id).await;
    settle(&engine).await;
    let d = backend::runs::executions::get(&w.backend, w.root, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed);
}

#[tokio::test]
async fn a_version_saved_by_a_member_waits_even_when_an_administrator_runs_it() {
    use domain::executions::RunStatus;
    let w = world().await;
    let engine = backend::engine::Engine::new(
        w.backend.clone(),
        "worker",
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let listener = Listener::start(Answer::Ok).await;
    // the member's pipeline uses a variable that is SECRET today…
    let var = restricted_variable(&w, "DB_PASSWORD", "SECRET", "db-password-value").await;
    let yaml = rest_pipeline(
        "sync",
        &format!("{}/s?p=${{var.DB_PASSWORD}}", listener.url),
        "",
    );
    let p = backend::project::pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    // …and an administrator makes it RESTRICTED
    backend::project::variables::update(
        &w.backend,
        w.root,
        w.project,
        var,
        backend::project::variables::VariableInput {
            name: "DB_PASSWORD".into(),
            kind: "RESTRICTED".into(),
            value: Some(SecretValue::new("db-password-value")),
            description: String::new(),
        },
    )
    .await
    .unwrap();
    let id = start(&w, w.root, p.id).await;
    settle(&engine).await;
    let d = backend::runs::executions::get(&w.backend, w.root, w.project, id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Waiting, "{d:#?}");
    assert!(listener.seen().is_empty());
}

#[tokio::test]
async fn a_member_cannot_keep_an_administrators_token_on_a_card_they_edit() {
    use backend::access::tokens;
    use backend::triggers::cards;
    use domain::webhooks::WebhookForm;
    let w = world().await;
    let b = &w.backend;
    let yaml = testkit::pipeline!("trust-deploy");
    let p = backend::project::pipelines::create(b, w.root, w.project, &yaml)
        .await
        .unwrap();
    let e = endpoints::create(
        b,
        w.root,
        w.project,
        EndpointInput::registry(
            "local",
            RegistryServerType::DockerRegistry,
            "http://127.0.0.1:1",
            "",
            None,
        ),
    )
    .await
    .unwrap();
    let admins = tokens::issue(b, "root@example.com", crate::support::PW, "card", "test")
        .await
        .unwrap();
    let form = WebhookForm {
        name: "web".into(),
        endpoint_id: e.id,
        pipeline_id: p.id,
        api_token: admins.token.clone(),
        image: "acme/web".into(),
        enabled: true,
        ..Default::default()
    };
    let card = cards::create(b, w.root, w.project, form.clone())
        .await
        .unwrap();
    // the attack: edit the card, leave the token empty ("keep") so it still runs as root
    let mut edit = form.clone();
    edit.api_token = String::new();
    edit.tag = "v*".into();
    assert_eq!(
        field_of(cards::update(b, w.member, w.project, card.id, edit.clone()).await),
        "api_token"
    );
    // nor may they paste somebody else's token they came by
    edit.api_token = admins.token.clone();
    assert_eq!(
        field_of(cards::update(b, w.member, w.project, card.id, edit.clone()).await),
        "api_token"
    );
    // with their own token the card is theirs to change, and runs as them from now on
    let mine = tokens::issue(b, "mia@example.com", crate::support::PW, "card", "test")
        .await
        .unwrap();
    edit.api_token = mine.token;
    let changed = cards::update(b, w.member, w.project, card.id, edit)
        .await
        .unwrap();
    assert_eq!(changed.tag, "v*");
    // an administrator may keep the stored token
    let mut keep = form;
    keep.api_token = String::new();
    cards::update(b, w.root, w.project, card.id, keep)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_registry_answering_a_manifest_of_50_mib_is_read_no_further_than_4_mib() {
    let w = world().await;
    let listener = Listener::start(Answer::Stream(50 * 1024 * 1024)).await;
    let client = backend::clients::registry::client(&w.backend.outbound).unwrap();
    let refused =
        backend::clients::registry::retag(&client, &listener.url, None, "acme/web", "v1", "v2")
            .await
            .unwrap_err()
            .to_string();
    assert!(
        refused.contains("is over 4 MiB: not a manifest"),
        "{refused}"
    );
    // Wharf stopped reading at the cap: what the listener could push is the 4 MiB read plus
    // what socket buffers took for this answer and for GET /v2/ (dropped after its headers),
    // far from the 50 MiB it offered twice
    assert!(
        listener.streamed() < 20 * 1024 * 1024,
        "{} bytes were read",
        listener.streamed()
    );
}
