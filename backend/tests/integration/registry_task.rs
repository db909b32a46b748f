//! The Registry task against Debian's real docker-registry (htpasswd): an image pushed with
//! skopeo gets the new tag with the same digest.

use crate::support::{push_image, world, Registry};
use backend::engine::Engine;
use backend::platform::secrets::SecretValue;
use backend::project::endpoints::{self, EndpointInput};
use backend::project::pipelines;
use backend::runs::executions::{self, Started, Trigger};
use domain::endpoints::RegistryServerType;
use domain::executions::RunStatus;
use std::time::Duration;

#[tokio::test]
async fn registry_task_tags_a_pushed_image_with_the_same_digest() {
    let w = world().await;
    let registry = Registry::with_htpasswd("alice", "s3cret-pass");
    let digest = push_image(
        &registry,
        "team/web",
        "1.4.2",
        Some(("alice", "s3cret-pass")),
    );
    endpoints::create(
        &w.backend,
        w.member,
        w.project,
        EndpointInput::registry(
            "local-registry",
            RegistryServerType::DockerRegistry,
            &registry.url,
            "alice",
            Some(SecretValue::new("s3cret-pass")),
        ),
    )
    .await
    .unwrap();
    let yaml = testkit::pipeline!("registry-task-promote");
    let p = pipelines::create(&w.backend, w.member, w.project, &yaml)
        .await
        .unwrap();
    let engine = Engine::new(w.backend.clone(), "w", Duration::from_secs(30)).unwrap();
    let start = |input: &[(&str, &str)]| {
        executions::start(
            &w.backend,
            w.member,
            w.project,
            p.id,
            input
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            "",
            Trigger::Api,
        )
    };
    let Started::Queued(r) = start(&[]).await.unwrap() else {
        panic!()
    };
    while engine.step().await.unwrap() {}
    let d = executions::get(&w.backend, w.member, w.project, r.id)
        .await
        .unwrap();
    assert_eq!(d.row.status, RunStatus::Completed, "{d:#?}");
    let out: serde_json::Value =
        serde_json::from_str(d.stages[0].tasks[0].output.as_deref().unwrap()).unwrap();
    assert_eq!(out["digest"], digest.as_str());

    // the registry itself says production is the same manifest
    let res = reqwest::Client::new()
        .head(format!("{}/v2/team/web/manifests/production", registry.url))
        .basic_auth("alice", Some("s3cret-pass"))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["docker-content-digest"].to_str().unwrap(),
        digest
    );

    // an image that is not there: the task says so
    let Started::Queued(r) = start(&[("DOCKER_TAG", "9.9.9")]).await.unwrap() else {
        panic!()
    };
    while engine.step().await.unwrap() {}
    let d = executions::get(&w.backend, w.member, w.project, r.id)
        .await
        .unwrap();
    assert_eq!(
        d.stages[0].tasks[0].message.as_deref(),
        Some("Tagging team/web:9.9.9 as production: The registry has no image team/web:9.9.9.")
    );
}
