//! Wharf's user interface: Leptos pages rendered on the server and hydrated in the browser,
//! and the server functions they call.

pub mod api;
pub mod components;
pub mod error;
pub mod ids;
pub mod load;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod time;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};
use pages::{not_found::NotFoundPage, shell::Shell};

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
                <Route path=path!("/setup") view={Lazy::<routes::Setup>::new()}/>
                <Route path=path!("/login") view={Lazy::<routes::SignIn>::new()}/>
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("/") view={Lazy::<routes::Home>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/executions") view={Lazy::<routes::Executions>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/executions/:id") view={Lazy::<routes::Execution>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/user-operations") view={Lazy::<routes::UserOperations>::new()}/>
                    <Route path=path!("/pipelines") view={Lazy::<routes::Pipelines>::new()}/>
                    <Route path=path!("/pipelines/new") view={Lazy::<routes::PipelineEditor>::new()}/>
                    <Route path=path!("/pipelines/:id") view={Lazy::<routes::PipelineEditor>::new()}/>
                    <Route path=path!("/triggers/docker") view={Lazy::<routes::DockerTriggers>::new()}/>
                    <Route path=path!("/endpoints") view={Lazy::<routes::Endpoints>::new()}/>
                    <Route path=path!("/variables") view={Lazy::<routes::Variables>::new()}/>
                    <Route path=path!("/projects") view={Lazy::<routes::Projects>::new()}/>
                    <Route path=path!("/projects/:id") view={Lazy::<routes::Project>::new()}/>
                    <Route path=path!("/users") view={Lazy::<routes::Users>::new()}/>
                    <Route path=path!("/tokens") view={Lazy::<routes::Tokens>::new()}/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
