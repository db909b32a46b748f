//! Projects: the list, a new project, and one project's settings and members.

use crate::api::{
    get_project, list_projects, AddMember, ChangeMemberRole, CreateProject, DeleteProject,
    RemoveMember, UpdateProject,
};
use crate::components::TableHead;
use crate::components::{
    action_error, reset_on_success, EmptyState, ErrorPanel, FieldError, FormError, Loading,
    PageHeader,
};
use crate::ids;
use crate::pages::shell::use_shell;
use domain::role::ProjectAction;
use domain::views::{MemberRow, ProjectDetail};
use domain::ProjectRole;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

fn role_options(selected: ProjectRole) -> impl IntoView {
    ProjectRole::ALL
        .into_iter()
        .rev()
        .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.label()}</option> })
        .collect_view()
}

fn is_admin() -> Signal<bool> {
    let shell = use_shell();
    Signal::derive(move || {
        shell
            .and_then(|s| s.info.get())
            .and_then(|r| r.ok())
            .is_some_and(|i| i.user.is_admin)
    })
}

/// Every project the user can see, and (for administrators) a form to add one.
#[component]
pub fn ProjectsPage() -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    let projects = crate::load::load(move || create.version().get(), |_| list_projects());
    let admin = is_admin();
    let shell = use_shell();
    // a new project shows in the header's selector at once
    Effect::new(move |_| {
        if create.version().get() > 0 {
            if let Some(s) = shell {
                s.info.refetch();
            }
        }
    });
    view! {
        <Title text="Projects · Wharf"/>
        <PageHeader title="Projects"/>
        <p class="page-lead">
            "A project groups pipelines, endpoints, variables and triggers, and decides who may see and change them: "
            <strong>"administrators"</strong> " manage, " <strong>"members"</strong> " use, "
            <strong>"viewers"</strong> " look."
        </p>
        // the session resource is read inside a Transition, as hydration requires
        <Transition fallback=|| ()>
            <Show when=move || admin.get()>
                <NewProjectForm create/>
            </Show>
        </Transition>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match projects.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No projects yet">
                            {if admin.get_untracked() {
                                "Create the first project with the form above, then add its members."
                            } else {
                                "You are not a member of any project. Ask an administrator to add you to one."
                            }}
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => view! {
                        <ProjectTable list/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// New project (system administrators): name and description.
#[component]
fn NewProjectForm(create: ServerAction<CreateProject>) -> impl IntoView {
    let error = action_error(create.value());
    let form = NodeRef::new();
    reset_on_success(create, form);
    view! {
        <details class="card" open>
            <summary>"New project"</summary>
            <ActionForm action=create node_ref=form attr:data-testid=ids::NEW_PROJECT_FORM attr:class="form-grid">
                <label for="new-project-name">"Name"</label>
                <div>
                    <input id="new-project-name" name="name" required maxlength="64" placeholder="web-frontend"/>
                    <FieldError error field="name"/>
                </div>
                <label for="new-project-description">"Description"</label>
                <div>
                    <textarea id="new-project-description" name="description" rows="2" maxlength="2000"></textarea>
                    <FieldError error field="description"/>
                </div>
                <div></div>
                <div>
                    <FormError error fields=&["name", "description"]/>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create project" }}
                    </button>
                </div>
            </ActionForm>
        </details>
    }
}

/// The projects a person sees, with their role in each.
#[component]
fn ProjectTable(list: Vec<domain::views::ProjectSummary>) -> impl IntoView {
    view! {
        <table class="table" data-testid=ids::PROJECT_LIST>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col">"Your role"</th>
                    <th scope="col" class="num">"Members"</th>
                    <th scope="col">"Created"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|p| view! {
                    <tr>
                        <td><A href=format!("/projects/{}", p.id)>{p.name}</A></td>
                        <td class="muted">{p.description}</td>
                        <td><span class=format!("role role-{}", p.my_role.as_str())>{p.my_role.label()}</span></td>
                        <td class="num">{p.member_count}</td>
                        <td><time datetime=p.created_at.to_rfc3339()>{crate::time::date(p.created_at)}</time></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// One project: settings, members and deletion for its administrators; read-only for others.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()));
    let update = ServerAction::<UpdateProject>::new();
    let add = ServerAction::<AddMember>::new();
    let change = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let delete = ServerAction::<DeleteProject>::new();
    let project = crate::load::load(
        move || {
            (
                id(),
                update.version().get(),
                add.version().get(),
                change.version().get(),
                remove.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => get_project(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let shell = use_shell();
    Effect::new(move |_| {
        if update.version().get() > 0 {
            if let Some(s) = shell {
                s.info.refetch();
            }
        }
    });
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match project.await {
                    Err(e) => view! { <Title text="Project · Wharf"/><ErrorPanel error=e/> }.into_any(),
                    Ok(None) => view! { <ErrorPanel error=crate::error::AppError::new(domain::ErrorCode::NotFound, "There is no such project.")/> }.into_any(),
                    Ok(Some(detail)) => view! {
                        <ProjectView detail update add change remove delete/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ProjectView(
    detail: ProjectDetail,
    update: ServerAction<UpdateProject>,
    add: ServerAction<AddMember>,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    delete: ServerAction<DeleteProject>,
) -> impl IntoView {
    let p = detail.project.clone();
    let manage = p.my_role.allows(ProjectAction::Manage);
    let add_error = action_error(add.value());
    let member_error = Signal::derive(move || {
        action_error(change.value())
            .get()
            .or_else(|| action_error(remove.value()).get())
    });
    let add_form = NodeRef::new();
    reset_on_success(add, add_form);
    let project_id = p.id;
    let title = format!("{} · Projects · Wharf", p.name);
    view! {
        <Title text=title/>
        <nav class="breadcrumbs" aria-label="Breadcrumb"><A href="/projects">"Projects"</A> " › "</nav>
        <PageHeader title=p.name.clone()>
            <span class=format!("role role-{}", p.my_role.as_str())>"Your role: " {p.my_role.label()}</span>
        </PageHeader>
        {(!manage).then(|| view! {
            <p class="notice" data-testid=ids::READ_ONLY_NOTICE>
                {format!("You are a {} of this project: you can see it but only its administrators can change it.", p.my_role.label().to_ascii_lowercase())}
            </p>
        })}
        <SettingsSection p=p.clone() manage update/>
        <section class="card">
            <h2>"Members"</h2>
            <table class="table" data-testid=ids::MEMBER_LIST>
                <TableHead columns=&["Name", "E-mail address", "Role"] actions=manage/>
                <tbody>
                    {detail.members.into_iter().map(|m| view! { <MemberRowView m project_id manage change remove/> }).collect_view()}
                </tbody>
            </table>
            <FormError error=member_error/>
            {manage.then(|| view! {
                <h3>"Add a member"</h3>
                <ActionForm action=add node_ref=add_form attr:data-testid=ids::ADD_MEMBER_FORM attr:class="inline-form">
                    <input type="hidden" name="project_id" value=project_id.to_string()/>
                    <label for="member-email">"E-mail address"</label>
                    <input id="member-email" type="email" name="email" required placeholder="ada@example.com"/>
                    <label for="member-role">"Role"</label>
                    <select id="member-role" name="role">{role_options(ProjectRole::Member)}</select>
                    <button type="submit" disabled=move || add.pending().get()>
                        {move || if add.pending().get() { "Adding…" } else { "Add member" }}
                    </button>
                </ActionForm>
                <FieldError error=add_error field="email"/>
                <FormError error=add_error fields=&["email"]/>
            })}
        </section>
        {manage.then(|| view! { <DeleteSection project_id delete/> })}
    }
}

/// The project's name and description: a form for its administrators, facts for others.
#[component]
fn SettingsSection(
    p: domain::views::ProjectSummary,
    manage: bool,
    update: ServerAction<UpdateProject>,
) -> impl IntoView {
    let update_error = action_error(update.value());
    let project_id = p.id;
    view! {
        <section class="card">
            <h2>"Settings"</h2>
            {if manage {
                view! {
                    <ActionForm action=update attr:data-testid=ids::PROJECT_SETTINGS_FORM attr:class="form-grid">
                        <input type="hidden" name="project_id" value=project_id.to_string()/>
                        <label for="project-name">"Name"</label>
                        <div>
                            <input id="project-name" name="name" required maxlength="64" value=p.name.clone()/>
                            <FieldError error=update_error field="name"/>
                        </div>
                        <label for="project-description">"Description"</label>
                        <div>
                            <textarea id="project-description" name="description" rows="2" maxlength="2000">{p.description.clone()}</textarea>
                            <FieldError error=update_error field="description"/>
                        </div>
                        <div></div>
                        <div>
                            <FormError error=update_error fields=&["name", "description"]/>
                            <button type="submit" class="primary" disabled=move || update.pending().get()>
                                {move || if update.pending().get() { "Saving…" } else { "Save" }}
                            </button>
                            {move || matches!(update.value().get(), Some(Ok(()))).then(|| view! { <span class="saved" role="status">" Saved."</span> })}
                        </div>
                    </ActionForm>
                }.into_any()
            } else {
                view! {
                    <dl class="facts">
                        <dt>"Name"</dt><dd>{p.name.clone()}</dd>
                        <dt>"Description"</dt><dd>{if p.description.is_empty() { "—".to_owned() } else { p.description.clone() }}</dd>
                    </dl>
                }.into_any()
            }}
        </section>
    }
}

/// Delete this project, confirmed first.
#[component]
fn DeleteSection(project_id: i64, delete: ServerAction<DeleteProject>) -> impl IntoView {
    let delete_error = action_error(delete.value());
    let confirm_delete = RwSignal::new(false);
    view! {
        <section class="card danger-zone">
            <h2>"Delete this project"</h2>
            <p>"Deleting a project removes its memberships. This cannot be undone."</p>
            <Show
                when=move || confirm_delete.get()
                fallback=move || view! {
                    <button type="button" class="danger" data-testid=ids::DELETE_PROJECT on:click=move |_| confirm_delete.set(true)>
                        "Delete project…"
                    </button>
                }
            >
                <ActionForm action=delete attr:class="inline-form">
                    <input type="hidden" name="project_id" value=project_id.to_string()/>
                    <span role="alert">"Really delete this project?"</span>
                    <button type="submit" class="danger">"Yes, delete it"</button>
                    <button type="button" on:click=move |_| confirm_delete.set(false)>"Cancel"</button>
                </ActionForm>
            </Show>
            <FormError error=delete_error/>
        </section>
    }
}

#[component]
fn MemberRowView(
    m: MemberRow,
    project_id: i64,
    manage: bool,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let user_id = m.user_id;
    let select_id = format!("role-{user_id}");
    view! {
        <tr>
            <td>{m.display_name.clone()}</td>
            <td class="muted">{m.email.clone()}</td>
            <td>
                {if manage {
                    view! {
                        <label for=select_id.clone() class="visually-hidden">{format!("Role of {}", m.display_name)}</label>
                        <select
                            id=select_id
                            on:change=move |ev| {
                                change.dispatch(ChangeMemberRole { project_id, user_id, role: event_target_value(&ev) });
                            }
                        >
                            {role_options(m.role)}
                        </select>
                    }.into_any()
                } else {
                    view! { <span class=format!("role role-{}", m.role.as_str())>{m.role.label()}</span> }.into_any()
                }}
            </td>
            {manage.then(|| view! {
                <td class="actions">
                    <button
                        type="button"
                        class="link-button"
                        aria-label=format!("Remove {}", m.display_name)
                        on:click=move |_| { remove.dispatch(RemoveMember { project_id, user_id }); }
                    >
                        "Remove"
                    </button>
                </td>
            })}
        </tr>
    }
}
