//! The durable inbox: a delivery accepted (committed) but not yet processed when Wharf stops
//! is processed after the restart, once; the processing transaction starts the execution and
//! records Activity together.

mod support;

use backend::db::{connect_and_migrate, DbConfig};
use backend::endpoints::{self, EndpointInput};
use backend::inbox::{self, Inbox, Source};
use backend::secrets::Sealer;
use backend::{executions, pipelines, tokens, webhooks, Backend, SystemClock};
use domain::endpoints::RegistryServerType;
use domain::webhooks::{ActivityFilter, ActivityStatus, WebhookForm};
use std::sync::Arc;
use support::*;

const DEPLOY: &str = r#"kind: PIPELINE
name: deploy
input:
  DOCKER_EVENT_OWNER_NAME: ''
  DOCKER_IMAGE: ''
  DOCKER_REPO_NAME: ''
  DOCKER_REPO_NAMESPACE: ''
  DOCKER_TAG: ''
  DOCKER_DIGEST: ''
stageOrder: [Check]
stages:
  Check:
    taskOrder: [Tag]
    tasks:
      Tag: { type: Condition, input: { condition: '${input.DOCKER_TAG} matches "."' } }
"#;

async fn reopen(dir: &std::path::Path) -> Backend {
    let db = connect_and_migrate(&DbConfig {
        url: format!("sqlite://{}/wharf.db", dir.display()),
        max_connections: 4,
    })
    .await
    .unwrap();
    let key = backend::keys::MasterKey::load_or_create(&dir.join("wharf.key")).unwrap();
    Backend::new(db, Arc::new(SystemClock), Arc::new(Sealer::new(&key)))
}

#[tokio::test]
async fn an_event_accepted_before_a_restart_triggers_exactly_once_after_it() {
    let w = world().await;
    let b = &w.backend;
    let p = pipelines::create(b, w.root, w.project, DEPLOY)
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
    let t = tokens::issue(b, "root@example.com", PW, "webhook", "test")
        .await
        .unwrap();
    let card = webhooks::create(
        b,
        w.root,
        w.project,
        WebhookForm {
            name: "web".into(),
            endpoint_id: e.id,
            pipeline_id: p.id,
            api_token: t.token,
            image: "acme/web".into(),
            enabled: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let body = br#"{"events": [{"id": "e-1", "action": "push", "actor": {"name": "ci"},
        "request": {"host": "127.0.0.1:5000"},
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "acme/web",
                   "tag": "1.0", "digest": "sha256:abc"}}]}"#;
    let (source, events) = inbox::read_registry(body).unwrap();
    assert_eq!(source, Source::Distribution);
    // accepted: committed before the answer; the processor never ran
    Inbox::start(b.clone())
        .accept(b, card.id, source, body, &events)
        .await
        .unwrap();
    b.db.clone().close().await.unwrap();
    drop(w.backend);

    // Wharf starts again on the same database
    let b = reopen(w.dir.path()).await;
    assert_eq!(inbox::process_pending(&b).await.unwrap(), 1);
    assert_eq!(
        inbox::process_pending(&b).await.unwrap(),
        0,
        "processed once"
    );
    let (runs, total) = executions::list(&b, w.root, w.project, None, 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(runs[0].trigger, "docker");
    let page = inbox::list(&b, w.root, w.project, &ActivityFilter::default())
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].status, ActivityStatus::Triggered);
    assert_eq!(page.rows[0].image, "127.0.0.1:5000/acme/web:1.0");
    assert_eq!(page.rows[0].execution_id, Some(runs[0].id));

    // the registry, not having seen the answer, sends it again: a duplicate
    Inbox::start(b.clone())
        .accept(&b, card.id, source, body, &events)
        .await
        .unwrap();
    assert_eq!(inbox::process_pending(&b).await.unwrap(), 1);
    let page = inbox::list(&b, w.root, w.project, &ActivityFilter::default())
        .await
        .unwrap();
    assert_eq!(page.rows[0].status, ActivityStatus::Duplicate);
    let (_, total) = executions::list(&b, w.root, w.project, None, 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 1);
    // a viewer sees Activity but cannot resubmit
    assert!(inbox::resubmit(&b, w.viewer, w.project, page.rows[1].id)
        .await
        .is_err());
}

#[test]
fn callbacks_go_over_https_to_allowed_hosts_only() {
    let allowed = vec!["registry.hub.docker.com".to_owned()];
    assert_eq!(
        inbox::callback_refusal("https://registry.hub.docker.com/u/a/b/hook/1/", &allowed),
        None
    );
    assert!(
        inbox::callback_refusal("http://registry.hub.docker.com/x", &allowed)
            .unwrap()
            .contains("https only")
    );
    assert!(
        inbox::callback_refusal("https://169.254.169.254/latest", &allowed)
            .unwrap()
            .contains("allow-list")
    );
    assert!(
        inbox::callback_refusal("https://registry.hub.docker.com.evil.test/", &allowed).is_some()
    );
    assert!(inbox::callback_refusal("not a url", &allowed).is_some());
}
