//! Wharf's user interface: Leptos pages rendered on the server and hydrated in the browser,
//! and the server functions they call.

pub mod api;
pub mod components;
pub mod error;
pub mod ids;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;
use leptos_router::SsrMode;
use pages::{auth, not_found::NotFoundPage, projects, shell::Shell, users::UsersPage};

/// The Content-Security-Policy of a page whose inline scripts carry `nonce`: scripts only from
/// this site or with the nonce (the hydration script), WebAssembly allowed, no framing.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(value) = http::HeaderValue::from_str(&page_csp(&nonce)) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="color-scheme" content="light"/>
        <Title text="Wharf"/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/setup") view=auth::SetupPage/>
                <Route path=path!("/login") view=auth::SignInPage/>
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("/") view=pages::home::HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/executions") view=pages::executions::ExecutionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/executions/:id") view=pages::executions::ExecutionDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/user-operations") view=pages::user_operations::UserOperationsPage/>
                    <Route path=path!("/pipelines") view=pages::pipelines::PipelinesPage/>
                    <Route path=path!("/pipelines/new") view=pages::pipelines::PipelineEditorPage/>
                    <Route path=path!("/pipelines/:id") view=pages::pipelines::PipelineEditorPage/>
                    <Route path=path!("/triggers/docker") view=pages::triggers::DockerTriggersPage/>
                    <Route path=path!("/endpoints") view=pages::endpoints::EndpointsPage/>
                    <Route path=path!("/variables") view=pages::variables::VariablesPage/>
                    <Route path=path!("/projects") view=projects::ProjectsPage/>
                    <Route path=path!("/projects/:id") view=projects::ProjectPage/>
                    <Route path=path!("/users") view=UsersPage/>
                    <Route path=path!("/tokens") view=pages::tokens::TokensPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
