//! Starts the real server in-process on a loopback port with a fresh SQLite file, and talks to
//! it as a browser would (cookies, Origin) or as a forger would.

use leptos::server_fn::ServerFn;
use reqwest::{Client, Response, StatusCode};
use server::config::Config;
use std::net::SocketAddr;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery staple";

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    handle: JoinHandle<()>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops it and waits until it has let go of the database.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.handle.await.expect("server task");
    }
}

pub fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::for_tests(dir);
    c.database_url = Some(testkit::database::url(dir));
    c.site_root = dir.join("site").display().to_string();
    c
}

pub async fn start(config: Config) -> TestServer {
    let prepared = server::prepare(&config).await.expect("server starts");
    let addr = prepared.local_addr().expect("bound");
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let handle = tokio::spawn(async move {
        prepared.serve(token).await.expect("serve");
    });
    TestServer {
        addr,
        shutdown,
        handle,
    }
}

/// A browser: keeps cookies, follows no redirects (tests look at them).
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Calls server function `F` with form fields, as the page's JavaScript does: same origin.
pub async fn call<F: ServerFn>(
    client: &Client,
    server: &TestServer,
    fields: &[(&str, &str)],
) -> Response {
    call_from::<F>(client, server, fields, &format!("http://{}", server.addr)).await
}

/// Calls server function `F` claiming to come from `origin`.
pub async fn call_from<F: ServerFn>(
    client: &Client,
    server: &TestServer,
    fields: &[(&str, &str)],
    origin: &str,
) -> Response {
    client
        .post(server.url(F::PATH))
        .header("origin", origin)
        .form(fields)
        .send()
        .await
        .expect("request")
}

/// Signs in and asserts it worked.
pub async fn sign_in(client: &Client, server: &TestServer, email: &str, password: &str) {
    let res =
        call::<app::api::SignIn>(client, server, &[("email", email), ("password", password)]).await;
    assert!(
        res.status().is_success() || res.status() == StatusCode::FOUND,
        "sign-in: {}",
        res.status()
    );
}

/// A fresh server whose administrator (root@example.com) exists, and a browser signed in as them.
pub async fn with_admin(dir: &std::path::Path) -> (TestServer, Client) {
    let mut c = config(dir);
    c.admin_email = Some("root@example.com".into());
    c.admin_password = Some(PASSWORD.into());
    let server = start(c).await;
    let client = browser();
    sign_in(&client, &server, "root@example.com", PASSWORD).await;
    (server, client)
}

pub fn session_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("wharf.sid="))
        .map(str::to_owned)
}

/// The REST API as a client with an access token sees it.
pub struct Api {
    pub c: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn new(server: &TestServer) -> Api {
        let c = reqwest::Client::new();
        let base = server.url("/pipelines/api");
        let refresh: serde_json::Value = c
            .post(format!("{base}/tokens"))
            .json(&serde_json::json!({"email": "root@example.com", "password": PASSWORD, "name": "ci"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let login: serde_json::Value = c
            .post(format!("{base}/login"))
            .json(&serde_json::json!({"refreshToken": refresh["refreshToken"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            token: login["token"].as_str().unwrap().to_owned(),
            c,
            base,
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut r = self
            .c
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    pub async fn wait_for(&self, execution: i64, status: &str) -> serde_json::Value {
        let start = std::time::Instant::now();
        loop {
            let (_, e) = self
                .send("GET", &format!("/executions/{execution}"), None)
                .await;
            if e["status"] == status {
                return e;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(20),
                "execution {execution} never reached {status}: {e:#}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// A person's tokens over the REST API, as a script gets them: (refresh token, access token,
/// the refresh token's id).
pub async fn tokens_for(server: &TestServer, email: &str, password: &str) -> (String, String, i64) {
    let c = reqwest::Client::new();
    let t: serde_json::Value = c
        .post(server.url("/pipelines/api/tokens"))
        .json(&serde_json::json!({"email": email, "password": password, "name": "test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = t["refreshToken"].as_str().unwrap().to_owned();
    let login: serde_json::Value = c
        .post(server.url("/pipelines/api/login"))
        .json(&serde_json::json!({"refreshToken": refresh}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        refresh,
        login["token"].as_str().unwrap().to_owned(),
        t["id"].as_i64().unwrap(),
    )
}
