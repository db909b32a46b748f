//! `/pipelines/api/projects/{id}/endpoints`: Docker Registry and Kubernetes endpoints, Validate
//! and certificate fetching. Passwords, tokens and keys go in and never come out.

use super::error::{ApiError, ApiErrorBody};
use super::extract::{ApiJson, Bearer};
use super::page::{Page, PageQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use backend::platform::secrets::SecretValue;
use backend::project::endpoints::{self, EndpointInput};
use chrono::{DateTime, Utc};
use domain::endpoints::{EndpointKind, EndpointRow, KubernetesSettings, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The outcome of a Validate.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationOut {
    ok: bool,
    /// In words: "Authenticated as alice.", "Wrong user name or password." …
    message: String,
    at: DateTime<Utc>,
}

impl From<Validation> for ValidationOut {
    fn from(v: Validation) -> Self {
        Self {
            ok: v.ok,
            message: v.message,
            at: v.at,
        }
    }
}

/// A Kubernetes endpoint's settings (none of them secret).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesOut {
    /// bearer_token, basic or client_certificate
    auth_method: &'static str,
    namespace: String,
    /// CA certificates (PEM), if given.
    ca_data: Option<String>,
    /// The client certificate (PEM), for client_certificate authentication.
    client_certificate: Option<String>,
}

impl From<KubernetesSettings> for KubernetesOut {
    fn from(k: KubernetesSettings) -> Self {
        Self {
            auth_method: k.auth.as_str(),
            namespace: k.namespace,
            ca_data: k.ca_data,
            client_certificate: k.client_certificate,
        }
    }
}

/// An endpoint; its password, token or key is never included, only whether one is set.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointOut {
    id: i64,
    name: String,
    /// docker_registry or kubernetes
    kind: &'static str,
    /// docker_hub, docker_registry or harbor (Docker Registry endpoints)
    server_type: Option<&'static str>,
    url: String,
    username: Option<String>,
    has_secret: bool,
    restricted: bool,
    certificate_sha256: Option<String>,
    /// Kubernetes endpoints only.
    kubernetes: Option<KubernetesOut>,
    last_validation: Option<ValidationOut>,
    updated_at: DateTime<Utc>,
}

impl From<EndpointRow> for EndpointOut {
    fn from(e: EndpointRow) -> Self {
        Self {
            id: e.id,
            name: e.name,
            kind: e.kind.as_str(),
            server_type: e.server_type.map(|t| t.as_str()),
            url: e.url,
            username: e.username,
            has_secret: e.has_secret,
            restricted: e.restricted,
            certificate_sha256: e.certificate_sha256,
            kubernetes: e.kubernetes.map(KubernetesOut::from),
            last_validation: e.last_validation.map(ValidationOut::from),
            updated_at: e.updated_at,
        }
    }
}

/// Create an endpoint. Docker Registry: `serverType`, `url`, `username`, `password`.
/// Kubernetes: `url` (the API server), `authMethod`, `password` (the token, the password or the
/// client key in PEM), `username` (basic), `clientCertificate` (PEM), `caData` (PEM),
/// `namespace`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateEndpoint {
    name: String,
    /// docker_registry (the default) or kubernetes
    #[serde(default = "default_kind")]
    kind: String,
    /// docker_hub, docker_registry or harbor (Docker Registry endpoints)
    #[serde(default)]
    server_type: String,
    url: String,
    #[serde(default)]
    username: String,
    /// Password, access token or client key; stored sealed, never returned.
    password: Option<String>,
    #[serde(default)]
    restricted: bool,
    /// The accepted certificate's SHA-256 (from the certificate call), for https URLs.
    certificate_sha256: Option<String>,
    /// bearer_token, basic or client_certificate (Kubernetes endpoints)
    #[serde(default)]
    auth_method: String,
    /// The default namespace (Kubernetes; empty: default).
    #[serde(default)]
    namespace: String,
    /// CA certificates in PEM (Kubernetes).
    #[serde(default)]
    ca_data: String,
    /// The client certificate in PEM (Kubernetes, client_certificate).
    #[serde(default)]
    client_certificate: String,
}

fn default_kind() -> String {
    EndpointKind::DockerRegistry.as_str().to_owned()
}

/// Change an endpoint: fields left out keep their value; a password left out stays as stored.
/// Its kind cannot change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateEndpoint {
    name: Option<String>,
    server_type: Option<String>,
    url: Option<String>,
    username: Option<String>,
    password: Option<String>,
    restricted: Option<bool>,
    certificate_sha256: Option<String>,
    auth_method: Option<String>,
    namespace: Option<String>,
    ca_data: Option<String>,
    client_certificate: Option<String>,
}

/// Ask for an https server's certificate.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequest {
    url: String,
}

/// The certificate an https server presents: accept it by sending its `sha256` as
/// `certificateSha256` when creating or changing the endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateOut {
    subject: String,
    issuer: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    sha256: String,
    chain_length: usize,
}

/// A project's endpoints by name.
#[utoipa::path(get, path = "/projects/{id}/endpoints", tag = "endpoints", params(("id" = i64, Path), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<EndpointOut>), (status = 404, body = ApiErrorBody)))]
pub async fn list_endpoints(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Page<EndpointOut>>, ApiError> {
    let (page, size) = q.bounds()?;
    let (rows, total) =
        endpoints::list(&s.backend, actor, id, (page - 1).saturating_mul(size), size).await?;
    Ok(Json(Page {
        items: rows.into_iter().map(EndpointOut::from).collect(),
        page,
        page_size: size,
        total,
    }))
}

/// Creates an endpoint (members; restricted: administrators).
#[utoipa::path(post, path = "/projects/{id}/endpoints", tag = "endpoints", params(("id" = i64, Path)), request_body = CreateEndpoint, security(("bearer" = [])),
    responses((status = 201, body = EndpointOut), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_endpoint(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<CreateEndpoint>,
) -> Result<(StatusCode, Json<EndpointOut>), ApiError> {
    let input = EndpointInput {
        kind: r.kind,
        name: r.name,
        server_type: r.server_type,
        url: r.url,
        username: r.username,
        secret: r.password.filter(|p| !p.is_empty()).map(SecretValue::new),
        restricted: r.restricted,
        certificate_sha256: r.certificate_sha256,
        auth_method: r.auth_method,
        namespace: r.namespace,
        ca_data: r.ca_data,
        client_certificate: r.client_certificate,
    };
    let e = endpoints::create(&s.backend, actor, id, input)
        .await
        .map_err(|e| ApiError::from(e).field_renamed("secret", "password"))?;
    Ok((StatusCode::CREATED, Json(e.into())))
}

/// One endpoint.
#[utoipa::path(get, path = "/projects/{id}/endpoints/{endpointId}", tag = "endpoints", params(("id" = i64, Path), ("endpointId" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = EndpointOut), (status = 404, body = ApiErrorBody)))]
pub async fn get_endpoint(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path((id, endpoint_id)): Path<(i64, i64)>,
) -> Result<Json<EndpointOut>, ApiError> {
    Ok(Json(
        endpoints::get(&s.backend, actor, id, endpoint_id)
            .await?
            .into(),
    ))
}

/// Changes an endpoint.
#[utoipa::path(patch, path = "/projects/{id}/endpoints/{endpointId}", tag = "endpoints", params(("id" = i64, Path), ("endpointId" = i64, Path)), request_body = UpdateEndpoint, security(("bearer" = [])),
    responses((status = 200, body = EndpointOut), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update_endpoint(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path((id, endpoint_id)): Path<(i64, i64)>,
    ApiJson(r): ApiJson<UpdateEndpoint>,
) -> Result<Json<EndpointOut>, ApiError> {
    let current = endpoints::get(&s.backend, actor, id, endpoint_id).await?;
    let k = current.kubernetes.clone();
    let input = EndpointInput {
        kind: current.kind.as_str().to_owned(),
        name: r.name.unwrap_or(current.name),
        server_type: r.server_type.unwrap_or_else(|| {
            current
                .server_type
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default()
        }),
        url: r.url.unwrap_or(current.url),
        username: r
            .username
            .unwrap_or_else(|| current.username.unwrap_or_default()),
        secret: r.password.filter(|p| !p.is_empty()).map(SecretValue::new),
        restricted: r.restricted.unwrap_or(current.restricted),
        certificate_sha256: r.certificate_sha256,
        auth_method: r.auth_method.unwrap_or_else(|| {
            k.as_ref()
                .map(|k| k.auth.as_str().to_owned())
                .unwrap_or_default()
        }),
        namespace: r
            .namespace
            .unwrap_or_else(|| k.as_ref().map(|k| k.namespace.clone()).unwrap_or_default()),
        ca_data: r.ca_data.unwrap_or_else(|| {
            k.as_ref()
                .and_then(|k| k.ca_data.clone())
                .unwrap_or_default()
        }),
        client_certificate: r.client_certificate.unwrap_or_else(|| {
            k.as_ref()
                .and_then(|k| k.client_certificate.clone())
                .unwrap_or_default()
        }),
    };
    Ok(Json(
        endpoints::update(&s.backend, actor, id, endpoint_id, input)
            .await
            .map_err(|e| ApiError::from(e).field_renamed("secret", "password"))?
            .into(),
    ))
}

/// Deletes an endpoint.
#[utoipa::path(delete, path = "/projects/{id}/endpoints/{endpointId}", tag = "endpoints", params(("id" = i64, Path), ("endpointId" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_endpoint(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path((id, endpoint_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    endpoints::delete(&s.backend, actor, id, endpoint_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Validates an endpoint with the real call and keeps the outcome.
#[utoipa::path(post, path = "/projects/{id}/endpoints/{endpointId}/validate", tag = "endpoints", params(("id" = i64, Path), ("endpointId" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ValidationOut, description = "ok tells whether it worked; message says what was found"), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn validate_endpoint(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path((id, endpoint_id)): Path<(i64, i64)>,
) -> Result<Json<ValidationOut>, ApiError> {
    Ok(Json(
        endpoints::validate(&s.backend, actor, id, endpoint_id)
            .await?
            .into(),
    ))
}

/// Fetches the certificate an https URL presents, to accept it.
#[utoipa::path(post, path = "/projects/{id}/endpoints/certificate", tag = "endpoints", params(("id" = i64, Path)), request_body = CertificateRequest, security(("bearer" = [])),
    responses((status = 200, body = CertificateOut), (status = 422, body = ApiErrorBody, description = "not https, or no TLS server there")))]
pub async fn fetch_certificate(
    State(s): State<AppState>,
    Bearer(actor): Bearer,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<CertificateRequest>,
) -> Result<Json<CertificateOut>, ApiError> {
    let c = endpoints::fetch_certificate(&s.backend, actor, id, &r.url).await?;
    Ok(Json(CertificateOut {
        subject: c.subject,
        issuer: c.issuer,
        not_before: c.not_before,
        not_after: c.not_after,
        sha256: c.sha256,
        chain_length: c.chain_len,
    }))
}
