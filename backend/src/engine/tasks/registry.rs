//! The Registry task: "push back" to a Docker Registry endpoint by giving an existing image a
//! new tag (manifest by reference, put under the tag), with the digest as output.

use super::{Context, Outcome};
use crate::clients::registry;
use crate::clients::tls;
use crate::project::endpoints::{self, Resolved};
use crate::{Backend, Error};
use domain::endpoints::RegistryServerType;
use domain::executions::RunStatus;
use domain::pipeline::{self, Task};
use serde_json::{json, Value};

/// Docker Hub's registry API (its endpoints hold the Hub's URL for sign-in).
const DOCKER_HUB_REGISTRY: &str = "https://registry-1.docker.io";

pub(super) async fn run(ctx: &Context, backend: &Backend, task: &Task) -> Outcome {
    let field = |key: &str| {
        let raw = task
            .input
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default();
        ctx.substitute(raw).map(|v| v.trim().to_owned())
    };
    let (endpoint, repository, reference, tag) = match (
        field("endpoint"),
        field("repository"),
        field("reference"),
        field("tag"),
    ) {
        (Ok(e), Ok(r), Ok(f), Ok(t)) => (e, r, f, t),
        (Err(m), ..) | (_, Err(m), ..) | (_, _, Err(m), _) | (.., Err(m)) => {
            return Outcome::failed(m)
        }
    };
    if !pipeline::valid_tag(&tag) {
        return Outcome::failed(format!(
            "{tag:?} is not a valid tag: letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'."
        ));
    }
    let repository_ok = !repository.is_empty()
        && !repository.contains("..")
        && !repository.starts_with('/')
        && repository
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c));
    if !repository_ok {
        return Outcome::failed(format!(
            "{repository:?} is not a repository name (lower-case letters, digits, '.', '_', '-' and '/')."
        ));
    }
    let reference_ok = !reference.is_empty()
        && reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c));
    if !reference_ok {
        return Outcome::failed(format!(
            "{reference:?} is not a tag or a digest (sha256:…)."
        ));
    }
    let (url, server_type, creds, pin) =
        match endpoints::resolve(backend, ctx.project_id, &endpoint).await {
            Ok(Resolved::Registry {
                url,
                server_type,
                creds,
                pin,
            }) => (url, server_type, creds, pin),
            Ok(Resolved::Kubernetes(_)) => {
                return Outcome::failed(format!(
                    "Endpoint {endpoint} is a Kubernetes cluster, not a Docker Registry."
                ))
            }
            Err(Error::NotFound(_)) => {
                return Outcome::failed(format!("The project has no endpoint named {endpoint}."))
            }
            Err(e) => return Outcome::failed(e.public_message()),
        };
    let base = match server_type {
        Some(RegistryServerType::DockerHub) => DOCKER_HUB_REGISTRY.to_owned(),
        _ => url,
    };
    let client = match &pin {
        Some(p) => tls::pinned_client(&backend.outbound, p),
        None => registry::client(&backend.outbound),
    };
    let client = match client {
        Ok(c) => c,
        Err(e) => return Outcome::failed(format!("Wharf could not build an HTTP client: {e}")),
    };
    match registry::retag(
        &client,
        &base,
        creds.as_ref(),
        &repository,
        &reference,
        &tag,
    )
    .await
    {
        Ok(done) => Outcome {
            status: RunStatus::Completed,
            message: Some(format!(
                "Tagged {repository}:{reference} as {tag} ({}).",
                done.digest
            )),
            output: json!({
                "repository": repository,
                "reference": reference,
                "tag": tag,
                "digest": done.digest,
                "mediaType": done.media_type,
            }),
            logs: vec![
                format!("GET {base}/v2/{repository}/manifests/{reference}"),
                format!(
                    "PUT {base}/v2/{repository}/manifests/{tag} → {}",
                    done.digest
                ),
            ],
        },
        Err(p) => Outcome::failed(format!("Tagging {repository}:{reference} as {tag}: {p}")),
    }
}
