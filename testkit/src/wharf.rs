//! The real `wharf` binary started by a test or a benchmark on its own port and data directory
//! (its database from [`crate::database::url`]), killed when dropped; waiting until it is
//! ready; and the API's two-step sign-in (a refresh token, then an access token).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (the listener is closed before the caller binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `wharf` process.
pub struct Wharf {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Wharf {
    /// Starts `bin` on `port` with its data in `dir`, an administrator `root@example.com` with
    /// `password`, and `extra` settings (`WHARF_*` pairs); what it prints goes to `log` (or
    /// nowhere). Returns once `/readyz` answers 200 (or panics after 30 s).
    pub async fn start(
        bin: &str,
        dir: &Path,
        port: u16,
        password: &str,
        extra: &[(&str, &str)],
        log: Option<&std::fs::File>,
    ) -> Wharf {
        let out = |f: Option<&std::fs::File>| {
            f.and_then(|f| f.try_clone().ok())
                .map_or_else(Stdio::null, Stdio::from)
        };
        let mut command = Command::new(bin);
        command
            .env_clear()
            .env("WHARF_LISTEN", format!("127.0.0.1:{port}"))
            .env("WHARF_DATA_DIR", dir)
            .env("WHARF_DATABASE_URL", crate::database::url(dir))
            .env("WHARF_SITE_ROOT", dir.join("site"))
            .env("WHARF_ADMIN_EMAIL", "root@example.com")
            .env("WHARF_ADMIN_PASSWORD", password)
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(out(log))
            .stderr(out(log));
        let child = command.spawn().expect("wharf starts");
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&base).await;
        Wharf { child, base }
    }

    /// Kills it with SIGKILL: no shutdown code runs.
    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for Wharf {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `base`'s `/readyz` answers 200 (at most 30 s).
pub async fn wait_ready(base: &str) {
    let started = Instant::now();
    loop {
        let ready = reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status() == reqwest::StatusCode::OK);
        if ready {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "wharf at {base} did not get ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs in to the REST API as `email`: a refresh token (`POST /tokens`) exchanged for an access
/// token (`POST /login`), which is returned.
pub async fn access_token(base: &str, email: &str, password: &str) -> String {
    let c = reqwest::Client::new();
    let refresh: serde_json::Value = c
        .post(format!("{base}/pipelines/api/tokens"))
        .json(&serde_json::json!({"email": email, "password": password, "name": "test"}))
        .send()
        .await
        .expect("POST /tokens")
        .json()
        .await
        .expect("a refresh token");
    let login: serde_json::Value = c
        .post(format!("{base}/pipelines/api/login"))
        .json(&serde_json::json!({"refreshToken": refresh["refreshToken"]}))
        .send()
        .await
        .expect("POST /login")
        .json()
        .await
        .expect("an access token");
    login["token"].as_str().expect("token").to_owned()
}
