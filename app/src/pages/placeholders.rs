//! Pages whose capabilities arrive in later releases. They say so plainly and show no data.

use crate::components::{EmptyState, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn ComingPage(title: &'static str, empty: &'static str, body: &'static str) -> impl IntoView {
    view! {
        <Title text=format!("{title} · Wharf")/>
        <PageHeader title=title/>
        <EmptyState title=empty>
            <p>{body}</p>
            <p class="muted">"This part of Wharf is not built yet: nothing here is hidden or simulated."</p>
        </EmptyState>
    }
}

/// Executions (the landing page).
#[component]
pub fn ExecutionsPage() -> impl IntoView {
    view! {
        <ComingPage
            title="Executions"
            empty="No executions yet"
            body="When a pipeline runs, by hand or from a Docker trigger, its execution appears here with one icon per stage."
        />
    }
}
