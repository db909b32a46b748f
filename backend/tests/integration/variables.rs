//! Variables on a real SQLite file: sealed at rest, never returned, roles enforced.

use crate::support::world;
use backend::access::projects;
use backend::platform::secrets::SecretValue;
use backend::project::variables::{self, VariableInput};
use backend::{Backend, Error};
use sea_orm::{ConnectionTrait, Statement};

fn input(name: &str, kind: &str, value: Option<&str>) -> VariableInput {
    VariableInput {
        name: name.into(),
        kind: kind.into(),
        value: value.map(SecretValue::new),
        description: String::new(),
    }
}

async fn raw_rows(b: &Backend) -> String {
    let rows =
        b.db.query_all_raw(Statement::from_string(
            b.db.get_database_backend(),
            "SELECT name, kind, COALESCE(value, ''), COALESCE(sealed_value, '') FROM variables",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (0..4)
                .map(|i| r.try_get_by_index::<String>(i).unwrap())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn secret_values_are_sealed_at_rest_and_never_returned() {
    let w = world().await;
    let b = &w.backend;
    variables::create(
        b,
        w.member,
        w.project,
        input("DEPLOY_ENV", "REGULAR", Some("staging")),
    )
    .await
    .unwrap();
    let secret = variables::create(
        b,
        w.member,
        w.project,
        input("REGISTRY_TOKEN", "SECRET", Some("s3cr3t-token")),
    )
    .await
    .unwrap();
    assert_eq!(secret.value, None);

    let raw = raw_rows(b).await;
    assert!(!raw.contains("s3cr3t-token"), "stored in the clear: {raw}");
    assert!(raw.contains("staging"));

    let list = variables::list(b, w.viewer, w.project).await.unwrap();
    let shown: Vec<_> = list
        .iter()
        .map(|v| (v.name.as_str(), v.value.as_deref()))
        .collect();
    assert_eq!(
        shown,
        vec![("DEPLOY_ENV", Some("staging")), ("REGISTRY_TOKEN", None)]
    );
    // the engine, and only the engine, opens it
    let opened = variables::reveal_for_engine(b, w.project, "REGISTRY_TOKEN")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(opened.expose(), "s3cr3t-token");
}

#[tokio::test]
async fn viewers_read_members_use_and_only_administrators_touch_restricted_variables() {
    let w = world().await;
    let b = &w.backend;
    let e = variables::create(b, w.viewer, w.project, input("X", "REGULAR", Some("1")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");
    let e = variables::create(
        b,
        w.member,
        w.project,
        input("KUBE_TOKEN", "RESTRICTED", Some("t0ken-of-the-cluster")),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");
    let r = variables::create(
        b,
        w.root,
        w.project,
        input("KUBE_TOKEN", "RESTRICTED", Some("t0ken-of-the-cluster")),
    )
    .await
    .unwrap();
    let e = variables::delete(b, w.member, w.project, r.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");
    // a member cannot turn a secret into a restricted one either
    let s = variables::create(
        b,
        w.member,
        w.project,
        input("S", "SECRET", Some("value-of-s")),
    )
    .await
    .unwrap();
    let e = variables::update(b, w.member, w.project, s.id, input("S", "RESTRICTED", None))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");
    variables::delete(b, w.root, w.project, r.id).await.unwrap();
}

#[tokio::test]
async fn another_projects_variables_are_not_found() {
    let w = world().await;
    let b = &w.backend;
    let other = projects::create(b, w.root, "ops", "").await.unwrap();
    let v = variables::create(b, w.root, other.id, input("OPS", "REGULAR", Some("1")))
        .await
        .unwrap();
    let e = variables::list(b, w.member, other.id).await.unwrap_err();
    assert!(matches!(e, Error::NotFound("project")));
    // addressing it through one's own project does not reach it either
    let e = variables::delete(b, w.member, w.project, v.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound("variable")));
}

#[tokio::test]
async fn editing_keeps_a_hidden_value_unless_a_new_one_is_given() {
    let w = world().await;
    let b = &w.backend;
    let s = variables::create(
        b,
        w.member,
        w.project,
        input("TOKEN", "SECRET", Some("first-value")),
    )
    .await
    .unwrap();
    variables::update(
        b,
        w.member,
        w.project,
        s.id,
        input("TOKEN_RENAMED", "SECRET", None),
    )
    .await
    .unwrap();
    assert_eq!(
        variables::reveal_for_engine(b, w.project, "TOKEN_RENAMED")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        "first-value"
    );
    variables::update(
        b,
        w.member,
        w.project,
        s.id,
        input("TOKEN_RENAMED", "SECRET", Some("second-value")),
    )
    .await
    .unwrap();
    assert_eq!(
        variables::reveal_for_engine(b, w.project, "TOKEN_RENAMED")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        "second-value"
    );
    // a hidden value cannot silently become visible
    let e = variables::update(
        b,
        w.member,
        w.project,
        s.id,
        input("TOKEN_RENAMED", "REGULAR", None),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Invalid { ref field, .. } if field == "value"));
    // a regular value made secret is sealed, not left in the clear
    let r = variables::create(
        b,
        w.member,
        w.project,
        input("PLAIN", "REGULAR", Some("was-visible")),
    )
    .await
    .unwrap();
    variables::update(b, w.member, w.project, r.id, input("PLAIN", "SECRET", None))
        .await
        .unwrap();
    assert!(!raw_rows(b).await.contains("was-visible"));
}

#[tokio::test]
async fn bad_names_kinds_duplicates_and_huge_values_are_refused() {
    let w = world().await;
    let b = &w.backend;
    for (name, kind, field) in [
        ("1BAD", "REGULAR", "name"),
        ("a-b", "REGULAR", "name"),
        ("OK", "secret", "kind"),
        ("OK", "PLAIN", "kind"),
    ] {
        let e = variables::create(b, w.member, w.project, input(name, kind, Some("v")))
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Invalid { field: ref f, .. } if f == field),
            "{name} {kind}: {e:?}"
        );
    }
    variables::create(b, w.member, w.project, input("DUP", "REGULAR", Some("v")))
        .await
        .unwrap();
    let e = variables::create(
        b,
        w.member,
        w.project,
        input("DUP", "SECRET", Some("value-of-dup")),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)));
    // a hidden value shorter than 8 characters is refused with a message
    for kind in ["SECRET", "RESTRICTED"] {
        let e = variables::create(b, w.root, w.project, input("SHORT", kind, Some("1234567")))
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Invalid { field: ref f, ref message } if f == "value" && message.contains("at least 8")),
            "{kind}: {e:?}"
        );
    }
    let huge = "x".repeat(variables::MAX_VALUE_BYTES + 1);
    let e = variables::create(
        b,
        w.member,
        w.project,
        input("HUGE", "REGULAR", Some(&huge)),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Invalid { ref field, .. } if field == "value"));
    let e = variables::create(b, w.member, w.project, input("EMPTY", "REGULAR", None))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid { ref field, .. } if field == "value"));
}
