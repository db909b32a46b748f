//! The application shell, as in Aria Automation Pipelines: a header with the product name, the
//! project selector and the user menu; navigation on the left; the page in the middle.

use crate::api::{get_session_info, SelectProject, SessionInfo, SignOut};
use crate::components::{EmptyState, ErrorPanel, Loading, PageHeader};
use crate::error::AppError;
use crate::ids;
use domain::views::ProjectSummary;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_location;

/// The session the shell loaded, shared with the pages below it.
#[derive(Clone, Copy)]
pub struct ShellContext {
    /// The signed-in user, their projects and the selected project.
    pub info: crate::load::Loaded<Result<SessionInfo, AppError>>,
    /// The project picked in the selector (follows the session, changes without a reload).
    pub project: RwSignal<Option<i64>>,
}

/// Whether the Generate Token dialog is open (shared by the user menu and the My tokens page).
#[derive(Clone, Copy)]
pub struct TokenDialog(pub RwSignal<bool>);

/// The shell's context; pages inside the shell can rely on it.
pub fn use_shell() -> Option<ShellContext> {
    use_context::<ShellContext>()
}

#[component]
fn NavLink(
    href: &'static str,
    label: &'static str,
    #[prop(optional)] nested: bool,
) -> impl IntoView {
    let location = use_location();
    let active = move || {
        let path = location.pathname.get();
        if href == "/" {
            path == "/"
        } else {
            path == href || path.starts_with(&format!("{href}/"))
        }
    };
    view! {
        <li class:nested=nested>
            <A href=href attr:class=move || if active() { "nav-link active" } else { "nav-link" }>
                {label}
            </A>
        </li>
    }
}

#[component]
fn ProjectSelector(info: SessionInfo, project: RwSignal<Option<i64>>) -> impl IntoView {
    let select = ServerAction::<SelectProject>::new();
    if project.get_untracked().is_none() {
        project.set(info.current_project);
    }
    let empty = info.projects.is_empty();
    view! {
        <div class="project-selector">
            <label for="project-selector">"Project"</label>
            <select
                id="project-selector"
                data-testid=ids::PROJECT_SELECTOR
                disabled=empty
                on:change=move |ev| {
                    if let Ok(id) = event_target_value(&ev).parse::<i64>() {
                        project.set(Some(id));
                        select.dispatch(SelectProject { project_id: id });
                    }
                }
            >
                {empty.then(|| view! { <option value="">"No projects yet"</option> })}
                {info
                    .projects
                    .into_iter()
                    .map(|p| {
                        let id = p.id;
                        view! {
                            <option value=id.to_string() selected=move || project.get() == Some(id)>
                                {p.name}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

#[component]
fn UserMenu(info: SessionInfo) -> impl IntoView {
    let open = RwSignal::new(false);
    let dialog = use_context::<TokenDialog>();
    let sign_out = ServerAction::<SignOut>::new();
    let initials = info.initials.clone();
    view! {
        <div class="user-menu" on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
            <button
                type="button"
                class="user-menu-button"
                data-testid=ids::USER_MENU_BUTTON
                aria-haspopup="true"
                aria-expanded=move || open.get().to_string()
                aria-controls="user-menu"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="avatar" aria-hidden="true">{initials}</span>
                <span class="user-name">{info.user.display_name.clone()}</span>
                <span aria-hidden="true">"▾"</span>
            </button>
            <div id="user-menu" class="user-menu-panel" data-testid=ids::USER_MENU hidden=move || !open.get()>
                <p class="user-menu-name">{info.user.display_name.clone()}</p>
                <p class="user-menu-email">{info.user.email.clone()}</p>
                {info.user.is_admin.then(|| view! { <p class="badge">"Administrator"</p> })}
                <button
                    type="button"
                    class="menu-item"
                    data-testid=ids::GENERATE_TOKEN
                    on:click=move |_| {
                        open.set(false);
                        if let Some(d) = dialog { d.0.set(true) }
                    }
                >
                    "Generate Token"
                </button>
                <A href="/tokens" attr:class="menu-item button" on:click=move |_| open.set(false)>"My tokens"</A>
                <ActionForm action=sign_out>
                    <button type="submit" class="menu-item" data-testid=ids::SIGN_OUT>
                        "Sign out"
                    </button>
                </ActionForm>
            </div>
        </div>
    }
}

/// The Generate Token dialog, shown while `open`. Its code arrives when it is first opened
/// (a chunk of its own, like a page's): every signed-in page has the shell, and few of their
/// visits generate a token.
#[lazy]
fn token_dialog_view(open: RwSignal<bool>) -> AnyView {
    view! { <crate::pages::tokens::GenerateTokenDialog open/> }.into_any()
}

/// The frame around every signed-in page.
#[component]
pub fn Shell() -> impl IntoView {
    let info = crate::load::load(|| (), |_| get_session_info());
    let project = RwSignal::new(None);
    provide_context(ShellContext { info, project });
    let token_dialog = RwSignal::new(false);
    provide_context(TokenDialog(token_dialog));
    // on a narrow screen the navigation is a menu, closed again by going somewhere
    let menu_open = RwSignal::new(false);
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    // in the browser only: reflowed table cells name their columns on a phone
    Effect::new(|_| super::cells::label_table_cells());
    view! {
        <div class="app">
            <header class="app-header">
                <button type="button" class="menu-button" aria-controls="app-nav"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| menu_open.update(|o| *o = !*o)>
                    <span aria-hidden="true">"☰"</span>
                    <span class="visually-hidden">"Menu"</span>
                </button>
                <a href="/" class="brand">
                    <span class="brand-mark" aria-hidden="true">"⚓"</span>
                    <span class="brand-name">"Wharf"</span>
                    <span class="brand-sub">"Pipelines"</span>
                </a>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        info.await.ok().map(|info| {
                            view! {
                                <ProjectSelector info=info.clone() project/>
                                <UserMenu info/>
                            }
                        })
                    })}
                </Transition>
            </header>
            <div class="app-body">
                <nav class="app-nav" class:open=move || menu_open.get() id="app-nav" aria-label="Main" data-testid=ids::NAV>
                    <ul>
                        <NavLink href="/" label="Home"/>
                        <NavLink href="/executions" label="Executions"/>
                        <NavLink href="/user-operations" label="User Operations"/>
                        <NavLink href="/pipelines" label="Pipelines"/>
                        <li class="nav-group" aria-hidden="true">"Triggers"</li>
                        <NavLink href="/triggers/docker" label="Docker" nested=true/>
                        <NavLink href="/endpoints" label="Endpoints"/>
                        <NavLink href="/variables" label="Variables"/>
                        <NavLink href="/projects" label="Projects"/>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                info.await
                                    .ok()
                                    .filter(|i| i.user.is_admin)
                                    .map(|_| view! { <NavLink href="/users" label="Users"/> })
                            })}
                        </Transition>
                    </ul>
                </nav>
                <main class="app-main" id="main">
                    <Outlet/>
                </main>
                {move || token_dialog.get().then(|| view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move { token_dialog_view(token_dialog).await })}
                    </Suspense>
                })}
            </div>
        </div>
    }
}

/// Picks the header's project, or says why there is none.
#[component]
pub fn WithProject(
    title: &'static str,
    /// What belongs to the project, for the empty state ("Pipelines", "Endpoints").
    what: &'static str,
    render: Box<dyn Fn(ProjectSummary) -> AnyView + Send + Sync>,
) -> impl IntoView {
    let shell = use_shell();
    let children = StoredValue::new(render);
    view! {
        <Transition fallback=move || view! { <PageHeader title=title/><Loading/> }>
            {move || Suspend::new(async move {
                let Some(shell) = shell else {
                    return view! { <ErrorPanel error=AppError::new(domain::ErrorCode::Internal, "The page is not inside the application shell.")/> }.into_any();
                };
                let info = match shell.info.await {
                    Ok(i) => i,
                    Err(e) => return view! { <PageHeader title=title/><ErrorPanel error=e/> }.into_any(),
                };
                // after the await the page may be gone (navigated away mid-load): then it reads as unset
                let selected = shell.project.try_get().flatten().or(info.current_project);
                match selected.and_then(|id| info.projects.iter().find(|p| p.id == id).cloned()) {
                    None => view! {
                        <PageHeader title=title/>
                        <EmptyState title="No project selected">
                            {format!("{what} belong to a project. Pick one in the header, or ask an administrator to add you to a project.")}
                        </EmptyState>
                    }.into_any(),
                    Some(project) => children.with_value(|c| c(project)),
                }
            })}
        </Transition>
    }
}
