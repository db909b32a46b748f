//! Debian's `docker-registry` (CNCF distribution 2.8) on a loopback port, and `skopeo` pushing
//! real images to it. Real parts, started by tests; the binaries come from scripts/setup.sh --test.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A loopback port where nothing ever listens (1, tcpmux, is never served here): connections
/// are refused at once.
pub const CLOSED_PORT: u16 = 1;

pub use crate::wharf::free_port;

/// Debian's `docker-registry` (CNCF distribution 2.8), killed when dropped.
pub struct Registry {
    pub url: String,
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry that accepts `user`/`password` through htpasswd (bcrypt).
    pub fn with_htpasswd(user: &str, password: &str) -> Registry {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("htpasswd")
            .args(["-Bbn", user, password])
            .output()
            .expect("htpasswd (apache2-utils) is installed by scripts/setup.sh --test");
        assert!(out.status.success(), "htpasswd failed");
        std::fs::write(dir.path().join("htpasswd"), &out.stdout).expect("write htpasswd");
        Self::start(
            dir,
            "auth:\n  htpasswd:\n    realm: wharf-test\n    path: {dir}/htpasswd\n",
        )
    }

    /// Starts an anonymous registry serving TLS with the given PEM certificate and key, on
    /// `port` (or a free one).
    pub fn with_tls(cert_pem: &str, key_pem: &str, port: Option<u16>) -> Registry {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("cert.pem"), cert_pem).expect("write cert");
        std::fs::write(dir.path().join("key.pem"), key_pem).expect("write key");
        Self::start_on(
            dir,
            "  tls:\n    certificate: {dir}/cert.pem\n    key: {dir}/key.pem\n",
            port,
            "https",
        )
    }

    /// Starts an anonymous registry that sends its notifications to `url` (distribution's
    /// `notifications.endpoints`), with the token as `Authorization: Bearer`.
    pub fn with_notifications(url: &str, bearer: Option<&str>) -> Registry {
        let dir = tempfile::tempdir().expect("temp dir");
        let headers = bearer
            .map(|b| format!("      headers:\n        Authorization: [\"Bearer {b}\"]\n"))
            .unwrap_or_default();
        let extra = format!(
            "notifications:\n  endpoints:\n    - name: wharf\n      url: {url}\n{headers}      timeout: 2s\n      threshold: 3\n      backoff: 1s\n"
        );
        Self::start(dir, &extra)
    }

    fn start(dir: tempfile::TempDir, auth: &str) -> Registry {
        Self::start_on(dir, auth, None, "http")
    }

    /// Starts on `port`, or on a free port when `None` (retrying if a parallel helper took it).
    fn start_on(dir: tempfile::TempDir, extra: &str, port: Option<u16>, scheme: &str) -> Registry {
        let d = dir.path().display().to_string();
        for _ in 0..5 {
            let port = port.unwrap_or_else(free_port);
            let config = format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {d}/data\nhttp:\n  addr: 127.0.0.1:{port}\n{}",
                extra.replace("{dir}", &d)
            );
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).expect("write config");
            if let Some(child) = spawn_registry(&config_path, port) {
                return Registry {
                    url: format!("{scheme}://127.0.0.1:{port}"),
                    port,
                    child,
                    _dir: dir,
                };
            }
        }
        panic!("docker-registry did not start on a free port in five tries");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts docker-registry and waits until it listens; `None` when it exited at once because a
/// parallel helper took the port between `free_port` and the bind.
fn spawn_registry(config_path: &std::path::Path, port: u16) -> Option<Child> {
    let mut child = Command::new("docker-registry")
        .arg("serve")
        .arg(config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry is installed by scripts/setup.sh --test");
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            // a registry that failed to bind exits at once; make sure the listener is ours
            std::thread::sleep(Duration::from_millis(50));
            return match child.try_wait() {
                Ok(None) => Some(child),
                _ => None,
            };
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "docker-registry did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Pushes a small real image (an OCI layout built here: one gzip'd tar layer and its config)
/// to `registry` as `repository:tag` with skopeo; returns the manifest digest.
#[allow(clippy::missing_panics_doc)]
pub fn push_image(
    registry: &Registry,
    repository: &str,
    tag: &str,
    creds: Option<(&str, &str)>,
) -> String {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let blobs = d.join("img/blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("blobs");
    std::fs::create_dir_all(d.join("src")).expect("src");
    std::fs::write(d.join("src/hello.txt"), format!("{repository}:{tag}\n")).expect("file");
    let tar = Command::new("tar")
        .args(["cf", "layer.tar", "-C", "src", "hello.txt"])
        .current_dir(d)
        .status()
        .expect("tar");
    assert!(tar.success());
    let diff = std::fs::read(d.join("layer.tar")).expect("layer");
    let gz = Command::new("gzip")
        .args(["-n", "-k", "layer.tar"])
        .current_dir(d)
        .status()
        .expect("gzip");
    assert!(gz.success());
    let layer = std::fs::read(d.join("layer.tar.gz")).expect("layer.gz");
    let put = |bytes: &[u8]| {
        let h = hex::encode(Sha256::digest(bytes));
        std::fs::write(blobs.join(&h), bytes).expect("blob");
        (format!("sha256:{h}"), bytes.len())
    };
    let (layer_digest, layer_size) = put(&layer);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", hex::encode(Sha256::digest(&diff)))]},
    })
    .to_string();
    let (config_digest, config_size) = put(config.as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size}],
    })
    .to_string();
    let (manifest_digest, manifest_size) = put(manifest.as_bytes());
    std::fs::write(
        d.join("img/oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("layout");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag}}],
    });
    std::fs::write(d.join("img/index.json"), index.to_string()).expect("index");
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
    if let Some((u, p)) = creds {
        cmd.arg(format!("--dest-creds={u}:{p}"));
    }
    let dest = format!("docker://127.0.0.1:{}/{repository}:{tag}", registry.port);
    let out = cmd
        .arg(format!("oci:{}:{tag}", d.join("img").display()))
        .arg(dest)
        .output()
        .expect("skopeo is installed by scripts/setup.sh --test");
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    manifest_digest
}
