//! Registry checks against Debian's real docker-registry and a token-auth stand-in.

use crate::support::{token_registry, Registry};
use backend::clients::registry::{
    check_v2, client, RegistryAccess, RegistryCredentials, RegistryProblem,
};
use backend::platform::secrets::SecretValue;

fn creds(user: &str, password: &str) -> RegistryCredentials {
    RegistryCredentials {
        username: user.into(),
        secret: SecretValue::new(password),
    }
}

#[tokio::test]
async fn a_real_registry_with_htpasswd_accepts_the_right_password_and_names_a_wrong_one() {
    let registry = Registry::with_htpasswd("alice", "alice-password");
    let c = client(&Default::default()).unwrap();
    let ok = check_v2(&c, &registry.url, Some(&creds("alice", "alice-password")))
        .await
        .unwrap();
    assert_eq!(
        ok,
        RegistryAccess::Authenticated {
            username: "alice".into()
        }
    );
    assert_eq!(ok.describe(), "Authenticated as alice.");
    let wrong = check_v2(&c, &registry.url, Some(&creds("alice", "nope")))
        .await
        .unwrap_err();
    assert_eq!(wrong, RegistryProblem::WrongCredentials);
    assert_eq!(wrong.to_string(), "Wrong user name or password.");
    let none = check_v2(&c, &registry.url, None).await.unwrap_err();
    assert_eq!(none, RegistryProblem::CredentialsNeeded);
}

#[tokio::test]
async fn a_token_service_registry_is_followed_through_its_bearer_challenge() {
    let base = token_registry("bob", "bob-token").await;
    let c = client(&Default::default()).unwrap();
    let ok = check_v2(&c, &base, Some(&creds("bob", "bob-token")))
        .await
        .unwrap();
    assert_eq!(
        ok,
        RegistryAccess::Authenticated {
            username: "bob".into()
        }
    );
    let wrong = check_v2(&c, &base, Some(&creds("bob", "stale")))
        .await
        .unwrap_err();
    assert_eq!(wrong, RegistryProblem::WrongCredentials);
}

#[tokio::test]
async fn nothing_listening_or_not_a_registry_says_there_is_no_registry() {
    let c = client(&Default::default()).unwrap();
    let e = check_v2(
        &c,
        &format!("http://127.0.0.1:{}", crate::support::CLOSED_PORT),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, RegistryProblem::NoRegistry(_)), "{e:?}");
    assert!(e.to_string().starts_with("No registry at this URL"), "{e}");
    let base = token_registry("x", "y").await;
    let e = check_v2(&c, &format!("{base}/not-here"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, RegistryProblem::NoRegistry(ref m) if m.contains("404")),
        "{e:?}"
    );
}

#[tokio::test]
async fn docker_hub_sign_in_uses_the_password_or_the_access_token_route() {
    use backend::clients::dockerhub;
    let base =
        crate::support::docker_hub("svendowideit", "hub-password", "dckr_pat_0123456789").await;
    let c = client(&Default::default()).unwrap();
    let s = dockerhub::login(&c, &base, &creds("svendowideit", "hub-password"))
        .await
        .unwrap();
    assert_eq!(s.token, "hub-jwt-password");
    let s = dockerhub::login(&c, &base, &creds("svendowideit", "dckr_pat_0123456789"))
        .await
        .unwrap();
    assert_eq!(s.token, "hub-jwt-pat");
    let e = dockerhub::login(&c, &base, &creds("svendowideit", "wrong"))
        .await
        .unwrap_err();
    assert_eq!(e, RegistryProblem::WrongCredentials);
    let e = dockerhub::login(&c, &base, &creds("svendowideit", "dckr_pat_revoked"))
        .await
        .unwrap_err();
    assert_eq!(e, RegistryProblem::WrongCredentials);
    let e = dockerhub::login(
        &c,
        &format!("http://127.0.0.1:{}", crate::support::CLOSED_PORT),
        &creds("a", "b"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, RegistryProblem::NoRegistry(_)));
}
