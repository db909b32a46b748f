//! Starts the Kubernetes and Docker Hub stand-ins for the Playwright suite and writes their
//! URLs to the file named by its first argument as `{"kube": …, "hub": …}`. The cluster accepts
//! bearer token `e2e-cluster-token` and has namespace `web`; Docker Hub accepts user `wharfci`
//! with password `hub-password`. `POST /_standin/failing` with `{"failing": true}` on the Docker
//! Hub stand-in makes its webhook calls fail, and `POST /rollout` on `kubeControl` sets what a
//! Deployment's rollout reports (test controls, part of neither API).
//! Runs until killed.

use testkit::dockerhub::DockerHub;
use testkit::kube::{Cluster, KubeApi};

#[tokio::main]
async fn main() {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: wharf-standins OUTPUT.json");
        std::process::exit(2);
    };
    let mut cluster = Cluster::with_token("e2e-cluster-token", "e2e");
    cluster.add_namespace("web");
    let kube = KubeApi::start(cluster).await;
    let hub = DockerHub::start("wharfci", "hub-password", "dckr_pat_e2e").await;
    let control = hub.control().await;
    let kube_control = kube.control().await;
    let urls = serde_json::json!({
        "kube": kube.url, "kubeControl": kube_control, "hub": hub.url, "hubControl": control,
    });
    if let Err(e) = std::fs::write(&out, urls.to_string()) {
        eprintln!("cannot write {out}: {e}");
        std::process::exit(1);
    }
    std::future::pending::<()>().await;
}
