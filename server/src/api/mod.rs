//! The REST API under `/pipelines/api`, with bearer access tokens and JSON bodies. Every route
//! is declared through utoipa-axum, so the OpenAPI document served at
//! `/pipelines/api/openapi.json` is built from the same declarations as the router.

pub mod endpoints;
pub mod error;
pub mod extract;
pub mod page;
pub mod pipelines;
pub mod projects;
pub mod tokens;
pub mod users;
pub mod webhooks;

use crate::state::AppState;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The prefix of every REST route.
pub const PREFIX: &str = "/pipelines/api";

#[derive(OpenApi)]
#[openapi(
    info(title = "Wharf REST API", description = "Continuous delivery from container registries to Kubernetes. Get a refresh token with POST /pipelines/api/tokens, exchange it at POST /pipelines/api/login, and send the access token as Authorization: Bearer."),
    modifiers(&BearerScheme),
    tags(
        (name = "tokens", description = "API tokens and access tokens"),
        (name = "users", description = "The installation's people (system administrators)"),
        (name = "projects", description = "Projects and their members"),
        (name = "variables", description = "Project variables; SECRET and RESTRICTED values are never returned"),
        (name = "endpoints", description = "Docker Registry and Kubernetes endpoints; passwords, tokens and keys are never returned"),
        (name = "pipelines", description = "Pipelines: YAML definitions, import and export"),
        (name = "executions", description = "Runs of pipelines: start, follow, cancel, pause, resume, rerun"),
        (name = "user operations", description = "Approvals that executions wait for"),
        (name = "docker webhooks", description = "Docker triggers: the listeners registries post to (authenticated by the card's secure token), webhook cards and their Activity"),
    )
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes and their OpenAPI document.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .routes(routes!(tokens::create_token, tokens::list_tokens))
        .routes(routes!(tokens::login))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::update_user))
        .routes(routes!(users::reset_password))
        .routes(routes!(projects::list_projects, projects::create_project))
        .routes(routes!(
            projects::get_project,
            projects::update_project,
            projects::delete_project
        ))
        .routes(routes!(projects::add_member))
        .routes(routes!(projects::change_member, projects::remove_member))
        .routes(routes!(projects::list_variables, projects::create_variable))
        .routes(routes!(
            projects::update_variable,
            projects::delete_variable
        ))
        .routes(routes!(
            endpoints::list_endpoints,
            endpoints::create_endpoint
        ))
        .routes(routes!(
            endpoints::get_endpoint,
            endpoints::update_endpoint,
            endpoints::delete_endpoint
        ))
        .routes(routes!(endpoints::validate_endpoint))
        .routes(routes!(endpoints::fetch_certificate))
        .routes(routes!(
            pipelines::list_pipelines,
            pipelines::create_pipeline
        ))
        .routes(routes!(pipelines::import_pipeline))
        .routes(routes!(
            pipelines::get_pipeline,
            pipelines::update_pipeline,
            pipelines::delete_pipeline
        ))
        .routes(routes!(pipelines::export_pipeline))
        .routes(routes!(pipelines::inject_docker_inputs))
        .routes(routes!(pipelines::run_pipeline))
        .routes(routes!(pipelines::list_executions))
        .routes(routes!(
            pipelines::get_execution,
            pipelines::delete_execution
        ))
        .routes(routes!(pipelines::execution_action))
        .routes(routes!(pipelines::task_log))
        .routes(routes!(pipelines::list_user_operations))
        .routes(routes!(pipelines::get_user_operation))
        .routes(routes!(pipelines::approve_user_operation))
        .routes(routes!(pipelines::reject_user_operation))
        .routes(routes!(webhooks::docker_hub_listener))
        .routes(routes!(webhooks::registry_listener))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(
            webhooks::get_webhook,
            webhooks::update_webhook,
            webhooks::delete_webhook
        ))
        .routes(routes!(webhooks::listener_url))
        .routes(routes!(webhooks::webhook_action))
        .routes(routes!(webhooks::list_activity))
        .routes(routes!(webhooks::get_activity))
        .routes(routes!(webhooks::resubmit_activity));
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(PREFIX, api)
        .split_for_parts();
    let served = doc.clone();
    let router = router
        .route(
            &format!("{PREFIX}/openapi.json"),
            get(move || {
                let doc = served.clone();
                async move { Json(doc) }
            }),
        )
        // unknown API paths answer in the API's format, not with the HTML 404 page
        .route(
            &format!("{PREFIX}/{{*rest}}"),
            axum::routing::any(api_not_found),
        );
    (router, doc)
}

async fn api_not_found() -> Response {
    error::ApiError::new(domain::ErrorCode::NotFound, "There is no such API route.").into_response()
}

/// The body limit answers before any handler: this layer, outside it, gives its 413 the API's
/// error format for API paths.
pub async fn json_413(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_api = req.uri().path().starts_with(PREFIX);
    let res = next.run(req).await;
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_api && res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        error::ApiError::new(domain::ErrorCode::PayloadTooLarge, "The body is too large.")
            .into_response()
    } else {
        res
    }
}
