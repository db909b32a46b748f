//! The services against a real SQLite file, one fresh database per test.

use backend::access::accounts::{self, Actor, NewUser};
use backend::access::projects;
use backend::platform::db::{connect_and_migrate, DbConfig};
use backend::{Backend, Error, ManualClock};
use chrono::{Duration, TimeZone, Utc};
use domain::ProjectRole;
use std::sync::Arc;

struct Fixture {
    backend: Backend,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = testkit::database::url(dir.path());
    let db = connect_and_migrate(&DbConfig {
        url,
        max_connections: 4,
        instance: String::new(),
    })
    .await
    .unwrap();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap(),
    ));
    let key =
        backend::platform::keys::MasterKey::load_or_create(&dir.path().join("wharf.key")).unwrap();
    let sealer = Arc::new(backend::platform::secrets::Sealer::new(&key));
    Fixture {
        backend: Backend::new(db, clock.clone(), sealer),
        clock,
        _dir: dir,
    }
}

const PW: &str = "correct horse battery";

async fn admin(f: &Fixture) -> Actor {
    let u = accounts::create_first_admin(&f.backend, "root@example.com", "Root", PW)
        .await
        .unwrap();
    Actor {
        user_id: u.id,
        is_admin: true,
    }
}

async fn user(f: &Fixture, by: Actor, email: &str) -> Actor {
    let row = accounts::create_user(
        &f.backend,
        by,
        NewUser {
            email: email.into(),
            display_name: email.into(),
            password: PW.into(),
            is_admin: false,
        },
    )
    .await
    .unwrap();
    Actor {
        user_id: row.id,
        is_admin: false,
    }
}

#[tokio::test]
async fn the_first_administrator_can_be_created_only_once() {
    let f = fixture().await;
    assert!(accounts::needs_setup(&f.backend.db).await.unwrap());
    admin(&f).await;
    assert!(!accounts::needs_setup(&f.backend.db).await.unwrap());
    let again = accounts::create_first_admin(&f.backend, "other@example.com", "Other", PW).await;
    assert!(matches!(again, Err(Error::Conflict(_))));
}

#[tokio::test]
async fn sign_in_accepts_the_right_password_and_rejects_a_wrong_one_with_one_message() {
    let f = fixture().await;
    admin(&f).await;
    let ok = accounts::sign_in(&f.backend, " ROOT@example.com", PW, "127.0.0.1")
        .await
        .unwrap();
    assert_eq!(ok.email, "root@example.com");
    let wrong_pw = accounts::sign_in(&f.backend, "root@example.com", "nope", "127.0.0.1")
        .await
        .unwrap_err();
    let no_user = accounts::sign_in(&f.backend, "ghost@example.com", PW, "127.0.0.1")
        .await
        .unwrap_err();
    assert_eq!(wrong_pw.public_message(), no_user.public_message());
    assert!(matches!(wrong_pw, Error::BadCredentials));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_growing_periods_and_time_unlocks_it() {
    let f = fixture().await;
    admin(&f).await;
    for _ in 0..5 {
        let e = accounts::sign_in(&f.backend, "root@example.com", "wrong", "10.0.0.1")
            .await
            .unwrap_err();
        assert!(matches!(e, Error::BadCredentials));
    }
    // the sixth failure locks for 1 s, the seventh for 2 s: even the right password waits
    fail_once_more_then_expect_lock(&f, 1).await;
    f.clock.advance(Duration::seconds(2));
    fail_once_more_then_expect_lock(&f, 2).await;
    f.clock.advance(Duration::seconds(3));
    accounts::sign_in(&f.backend, "root@example.com", PW, "10.0.0.2")
        .await
        .unwrap();
}

async fn fail_once_more_then_expect_lock(f: &Fixture, secs: u64) {
    accounts::sign_in(&f.backend, "root@example.com", "wrong", "10.0.0.1")
        .await
        .unwrap_err();
    let locked = accounts::sign_in(&f.backend, "root@example.com", PW, "10.0.0.2")
        .await
        .unwrap_err();
    assert!(
        matches!(locked, Error::RateLimited { retry_after_secs } if retry_after_secs == secs),
        "{locked:?}"
    );
}

#[tokio::test]
async fn one_address_guessing_many_accounts_is_slowed_too() {
    let f = fixture().await;
    admin(&f).await;
    for i in 0..21 {
        let _ = accounts::sign_in(&f.backend, &format!("u{i}@example.com"), "x", "10.9.9.9").await;
    }
    let e = accounts::sign_in(&f.backend, "root@example.com", PW, "10.9.9.9")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e:?}");
    accounts::sign_in(&f.backend, "root@example.com", PW, "10.1.1.1")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_and_the_last_administrator_cannot_be_disabled() {
    let f = fixture().await;
    let root = admin(&f).await;
    let ada = user(&f, root, "ada@example.com").await;
    accounts::set_disabled(&f.backend, root, ada.user_id, true)
        .await
        .unwrap();
    let e = accounts::sign_in(&f.backend, "ada@example.com", PW, "127.0.0.1")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)));
    assert!(accounts::find_active_user(&f.backend.db, ada.user_id)
        .await
        .unwrap()
        .is_none());
    let e = accounts::set_disabled(&f.backend, root, root.user_id, true)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)));
    let e = accounts::set_disabled(&f.backend, ada, root.user_id, true)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)));
}

#[tokio::test]
async fn duplicate_emails_are_a_conflict_and_weak_passwords_are_invalid() {
    let f = fixture().await;
    let root = admin(&f).await;
    user(&f, root, "ada@example.com").await;
    let dup = accounts::create_user(
        &f.backend,
        root,
        NewUser {
            email: "ADA@example.com".into(),
            display_name: "A".into(),
            password: PW.into(),
            is_admin: false,
        },
    )
    .await;
    assert!(matches!(dup, Err(Error::Conflict(_))));
    let weak = accounts::create_user(
        &f.backend,
        root,
        NewUser {
            email: "b@example.com".into(),
            display_name: "B".into(),
            password: "short".into(),
            is_admin: false,
        },
    )
    .await;
    assert!(matches!(weak, Err(Error::Invalid { ref field, .. }) if field == "password"));
}

#[tokio::test]
async fn people_see_only_their_projects_and_act_only_as_their_role_allows() {
    let f = fixture().await;
    let root = admin(&f).await;
    let ada = user(&f, root, "ada@example.com").await;
    let bob = user(&f, root, "bob@example.com").await;
    let web = projects::create(&f.backend, root, "web", "").await.unwrap();
    let ops = projects::create(&f.backend, root, "ops", "").await.unwrap();
    projects::add_member(
        &f.backend,
        root,
        web.id,
        "ada@example.com",
        ProjectRole::Viewer,
    )
    .await
    .unwrap();
    projects::add_member(
        &f.backend,
        root,
        ops.id,
        "bob@example.com",
        ProjectRole::Administrator,
    )
    .await
    .unwrap();

    let ada_sees: Vec<_> = projects::list_for(&f.backend, ada)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(ada_sees, vec!["web"]);
    assert_eq!(projects::list_for(&f.backend, root).await.unwrap().len(), 2);

    // a viewer cannot change the project
    let e = projects::update(&f.backend, ada, web.id, "web2", "")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)));
    // another project is not found, not forbidden
    let e = projects::get(&f.backend, ada, ops.id).await.unwrap_err();
    assert!(matches!(e, Error::NotFound("project")));
    let e = projects::delete(&f.backend, ada, ops.id).await.unwrap_err();
    assert!(matches!(e, Error::NotFound("project")));
    // a project administrator manages their own project
    projects::update(&f.backend, bob, ops.id, "Operations", "runs things")
        .await
        .unwrap();
    assert_eq!(
        projects::get(&f.backend, bob, ops.id)
            .await
            .unwrap()
            .project
            .name,
        "Operations"
    );
}

#[tokio::test]
async fn project_names_are_unique_regardless_of_case_and_the_last_administrator_stays() {
    let f = fixture().await;
    let root = admin(&f).await;
    let web = projects::create(&f.backend, root, "Web", "").await.unwrap();
    assert!(matches!(
        projects::create(&f.backend, root, "web", "").await,
        Err(Error::Conflict(_))
    ));
    let e = projects::change_role(&f.backend, root, web.id, root.user_id, ProjectRole::Viewer)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)));
    let e = projects::remove_member(&f.backend, root, web.id, root.user_id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)));
    projects::delete(&f.backend, root, web.id).await.unwrap();
    assert!(projects::list_for(&f.backend, root)
        .await
        .unwrap()
        .is_empty());
}

/// The attack: two administrators remove each other at the same moment, hoping both
/// succeed and the project (or the installation) is left without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_administrators_demoting_or_disabling_each_other_at_once_leave_one() {
    let f = fixture().await;
    let root = admin(&f).await;
    let ada = user(&f, root, "ada@example.com").await;
    let bob = user(&f, root, "bob@example.com").await;
    for round in 0..24 {
        let p = projects::create(&f.backend, root, &format!("p{round}"), "")
            .await
            .unwrap();
        for email in ["ada@example.com", "bob@example.com"] {
            projects::add_member(&f.backend, root, p.id, email, ProjectRole::Administrator)
                .await
                .unwrap();
        }
        projects::remove_member(&f.backend, root, p.id, root.user_id)
            .await
            .unwrap();
        // each on its own task, started together
        let go = Arc::new(tokio::sync::Barrier::new(2));
        let each = |by: Actor, other: Actor| {
            let (b, go, id) = (f.backend.clone(), go.clone(), p.id);
            tokio::spawn(async move {
                go.wait().await;
                if round % 2 == 0 {
                    projects::change_role(&b, by, id, other.user_id, ProjectRole::Member).await
                } else {
                    projects::remove_member(&b, by, id, other.user_id).await
                }
            })
        };
        let (x, y) = (each(ada, bob), each(bob, ada));
        let (x, y) = (x.await.unwrap(), y.await.unwrap());
        assert!(x.is_ok() != y.is_ok(), "round {round}: {x:?} {y:?}");
        // the loser is refused: the last administrator, or no longer an administrator at all
        assert!(matches!(
            x.err().or(y.err()),
            Some(Error::Conflict(_) | Error::Forbidden(_) | Error::NotFound(_))
        ));
        let left = projects::get(&f.backend, root, p.id)
            .await
            .unwrap()
            .members
            .iter()
            .filter(|m| m.role == ProjectRole::Administrator)
            .count();
        assert_eq!(left, 1, "round {round}");
    }
    // the installation: two system administrators disable each other
    let new_admin = |email: &'static str| {
        let b = f.backend.clone();
        async move {
            let row = accounts::create_user(
                &b,
                root,
                NewUser {
                    email: email.into(),
                    display_name: email.into(),
                    password: PW.into(),
                    is_admin: true,
                },
            )
            .await
            .unwrap();
            Actor {
                user_id: row.id,
                is_admin: true,
            }
        }
    };
    let (cy, dan) = (
        new_admin("cy@example.com").await,
        new_admin("dan@example.com").await,
    );
    accounts::set_disabled(&f.backend, cy, root.user_id, true)
        .await
        .unwrap();
    let go = Arc::new(tokio::sync::Barrier::new(2));
    let each = |by: Actor, other: Actor| {
        let (b, go) = (f.backend.clone(), go.clone());
        tokio::spawn(async move {
            go.wait().await;
            accounts::set_disabled(&b, by, other.user_id, true).await
        })
    };
    let (x, y) = (each(cy, dan), each(dan, cy));
    let (x, y) = (x.await.unwrap(), y.await.unwrap());
    assert!(x.is_ok() != y.is_ok(), "{x:?} {y:?}");
}

#[tokio::test]
async fn hostile_strings_are_refused_or_stored_verbatim() {
    let f = fixture().await;
    let root = admin(&f).await;
    assert!(
        projects::create(&f.backend, root, "'; DROP TABLE projects; --", "")
            .await
            .is_err()
    );
    let p = projects::create(
        &f.backend,
        root,
        "safe",
        "<script>alert(1)</script> '; DROP TABLE users; --",
    )
    .await
    .unwrap();
    let got = projects::get(&f.backend, root, p.id).await.unwrap();
    assert_eq!(
        got.project.description,
        "<script>alert(1)</script> '; DROP TABLE users; --"
    );
    assert_eq!(
        accounts::list_users(&f.backend, root).await.unwrap().len(),
        1
    );
}
