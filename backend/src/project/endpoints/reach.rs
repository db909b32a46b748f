//! Reaching an endpoint: fetching a server certificate to accept, resolving an endpoint by name for a task, and Validate.

use super::*;
use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::clients::dockerhub;
use crate::clients::kubernetes::{self, ClusterAccess};
use crate::clients::registry::{self, RegistryCredentials};
use crate::clients::tls::{self, CertificateInfo};
use crate::platform::entities::endpoints as row;
use crate::platform::secrets::SecretValue;
use crate::{Backend, Error, Result};
use domain::endpoints::{EndpointRow, RegistryServerType, Validation};
use domain::role::ProjectAction;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

/// Fetches the certificate an https URL presents, for the Accept certificate dialog.
pub async fn fetch_certificate(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    url: &str,
) -> Result<CertificateInfo> {
    authorize(&backend.db, actor, project_id, ProjectAction::Use).await?;
    let url = parse_url(url)?;
    if url.scheme() != "https" {
        return Err(Error::invalid(
            "url",
            "Plain http has no certificate: traffic to this endpoint is not encrypted.",
        ));
    }
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    tls::fetch_certificate(&backend.outbound, &host, port)
        .await
        .map_err(|e| Error::invalid("url", format!("Could not fetch the certificate: {e}.")))
}

/// An endpoint as a task uses it: where it is and how to sign in, secret opened.
pub(crate) enum Resolved {
    /// A Kubernetes cluster.
    Kubernetes(ClusterAccess),
    /// A Docker Registry.
    Registry {
        /// The registry's URL.
        url: String,
        /// Docker Hub, a v2 registry or Harbor.
        server_type: Option<RegistryServerType>,
        /// User name and password or token, if set.
        creds: Option<RegistryCredentials>,
        /// The accepted certificate's fingerprint.
        pin: Option<String>,
    },
}

/// The project's endpoint called `name`, for a running task (permission to use a restricted
/// endpoint was checked when the pipeline was saved).
pub(crate) async fn resolve(backend: &Backend, project_id: i64, name: &str) -> Result<Resolved> {
    let existing = row::Entity::find()
        .filter(row::Column::ProjectId.eq(project_id))
        .filter(row::Column::Name.eq(name))
        .one(&backend.db)
        .await?
        .ok_or(Error::NotFound("endpoint"))?;
    let secret = existing
        .sealed_secret
        .as_ref()
        .map(|sealed| backend.sealer.open(sealed, PURPOSE))
        .transpose()
        .map_err(|e| Error::Internal(format!("endpoint {}: {e}", existing.id)))?;
    let row = view(existing)?;
    Ok(match row.kubernetes {
        Some(settings) => Resolved::Kubernetes(ClusterAccess {
            url: row.url,
            auth: settings.auth,
            username: row.username,
            secret,
            ca_data: settings.ca_data,
            client_certificate: settings.client_certificate,
            namespace: settings.namespace,
            pin: row.certificate_sha256,
        }),
        None => Resolved::Registry {
            url: row.url,
            server_type: row.server_type,
            creds: match (row.username, secret) {
                (Some(username), Some(secret)) => Some(RegistryCredentials { username, secret }),
                _ => None,
            },
            pin: row.certificate_sha256,
        },
    })
}

/// Validates an endpoint with the real call, stores the outcome and returns it.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, endpoint_id))]
pub async fn validate(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    endpoint_id: i64,
) -> Result<Validation> {
    let role = authorize(&backend.db, actor, project_id, ProjectAction::Use).await?;
    let existing =
        crate::access::scoped::find::<row::Entity>(&backend.db, project_id, endpoint_id).await?;
    require_for_restricted(role, existing.restricted)?;
    let secret = existing
        .sealed_secret
        .as_ref()
        .map(|sealed| backend.sealer.open(sealed, PURPOSE))
        .transpose()
        .map_err(|e| Error::Internal(format!("endpoint {endpoint_id}: {e}")))?;
    let row = view(existing.clone())?;
    let outcome = match (&row.kubernetes, row.server_type) {
        (Some(settings), _) => kubernetes::check(
            &backend.outbound,
            &ClusterAccess {
                url: row.url.clone(),
                auth: settings.auth,
                username: row.username.clone(),
                secret,
                ca_data: settings.ca_data.clone(),
                client_certificate: settings.client_certificate.clone(),
                namespace: settings.namespace.clone(),
                pin: row.certificate_sha256.clone(),
            },
        )
        .await
        .map_err(|p| p.to_string()),
        (None, server_type) => validate_registry(backend, &row, server_type, secret).await,
    };
    let now = backend.clock.now();
    let validation = match outcome {
        Ok(message) => Validation {
            ok: true,
            message,
            at: now,
        },
        Err(message) => Validation {
            ok: false,
            message,
            at: now,
        },
    };
    let mut model: row::ActiveModel = existing.into();
    model.last_validated_at = Set(Some(now));
    model.last_validation_ok = Set(Some(validation.ok));
    model.last_validation_message = Set(Some(validation.message.clone()));
    model.update(&backend.db).await?;
    Ok(validation)
}

pub(super) async fn validate_registry(
    backend: &Backend,
    row: &EndpointRow,
    server_type: Option<RegistryServerType>,
    secret: Option<SecretValue>,
) -> std::result::Result<String, String> {
    let creds = match (&row.username, secret) {
        (Some(username), Some(secret)) => Some(RegistryCredentials {
            username: username.clone(),
            secret,
        }),
        _ => None,
    };
    let client = match &row.certificate_sha256 {
        Some(pin) => tls::pinned_client(&backend.outbound, pin),
        None => registry::client(&backend.outbound),
    }
    .map_err(|e| format!("Wharf could not build an HTTP client: {e}"))?;
    let outcome = match (server_type, &creds) {
        (Some(RegistryServerType::DockerHub), Some(creds)) => {
            dockerhub::login(&client, &backend.docker_hub_api, creds)
                .await
                .map(|s| format!("Authenticated as {} on Docker Hub.", s.username))
        }
        (Some(RegistryServerType::DockerHub), None) => {
            Err(registry::RegistryProblem::CredentialsNeeded)
        }
        _ => registry::check_v2(&client, &row.url, creds.as_ref())
            .await
            .map(|a| a.describe()),
    };
    outcome.map_err(|p| p.to_string())
}
