//! Kubernetes endpoints on a real SQLite file, validated through kube-rs against the Kubernetes
//! API stand-in (bearer token, user and password, client certificate; CA data and pinning).

use crate::support::{world, CLOSED_PORT};
use backend::platform::secrets::SecretValue;
use backend::project::endpoints::{self, EndpointInput};
use backend::Error;
use domain::endpoints::{EndpointKind, KubernetesAuth};
use sea_orm::{ConnectionTrait, Statement};
use testkit::certs::TestCa;
use testkit::kube::{Cluster, KubeApi, ServerTls};

const TOKEN: &str = "sa-token-7f3e-never-shown";

fn token_input(name: &str, url: &str, token: &str, ns: &str) -> EndpointInput {
    EndpointInput::kubernetes_token(name, url, SecretValue::new(token), ns)
}

fn invalid_field(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::Invalid { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[tokio::test]
async fn validate_reports_version_and_deployment_access_in_words() {
    let w = world().await;
    let mut cluster = Cluster::with_token(TOKEN, "system:serviceaccount:web:deployer");
    cluster.denied.insert((
        "system:serviceaccount:web:deployer".to_owned(),
        "kube-system".to_owned(),
    ));
    let api = KubeApi::start(cluster).await;

    let e = endpoints::create(
        &w.backend,
        w.member,
        w.project,
        token_input("dev cluster", &api.url, TOKEN, "web"),
    )
    .await
    .unwrap();
    assert_eq!(e.kind, EndpointKind::Kubernetes);
    let k = e.kubernetes.clone().unwrap();
    assert_eq!(
        (k.auth, k.namespace.as_str()),
        (KubernetesAuth::BearerToken, "web")
    );
    assert!(e.has_secret && e.server_type.is_none());

    let v = endpoints::validate(&w.backend, w.member, w.project, e.id)
        .await
        .unwrap();
    assert!(v.ok, "{}", v.message);
    assert_eq!(
        v.message,
        "Connected to Kubernetes v1.33.2; can list Deployments in namespace \"web\"."
    );
    assert_eq!(
        api.requests(),
        vec![
            "GET /version system:serviceaccount:web:deployer",
            "GET /apis/apps/v1/namespaces/web/deployments system:serviceaccount:web:deployer",
        ]
    );

    // a wrong token: 401 in words
    let wrong = endpoints::create(
        &w.backend,
        w.member,
        w.project,
        token_input("wrong", &api.url, "not-the-token", "web"),
    )
    .await
    .unwrap();
    let v = endpoints::validate(&w.backend, w.member, w.project, wrong.id)
        .await
        .unwrap();
    assert!(!v.ok);
    assert_eq!(
        v.message,
        "The cluster did not accept these credentials (401 Unauthorized)."
    );

    // RBAC says no in the default namespace
    let denied = endpoints::create(
        &w.backend,
        w.member,
        w.project,
        token_input("system", &api.url, TOKEN, "kube-system"),
    )
    .await
    .unwrap();
    let v = endpoints::validate(&w.backend, w.member, w.project, denied.id)
        .await
        .unwrap();
    assert!(!v.ok);
    assert!(
        v.message.starts_with(
            "Authenticated, but not allowed to list Deployments in namespace \"kube-system\""
        ),
        "{}",
        v.message
    );

    // nothing there
    let gone = endpoints::create(
        &w.backend,
        w.member,
        w.project,
        token_input(
            "gone",
            &format!("http://127.0.0.1:{CLOSED_PORT}"),
            TOKEN,
            "web",
        ),
    )
    .await
    .unwrap();
    let v = endpoints::validate(&w.backend, w.member, w.project, gone.id)
        .await
        .unwrap();
    assert!(
        !v.ok && v.message.starts_with("No Kubernetes API at this URL"),
        "{}",
        v.message
    );
}

#[tokio::test]
async fn user_name_and_password_authenticate_with_basic() {
    let w = world().await;
    let mut cluster = Cluster::with_token("unused", "nobody");
    cluster
        .passwords
        .insert("admin".to_owned(), "cluster-pass".to_owned());
    let api = KubeApi::start(cluster).await;
    let mut input = token_input("basic", &api.url, "cluster-pass", "");
    input.auth_method = KubernetesAuth::Basic.as_str().to_owned();
    input.username = "admin".to_owned();
    let e = endpoints::create(&w.backend, w.member, w.project, input.clone())
        .await
        .unwrap();
    assert_eq!(e.kubernetes.unwrap().namespace, "default");
    assert_eq!(e.username.as_deref(), Some("admin"));
    let v = endpoints::validate(&w.backend, w.member, w.project, e.id)
        .await
        .unwrap();
    assert!(v.ok, "{}", v.message);

    input.username = String::new();
    assert_eq!(
        invalid_field(endpoints::create(&w.backend, w.member, w.project, input).await),
        "username"
    );
}

#[tokio::test]
async fn client_certificates_and_ca_data_over_tls_and_pinning_without_ca_data() {
    let w = world().await;
    let ca = TestCa::new("stand-in cluster CA");
    let server = ca.server();
    let alice = ca.client("alice");
    let mut cluster = Cluster::with_token(TOKEN, "deployer");
    cluster.client_certificate_user = Some("alice".to_owned());
    let api = KubeApi::start_tls(
        cluster,
        ServerTls {
            cert: server.cert.clone(),
            key: server.key.clone(),
            client_ca: Some(ca.cert.clone()),
        },
    )
    .await;

    // client certificate and key, with the cluster's CA data
    let mut input = token_input("tls", &api.url, &alice.key, "web");
    input.auth_method = KubernetesAuth::ClientCertificate.as_str().to_owned();
    input.client_certificate = alice.cert.clone();
    input.ca_data = ca.cert.clone();
    let e = endpoints::create(&w.backend, w.member, w.project, input.clone())
        .await
        .unwrap();
    let k = e.kubernetes.clone().unwrap();
    assert!(k.ca_data.is_some() && k.client_certificate.is_some());
    let v = endpoints::validate(&w.backend, w.member, w.project, e.id)
        .await
        .unwrap();
    assert!(v.ok, "{}", v.message);
    assert!(api.requests().contains(&"GET /version alice".to_owned()));

    // the key is sealed: neither the database nor the row shows it
    let rows = w
        .backend
        .db
        .query_all_raw(Statement::from_string(
            w.backend.db.get_database_backend(),
            "SELECT COALESCE(sealed_secret, '') || COALESCE(ca_data, '') || COALESCE(client_certificate, '') FROM endpoints",
        ))
        .await
        .unwrap();
    let stored: String = rows[0].try_get_by_index(0).unwrap();
    assert!(!stored.contains("PRIVATE KEY"));
    assert!(!format!("{e:?}").contains("PRIVATE KEY"));

    // without CA data the certificate is not trusted, and the message says what to do
    let mut no_ca = token_input("no ca", &api.url, TOKEN, "web");
    no_ca.ca_data = String::new();
    let plain = endpoints::create(&w.backend, w.member, w.project, no_ca.clone())
        .await
        .unwrap();
    let v = endpoints::validate(&w.backend, w.member, w.project, plain.id)
        .await
        .unwrap();
    assert!(
        !v.ok && v.message.starts_with("Certificate not accepted"),
        "{}",
        v.message
    );

    // accepting the presented certificate pins it instead
    let info = endpoints::fetch_certificate(&w.backend, w.member, w.project, &api.url)
        .await
        .unwrap();
    assert!(
        info.issuer.contains("stand-in cluster CA"),
        "{}",
        info.issuer
    );
    no_ca.name = "pinned".to_owned();
    no_ca.certificate_sha256 = Some(info.sha256.clone());
    let pinned = endpoints::create(&w.backend, w.member, w.project, no_ca)
        .await
        .unwrap();
    let v = endpoints::validate(&w.backend, w.member, w.project, pinned.id)
        .await
        .unwrap();
    assert!(v.ok, "{}", v.message);

    // a pin that does not match fails with the words that ask to accept again
    let mut wrong_pin = token_input("wrong pin", &api.url, TOKEN, "web");
    wrong_pin.certificate_sha256 = Some(["AB"; 32].join(":"));
    let e = endpoints::create(&w.backend, w.member, w.project, wrong_pin)
        .await
        .unwrap();
    let v = endpoints::validate(&w.backend, w.member, w.project, e.id)
        .await
        .unwrap();
    assert!(
        !v.ok && v.message.contains("accept it again"),
        "{}",
        v.message
    );
}

#[tokio::test]
async fn bad_kubernetes_settings_are_refused_and_change_nothing() {
    let w = world().await;
    let ok = token_input("ok", "https://127.0.0.1:6443", TOKEN, "web");
    let e = endpoints::create(&w.backend, w.member, w.project, ok.clone())
        .await
        .unwrap();

    let mut no_token = ok.clone();
    no_token.name = "no token".into();
    no_token.secret = None;
    assert_eq!(
        invalid_field(endpoints::create(&w.backend, w.member, w.project, no_token).await),
        "secret"
    );
    for (ns, field) in [
        ("Web", "namespace"),
        ("../etc", "namespace"),
        ("a_b", "namespace"),
    ] {
        let mut bad = ok.clone();
        bad.name = "bad".into();
        bad.namespace = ns.into();
        assert_eq!(
            invalid_field(endpoints::create(&w.backend, w.member, w.project, bad).await),
            field
        );
    }
    let mut bad_ca = ok.clone();
    bad_ca.name = "bad ca".into();
    bad_ca.ca_data = "<script>alert(1)</script>".into();
    assert_eq!(
        invalid_field(endpoints::create(&w.backend, w.member, w.project, bad_ca).await),
        "ca_data"
    );
    let mut cert_no_key = ok.clone();
    cert_no_key.name = "cert".into();
    cert_no_key.auth_method = "client_certificate".into();
    assert_eq!(
        invalid_field(
            endpoints::create(&w.backend, w.member, w.project, cert_no_key.clone()).await
        ),
        "client_certificate"
    );
    let ca = TestCa::new("x");
    cert_no_key.client_certificate = ca.client("bob").cert;
    cert_no_key.secret = Some(SecretValue::new("not a key"));
    assert_eq!(
        invalid_field(endpoints::create(&w.backend, w.member, w.project, cert_no_key).await),
        "secret"
    );
    let mut unknown = ok.clone();
    unknown.auth_method = "oidc".into();
    assert_eq!(
        invalid_field(endpoints::create(&w.backend, w.member, w.project, unknown).await),
        "auth_method"
    );

    // the type cannot change; a new authentication method needs its own secret
    let mut to_registry = EndpointInput::registry(
        "ok",
        domain::endpoints::RegistryServerType::DockerRegistry,
        "https://127.0.0.1:6443",
        "",
        None,
    );
    to_registry.restricted = false;
    assert_eq!(
        invalid_field(endpoints::update(&w.backend, w.member, w.project, e.id, to_registry).await),
        "kind"
    );
    let mut to_basic = ok.clone();
    to_basic.auth_method = "basic".into();
    to_basic.username = "admin".into();
    to_basic.secret = None;
    assert_eq!(
        invalid_field(endpoints::update(&w.backend, w.member, w.project, e.id, to_basic).await),
        "secret"
    );
    let (rows, total) = endpoints::list(&w.backend, w.viewer, w.project, 0, 50)
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(
        rows[0].kubernetes.as_ref().unwrap().auth,
        KubernetesAuth::BearerToken
    );

    // the stored token stays when an edit leaves it out
    let mut keep = ok.clone();
    keep.namespace = "web-prod".into();
    keep.secret = None;
    let e = endpoints::update(&w.backend, w.member, w.project, e.id, keep)
        .await
        .unwrap();
    assert!(e.has_secret);
    assert_eq!(e.kubernetes.unwrap().namespace, "web-prod");
}
