//! API token lifecycle on a real SQLite file, with time moved by a manual clock.

use backend::access::accounts::{self, NewUser};
use backend::access::tokens;
use backend::platform::db::{connect_and_migrate, DbConfig};
use backend::platform::secrets::Sealer;
use backend::{Backend, Clock, Error, ManualClock};
use chrono::{Duration, TimeZone, Utc};
use domain::views::TokenStatus;
use sea_orm::{ConnectionTrait, Statement};
use std::sync::Arc;

const PW: &str = "correct horse battery";

async fn setup() -> (Backend, Arc<ManualClock>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = testkit::database::url(dir.path());
    let db = connect_and_migrate(&DbConfig {
        url,
        max_connections: 4,
        instance: String::new(),
    })
    .await
    .unwrap();
    let key = backend::platform::keys::MasterKey::load_or_create(&dir.path().join("k")).unwrap();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap(),
    ));
    let b = Backend::new(db, clock.clone(), Arc::new(Sealer::new(&key)));
    accounts::create_first_admin(&b, "root@example.com", "Root", PW)
        .await
        .unwrap();
    (b, clock, dir)
}

#[tokio::test]
async fn a_token_is_created_exchanged_used_and_expires_after_six_months() {
    let (b, clock, _dir) = setup().await;
    let issued = tokens::issue(&b, "root@example.com", PW, "ci", "127.0.0.1")
        .await
        .unwrap();
    assert_eq!(
        issued.row.expires_at,
        Utc.with_ymd_and_hms(2026, 7, 31, 12, 0, 0).unwrap()
    );
    assert_eq!(issued.row.status, TokenStatus::Active);

    let (access, access_expires) = tokens::exchange(&b, &issued.token).await.unwrap();
    assert_eq!(access_expires - clock.now(), Duration::minutes(30));
    let actor = tokens::authenticate(&b, &access).await.unwrap();
    assert!(actor.is_admin);

    // access tokens are short-lived
    clock.advance(Duration::minutes(31));
    assert!(matches!(
        tokens::authenticate(&b, &access).await,
        Err(Error::Unauthenticated)
    ));
    let (access, _) = tokens::exchange(&b, &issued.token).await.unwrap();
    tokens::authenticate(&b, &access).await.unwrap();

    // the refresh token itself lasts six months
    clock.advance(Duration::days(181));
    assert!(matches!(
        tokens::exchange(&b, &issued.token).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        tokens::authenticate(&b, &access).await,
        Err(Error::Unauthenticated)
    ));
    let mine = tokens::list_mine(&b, actor).await.unwrap();
    assert_eq!(mine[0].status, TokenStatus::Expired);
    assert!(mine[0].last_used_at.is_some());
}

#[tokio::test]
async fn a_revoked_token_and_its_access_tokens_stop_working_at_once() {
    let (b, _clock, _dir) = setup().await;
    let issued = tokens::issue(&b, "root@example.com", PW, "webhook", "127.0.0.1")
        .await
        .unwrap();
    let (access, _) = tokens::exchange(&b, &issued.token).await.unwrap();
    let actor = tokens::authenticate(&b, &access).await.unwrap();
    tokens::revoke(&b, actor, issued.row.id).await.unwrap();
    assert!(matches!(
        tokens::authenticate(&b, &access).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        tokens::exchange(&b, &issued.token).await,
        Err(Error::Unauthenticated)
    ));
    assert_eq!(
        tokens::list_mine(&b, actor).await.unwrap()[0].status,
        TokenStatus::Revoked
    );
}

#[tokio::test]
async fn only_a_hash_is_stored_and_wrong_credentials_create_nothing() {
    let (b, _clock, _dir) = setup().await;
    let e = tokens::issue(&b, "root@example.com", "wrong", "x", "127.0.0.1")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BadCredentials));
    let issued = tokens::issue(&b, "root@example.com", PW, "x", "127.0.0.1")
        .await
        .unwrap();
    let rows =
        b.db.query_all_raw(Statement::from_string(
            b.db.get_database_backend(),
            "SELECT token_hash FROM api_tokens",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].try_get_by_index(0).unwrap();
    assert_ne!(stored, issued.token);
    assert!(!stored.contains(&issued.token[9..]));
    assert!(matches!(
        tokens::exchange(&b, "wharf_rt_guess").await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        tokens::authenticate(&b, "").await,
        Err(Error::Unauthenticated)
    ));
}

#[tokio::test]
async fn people_see_and_revoke_only_their_own_tokens_and_disabled_owners_tokens_stop() {
    let (b, _clock, _dir) = setup().await;
    let root = tokens::authenticate(
        &b,
        &tokens::exchange(
            &b,
            &tokens::issue(&b, "root@example.com", PW, "r", "a")
                .await
                .unwrap()
                .token,
        )
        .await
        .unwrap()
        .0,
    )
    .await
    .unwrap();
    let bob = accounts::create_user(
        &b,
        root,
        NewUser {
            email: "bob@example.com".into(),
            display_name: "Bob".into(),
            password: PW.into(),
            is_admin: false,
        },
    )
    .await
    .unwrap();
    let bobs = tokens::issue(&b, "bob@example.com", PW, "bob's", "a")
        .await
        .unwrap();
    let bob_actor = tokens::owner_of_refresh(&b, &bobs.token).await.unwrap();
    assert_eq!(bob_actor.user_id, bob.id);
    assert_eq!(tokens::list_mine(&b, bob_actor).await.unwrap().len(), 1);
    assert!(matches!(
        tokens::revoke(&b, root, bobs.row.id).await,
        Err(Error::NotFound("token"))
    ));
    accounts::set_disabled(&b, root, bob.id, true)
        .await
        .unwrap();
    assert!(matches!(
        tokens::exchange(&b, &bobs.token).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        tokens::owner_of_refresh(&b, &bobs.token).await,
        Err(Error::Unauthenticated)
    ));
}

#[tokio::test]
async fn the_dialog_only_issues_tokens_for_the_signed_in_person() {
    let (b, _clock, _dir) = setup().await;
    let me = accounts::find_active_user(&b.db, 1).await.unwrap().unwrap();
    let e = tokens::issue_for_signed_in(&b, &me, "someone@example.com", PW, "x", "a")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid { ref field, .. } if field == "email"));
    let e = tokens::issue_for_signed_in(&b, &me, "root@example.com", PW, "  ", "a")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid { ref field, .. } if field == "name"));
    tokens::issue_for_signed_in(&b, &me, "ROOT@example.com", PW, "mine", "a")
        .await
        .unwrap();
}
