//! The 404 page.

use crate::ids;
use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path Wharf does not know, with status 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(404);
    view! {
        <Title text="Not found · Wharf"/>
        <main class="auth-page">
            <div class="auth-card" data-testid=ids::NOT_FOUND>
                <h1>"Page not found"</h1>
                <p class="lead">"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
                <a href="/" class="button primary">"Go to Executions"</a>
            </div>
        </main>
    }
}
