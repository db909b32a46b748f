//! The server as people and attackers meet it: sign-in, sessions, CSRF, roles, limits.

use crate::support::*;
use app::api::{
    AddMember, CreateProject, CreateUser, GetProject, ListProjects, SetUserDisabled, SignIn,
    UpdateProject,
};
use reqwest::StatusCode;

#[tokio::test]
async fn health_and_readiness_answer_without_signing_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path())).await;
    let c = browser();
    let res = c.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = c.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_first_visitor_of_an_empty_installation_is_led_to_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path())).await;
    let c = browser();
    for path in ["/", "/projects", "/login"] {
        let res = c.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.headers()["location"], "/setup", "{path}");
    }
    // creating the administrator signs them in
    let res = call::<app::api::CreateAdmin>(
        &c,
        &server,
        &[
            ("email", "Root@Example.com"),
            ("display_name", "Root"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await;
    assert!(
        res.status().is_redirection() || res.status().is_success(),
        "{}",
        res.status()
    );
    let res = c.get(server.url("/projects")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // and the set-up page is gone for good
    let res = browser().get(server.url("/setup")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login");
    server.stop().await;
}

#[tokio::test]
async fn signing_in_sets_a_private_cookie_and_a_wrong_password_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let c = browser();
    let wrong = call::<SignIn>(
        &c,
        &server,
        &[("email", "root@example.com"), ("password", "not it at all")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&wrong).is_none());
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");
    assert_eq!(body["message"], "Wrong e-mail address or password.");

    let ok = call::<SignIn>(
        &c,
        &server,
        &[("email", "root@example.com"), ("password", PASSWORD)],
    )
    .await;
    let cookie = session_cookie(&ok).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http public URL: {cookie}"
    );
    let res = c.get(server.url("/projects")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn the_session_id_changes_at_every_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let c = browser();
    let first = call::<SignIn>(
        &c,
        &server,
        &[("email", "root@example.com"), ("password", PASSWORD)],
    )
    .await;
    let second = call::<SignIn>(
        &c,
        &server,
        &[("email", "root@example.com"), ("password", PASSWORD)],
    )
    .await;
    let a = session_cookie(&first).unwrap();
    let b = session_cookie(&second).unwrap();
    assert_ne!(a.split(';').next(), b.split(';').next());
    server.stop().await;
}

#[tokio::test]
async fn a_session_survives_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (server, client) = with_admin(dir.path()).await;
    server.stop().await;
    let server = start(config(dir.path())).await;
    let res = client.get(server.url("/projects")).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "still signed in after the restart"
    );
    let res = call::<ListProjects>(&client, &server, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn a_forged_cross_site_request_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (server, client) = with_admin(dir.path()).await;
    let forged = call_from::<CreateProject>(
        &client,
        &server,
        &[("name", "evil"), ("description", "")],
        "http://evil.example",
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // the same with fetch metadata, as a modern browser sends it
    let forged = client
        .post(server.url(<CreateProject as leptos::server_fn::ServerFn>::PATH))
        .header("sec-fetch-site", "cross-site")
        .form(&[("name", "evil2"), ("description", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // and with no origin at all but the victim's cookie
    let forged = client
        .post(server.url(<CreateProject as leptos::server_fn::ServerFn>::PATH))
        .form(&[("name", "evil3"), ("description", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let list: serde_json::Value = call::<ListProjects>(&client, &server, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
    server.stop().await;
}

async fn create_project(client: &reqwest::Client, server: &TestServer, name: &str) -> i64 {
    let res = call::<CreateProject>(client, server, &[("name", name), ("description", "")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn create_user(client: &reqwest::Client, server: &TestServer, email: &str) -> i64 {
    let res = call::<CreateUser>(
        client,
        server,
        &[
            ("email", email),
            ("display_name", email),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_viewer_cannot_change_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = with_admin(dir.path()).await;
    let id = create_project(&admin, &server, "web").await;
    create_user(&admin, &server, "viv@example.com").await;
    let res = call::<AddMember>(
        &admin,
        &server,
        &[
            ("project_id", &id.to_string()),
            ("email", "viv@example.com"),
            ("role", "viewer"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    let viewer = browser();
    sign_in(&viewer, &server, "viv@example.com", PASSWORD).await;
    let res = call::<UpdateProject>(
        &viewer,
        &server,
        &[
            ("project_id", &id.to_string()),
            ("name", "hacked"),
            ("description", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = call::<GetProject>(&viewer, &server, &[("project_id", &id.to_string())]).await;
    let detail: serde_json::Value = res.json().await.unwrap();
    assert_eq!(detail["project"]["name"], "web");
    assert_eq!(detail["project"]["my_role"], "viewer");
    server.stop().await;
}

#[tokio::test]
async fn a_user_cannot_see_another_users_project() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = with_admin(dir.path()).await;
    let secret = create_project(&admin, &server, "secret-ops").await;
    create_user(&admin, &server, "eve@example.com").await;
    let eve = browser();
    sign_in(&eve, &server, "eve@example.com", PASSWORD).await;
    let list: serde_json::Value = call::<ListProjects>(&eve, &server, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);
    let res = call::<GetProject>(&eve, &server, &[("project_id", &secret.to_string())]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = call::<CreateProject>(&eve, &server, &[("name", "mine"), ("description", "")]).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "only administrators create projects"
    );
    server.stop().await;
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = with_admin(dir.path()).await;
    let id = create_user(&admin, &server, "leaver@example.com").await;
    let leaver = browser();
    sign_in(&leaver, &server, "leaver@example.com", PASSWORD).await;
    assert_eq!(
        leaver
            .get(server.url("/projects"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let res = call::<SetUserDisabled>(
        &admin,
        &server,
        &[("user_id", &id.to_string()), ("disabled", "true")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = leaver.get(server.url("/projects")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    server.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = with_admin(dir.path()).await;
    let big = "x".repeat(2 * 1024 * 1024);
    let res =
        call::<CreateProject>(&admin, &server, &[("name", "big"), ("description", &big)]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    server.stop().await;
}

#[tokio::test]
async fn malformed_server_function_input_is_a_clear_client_error() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = with_admin(dir.path()).await;
    let res = call::<GetProject>(
        &admin,
        &server,
        &[("project_id", "'; DROP TABLE projects; --")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "invalid", "{body}");
    server.stop().await;
}

#[tokio::test]
async fn unknown_pages_answer_404_with_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = with_admin(dir.path()).await;
    let res = admin.get(server.url("/no/such/page")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Page not found"));
    server.stop().await;
}

#[tokio::test]
async fn hostile_text_is_rendered_inert_in_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = with_admin(dir.path()).await;
    let res = call::<CreateProject>(
        &admin,
        &server,
        &[
            ("name", "safe"),
            ("description", "<script>alert('x')</script>"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = admin
        .get(server.url("/projects"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert('x')</script>"));
    assert!(
        html.contains("&lt;script&gt;"),
        "the description is shown, escaped"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_secret_variable_never_comes_back_in_responses_pages_or_the_database_file() {
    use app::api::{CreateVariable, ListVariables};
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = with_admin(dir.path()).await;
    let id = create_project(&admin, &server, "web").await.to_string();
    let res = call::<CreateVariable>(
        &admin,
        &server,
        &[
            ("project_id", &id),
            ("name", "REGISTRY_PASSWORD"),
            ("kind", "SECRET"),
            ("value", "pa55-word-never-shown"),
            ("description", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.text().await.unwrap().contains("pa55-word-never-shown"));
    let list = call::<ListVariables>(&admin, &server, &[("project_id", &id)])
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("REGISTRY_PASSWORD"));
    assert!(!list.contains("pa55-word-never-shown"), "{list}");
    let page = admin
        .get(server.url("/variables"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("REGISTRY_PASSWORD"));
    assert!(!page.contains("pa55-word-never-shown"));
    // nor in the database file
    server.stop().await;
    let stored = testkit::database::stored_bytes(dir.path());
    let holds = |needle: &[u8]| stored.windows(needle.len()).any(|w| w == needle);
    assert!(
        holds(b"REGISTRY_PASSWORD"),
        "the search reads the stored rows"
    );
    assert!(!holds(b"pa55-word-never-shown"));
}
