//! Triggers › Docker, as in Aria: the **Activity** tab (every push received, what it did, the
//! raw payload and Resubmit) and **Webhooks for Docker** (cards with Enable/Disable, the
//! listener URL with Copy, the last event and counts, Docker Hub sync; New Webhook for Docker).

use crate::api::{
    get_activity, list_activity, list_endpoints, list_pipelines, list_webhooks,
    webhook_listener_url, DeleteWebhook, ResubmitActivity, SaveEndpoint, SaveWebhook,
    WebhookAction,
};
use crate::components::{
    action_error, EmptyState, ErrorPanel, FieldError, FormError, Loading, PageHeader,
};
use crate::error::AppError;
use crate::ids;
use crate::pages::endpoints::EndpointEditor;
use crate::pages::executions::exact as when;
use crate::pages::pipelines::Dialog;
use crate::pages::shell::WithProject;
use crate::pages::tokens::{copy_to_clipboard, GenerateTokenDialog};
use domain::endpoints::{EndpointKind, RegistryServerType};
use domain::executions::{PipelineRow, RunStatus};
use domain::pipeline::DOCKER_INPUTS;
use domain::role::{ProjectAction, ProjectRole};
use domain::views::{ProjectSummary, TokenStatus};
use domain::webhooks::{
    ActivityFilter, ActivityRow, ActivityStatus, SyncState, WebhookCard, WebhookForm,
};
use leptos::prelude::*;
use leptos_meta::Title;
use std::collections::BTreeMap;

mod activity;
mod editor;

use activity::Activity;
use editor::WebhookEditor;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Activity,
    Webhooks,
}

/// The Triggers › Docker page.
#[component]
pub fn DockerTriggersPage() -> impl IntoView {
    view! {
        <Title text="Docker triggers · Wharf"/>
        <WithProject title="Docker" what="Docker webhooks" render=Box::new(|project| view! { <ProjectDocker project/> }.into_any())/>
    }
}

#[component]
fn ProjectDocker(project: ProjectSummary) -> impl IntoView {
    let tab = RwSignal::new(Tab::Activity);
    let project_id = project.id;
    let can_use = project.my_role.allows(ProjectAction::Use);
    let administrator = project.my_role == ProjectRole::Administrator;
    view! {
        <PageHeader title="Docker"/>
        <p class="page-lead">
            "A webhook for Docker runs a pipeline when an image is pushed to Docker Hub, a CNCF distribution registry or Harbor. "
            "Wharf stores every delivery before it answers the registry, runs each push once, and lists what happened on the Activity tab."
        </p>
        <p class="muted">"Project: " <strong>{project.name.clone()}</strong></p>
        <div class="tabs" role="tablist" aria-label="Docker triggers">
            <button type="button" role="tab" id="tab-activity" aria-controls="panel-activity"
                aria-selected=move || (tab.get() == Tab::Activity).to_string()
                on:click=move |_| tab.set(Tab::Activity)>"Activity"</button>
            <button type="button" role="tab" id="tab-webhooks" aria-controls="panel-webhooks"
                aria-selected=move || (tab.get() == Tab::Webhooks).to_string()
                on:click=move |_| tab.set(Tab::Webhooks)>"Webhooks for Docker"</button>
        </div>
        {move || match tab.get() {
            Tab::Activity => view! {
                <section role="tabpanel" id="panel-activity" aria-labelledby="tab-activity">
                    <Activity project_id can_use tab/>
                </section>
            }.into_any(),
            Tab::Webhooks => view! {
                <section role="tabpanel" id="panel-webhooks" aria-labelledby="tab-webhooks">
                    <Webhooks project=project.clone() can_use administrator/>
                </section>
            }.into_any(),
        }}
    }
}

pub(crate) fn activity_badge(s: ActivityStatus) -> impl IntoView {
    let class = format!(
        "status activity-{}",
        s.as_str().to_ascii_lowercase().replace('_', "-")
    );
    view! { <span class=class>{s.label()}</span> }
}

fn short_digest(d: &Option<String>) -> String {
    d.as_deref()
        .map(|d| {
            let hex = d.split_once(':').map_or(d, |(_, h)| h);
            hex.chars().take(12).collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------- Webhooks for Docker

#[component]
fn Webhooks(project: ProjectSummary, can_use: bool, administrator: bool) -> impl IntoView {
    let project_id = project.id;
    let project_name = StoredValue::new(project.name.clone());
    let save = ServerAction::<SaveWebhook>::new();
    let act = ServerAction::<WebhookAction>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let list = crate::load::load(
        move || {
            (
                project_id,
                save.version().get(),
                act.version().get(),
                delete.version().get(),
            )
        },
        |(id, ..)| list_webhooks(id),
    );
    // None: closed; Some(None): New; Some(Some(card)): Edit
    let editor: RwSignal<Option<Option<WebhookCard>>> = RwSignal::new(None);
    let row_error = Signal::derive(move || {
        action_error(act.value())
            .get()
            .or_else(|| action_error(delete.value()).get())
    });
    view! {
        <div class="page-header">
            <h2>"Webhooks for Docker"</h2>
            <div class="page-actions">
                {can_use.then(|| view! {
                    <button type="button" class="primary" data-testid=ids::NEW_WEBHOOK on:click=move |_| {
                        save.clear();
                        editor.set(Some(None));
                    }>"New Webhook for Docker"</button>
                })}
            </div>
        </div>
        <FormError error=row_error/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(cards) if cards.is_empty() => view! {
                        <EmptyState title="No Docker webhooks yet">
                            <p>"A webhook listens to one Docker Registry endpoint and runs a pipeline with the pushed image's details as its Docker inputs."</p>
                            {if can_use {
                                "Start with New Webhook for Docker: pick the registry endpoint, a pipeline with Docker inputs injected, and the image. Then give the registry the webhook's listener URL."
                            } else {
                                "This project has no webhooks for Docker."
                            }}
                        </EmptyState>
                    }.into_any(),
                    Ok(cards) => view! {
                        <ul class="cards webhook-cards" data-testid=ids::WEBHOOK_LIST>
                            {cards.into_iter().map(|c| view! {
                                <WebhookCardView c project_id project_name=project_name.get_value() can_use act delete editor/>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
        {move || editor.get().map(|existing| view! {
            <WebhookEditor project_id project_name=project_name.get_value() administrator existing save on_close=move || editor.set(None)/>
        })}
    }
}

/// The card's listener URL: masked until Copy fetches it (the copy goes to the clipboard).
#[component]
fn ListenerUrl(
    id: i64,
    project_id: i64,
    can_use: bool,
    listener_path: String,
    url: RwSignal<Option<String>>,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let url_error = RwSignal::new(None::<String>);
    let copy = move |_| {
        leptos::task::spawn_local(async move {
            match webhook_listener_url(project_id, id).await {
                Ok(u) => {
                    url.set(Some(u.clone()));
                    url_error.set(None);
                    copy_to_clipboard(u, copied);
                }
                Err(e) => url_error.set(Some(e.message)),
            }
        });
    };
    let masked = format!("{listener_path}?secureToken={}", domain::views::MASK);
    view! {
        <dt>"Listener URL"</dt>
        <dd>
            <div class="token-box">
                {move || match url.get() {
                    Some(u) => view! {
                        <label class="visually-hidden" for=format!("listener-{id}")>"Listener URL"</label>
                        <input id=format!("listener-{id}") readonly value=u data-testid=ids::LISTENER_URL/>
                    }.into_any(),
                    None => view! { <code class="listener-masked">{masked.clone()}</code> }.into_any(),
                }}
                {can_use.then(|| view! { <button type="button" on:click=copy aria-label="Copy the listener URL">"Copy"</button> })}
            </div>
            <span class="hint" role="status">
                {move || copied.get().then_some("Copied to the clipboard.")}
                {move || url_error.get()}
            </span>
        </dd>
    }
}

/// Whether a Docker Hub card's webhook is in sync with Docker Hub, and Retry sync.
#[component]
fn HubSync(
    c: WebhookCard,
    project_id: i64,
    can_use: bool,
    act: ServerAction<WebhookAction>,
) -> impl IntoView {
    let id = c.id;
    view! {
        {c.docker_hub.then(|| {
            let (label, class) = match c.sync_state {
                SyncState::InSync => ("In sync with Docker Hub", "validation-ok"),
                SyncState::Error => ("Not in sync with Docker Hub", "validation-failed"),
                SyncState::None => ("Not synced", "muted"),
            };
            view! {
                <dt>"Docker Hub"</dt>
                <dd data-testid=ids::WEBHOOK_SYNC>
                    <span class=class>{label}</span>
                    {c.synced_at.map(|t| view! { <span class="muted small">{format!(" · last synced {}", when(t))}</span> })}
                    {c.sync_error.clone().map(|e| view! { <div class="warning-text">{e}</div> })}
                    {(can_use && c.sync_state != SyncState::InSync).then(|| view! {
                        <button type="button" class="link-button" disabled=move || act.pending().get()
                            on:click=move |_| { act.dispatch(WebhookAction { project_id, webhook_id: id, action: "retry-sync".into() }); }>
                            "Retry sync"
                        </button>
                    })}
                </dd>
            }
        })}
    }
}

/// Open / Edit, Enable or Disable, Regenerate token and Delete, each confirmed where it cannot be undone.
#[component]
fn CardActions(
    c: WebhookCard,
    project_id: i64,
    act: ServerAction<WebhookAction>,
    delete: ServerAction<DeleteWebhook>,
    editor: RwSignal<Option<Option<WebhookCard>>>,
    url: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = c.id;
    let enabled = c.enabled;
    let confirming = RwSignal::new(false);
    let regenerating = RwSignal::new(false);
    let stored = StoredValue::new(c);
    let delete_failed = Signal::derive(
        move || matches!(delete.value().get(), Some(Err(ref e)) if e.message.contains("Docker Hub")),
    );
    view! {
        <div class="card-actions">
            <button type="button" on:click=move |_| editor.set(Some(Some(stored.get_value())))>"Open / Edit"</button>
            <button type="button" disabled=move || act.pending().get() on:click=move |_| {
                act.dispatch(WebhookAction { project_id, webhook_id: id, action: if enabled { "disable" } else { "enable" }.into() });
            }>{if enabled { "Disable" } else { "Enable" }}</button>
            {move || if regenerating.get() {
                view! {
                    <span class="inline-form">
                        "The registry's current URL stops working. "
                        <button type="button" class="danger" on:click=move |_| {
                            regenerating.set(false);
                            url.set(None);
                            act.dispatch(WebhookAction { project_id, webhook_id: id, action: "regenerate-token".into() });
                        }>"Regenerate"</button>
                        <button type="button" on:click=move |_| regenerating.set(false)>"Keep"</button>
                    </span>
                }.into_any()
            } else {
                view! { <button type="button" on:click=move |_| regenerating.set(true)>"Regenerate token"</button> }.into_any()
            }}
            {move || if confirming.get() {
                view! {
                    <span class="inline-form">
                        "Delete this webhook and its Activity? "
                        <button type="button" class="danger" on:click=move |_| {
                            confirming.set(false);
                            delete.dispatch(DeleteWebhook { project_id, webhook_id: id, force: false });
                        }>"Delete"</button>
                        <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </span>
                }.into_any()
            } else {
                view! { <button type="button" class="danger-link" on:click=move |_| confirming.set(true)>"Delete"</button> }.into_any()
            }}
            {move || delete_failed.get().then(|| view! {
                <button type="button" class="danger" on:click=move |_| {
                    delete.dispatch(DeleteWebhook { project_id, webhook_id: id, force: true });
                }>"Delete anyway"</button>
            })}
        </div>
    }
}

#[component]
fn WebhookCardView(
    c: WebhookCard,
    project_id: i64,
    project_name: String,
    can_use: bool,
    act: ServerAction<WebhookAction>,
    delete: ServerAction<DeleteWebhook>,
    editor: RwSignal<Option<Option<WebhookCard>>>,
) -> impl IntoView {
    let id = c.id;
    let enabled = c.enabled;
    let url: RwSignal<Option<String>> = RwSignal::new(None);
    let token = match (&c.api_token_name, c.api_token_status) {
        (Some(n), Some(TokenStatus::Active)) => n.clone(),
        (Some(n), Some(TokenStatus::Expired)) => format!("{n} (expired)"),
        (Some(n), _) => format!("{n} (revoked)"),
        (None, _) => "none: executions cannot start".to_owned(),
    };
    let token_ok = c.api_token_status == Some(TokenStatus::Active);
    let events = format!(
        "{} event{}, {} execution{} started",
        c.event_count,
        if c.event_count == 1 { "" } else { "s" },
        c.triggered_count,
        if c.triggered_count == 1 { "" } else { "s" }
    );
    view! {
        <li class="card webhook-card" data-webhook=c.name.clone()>
            <div class="card-head">
                <h3>{c.name.clone()}</h3>
                <span class=if enabled { "status status-active" } else { "status status-disabled" }>
                    {if enabled { "Enabled" } else { "Disabled" }}
                </span>
            </div>
            {(!c.description.is_empty()).then(|| view! { <p class="muted">{c.description.clone()}</p> })}
            <dl class="facts">
                <dt>"Project"</dt><dd>{project_name}</dd>
                <dt>"Endpoint"</dt><dd>{c.endpoint_name.clone()} {c.docker_hub.then_some(" (Docker Hub)")}</dd>
                <dt>"Pipeline"</dt><dd><a href=format!("/pipelines/{}", c.pipeline_id)>{c.pipeline_name.clone()}</a></dd>
                <dt>"Repository"</dt><dd><code>{c.image.clone()}</code></dd>
                <dt>"Tag"</dt><dd>{if c.tag.is_empty() { view! { <span class="muted">"any tag"</span> }.into_any() } else { view! { <code>{c.tag.clone()}</code> }.into_any() }}</dd>
                <dt>"API token"</dt><dd class=if token_ok { "" } else { "warning-text" }>{token}</dd>
                <dt>"Result to registry"</dt><dd>{if c.send_result { "Sent back (callback)" } else { "Not sent" }}</dd>
                <ListenerUrl id project_id can_use listener_path=c.listener_path.clone() url/>
                <dt>"Last event"</dt>
                <dd>
                    {match (c.last_event_at, c.last_event_status) {
                        (Some(t), Some(s)) => view! {
                            {activity_badge(s)} " " {when(t)}
                            <div class="muted small">{c.last_event_message.clone()}</div>
                        }.into_any(),
                        _ => view! { <span class="muted">"No event received yet"</span> }.into_any(),
                    }}
                </dd>
                <dt>"Counts"</dt><dd>{events}</dd>
                <HubSync c=c.clone() project_id can_use act/>
            </dl>
            {can_use.then(|| view! { <CardActions c=c.clone() project_id act delete editor url/> })}
        </li>
    }
}

// ---------------------------------------------------------------- Activity
