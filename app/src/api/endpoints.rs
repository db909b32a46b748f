//! Endpoints: list, save, delete, Validate, Accept certificate.

use super::*;

/// One page of a project's endpoints (credentials never included).
#[server]
pub async fn list_endpoints(
    project_id: i64,
    page: u64,
) -> Result<domain::endpoints::EndpointPage, AppError> {
    let (actor, _) = actor()?;
    let page = page.max(1);
    let (rows, total) = backend::project::endpoints::list(
        &backend()?,
        actor,
        project_id,
        (page - 1).saturating_mul(ENDPOINTS_PER_PAGE),
        ENDPOINTS_PER_PAGE,
    )
    .await?;
    Ok(domain::endpoints::EndpointPage {
        rows,
        total,
        page,
        page_size: ENDPOINTS_PER_PAGE,
    })
}

#[cfg(feature = "ssr")]
fn endpoint_input(
    form: domain::endpoints::EndpointForm,
) -> backend::project::endpoints::EndpointInput {
    backend::project::endpoints::EndpointInput {
        kind: form.kind,
        name: form.name,
        server_type: form.server_type,
        url: form.url,
        username: form.username,
        // an empty secret on an edit keeps the stored one
        secret: (!form.secret.is_empty())
            .then(|| backend::platform::secrets::SecretValue::new(form.secret)),
        restricted: form.restricted,
        certificate_sha256: form.certificate_sha256,
        auth_method: form.auth_method,
        namespace: form.namespace,
        ca_data: form.ca_data,
        client_certificate: form.client_certificate,
    }
}

/// Creates an endpoint (`endpoint_id` none) or changes one. The response never carries the
/// password, token or key.
#[server(input = server_fn::codec::Json)]
pub async fn save_endpoint(
    project_id: i64,
    endpoint_id: Option<i64>,
    form: domain::endpoints::EndpointForm,
) -> Result<domain::endpoints::EndpointRow, AppError> {
    let (actor, _) = actor()?;
    let backend = backend()?;
    let input = endpoint_input(form);
    Ok(match endpoint_id {
        None => backend::project::endpoints::create(&backend, actor, project_id, input).await?,
        Some(id) => {
            backend::project::endpoints::update(&backend, actor, project_id, id, input).await?
        }
    })
}

/// Deletes an endpoint.
#[server]
pub async fn delete_endpoint(project_id: i64, endpoint_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::endpoints::delete(&backend()?, actor, project_id, endpoint_id).await?)
}

/// Validates an endpoint with the real call; the outcome is also stored on it.
#[server]
pub async fn validate_endpoint(
    project_id: i64,
    endpoint_id: i64,
) -> Result<domain::endpoints::Validation, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::endpoints::validate(&backend()?, actor, project_id, endpoint_id).await?)
}

/// Fetches the certificate an https URL presents, for the Accept certificate dialog.
#[server]
pub async fn fetch_endpoint_certificate(
    project_id: i64,
    url: String,
) -> Result<domain::endpoints::CertificateView, AppError> {
    let (actor, _) = actor()?;
    let backend = backend()?;
    let c =
        backend::project::endpoints::fetch_certificate(&backend, actor, project_id, &url).await?;
    Ok(domain::endpoints::CertificateView {
        expired: c.not_after < backend.clock.now(),
        subject: c.subject,
        issuer: c.issuer,
        not_before: c.not_before,
        not_after: c.not_after,
        sha256: c.sha256,
        chain_len: c.chain_len,
    })
}
