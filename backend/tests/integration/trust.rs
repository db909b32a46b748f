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
