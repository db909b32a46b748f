//! A card's form checked before it is stored: the endpoint (a Docker Registry endpoint of the
//! project; restricted ones for administrators), the pipeline (with the Docker inputs) and the
//! API token the executions run as (the caller's own, unless an administrator).

use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::platform::entities::{api_tokens, endpoints, pipelines, users};
use crate::{Backend, Error, Result};
use domain::endpoints::EndpointKind;
use domain::role::{ProjectAction, ProjectRole};
use domain::views::TokenStatus;
use domain::webhooks::WebhookForm;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// What the form's references resolve to.
pub(super) struct Checked {
    pub(super) endpoint: endpoints::Model,
    pub(super) api_token_id: Option<i64>,
}

pub(super) async fn check_form(
    db: &impl ConnectionTrait,
    backend: &Backend,
    role: ProjectRole,
    project_id: i64,
    form: &WebhookForm,
    keep_token: Option<i64>,
    actor: Actor,
) -> Result<Checked> {
    // 1. what needs no database: name, patterns, sizes
    form.check().map_err(|(f, m)| Error::invalid(f, m))?;
    // 2. the endpoint: a Docker Registry endpoint of the project, restricted ones for
    //    administrators only
    let endpoint = check_endpoint(db, role, project_id, form.endpoint_id).await?;
    // 3. the pipeline: of the project, with the Docker inputs, and every input named exists
    check_pipeline(db, project_id, form).await?;
    // 4. the API token the executions run as
    let api_token_id = match (form.api_token.trim(), keep_token) {
        ("", Some(id)) => Some(keep(db, role, actor, id).await?),
        ("", None) => {
            return Err(Error::invalid(
                "api_token",
                "Paste an API token, or Generate Token: executions run as its owner.",
            ))
        }
        (token, _) => Some(check_token(db, backend, role, actor, project_id, token).await?),
    };
    Ok(Checked {
        endpoint,
        api_token_id,
    })
}

pub(super) async fn check_endpoint(
    db: &impl ConnectionTrait,
    role: ProjectRole,
    project_id: i64,
    endpoint_id: i64,
) -> Result<endpoints::Model> {
    let endpoint = endpoints::Entity::find_by_id(endpoint_id)
        .filter(endpoints::Column::ProjectId.eq(project_id))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                "endpoint_id",
                "Choose a Docker Registry endpoint of this project.",
            )
        })?;
    if endpoint.kind != EndpointKind::DockerRegistry {
        return Err(Error::invalid(
            "endpoint_id",
            format!("{} is not a Docker Registry endpoint.", endpoint.name),
        ));
    }
    if endpoint.restricted && role != ProjectRole::Administrator {
        return Err(Error::Forbidden(
            "Only the project's administrators can use restricted endpoints.".to_owned(),
        ));
    }
    Ok(endpoint)
}

pub(super) async fn check_pipeline(
    db: &impl ConnectionTrait,
    project_id: i64,
    form: &WebhookForm,
) -> Result<()> {
    let pipeline = pipelines::Entity::find_by_id(form.pipeline_id)
        .filter(pipelines::Column::ProjectId.eq(project_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::invalid("pipeline_id", "Choose a pipeline of this project."))?;
    if !pipeline.docker_inputs {
        return Err(Error::invalid(
            "pipeline_id",
            format!(
                "{} has no Docker inputs: open it, Input tab, Inject parameters: Docker.",
                pipeline.name
            ),
        ));
    }
    let def = crate::project::pipelines::check(&pipeline.definition)?;
    match form
        .input
        .keys()
        .find(|name| !def.input.iter().any(|(n, _)| n == *name))
    {
        Some(name) => Err(Error::invalid(
            "input",
            format!("{} has no input named {name}.", pipeline.name),
        )),
        None => Ok(()),
    }
}

/// Keeping the card's token on an edit: executions run as the token's owner, so only they or
/// an administrator may keep it.
pub(super) async fn keep(
    db: &impl ConnectionTrait,
    role: ProjectRole,
    actor: Actor,
    id: i64,
) -> Result<i64> {
    let owner = api_tokens::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|t| t.user_id);
    if role != ProjectRole::Administrator && owner != Some(actor.user_id) {
        return Err(Error::invalid(
            "api_token",
            "This webhook runs as another person's API token. Give your own token \
             (Generate Token) to change it, or ask a project administrator.",
        ));
    }
    Ok(id)
}

/// A new token for the card: active, the caller's own (or any, for an administrator), and
/// its owner enabled and allowed to run the project's pipelines.
pub(super) async fn check_token(
    db: &impl ConnectionTrait,
    backend: &Backend,
    role: ProjectRole,
    actor: Actor,
    project_id: i64,
    token: &str,
) -> Result<i64> {
    let t = api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(crate::access::tokens::hash(token)))
        .one(db)
        .await?
        .filter(|t| crate::access::tokens::status(t, backend.clock.now()) == TokenStatus::Active)
        .ok_or_else(|| {
            Error::invalid(
                "api_token",
                "This is not an active API token. Paste a token from Generate Token.",
            )
        })?;
    let owner = users::Entity::find_by_id(t.user_id)
        .one(db)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| Error::invalid("api_token", "The token's owner is disabled."))?;
    if role != ProjectRole::Administrator && owner.id != actor.user_id {
        return Err(Error::invalid(
            "api_token",
            "Give your own API token: executions run as its owner.",
        ));
    }
    let owner = Actor {
        user_id: owner.id,
        is_admin: owner.is_admin,
    };
    if authorize(db, owner, project_id, ProjectAction::Use)
        .await
        .is_err()
    {
        return Err(Error::invalid(
            "api_token",
            "The token's owner cannot run this project's pipelines.",
        ));
    }
    Ok(t.id)
}
