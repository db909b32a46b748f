//! Docker Registry endpoints: where images live, with the credentials to reach them. The
//! password or token is sealed under the key file and never returned; an https endpoint can pin
//! the certificate a person accepted. Validate makes the real call and keeps its outcome.
//!
//! Who may do what: viewers read; members create, change, validate and delete unrestricted
//! endpoints; only project administrators mark an endpoint restricted or touch a restricted one.

use crate::accounts::Actor;
use crate::entities::endpoints as row;
use crate::error::conflict_on_unique;
use crate::projects::authorize;
use crate::registry::{self, RegistryCredentials};
use crate::secrets::SecretValue;
use crate::tls::{self, CertificateInfo};
use crate::{dockerhub, Backend, Error, Result};
use domain::endpoints::{EndpointName, EndpointRow, RegistryServerType, Validation};
use domain::role::ProjectAction;
use domain::ProjectRole;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};

const PURPOSE: &str = "wharf:endpoint";
const KIND: &str = "docker_registry";

/// What the New/Edit endpoint forms and the API send.
#[derive(Debug, Clone)]
pub struct EndpointInput {
    /// The name.
    pub name: String,
    /// `docker_hub`, `docker_registry` or `harbor`.
    pub server_type: String,
    /// The registry's URL (for Docker Hub, the registry's or Hub's address as the person knows it).
    pub url: String,
    /// The user name (empty: none).
    pub username: String,
    /// The password or token; on an edit, `None` keeps the stored one.
    pub secret: Option<SecretValue>,
    /// Only administrators may use it.
    pub restricted: bool,
    /// The accepted certificate's SHA-256, for https URLs.
    pub certificate_sha256: Option<String>,
}

fn parse_url(input: &str) -> Result<reqwest::Url> {
    let url = reqwest::Url::parse(input.trim())
        .map_err(|_| Error::invalid("url", "Enter a URL such as https://registry.example.com."))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::invalid(
            "url",
            "The URL starts with https:// (or http://) and names a host.",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "url",
            "Put the user name and password in their own fields, not in the URL.",
        ));
    }
    Ok(url)
}

fn parse_pin(pin: Option<String>) -> Result<Option<String>> {
    let Some(pin) = pin
        .map(|p| p.trim().to_uppercase())
        .filter(|p| !p.is_empty())
    else {
        return Ok(None);
    };
    let well_formed = pin.len() == 95
        && pin.split(':').count() == 32
        && pin
            .split(':')
            .all(|pair| pair.len() == 2 && pair.chars().all(|c| c.is_ascii_hexdigit()));
    if well_formed {
        Ok(Some(pin))
    } else {
        Err(Error::invalid(
            "certificate_sha256",
            "That is not a SHA-256 fingerprint (32 hex pairs joined by ':').",
        ))
    }
}

fn view(m: row::Model) -> Result<EndpointRow> {
    let server_type = RegistryServerType::parse(&m.server_type)
        .ok_or_else(|| Error::Internal(format!("unknown server type {:?}", m.server_type)))?;
    let last_validation = match (
        m.last_validated_at,
        m.last_validation_ok,
        m.last_validation_message,
    ) {
        (Some(at), Some(ok), Some(message)) => Some(Validation { ok, message, at }),
        _ => None,
    };
    Ok(EndpointRow {
        id: m.id,
        name: m.name,
        server_type,
        url: m.url,
        username: m.username,
        has_secret: m.sealed_secret.is_some(),
        restricted: m.restricted,
        certificate_sha256: m.certificate_sha256,
        last_validation,
        updated_at: m.updated_at,
    })
}

fn require_for_restricted(role: ProjectRole, restricted: bool) -> Result<()> {
    if restricted && role != ProjectRole::Administrator {
        return Err(Error::Forbidden(
            "Only the project's administrators can use or change restricted endpoints.".to_owned(),
        ));
    }
    Ok(())
}

/// A project's endpoints by name, one page at a time (SQL-paginated), with the total.
pub async fn list(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    offset: u64,
    limit: u64,
) -> Result<(Vec<EndpointRow>, u64)> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let query = row::Entity::find().filter(row::Column::ProjectId.eq(project_id));
    let total = query.clone().count(&backend.db).await?;
    let rows = query
        .order_by_asc(row::Column::Name)
        .offset(offset)
        .limit(limit)
        .all(&backend.db)
        .await?
        .into_iter()
        .map(view)
        .collect::<Result<Vec<_>>>()?;
    Ok((rows, total))
}

async fn find_in_project(
    db: &impl ConnectionTrait,
    project_id: i64,
    id: i64,
) -> Result<row::Model> {
    row::Entity::find_by_id(id)
        .filter(row::Column::ProjectId.eq(project_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("endpoint"))
}

/// One endpoint.
pub async fn get(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    endpoint_id: i64,
) -> Result<EndpointRow> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    view(find_in_project(&backend.db, project_id, endpoint_id).await?)
}

struct Parsed {
    name: EndpointName,
    server_type: RegistryServerType,
    url: reqwest::Url,
    username: Option<String>,
    pin: Option<String>,
}

fn parse(input: &EndpointInput) -> Result<Parsed> {
    let name = EndpointName::parse(&input.name)?;
    let server_type = RegistryServerType::parse(&input.server_type).ok_or_else(|| {
        Error::invalid("server_type", "Pick Docker Hub, Docker Registry or Harbor.")
    })?;
    let url = parse_url(&input.url)?;
    let username = Some(input.username.trim().to_owned()).filter(|u| !u.is_empty());
    if username
        .as_ref()
        .is_some_and(|u| u.chars().count() > 256 || u.chars().any(char::is_control))
    {
        return Err(Error::invalid(
            "username",
            "A user name has at most 256 characters and no control characters.",
        ));
    }
    let pin = parse_pin(input.certificate_sha256.clone())?;
    if pin.is_some() && url.scheme() != "https" {
        return Err(Error::invalid(
            "certificate_sha256",
            "Only https endpoints have a certificate to accept.",
        ));
    }
    Ok(Parsed {
        name,
        server_type,
        url,
        username,
        pin,
    })
}

fn seal(backend: &Backend, secret: &SecretValue) -> Result<String> {
    if secret.expose().len() > 16 * 1024 {
        return Err(Error::invalid(
            "secret",
            "A password or token has at most 16 KiB.",
        ));
    }
    backend
        .sealer
        .seal(secret, PURPOSE)
        .map_err(|e| Error::Internal(e.to_string()))
}

/// Creates an endpoint.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id))]
pub async fn create(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    input: EndpointInput,
) -> Result<EndpointRow> {
    let p = parse(&input)?;
    let sealed = input
        .secret
        .as_ref()
        .map(|s| seal(backend, s))
        .transpose()?;
    let txn = backend.db.begin().await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    require_for_restricted(role, input.restricted)?;
    let now = backend.clock.now();
    let model = row::ActiveModel {
        project_id: Set(project_id),
        name: Set(p.name.as_str().to_owned()),
        kind: Set(KIND.to_owned()),
        server_type: Set(p.server_type.as_str().to_owned()),
        url: Set(p.url.as_str().trim_end_matches('/').to_owned()),
        username: Set(p.username),
        sealed_secret: Set(sealed),
        restricted: Set(input.restricted),
        certificate_sha256: Set(p.pin),
        last_validated_at: Set(None),
        last_validation_ok: Set(None),
        last_validation_message: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "This project already has an endpoint with that name."))?;
    txn.commit().await?;
    view(model)
}

/// Changes an endpoint. A changed URL forgets the accepted certificate and the last validation
/// unless a new fingerprint comes with it.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, endpoint_id))]
pub async fn update(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    endpoint_id: i64,
    input: EndpointInput,
) -> Result<EndpointRow> {
    let p = parse(&input)?;
    let sealed = input
        .secret
        .as_ref()
        .map(|s| seal(backend, s))
        .transpose()?;
    let txn = backend.db.begin().await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let existing = find_in_project(&txn, project_id, endpoint_id).await?;
    require_for_restricted(role, existing.restricted || input.restricted)?;
    let url = p.url.as_str().trim_end_matches('/').to_owned();
    let url_changed = url != existing.url;
    let pin = match (p.pin, url_changed) {
        (Some(pin), _) => Some(pin),
        (None, true) => None,
        (None, false) => existing.certificate_sha256.clone(),
    };
    let mut model: row::ActiveModel = existing.into();
    model.name = Set(p.name.as_str().to_owned());
    model.server_type = Set(p.server_type.as_str().to_owned());
    model.url = Set(url);
    model.username = Set(p.username);
    if let Some(sealed) = sealed {
        model.sealed_secret = Set(Some(sealed));
    }
    model.restricted = Set(input.restricted);
    model.certificate_sha256 = Set(pin);
    if url_changed {
        model.last_validated_at = Set(None);
        model.last_validation_ok = Set(None);
        model.last_validation_message = Set(None);
    }
    model.updated_at = Set(backend.clock.now());
    let updated = model.update(&txn).await.map_err(|e| {
        conflict_on_unique(e, "This project already has an endpoint with that name.")
    })?;
    txn.commit().await?;
    view(updated)
}

/// Deletes an endpoint. (Pipelines and webhooks that use endpoints arrive later; from then on a
/// used endpoint is refused here with the names of its users.)
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, endpoint_id))]
pub async fn delete(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    endpoint_id: i64,
) -> Result<()> {
    let txn = backend.db.begin().await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let existing = find_in_project(&txn, project_id, endpoint_id).await?;
    require_for_restricted(role, existing.restricted)?;
    row::Entity::delete_by_id(endpoint_id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

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
    tls::fetch_certificate(&host, port)
        .await
        .map_err(|e| Error::invalid("url", format!("Could not fetch the certificate: {e}.")))
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
    let existing = find_in_project(&backend.db, project_id, endpoint_id).await?;
    require_for_restricted(role, existing.restricted)?;
    let creds = match (&existing.username, &existing.sealed_secret) {
        (Some(username), Some(sealed)) => Some(RegistryCredentials {
            username: username.clone(),
            secret: backend
                .sealer
                .open(sealed, PURPOSE)
                .map_err(|e| Error::Internal(format!("endpoint {endpoint_id}: {e}")))?,
        }),
        _ => None,
    };
    let client = match &existing.certificate_sha256 {
        Some(pin) => tls::pinned_client(pin),
        None => registry::client(),
    }
    .map_err(|e| Error::Internal(format!("HTTP client: {e}")))?;
    let server_type = RegistryServerType::parse(&existing.server_type).ok_or_else(|| {
        Error::Internal(format!("unknown server type {:?}", existing.server_type))
    })?;
    let outcome = match (server_type, &creds) {
        (RegistryServerType::DockerHub, Some(creds)) => {
            dockerhub::login(&client, &backend.docker_hub_api, creds)
                .await
                .map(|s| format!("Authenticated as {} on Docker Hub.", s.username))
        }
        (RegistryServerType::DockerHub, None) => Err(registry::RegistryProblem::CredentialsNeeded),
        _ => registry::check_v2(&client, &existing.url, creds.as_ref())
            .await
            .map(|a| a.describe()),
    };
    let now = backend.clock.now();
    let validation = match outcome {
        Ok(message) => Validation {
            ok: true,
            message,
            at: now,
        },
        Err(problem) => Validation {
            ok: false,
            message: problem.to_string(),
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
