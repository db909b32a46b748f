//! Endpoints: Docker registries (where images live) and Kubernetes clusters (where they run),
//! with the credentials to reach them. The password, token or client key is sealed under the key
//! file and never returned; an https endpoint can pin the certificate a person accepted.
//! Validate makes the real call and keeps its outcome.
//!
//! Who may do what: viewers read; members create, change, validate and delete unrestricted
//! endpoints; only project administrators mark an endpoint restricted or touch a restricted one.

use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::clients::dockerhub;
use crate::clients::kubernetes::{self, ClusterAccess};
use crate::clients::registry::{self, RegistryCredentials};
use crate::clients::tls::{self, CertificateInfo};
use crate::error::conflict_on_unique;
use crate::platform::entities::endpoints as row;
use crate::platform::secrets::SecretValue;
use crate::{Backend, Error, Result};
use domain::endpoints::{
    parse_namespace, EndpointKind, EndpointName, EndpointRow, KubernetesAuth, KubernetesSettings,
    RegistryServerType, Validation,
};
use domain::role::ProjectAction;
use domain::ProjectRole;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

const PURPOSE: &str = "wharf:endpoint";
/// What the `server_type` column holds for Kubernetes endpoints.
const KUBERNETES_SERVER: &str = "kubernetes";
/// The most PEM text a CA data or client certificate field takes.
const MAX_PEM: usize = 64 * 1024;

/// What the New/Edit endpoint forms and the API send.
#[derive(Debug, Clone)]
pub struct EndpointInput {
    /// `docker_registry` or `kubernetes`; fixed once created.
    pub kind: String,
    /// The name.
    pub name: String,
    /// Docker Registry endpoints: `docker_hub`, `docker_registry` or `harbor`.
    pub server_type: String,
    /// The registry's URL (for Docker Hub, the registry's or Hub's address as the person knows it).
    pub url: String,
    /// The user name (empty: none).
    pub username: String,
    /// The password, token or client key; on an edit, `None` keeps the stored one.
    pub secret: Option<SecretValue>,
    /// Only administrators may use it.
    pub restricted: bool,
    /// The accepted certificate's SHA-256, for https URLs.
    pub certificate_sha256: Option<String>,
    /// Kubernetes endpoints: `bearer_token`, `basic` or `client_certificate`.
    pub auth_method: String,
    /// Kubernetes endpoints: the default namespace (empty: `default`).
    pub namespace: String,
    /// Kubernetes endpoints: CA certificates in PEM (empty: none).
    pub ca_data: String,
    /// Kubernetes endpoints: the client certificate in PEM (empty: none).
    pub client_certificate: String,
}

impl EndpointInput {
    /// An input for a Docker Registry endpoint, its Kubernetes fields empty.
    pub fn registry(
        name: impl Into<String>,
        server_type: RegistryServerType,
        url: impl Into<String>,
        username: impl Into<String>,
        secret: Option<SecretValue>,
    ) -> Self {
        Self {
            kind: EndpointKind::DockerRegistry.as_str().to_owned(),
            name: name.into(),
            server_type: server_type.as_str().to_owned(),
            url: url.into(),
            username: username.into(),
            secret,
            restricted: false,
            certificate_sha256: None,
            auth_method: String::new(),
            namespace: String::new(),
            ca_data: String::new(),
            client_certificate: String::new(),
        }
    }

    /// An input for a Kubernetes endpoint with bearer-token authentication.
    pub fn kubernetes_token(
        name: impl Into<String>,
        url: impl Into<String>,
        token: SecretValue,
        namespace: impl Into<String>,
    ) -> Self {
        Self {
            kind: EndpointKind::Kubernetes.as_str().to_owned(),
            server_type: String::new(),
            auth_method: KubernetesAuth::BearerToken.as_str().to_owned(),
            namespace: namespace.into(),
            ..Self::registry(
                name,
                RegistryServerType::DockerRegistry,
                url,
                "",
                Some(token),
            )
        }
    }
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
    let kind = EndpointKind::parse(&m.kind)
        .ok_or_else(|| Error::Internal(format!("unknown endpoint kind {:?}", m.kind)))?;
    let (server_type, kubernetes) = match kind {
        EndpointKind::DockerRegistry => (
            Some(RegistryServerType::parse(&m.server_type).ok_or_else(|| {
                Error::Internal(format!("unknown server type {:?}", m.server_type))
            })?),
            None,
        ),
        EndpointKind::Kubernetes => {
            let auth = m
                .auth_method
                .as_deref()
                .and_then(KubernetesAuth::parse)
                .ok_or_else(|| {
                    Error::Internal(format!("unknown auth method {:?}", m.auth_method))
                })?;
            (
                None,
                Some(KubernetesSettings {
                    auth,
                    namespace: m.namespace.clone().unwrap_or_else(|| "default".to_owned()),
                    ca_data: m.ca_data.clone(),
                    client_certificate: m.client_certificate.clone(),
                }),
            )
        }
    };
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
        kind,
        server_type,
        kubernetes,
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
    kind: EndpointKind,
    server_type: String,
    url: reqwest::Url,
    username: Option<String>,
    pin: Option<String>,
    auth: Option<KubernetesAuth>,
    namespace: Option<String>,
    ca_data: Option<String>,
    client_certificate: Option<String>,
}

fn pem_field(input: &str, field: &'static str) -> Result<Option<String>> {
    let pem = input.trim();
    if pem.is_empty() {
        return Ok(None);
    }
    if pem.len() > MAX_PEM {
        return Err(Error::invalid(field, "At most 64 KiB of PEM."));
    }
    kubernetes::check_certificates_pem(pem).map_err(|m| Error::invalid(field, m))?;
    Ok(Some(format!("{pem}\n")))
}

fn parse(input: &EndpointInput) -> Result<Parsed> {
    let name = EndpointName::parse(&input.name)?;
    let kind = EndpointKind::parse(&input.kind)
        .ok_or_else(|| Error::invalid("kind", "Pick Docker Registry or Kubernetes."))?;
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
    let mut parsed = Parsed {
        name,
        kind,
        server_type: String::new(),
        url,
        username,
        pin,
        auth: None,
        namespace: None,
        ca_data: None,
        client_certificate: None,
    };
    match kind {
        EndpointKind::DockerRegistry => {
            let server_type = RegistryServerType::parse(&input.server_type).ok_or_else(|| {
                Error::invalid("server_type", "Pick Docker Hub, Docker Registry or Harbor.")
            })?;
            parsed.server_type = server_type.as_str().to_owned();
        }
        EndpointKind::Kubernetes => {
            let auth = KubernetesAuth::parse(&input.auth_method).ok_or_else(|| {
                Error::invalid(
                    "auth_method",
                    "Pick bearer token, user name and password, or client certificate.",
                )
            })?;
            parsed.server_type = KUBERNETES_SERVER.to_owned();
            parsed.namespace = Some(parse_namespace(&input.namespace)?);
            parsed.ca_data = pem_field(&input.ca_data, "ca_data")?;
            if parsed.ca_data.is_some() && parsed.url.scheme() != "https" {
                return Err(Error::invalid(
                    "ca_data",
                    "CA data is for https API servers; this URL is plain http.",
                ));
            }
            match auth {
                KubernetesAuth::Basic if parsed.username.is_none() => {
                    return Err(Error::invalid(
                        "username",
                        "User name and password authentication needs a user name.",
                    ))
                }
                KubernetesAuth::ClientCertificate => {
                    parsed.client_certificate =
                        pem_field(&input.client_certificate, "client_certificate")?;
                    if parsed.client_certificate.is_none() {
                        return Err(Error::invalid(
                            "client_certificate",
                            "Client certificate authentication needs the certificate (PEM).",
                        ));
                    }
                    if let Some(key) = &input.secret {
                        kubernetes::check_private_key_pem(key.expose())
                            .map_err(|m| Error::invalid("secret", m))?;
                    }
                }
                _ => {}
            }
            if auth != KubernetesAuth::Basic {
                parsed.username = None;
            }
            parsed.auth = Some(auth);
        }
    }
    Ok(parsed)
}

/// A Kubernetes endpoint must hold the secret its method needs: a token, a password or a key.
fn require_secret(auth: Option<KubernetesAuth>, has_secret: bool) -> Result<()> {
    match auth {
        Some(auth) if !has_secret => Err(Error::invalid(
            "secret",
            format!(
                "{} authentication needs the {}.",
                auth.label(),
                auth.secret_label().to_lowercase()
            ),
        )),
        _ => Ok(()),
    }
}

fn seal(backend: &Backend, secret: &SecretValue) -> Result<String> {
    if secret.expose().len() > 16 * 1024 {
        return Err(Error::invalid(
            "secret",
            "A password, token or key has at most 16 KiB.",
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
    require_secret(p.auth, input.secret.is_some())?;
    let sealed = input
        .secret
        .as_ref()
        .map(|s| seal(backend, s))
        .transpose()?;
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    require_for_restricted(role, input.restricted)?;
    let now = backend.clock.now();
    let model = row::ActiveModel {
        project_id: Set(project_id),
        name: Set(p.name.as_str().to_owned()),
        kind: Set(p.kind.as_str().to_owned()),
        server_type: Set(p.server_type),
        url: Set(p.url.as_str().trim_end_matches('/').to_owned()),
        username: Set(p.username),
        sealed_secret: Set(sealed),
        restricted: Set(input.restricted),
        certificate_sha256: Set(p.pin),
        last_validated_at: Set(None),
        last_validation_ok: Set(None),
        last_validation_message: Set(None),
        auth_method: Set(p.auth.map(|a| a.as_str().to_owned())),
        namespace: Set(p.namespace),
        ca_data: Set(p.ca_data),
        client_certificate: Set(p.client_certificate),
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
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let existing = find_in_project(&txn, project_id, endpoint_id).await?;
    require_for_restricted(role, existing.restricted || input.restricted)?;
    if existing.kind != p.kind.as_str() {
        return Err(Error::invalid(
            "kind",
            "An endpoint's type cannot change; create a new endpoint instead.",
        ));
    }
    let auth_changed = p.auth.map(|a| a.as_str().to_owned()) != existing.auth_method;
    let url = p.url.as_str().trim_end_matches('/').to_owned();
    let url_changed = url != existing.url;
    let pin = match (p.pin.clone(), url_changed) {
        (Some(pin), _) => Some(pin),
        (None, true) => None,
        (None, false) => existing.certificate_sha256.clone(),
    };
    // a stored secret is bound to where it was entered: a new destination needs it again
    let moved = destination_change(&existing, &p, &url, pin.as_deref());
    if let (Some(what), None, Some(_)) = (moved, &sealed, &existing.sealed_secret) {
        return Err(Error::invalid(
            "secret",
            format!(
                "The {what} changed, so the stored secret was discarded: Wharf never sends a \
                 secret to a destination it was not entered for. Enter it again."
            ),
        ));
    }
    require_secret(
        p.auth,
        sealed.is_some() || (existing.sealed_secret.is_some() && moved.is_none()),
    )?;
    let mut model: row::ActiveModel = existing.into();
    model.name = Set(p.name.as_str().to_owned());
    model.server_type = Set(p.server_type);
    model.auth_method = Set(p.auth.map(|a| a.as_str().to_owned()));
    model.namespace = Set(p.namespace);
    model.ca_data = Set(p.ca_data);
    model.client_certificate = Set(p.client_certificate);
    model.url = Set(url);
    model.username = Set(p.username);
    if let Some(sealed) = sealed {
        model.sealed_secret = Set(Some(sealed));
    }
    model.restricted = Set(input.restricted);
    model.certificate_sha256 = Set(pin);
    if url_changed || auth_changed {
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

/// What of an endpoint's destination an edit changes, in words, or `None`: its URL, server
/// type, CA data, accepted certificate or authentication method. Any of these discards the
/// stored secret.
fn destination_change(
    existing: &row::Model,
    p: &Parsed,
    url: &str,
    pin: Option<&str>,
) -> Option<&'static str> {
    let trimmed = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if url != existing.url {
        Some("URL")
    } else if p.server_type != existing.server_type {
        Some("server type")
    } else if p.auth.map(|a| a.as_str()) != existing.auth_method.as_deref() {
        Some("authentication method")
    } else if trimmed(p.ca_data.as_deref()) != trimmed(existing.ca_data.as_deref()) {
        Some("CA data")
    } else if pin != existing.certificate_sha256.as_deref() {
        Some("accepted certificate")
    } else {
        None
    }
}

/// Deletes an endpoint, refused (with their names) while pipelines or Docker webhooks use it.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, endpoint_id))]
pub async fn delete(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    endpoint_id: i64,
) -> Result<()> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let existing = find_in_project(&txn, project_id, endpoint_id).await?;
    require_for_restricted(role, existing.restricted)?;
    let mut users: Vec<String> =
        crate::project::pipelines::using_endpoint(&txn, project_id, &existing.name)
            .await?
            .into_iter()
            .map(|p| format!("pipeline {p}"))
            .collect();
    users.extend(
        crate::project::usage::cards_using_endpoint(&txn, endpoint_id)
            .await?
            .into_iter()
            .map(|w| format!("webhook {w}")),
    );
    if !users.is_empty() {
        return Err(Error::Conflict(format!(
            "{} is used by {}; change {} first.",
            existing.name,
            users.join(", "),
            if users.len() == 1 { "it" } else { "them" }
        )));
    }
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
    let existing = find_in_project(&backend.db, project_id, endpoint_id).await?;
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

async fn validate_registry(
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
