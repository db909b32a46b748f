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
    // 1. what to tag, bound and checked
    let Retag {
        endpoint,
        repository,
        reference,
        tag,
    } = match what(ctx, task) {
        Ok(r) => r,
        Err(m) => return Outcome::failed(m),
    };
    // 2. the registry: the endpoint's URL (Docker Hub's registry API for Hub endpoints), its
    //    credentials and accepted certificate
    let (base, client, creds) = match registry_of(backend, ctx.project_id, &endpoint).await {
        Ok(r) => r,
        Err(m) => return Outcome::failed(m),
    };
    // 3. the manifest by reference, put under the new tag
    let done = match registry::retag(
        &client,
        &base,
        creds.as_ref(),
        &repository,
        &reference,
        &tag,
    )
    .await
    {
        Ok(done) => done,
        Err(p) => {
            return Outcome::failed(format!("Tagging {repository}:{reference} as {tag}: {p}"))
        }
    };
    Outcome {
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
    }
}

/// What a Registry task tags: where, which image, and the new tag.
struct Retag {
    endpoint: String,
    repository: String,
    reference: String,
    tag: String,
}

/// Step 1: the task's fields with bindings resolved, each checked.
fn what(ctx: &Context, task: &Task) -> Result<Retag, String> {
    let field = |key: &str| {
        let raw = task
            .input
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default();
        ctx.substitute(raw).map(|v| v.trim().to_owned())
    };
    let (endpoint, repository, reference, tag) = (
        field("endpoint")?,
        field("repository")?,
        field("reference")?,
        field("tag")?,
    );
    if !pipeline::valid_tag(&tag) {
        return Err(format!(
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
        return Err(format!(
            "{repository:?} is not a repository name (lower-case letters, digits, '.', '_', '-' and '/')."
        ));
    }
    let reference_ok = !reference.is_empty()
        && reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c));
    if !reference_ok {
        return Err(format!(
            "{reference:?} is not a tag or a digest (sha256:…)."
        ));
    }
    Ok(Retag {
        endpoint,
        repository,
        reference,
        tag,
    })
}

/// Step 2: the registry's base URL, a client under the outbound policy (pinned to the accepted
/// certificate, if any) and the credentials.
async fn registry_of(
    backend: &Backend,
    project_id: i64,
    endpoint: &str,
) -> Result<
    (
        String,
        reqwest::Client,
        Option<registry::RegistryCredentials>,
    ),
    String,
> {
    let (url, server_type, creds, pin) =
        match endpoints::resolve(backend, project_id, endpoint).await {
            Ok(Resolved::Registry {
                url,
                server_type,
                creds,
                pin,
            }) => (url, server_type, creds, pin),
            Ok(Resolved::Kubernetes(_)) => {
                return Err(format!(
                    "Endpoint {endpoint} is a Kubernetes cluster, not a Docker Registry."
                ))
            }
            Err(Error::NotFound(_)) => {
                return Err(format!("The project has no endpoint named {endpoint}."))
            }
            Err(e) => return Err(e.public_message()),
        };
    let base = match server_type {
        Some(RegistryServerType::DockerHub) => DOCKER_HUB_REGISTRY.to_owned(),
        _ => url,
    };
    let client = match &pin {
        Some(p) => tls::pinned_client(&backend.outbound, p),
        None => registry::client(&backend.outbound),
    }
    .map_err(|e| format!("Wharf could not build an HTTP client: {e}"))?;
    Ok((base, client, creds))
}
