//! Benchmark (not a test; `cargo bench -p server --bench endpoints`): the figures for issue 3.
//! - Validate of a Docker Registry endpoint against Debian's docker-registry on loopback with
//!   htpasswd (bcrypt) authentication: wall time per Validate through the REST API.
//! - `GET /pipelines/api/projects/{id}/endpoints` with 1,000 endpoints stored: latency per call
//!   for the first page (50, the default), a page of 200, and the last page.
//!
//! The server runs in-process (release build) on a fresh SQLite file; requests cross loopback.

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::wharf::free_port;

const PASSWORD: &str = "correct horse battery staple";

fn summary(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label}: n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms min={:.2} ms max={:.2} ms",
        ms.len(),
        pick(0.5),
        pick(0.9),
        pick(0.99),
        ms[0],
        ms[ms.len() - 1]
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");

    // the registry: htpasswd user alice
    let htpasswd = Command::new("htpasswd")
        .args(["-Bbn", "alice", "alice-pass"])
        .output()
        .expect("htpasswd (apache2-utils)");
    std::fs::write(dir.path().join("htpasswd"), htpasswd.stdout).expect("write");
    let port = free_port();
    let d = dir.path().display();
    std::fs::write(
        dir.path().join("registry.yml"),
        format!("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {d}/registry\nauth:\n  htpasswd:\n    realm: bench\n    path: {d}/htpasswd\nhttp:\n  addr: 127.0.0.1:{port}\n"),
    )
    .expect("write");
    let mut registry = Command::new("docker-registry")
        .arg("serve")
        .arg(dir.path().join("registry.yml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }

    let mut config = server::config::Config::for_tests(dir.path());
    config.site_root = dir.path().join("site").display().to_string();
    config.admin_email = Some("root@example.com".into());
    config.admin_password = Some(PASSWORD.into());
    config.log = "warn".into();
    let prepared = server::prepare(&config).await.expect("server");
    let addr = prepared.local_addr().expect("addr");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let token = shutdown.clone();
    let handle = tokio::spawn(async move { prepared.serve(token).await });
    let api = |p: &str| format!("http://{addr}/pipelines/api{p}");
    let c = reqwest::Client::new();

    let refresh: Value = c
        .post(api("/tokens"))
        .json(&json!({"email": "root@example.com", "password": PASSWORD, "name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let login: Value = c
        .post(api("/login"))
        .json(&json!({"refreshToken": refresh["refreshToken"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = login["token"].as_str().unwrap().to_owned();
    let project: Value = c
        .post(api("/projects"))
        .bearer_auth(&bearer)
        .json(&json!({"name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = project["id"].as_i64().unwrap();

    // Validate against the local registry
    let e: Value = c
        .post(api(&format!("/projects/{pid}/endpoints")))
        .bearer_auth(&bearer)
        .json(&json!({"name": "local", "serverType": "docker_registry", "url": format!("http://127.0.0.1:{port}"), "username": "alice", "password": "alice-pass"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let eid = e["id"].as_i64().unwrap();
    let mut validate = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let v: Value = c
            .post(api(&format!("/projects/{pid}/endpoints/{eid}/validate")))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        validate.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(v["ok"], true, "{v}");
    }
    summary(
        "Validate (docker-registry 2.8, htpasswd, loopback)",
        validate,
    );

    // 1,000 endpoints
    let t = Instant::now();
    for i in 1..1000 {
        let res = c
            .post(api(&format!("/projects/{pid}/endpoints")))
            .bearer_auth(&bearer)
            .json(&json!({"name": format!("registry-{i:04}"), "serverType": "harbor", "url": format!("https://harbor-{i}.example.com"), "username": "robot", "password": "p"}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }
    println!(
        "created 999 more endpoints in {:.1} s ({:.2} ms each)",
        t.elapsed().as_secs_f64(),
        t.elapsed().as_secs_f64() * 1000.0 / 999.0
    );
    for (label, query) in [
        ("GET …/endpoints (1,000 stored, first page of 50)", ""),
        (
            "GET …/endpoints?pageSize=200 (1,000 stored)",
            "?pageSize=200",
        ),
        (
            "GET …/endpoints?page=20 (1,000 stored, last page of 50)",
            "?page=20",
        ),
    ] {
        let mut ms = Vec::new();
        for round in 0..520 {
            let t = Instant::now();
            let body: Value = c
                .get(api(&format!("/projects/{pid}/endpoints{query}")))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if round >= 20 {
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            assert_eq!(body["total"], 1000);
        }
        summary(label, ms);
    }

    shutdown.cancel();
    let _ = handle.await;
    let _ = registry.kill();
    let _ = registry.wait();
}
