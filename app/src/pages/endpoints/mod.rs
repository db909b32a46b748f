//! Endpoints of the project picked in the header, as in Aria: Docker Registry and Kubernetes
//! endpoints with New Endpoint, Edit, Delete, Validate and Accept certificate.

use crate::api::{
    list_endpoints, DeleteEndpoint, FetchEndpointCertificate, SaveEndpoint, ValidateEndpoint,
};
use crate::components::TableHead;
use crate::components::{
    action_error, EmptyState, ErrorPanel, FieldError, FormError, Loading, PageHeader,
};
use crate::ids;
use crate::pages::shell::WithProject;
use domain::endpoints::{
    CertificateView, EndpointForm, EndpointKind, EndpointRow, KubernetesAuth, RegistryServerType,
};
use domain::role::ProjectAction;
use domain::views::ProjectSummary;
use domain::ProjectRole;
use leptos::prelude::*;
use leptos_meta::Title;

mod editor;

pub(crate) use editor::EndpointEditor;

/// The fields the editor shows errors under; other errors go above its buttons.
const FIELDS: &[&str] = &[
    "name",
    "kind",
    "server_type",
    "url",
    "username",
    "secret",
    "auth_method",
    "namespace",
    "ca_data",
    "client_certificate",
];

fn time(at: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    view! { <time datetime=at.to_rfc3339()>{crate::time::second_utc(at)}</time> }
}

/// A button that takes the focus when it appears (dialogs open on their main action).
fn focus_on_mount() -> NodeRef<leptos::html::Button> {
    let node = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = node.get() {
            let _ = button.focus();
        }
    });
    node
}

/// The Endpoints page.
#[component]
pub fn EndpointsPage() -> impl IntoView {
    view! {
        <Title text="Endpoints · Wharf"/>
        <WithProject title="Endpoints" what="Endpoints" render=Box::new(|project| view! { <ProjectEndpoints project/> }.into_any())/>
    }
}

#[component]
fn ProjectEndpoints(project: ProjectSummary) -> impl IntoView {
    let project_id = project.id;
    let role = project.my_role;
    let can_use = role.allows(ProjectAction::Use);
    let administrator = role == ProjectRole::Administrator;
    let save = ServerAction::<SaveEndpoint>::new();
    let delete = ServerAction::<DeleteEndpoint>::new();
    let validate = ServerAction::<ValidateEndpoint>::new();
    let page = RwSignal::new(1u64);
    // None: closed; Some(None): New Endpoint; Some(Some(row)): Edit
    let editor: RwSignal<Option<Option<EndpointRow>>> = RwSignal::new(None);
    let list = crate::load::load(
        move || {
            (
                project_id,
                page.get(),
                save.version().get(),
                delete.version().get(),
                validate.version().get(),
            )
        },
        |(id, page, ..)| list_endpoints(id, page),
    );
    let row_error = Signal::derive(move || action_error(delete.value()).get());
    let validate_error = action_error(validate.value());
    view! {
        <EndpointsIntro project_name=project.name.clone() can_use save editor/>
        <FormError error=row_error/>
        <FormError error=validate_error/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(p) if p.total == 0 => view! {
                        <EmptyState title="No endpoints yet">
                            {if can_use {
                                "Create one with New Endpoint: a Docker registry to receive pushes from, or a Kubernetes cluster to deploy to."
                            } else {
                                "This project has no endpoints."
                            }}
                        </EmptyState>
                    }.into_any(),
                    Ok(p) => {
                        let pages = p.total.div_ceil(p.page_size).max(1);
                        let current = p.page;
                        view! {
                            <table class="table" data-testid=ids::ENDPOINT_LIST>
                                <TableHead columns=&["Name", "Type", "URL", "Last validation"] actions=can_use/>
                                <tbody>
                                    {p.rows.into_iter().map(|e| view! {
                                        <EndpointRowView e project_id can_use administrator validate delete editor save/>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {(pages > 1).then(|| view! {
                                <nav class="pager" aria-label="Endpoint pages">
                                    <button type="button" disabled=current <= 1 on:click=move |_| page.set(current - 1)>"Previous"</button>
                                    <span>{format!("Page {current} of {pages} · {} endpoints", p.total)}</span>
                                    <button type="button" disabled=current >= pages on:click=move |_| page.set(current + 1)>"Next"</button>
                                </nav>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
        {move || editor.get().map(|existing| view! {
            <EndpointEditor project_id administrator existing save on_close=move || editor.set(None)/>
        })}
    }
}

/// The page's header with New Endpoint, what endpoints are, and a viewer's notice.
#[component]
fn EndpointsIntro(
    project_name: String,
    can_use: bool,
    save: ServerAction<SaveEndpoint>,
    editor: RwSignal<Option<Option<EndpointRow>>>,
) -> impl IntoView {
    view! {
        <PageHeader title="Endpoints">
            {can_use.then(|| view! {
                <button type="button" class="primary" data-testid=ids::NEW_ENDPOINT on:click=move |_| {
                    save.clear();
                    editor.set(Some(None));
                }>"New Endpoint"</button>
            })}
        </PageHeader>
        <p class="page-lead">
            "Endpoints connect pipelines and Docker webhooks to the systems they work with: Docker registries (Docker Hub, a v2 registry, Harbor) and Kubernetes clusters. "
            "Passwords, tokens and keys are encrypted at rest and never shown again. "
            <strong>"Validate"</strong> " makes the real call and records what it found."
        </p>
        <p class="muted">"Project: " <strong>{project_name}</strong></p>
        {(!can_use).then(|| view! {
            <p class="notice" data-testid=ids::READ_ONLY_NOTICE>
                "You are a viewer of this project: you can see its endpoints but not change or validate them."
            </p>
        })}
    }
}

#[component]
#[allow(clippy::too_many_arguments)]
fn EndpointRowView(
    e: EndpointRow,
    project_id: i64,
    can_use: bool,
    administrator: bool,
    validate: ServerAction<ValidateEndpoint>,
    delete: ServerAction<DeleteEndpoint>,
    editor: RwSignal<Option<Option<EndpointRow>>>,
    save: ServerAction<SaveEndpoint>,
) -> impl IntoView {
    let endpoint_id = e.id;
    let may_change = can_use && (!e.restricted || administrator);
    let confirming = RwSignal::new(false);
    let validating = move || {
        validate.pending().get()
            && validate
                .input()
                .get()
                .is_some_and(|i| i.endpoint_id == endpoint_id)
    };
    let kind = match (&e.kubernetes, e.server_type) {
        (Some(k), _) => format!("Kubernetes · {}", k.auth.label()),
        (None, Some(t)) => format!("Docker Registry · {}", t.label()),
        (None, None) => e.kind.label().to_owned(),
    };
    let row = StoredValue::new(e.clone());
    let name = e.name.clone();
    view! {
        <tr data-endpoint=e.name.clone()>
            <td>
                <strong>{e.name.clone()}</strong>
                {e.restricted.then(|| view! { " " <span class="kind kind-restricted" title="Only project administrators can use it">"RESTRICTED"</span> })}
                {e.kubernetes.as_ref().map(|k| view! { <div class="muted">"Namespace " <code>{k.namespace.clone()}</code></div> })}
            </td>
            <td>{kind}</td>
            <UrlCell url=e.url.clone() pin=e.certificate_sha256.clone()/>
            <ValidationCell row validating=Signal::derive(validating)/>
            {can_use.then(|| view! {
                <td class="actions">
                    {may_change.then(|| view! {
                        <button type="button" class="link-button" disabled=validating
                            aria-label=format!("Validate {name}")
                            on:click=move |_| { validate.dispatch(ValidateEndpoint { project_id, endpoint_id }); }>
                            "Validate"
                        </button>
                        <button type="button" class="link-button" aria-label=format!("Edit {}", row.get_value().name) on:click=move |_| {
                            save.clear();
                            editor.set(Some(Some(row.get_value())));
                        }>"Edit"</button>
                        <Show
                            when=move || confirming.get()
                            fallback=move || view! {
                                <button type="button" class="link-button" aria-label=format!("Delete {}", row.get_value().name) on:click=move |_| confirming.set(true)>"Delete"</button>
                            }
                        >
                            <span role="alert">"Delete it? "</span>
                            <button type="button" class="link-button danger-link" on:click=move |_| {
                                delete.dispatch(DeleteEndpoint { project_id, endpoint_id });
                            }>"Yes, delete"</button>
                            <button type="button" class="link-button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        </Show>
                    })}
                    {(!may_change).then(|| view! { <span class="muted">"Administrators only"</span> })}
                </td>
            })}
        </tr>
    }
}

/// The endpoint's last validation, or progress while one runs.
#[component]
fn ValidationCell(row: StoredValue<EndpointRow>, validating: Signal<bool>) -> impl IntoView {
    view! {
        <td class="validation" aria-live="polite">
            {move || if validating.get() {
                view! { <span class="loading"><span class="spinner" aria-hidden="true"></span>"Validating…"</span> }.into_any()
            } else {
                match row.get_value().last_validation {
                    None => view! { <span class="muted">"Not validated yet"</span> }.into_any(),
                    Some(v) => view! {
                        <div class=if v.ok { "validation-ok" } else { "validation-failed" }>
                            <strong>{if v.ok { "✓ Valid" } else { "✗ Failed" }}</strong>
                            " " <span>{v.message.clone()}</span>
                        </div>
                        <div class="muted small">{time(v.at)}</div>
                    }.into_any(),
                }
            }}
        </td>
    }
}

/// The endpoint's URL, a warning when it is plain http, and its accepted certificate.
#[component]
fn UrlCell(url: String, pin: Option<String>) -> impl IntoView {
    let plain_http = url.starts_with("http://");
    view! {
        <td>
            <code class="value">{url}</code>
            {plain_http.then(|| view! {
                <div class="warning-text" title="Credentials and data travel unencrypted">"⚠ Plain http: not encrypted"</div>
            })}
            {pin.map(|pin| view! {
                <div class="muted" title=pin.clone()>"Certificate accepted · SHA-256 " {pin[..11.min(pin.len())].to_owned()} "…"</div>
            })}
        </td>
    }
}

/// Where the Accept certificate step stands.
#[derive(Clone, PartialEq)]
enum CertStep {
    Closed,
    Fetching,
    Show(CertificateView),
    Failed(String),
}
