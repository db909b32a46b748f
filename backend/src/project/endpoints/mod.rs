//! Endpoints: Docker registries (where images live) and Kubernetes clusters (where they run),
//! with the credentials to reach them. The password, token or client key is sealed under the key
//! file and never returned; an https endpoint can pin the certificate a person accepted.
//! Validate makes the real call and keeps its outcome.
//!
//! Who may do what: viewers read; members create, change, validate and delete unrestricted
//! endpoints; only project administrators mark an endpoint restricted or touch a restricted one.

use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::error::conflict_on_unique;
use crate::platform::entities::endpoints as row;
use crate::platform::secrets::SecretValue;
use crate::{Backend, Error, Result};
use domain::endpoints::{
    EndpointKind, EndpointRow, KubernetesSettings, RegistryServerType, Validation,
};
use domain::role::ProjectAction;
use domain::ProjectRole;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

mod input;
mod reach;

pub use input::EndpointInput;
use input::*;
pub use reach::{fetch_certificate, validate};
pub(crate) use reach::{resolve, Resolved};

const PURPOSE: &str = "wharf:endpoint";
/// What the `server_type` column holds for Kubernetes endpoints.
const KUBERNETES_SERVER: &str = "kubernetes";
/// The most PEM text a CA data or client certificate field takes.
const MAX_PEM: usize = 64 * 1024;

fn view(m: row::Model) -> Result<EndpointRow> {
    let kind = m.kind;
    let (server_type, kubernetes) = match kind {
        EndpointKind::DockerRegistry => (
            Some(RegistryServerType::parse(&m.server_type).ok_or_else(|| {
                Error::Internal(format!("unknown server type {:?}", m.server_type))
            })?),
            None,
        ),
        EndpointKind::Kubernetes => {
            let auth = m.auth_method.ok_or_else(|| {
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
    let query = row::Entity::find()
        .filter(row::Column::ProjectId.eq(project_id))
        .order_by_asc(row::Column::Name);
    let (models, total) = crate::platform::db::page(&backend.db, query, offset, limit).await?;
    let rows = models.into_iter().map(view).collect::<Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// One endpoint.
pub async fn get(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    endpoint_id: i64,
) -> Result<EndpointRow> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    view(crate::access::scoped::find::<row::Entity>(&backend.db, project_id, endpoint_id).await?)
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
        kind: Set(p.kind),
        server_type: Set(p.server_type),
        url: Set(p.url.as_str().trim_end_matches('/').to_owned()),
        username: Set(p.username),
        sealed_secret: Set(sealed),
        restricted: Set(input.restricted),
        certificate_sha256: Set(p.pin),
        last_validated_at: Set(None),
        last_validation_ok: Set(None),
        last_validation_message: Set(None),
        auth_method: Set(p.auth),
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
    let existing =
        crate::access::scoped::find::<row::Entity>(&txn, project_id, endpoint_id).await?;
    require_for_restricted(role, existing.restricted || input.restricted)?;
    if existing.kind != p.kind {
        return Err(Error::invalid(
            "kind",
            "An endpoint's type cannot change; create a new endpoint instead.",
        ));
    }
    let auth_changed = p.auth != existing.auth_method;
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
    model.auth_method = Set(p.auth);
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
    } else if p.auth != existing.auth_method {
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
    let existing =
        crate::access::scoped::find::<row::Entity>(&txn, project_id, endpoint_id).await?;
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
