//! Home: the selected project's dashboard. How many executions ran in the last day and week by
//! status (each a link to those executions), the latest executions with their stage icons, the
//! Docker webhooks whose latest event failed, and the latest Activity rows; live.
//!
//! The server renders the dashboard whole ([`fragment`], server only) and the browser puts
//! that HTML in place, then asks for it again whenever one of the project's executions changes
//! (the Executions page's live stream). Home is where a signed-in visit lands, so its first
//! download matters most (issue 18: a first page's WebAssembly at most 300 KB): this way the
//! browser carries none of the dashboard's views and none of its data's decoders. Its links
//! are plain links, which the router follows in the browser like its own.

#[cfg(feature = "ssr")]
pub mod fragment;

use crate::api::{get_home, HomeView};
use crate::components::{ErrorPanel, Loading, PageHeader};
use crate::pages::executions::{follow_stream, LiveState};
use crate::pages::shell::WithProject;
use domain::views::ProjectSummary;
use leptos::prelude::*;
use leptos_meta::Title;

/// The home page (`/`).
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Home · Wharf"/>
        <WithProject title="Home" what="Dashboards" render=Box::new(|project| view! { <ProjectHome project/> }.into_any())/>
    }
}

#[component]
fn ProjectHome(project: ProjectSummary) -> impl IntoView {
    let id = project.id;
    let data = crate::load::load(move || id, get_home);
    view! {
        <PageHeader title="Home"/>
        <p class="page-lead">{format!("Project {}: what ran, what came in, and what needs attention.", project.name)}</p>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(h) => view! { <Dashboard h project=id/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The dashboard as the server rendered it, replaced by a fresh one after every change to the
/// project's executions: counts, Activity and failing webhooks may have changed with them. One
/// reload at a time; changes that arrive meanwhile cause one more, not one each.
#[component]
fn Dashboard(h: HomeView, project: i64) -> impl IntoView {
    let host = NodeRef::<leptos::html::Div>::new();
    let live = RwSignal::new(false);
    let loading = StoredValue::new(false);
    let again = StoredValue::new(false);
    let refresh = move || {
        if loading.try_get_value().unwrap_or(true) {
            again.try_set_value(true);
            return;
        }
        loading.try_set_value(true);
        leptos::task::spawn_local(async move {
            loop {
                again.try_set_value(false);
                if let Ok(h) = get_home(project).await {
                    if let Some(el) = host.try_get_untracked().flatten() {
                        replace(&el, &h.html);
                    }
                }
                // the page may have gone meanwhile: then nothing more
                if !again.try_get_value().unwrap_or(false) {
                    break;
                }
            }
            loading.try_set_value(false);
        });
    };
    let url = format!("/live/executions?since={}&project={project}", h.version);
    follow_stream(url, move |_| refresh(), live);
    view! {
        <LiveState live/>
        <div class="home-dashboard" node_ref=host inner_html=h.html></div>
    }
}

/// Puts the dashboard's new HTML in place. A link that had the keyboard's focus is focused
/// again in the new HTML (found by its address), so a refresh does not throw the reader back
/// to the top of the page.
#[cfg(feature = "hydrate")]
fn replace(host: &web_sys::HtmlDivElement, html: &str) {
    let focused = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .filter(|a| host.contains(Some(a)))
        .and_then(|a| a.get_attribute("href"));
    host.set_inner_html(html);
    let Some(href) = focused else { return };
    let Ok(links) = host.query_selector_all("a[href]") else {
        return;
    };
    let link = crate::pages::cells::elements::<web_sys::HtmlElement>(&links)
        .find(|l| l.get_attribute("href").as_deref() == Some(href.as_str()));
    if let Some(link) = link {
        let _ = link.focus();
    }
}

/// The server never replaces the dashboard: it renders it.
#[cfg(not(feature = "hydrate"))]
fn replace<T>(_host: &T, _html: &str) {}
