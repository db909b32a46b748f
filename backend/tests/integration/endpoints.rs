//! Docker Registry endpoints on a real SQLite file, validated against real helpers.

use crate::support::{world, Registry};
use backend::platform::secrets::SecretValue;
use backend::project::endpoints::{self, EndpointInput};
use backend::Error;
use domain::endpoints::RegistryServerType;
use sea_orm::{ConnectionTrait, Statement};

fn input(
    name: &str,
    server_type: &str,
    url: &str,
    user: &str,
    secret: Option<&str>,
) -> EndpointInput {
    EndpointInput {
        server_type: server_type.into(),
        ..EndpointInput::registry(
            name,
            RegistryServerType::DockerRegistry,
            url,
            user,
            secret.map(SecretValue::new),
        )
    }
}

#[tokio::test]
async fn validate_says_in_words_whether_the_credentials_open_a_real_registry() {
    let w = world().await;
    let registry = Registry::with_htpasswd("alice", "alice-password");
    let good = endpoints::create(
        &w.backend,
        w.member,
        w.project,
        input(
            "local",
            "docker_registry",
            &registry.url,
            "alice",
            Some("alice-password"),
        ),
    )
    .await
    .unwrap();
    assert!(good.has_secret);
    assert!(good.last_validation.is_none());
    let v = endpoints::validate(&w.backend, w.member, w.project, good.id)
        .await
        .unwrap();
    assert!(v.ok);
    assert_eq!(v.message, "Authenticated as alice.");
    let stored = endpoints::get(&w.backend, w.viewer, w.project, good.id)
        .await
        .unwrap();
    assert_eq!(
        stored.last_validation.unwrap().message,
        "Authenticated as alice."
    );

    let bad = endpoints::create(
        &w.backend,
        w.member,
        w.project,
        input(
            "wrong",
            "docker_registry",
            &registry.url,
            "alice",
            Some("guess"),
        ),
    )
    .await
    .unwrap();
    let v = endpoints::validate(&w.backend, w.member, w.project, bad.id)
        .await
        .unwrap();
    assert!(!v.ok);
    assert_eq!(v.message, "Wrong user name or password.");

    let nowhere = endpoints::create(
        &w.backend,
        w.member,
        w.project,
        input(
            "nowhere",
            "harbor",
            &format!("http://127.0.0.1:{}", crate::support::CLOSED_PORT),
            "",
            None,
        ),
    )
    .await
    .unwrap();
    let v = endpoints::validate(&w.backend, w.member, w.project, nowhere.id)
        .await
        .unwrap();
    assert!(
        !v.ok && v.message.starts_with("No registry at this URL"),
        "{}",
        v.message
    );
}

#[tokio::test]
async fn the_password_is_sealed_at_rest_and_never_listed() {
    let w = world().await;
    endpoints::create(
        &w.backend,
        w.member,
        w.project,
        input(
            "hub",
            "docker_hub",
            "https://index.docker.io",
            "svendowideit",
            Some("hub-pass-never-shown"),
        ),
    )
    .await
    .unwrap();
    let rows = w
        .backend
        .db
        .query_all_raw(Statement::from_string(
            w.backend.db.get_database_backend(),
            "SELECT COALESCE(sealed_secret, '') FROM endpoints",
        ))
        .await
        .unwrap();
    let sealed: String = rows[0].try_get_by_index(0).unwrap();
    assert!(sealed.starts_with("v1.") && !sealed.contains("hub-pass-never-shown"));
    let (list, total) = endpoints::list(&w.backend, w.viewer, w.project, 0, 50)
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert!(list[0].has_secret);
    assert!(!format!("{list:?}").contains("hub-pass-never-shown"));
}

#[tokio::test]
async fn docker_hub_endpoints_validate_by_signing_in_to_its_api() {
    let mut w = world().await;
    let hub =
        crate::support::docker_hub("svendowideit", "hub-password", "dckr_pat_0123456789").await;
    w.backend = w.backend.with_docker_hub_api(&hub);
    let e = endpoints::create(
        &w.backend,
        w.member,
        w.project,
        input(
            "hub",
            "docker_hub",
            "https://index.docker.io",
            "svendowideit",
            Some("dckr_pat_0123456789"),
        ),
    )
    .await
    .unwrap();
    let v = endpoints::validate(&w.backend, w.member, w.project, e.id)
        .await
        .unwrap();
    assert_eq!(
        (v.ok, v.message.as_str()),
        (true, "Authenticated as svendowideit on Docker Hub.")
    );
}

#[tokio::test]
async fn an_accepted_certificate_is_pinned_and_a_changed_url_forgets_it() {
    let w = world().await;
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let registry = Registry::with_tls(&ck.cert.pem(), &ck.key_pair.serialize_pem(), None);
    let info = endpoints::fetch_certificate(&w.backend, w.member, w.project, &registry.url)
        .await
        .unwrap();
    let mut with_pin = input("tls", "docker_registry", &registry.url, "", None);
    with_pin.certificate_sha256 = Some(info.sha256.to_lowercase());
    let e = endpoints::create(&w.backend, w.member, w.project, with_pin.clone())
        .await
        .unwrap();
    assert_eq!(e.certificate_sha256.as_deref(), Some(info.sha256.as_str()));
    let v = endpoints::validate(&w.backend, w.member, w.project, e.id)
        .await
        .unwrap();
    assert_eq!(
        (v.ok, v.message.as_str()),
        (true, "Reachable; this registry needs no sign-in.")
    );

    // without the pin, the same registry is refused in words
    let unpinned = endpoints::create(
        &w.backend,
        w.member,
        w.project,
        input("tls-unpinned", "docker_registry", &registry.url, "", None),
    )
    .await
    .unwrap();
    let v = endpoints::validate(&w.backend, w.member, w.project, unpinned.id)
        .await
        .unwrap();
    assert!(
        !v.ok && v.message.contains("Accept the certificate"),
        "{}",
        v.message
    );

    // editing the URL forgets the pin; plain http has no certificate to fetch or accept
    let mut moved = with_pin.clone();
    moved.url = format!("https://localhost:{}", registry.port);
    moved.certificate_sha256 = None;
    let e = endpoints::update(&w.backend, w.member, w.project, e.id, moved)
        .await
        .unwrap();
    assert_eq!(e.certificate_sha256, None);
    assert!(e.last_validation.is_none());
    let err = endpoints::fetch_certificate(&w.backend, w.member, w.project, "http://127.0.0.1:1")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { ref field, .. } if field == "url"));
    let mut http_pin = input("http", "docker_registry", "http://127.0.0.1:1", "", None);
    http_pin.certificate_sha256 = Some(info.sha256.clone());
    assert!(matches!(
        endpoints::create(&w.backend, w.member, w.project, http_pin).await,
        Err(Error::Invalid { .. })
    ));
}

#[tokio::test]
async fn roles_restricted_endpoints_and_bad_input_follow_the_rules() {
    let w = world().await;
    let b = &w.backend;
    let e = endpoints::create(
        b,
        w.viewer,
        w.project,
        input("x", "docker_registry", "https://r.example", "", None),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)));
    let mut restricted = input("prod", "docker_registry", "https://r.example", "", None);
    restricted.restricted = true;
    assert!(matches!(
        endpoints::create(b, w.member, w.project, restricted.clone()).await,
        Err(Error::Forbidden(_))
    ));
    let r = endpoints::create(b, w.root, w.project, restricted)
        .await
        .unwrap();
    assert!(matches!(
        endpoints::validate(b, w.member, w.project, r.id).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        endpoints::delete(b, w.member, w.project, r.id).await,
        Err(Error::Forbidden(_))
    ));
    for (name, server_type, url, field) in [
        ("../x", "docker_registry", "https://r.example", "name"),
        ("ok", "quay", "https://r.example", "server_type"),
        ("ok", "docker_registry", "ftp://r.example", "url"),
        ("ok", "docker_registry", "not a url", "url"),
        ("ok", "docker_registry", "https://user:pw@r.example", "url"),
    ] {
        let e = endpoints::create(
            b,
            w.member,
            w.project,
            input(name, server_type, url, "", None),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(e, Error::Invalid { field: ref f, .. } if f == field),
            "{name} {url}: {e:?}"
        );
    }
    let mut bad_pin = input("pin", "docker_registry", "https://r.example", "", None);
    bad_pin.certificate_sha256 = Some("AB:CD".into());
    assert!(matches!(
        endpoints::create(b, w.member, w.project, bad_pin).await,
        Err(Error::Invalid { .. })
    ));
    endpoints::create(
        b,
        w.member,
        w.project,
        input("dup", "docker_registry", "https://r.example", "", None),
    )
    .await
    .unwrap();
    assert!(matches!(
        endpoints::create(
            b,
            w.member,
            w.project,
            input("dup", "harbor", "https://h.example", "", None)
        )
        .await,
        Err(Error::Conflict(_))
    ));
    // another project's endpoint is not found through one's own project
    let other = backend::access::projects::create(b, w.root, "ops", "")
        .await
        .unwrap();
    let o = endpoints::create(
        b,
        w.root,
        other.id,
        input("o", "docker_registry", "https://r.example", "", None),
    )
    .await
    .unwrap();
    assert!(matches!(
        endpoints::get(b, w.member, w.project, o.id).await,
        Err(Error::NotFound("endpoint"))
    ));
    assert!(matches!(
        endpoints::list(b, w.member, other.id, 0, 50).await,
        Err(Error::NotFound("project"))
    ));
}

#[tokio::test]
async fn the_list_is_paginated_in_the_database() {
    let w = world().await;
    for i in 0..7 {
        endpoints::create(
            &w.backend,
            w.member,
            w.project,
            input(
                &format!("e{i}"),
                "docker_registry",
                "https://r.example",
                "",
                None,
            ),
        )
        .await
        .unwrap();
    }
    let (page, total) = endpoints::list(&w.backend, w.viewer, w.project, 3, 3)
        .await
        .unwrap();
    assert_eq!(total, 7);
    assert_eq!(
        page.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        vec!["e3", "e4", "e5"]
    );
}
