//! The REST API under `/pipelines/api`, with bearer access tokens and JSON bodies. Every route
//! is declared through utoipa-axum, so the OpenAPI document served at
//! `/pipelines/api/openapi.json` is built from the same declarations as the router.

pub mod endpoints;
pub mod error;
pub mod executions;
pub mod extract;
pub mod page;
pub mod pipelines;
pub mod projects;
pub mod tokens;
pub mod user_operations;
pub mod users;
pub mod webhooks;

use crate::state::AppState;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
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
    components(schemas(webhooks::WebhookAction, error::ApiErrorBody)),
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

/// The API's routes, in two routers, and their one OpenAPI document.
pub struct Routers {
    /// Everything people and tools call: behind sessions, CSRF, bearer-first and the rest.
    pub api: Router<AppState>,
    /// The two listeners registries post to. Each delivery proves itself by its card's secure
    /// token, so they need no session, cookie or bearer machinery, and the server mounts them
    /// outside it: a flood of wrong tokens costs a hash and a map look-up each.
    pub listeners: Router<AppState>,
    /// The document served at `openapi.json`: both routers' operations.
    pub doc: Arc<utoipa::openapi::OpenApi>,
}

/// The API's routes and their OpenAPI document.
pub fn router() -> Routers {
    let api = OpenApiRouter::new()
        .merge(access_routes())
        .merge(resource_routes())
        .merge(run_routes())
        .merge(trigger_routes());
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(PREFIX, api)
        .split_for_parts();
    let (_, listener_doc) = OpenApiRouter::new()
        .nest(PREFIX, listener_routes())
        .split_for_parts();
    doc.merge(listener_doc);
    // routed by their full paths: no nesting to strip per delivery
    let listeners = Router::new()
        .route(
            domain::webhooks::DOCKER_HUB_LISTENER,
            axum::routing::post(webhooks::docker_hub_listener),
        )
        .route(
            domain::webhooks::REGISTRY_LISTENER,
            axum::routing::post(webhooks::registry_listener),
        );
    declare_common_answers(&mut doc);
    // One shared copy: axum clones a route's handler each time the router is rebuilt
    // (merging, nesting, state), and a handler holding the document by value deep-copied it
    // every time: about 2.8 MB of the idle server's heap (heaptrack).
    let doc = Arc::new(doc);
    let served = Arc::clone(&doc);
    let router = router
        .route(
            &format!("{PREFIX}/openapi.json"),
            get(move || serve_document(Arc::clone(&served))),
        )
        // unknown API paths answer in the API's format, not with the HTML 404 page
        .route(
            &format!("{PREFIX}/{{*rest}}"),
            axum::routing::any(api_not_found),
        );
    Routers {
        api: router,
        listeners,
        doc,
    }
}

/// Tokens, users, projects with their members and variables.
fn access_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
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
}

/// Endpoints and pipelines.
fn resource_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
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
}

/// Executions and User Operations.
fn run_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(executions::run_pipeline))
        .routes(routes!(executions::list_executions))
        .routes(routes!(
            executions::get_execution,
            executions::delete_execution
        ))
        .routes(routes!(executions::execution_action))
        .routes(routes!(executions::task_log))
        .routes(routes!(user_operations::list_user_operations))
        .routes(routes!(user_operations::get_user_operation))
        .routes(routes!(user_operations::approve_user_operation))
        .routes(routes!(user_operations::reject_user_operation))
}

/// The listeners registries post to.
fn listener_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webhooks::docker_hub_listener))
        .routes(routes!(webhooks::registry_listener))
}

/// The Docker webhook cards and their Activity.
fn trigger_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
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
        .routes(routes!(webhooks::resubmit_activity))
}

/// The operations anyone may call: each carries its own proof (a password, a refresh token,
/// a card's secure token) or none is needed (the document itself). Every other API request
/// needs a valid bearer first: without one it is answered 401 before routing, so a wrong
/// path or method tells an anonymous caller nothing.
pub const PUBLIC: [(&str, &str); 5] = [
    ("POST", "/tokens"),
    ("*", "/login"),
    ("*", "/docker-hub-webhooks"),
    ("*", "/registry-webhooks"),
    ("*", "/openapi.json"),
];

fn is_public(method: &axum::http::Method, path: &str) -> bool {
    path.strip_prefix(PREFIX).is_some_and(|rest| {
        PUBLIC
            .iter()
            .any(|(m, p)| *p == rest && (*m == "*" || method.as_str() == *m))
    })
}

/// 401 before anything else: authenticates every API request that is not [`PUBLIC`] and hands
/// the caller to the handler's `Bearer` (one look-up per request).
pub async fn bearer_first(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if is_public(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    match extract::authenticate(&state, req.headers()).await {
        Ok(actor) => {
            req.extensions_mut().insert(extract::Authenticated(actor));
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// Declares, on every operation, the answers its kind of request can get before or beside its
/// handler's own: 401 where a bearer is needed (`bearer_first`), 400 where a path or query
/// parameter must parse, and 400, 413, 415 and 422 where it takes a JSON body. So the document
/// lists every status an operation returns, as schemathesis checks.
fn declare_common_answers(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{content::Content, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    Content::new(Some(Ref::from_schema_name("ApiErrorBody"))),
                )
                .build(),
        )
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let in_path = path.contains('{');
            let query = op.parameters.as_ref().is_some_and(|p| {
                p.iter()
                    .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
            });
            let body = op.request_body.is_some();
            let mut answers = Vec::new();
            if secured {
                answers.push((
                    "401",
                    "No valid bearer access token: sent before anything else is looked at.",
                ));
            }
            if in_path || query || body {
                answers.push((
                    "400",
                    "A path or query parameter, or the body, could not be read.",
                ));
            }
            if in_path && secured {
                answers.push((
                    "404",
                    "No such object, or it is in a project the caller cannot see.",
                ));
            }
            if query {
                answers.push((
                    "422",
                    "A query parameter is out of range; the message says which.",
                ));
            }
            if body {
                answers.push(("413", "The body is larger than the server accepts."));
                answers.push((
                    "415",
                    "The body is not JSON (Content-Type: application/json).",
                ));
                answers.push(("422", "A field is not valid; `field` names it."));
            }
            for (status, description) in answers {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error(description));
            }
        }
    }
}

/// `openapi.json`: written out per request from the one shared document (a rare call).
async fn serve_document(doc: Arc<utoipa::openapi::OpenApi>) -> Response {
    Json(&*doc).into_response()
}

async fn api_not_found() -> Response {
    error::ApiError::new(domain::ErrorCode::NotFound, "There is no such API route.").into_response()
}

/// Every API answer is in the API's format: the answers no handler wrote (the body limit's
/// 413, a path or query parameter that does not parse, an undeclared method's 405, a body
/// without a JSON content type) are rewritten into `{"code", "message"}` with their status
/// (and a 405 keeps its `Allow` header).
pub async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_api = req.uri().path().starts_with(PREFIX);
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let Some(code) = error::code_for(status) else {
        return res;
    };
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => match allow.as_ref().and_then(|a| a.to_str().ok()) {
            Some(a) if !a.is_empty() => format!("This path takes {a} only."),
            _ => "This path does not take this method.".to_owned(),
        },
        StatusCode::BAD_REQUEST => {
            // axum's rejections say which parameter and why, in a sentence of its own
            let text = axum::body::to_bytes(res.into_body(), 4096)
                .await
                .map(|b| {
                    String::from_utf8_lossy(&b)
                        .chars()
                        .take(300)
                        .collect::<String>()
                })
                .unwrap_or_default();
            if text.trim().is_empty() {
                "The request could not be read.".to_owned()
            } else {
                format!("The request could not be read: {}", text.trim())
            }
        }
        StatusCode::UNAUTHORIZED => "Missing or unknown credentials.".to_owned(),
        StatusCode::NOT_FOUND => "There is no such API route.".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "The body is too large.".to_owned(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "Send the body as JSON, with Content-Type: application/json.".to_owned()
        }
        s if s.is_server_error() => "Something failed inside Wharf.".to_owned(),
        _ => "The request was not accepted.".to_owned(),
    };
    let mut out = error::ApiError::new(code, message).into_response();
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operations_without_a_bearer_are_exactly_the_public_ones() {
        let doc = router().doc;
        let mut open = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ] {
                let Some(op) = op else { continue };
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let method = method.parse::<axum::http::Method>().unwrap();
                assert_eq!(
                    !secured,
                    is_public(&method, path),
                    "{method} {path}: documented {} but answered as {}",
                    if secured {
                        "with a bearer"
                    } else {
                        "without one"
                    },
                    if is_public(&method, path) {
                        "public"
                    } else {
                        "needing a bearer"
                    }
                );
                if !secured {
                    open.push(format!("{method} {path}"));
                }
            }
        }
        assert_eq!(open.len(), 4, "{open:?}");
    }
}
