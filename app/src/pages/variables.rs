//! Variables of the project picked in the header: REGULAR, SECRET and RESTRICTED, as in Aria.

use crate::api::{list_variables, CreateVariable, DeleteVariable, UpdateVariable};
use crate::components::TableHead;
use crate::components::{
    action_error, reset_on_success, EmptyState, ErrorPanel, FieldError, FormError, Loading,
    PageHeader,
};
use crate::ids;
use crate::pages::shell::use_shell;
use domain::role::ProjectAction;
use domain::variables::{VariableKind, VariableRow};
use domain::views::ProjectSummary;
use domain::ProjectRole;
use leptos::prelude::*;
use leptos_meta::Title;

const FIELDS: &[&str] = &["name", "kind", "value", "description"];

fn kind_options(selected: VariableKind, administrator: bool) -> impl IntoView {
    VariableKind::ALL
        .into_iter()
        .filter(move |k| administrator || *k != VariableKind::Restricted)
        .map(|k| view! { <option value=k.as_str() selected=k == selected>{format!("{} ({})", k.as_str(), k.description())}</option> })
        .collect_view()
}

/// The Variables page.
#[component]
pub fn VariablesPage() -> impl IntoView {
    let shell = use_shell();
    view! {
        <Title text="Variables · Wharf"/>
        <PageHeader title="Variables"/>
        <p class="page-lead">
            "Pipelines use variables as " <code>"${var.NAME}"</code> ". "
            <strong>"REGULAR"</strong> " values are visible to the project; "
            <strong>"SECRET"</strong> " values are hidden once saved and members can use them; "
            <strong>"RESTRICTED"</strong> " values are hidden and only the project's administrators can use them. Hidden values are encrypted at rest and never shown again."
        </p>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let Some(shell) = shell else {
                    return view! { <ErrorPanel error=crate::error::AppError::new(domain::ErrorCode::Internal, "The page is not inside the application shell.")/> }.into_any();
                };
                let info = match shell.info.await {
                    Ok(i) => i,
                    Err(e) => return view! { <ErrorPanel error=e/> }.into_any(),
                };
                // after the await the page may be gone (navigated away mid-load): then it reads as unset
                let selected = shell.project.try_get().flatten().or(info.current_project);
                match selected.and_then(|id| info.projects.iter().find(|p| p.id == id).cloned()) {
                    None => view! {
                        <EmptyState title="No project selected">
                            "Variables belong to a project. Pick one in the header, or ask an administrator to add you to a project."
                        </EmptyState>
                    }.into_any(),
                    Some(project) => view! { <ProjectVariables project/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ProjectVariables(project: ProjectSummary) -> impl IntoView {
    let create = ServerAction::<CreateVariable>::new();
    let update = ServerAction::<UpdateVariable>::new();
    let delete = ServerAction::<DeleteVariable>::new();
    let project_id = project.id;
    let list = crate::load::load(
        move || {
            (
                project_id,
                create.version().get(),
                update.version().get(),
                delete.version().get(),
            )
        },
        |(id, ..)| list_variables(id),
    );
    let role = project.my_role;
    let can_use = role.allows(ProjectAction::Use);
    let administrator = role == ProjectRole::Administrator;
    let row_error = Signal::derive(move || {
        action_error(update.value())
            .get()
            .or_else(|| action_error(delete.value()).get())
    });
    view! {
        <p class="muted">"Project: " <strong>{project.name.clone()}</strong></p>
        {(!can_use).then(|| view! {
            <p class="notice" data-testid=ids::READ_ONLY_NOTICE>
                "You are a viewer of this project: you can see its variables but not change them."
            </p>
        })}
        {can_use.then(|| view! {
            <NewVariableForm project_id administrator create/>
        })}
        <FormError error=row_error/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <EmptyState title="No variables yet">
                            {if can_use { "Create the first one with the form above." } else { "This project has no variables." }}
                        </EmptyState>
                    }.into_any(),
                    Ok(rows) => view! {
                        <table class="table" data-testid=ids::VARIABLE_LIST>
                            <TableHead columns=&["Name", "Type", "Value", "Description", "Updated"] actions=can_use/>
                            <tbody>
                                {rows.into_iter().map(|v| view! { <VariableRowView v project_id role update delete/> }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// New variable: name, type (RESTRICTED for administrators only), value and description.
#[component]
fn NewVariableForm(
    project_id: i64,
    administrator: bool,
    create: ServerAction<CreateVariable>,
) -> impl IntoView {
    let error = action_error(create.value());
    let form = NodeRef::new();
    reset_on_success(create, form);
    let new_kind = RwSignal::new(VariableKind::Regular);
    view! {
        <details class="card" open>
            <summary>"New variable"</summary>
            <ActionForm action=create node_ref=form attr:data-testid=ids::NEW_VARIABLE_FORM attr:class="form-grid">
                <input type="hidden" name="project_id" value=project_id.to_string()/>
                <label for="variable-name">"Name"</label>
                <div>
                    <input id="variable-name" name="name" required maxlength="128" placeholder="DEPLOY_ENV" autocomplete="off"/>
                    <FieldError error field="name"/>
                </div>
                <label for="variable-kind">"Type"</label>
                <div>
                    <select id="variable-kind" name="kind" on:change=move |ev| {
                        if let Some(k) = VariableKind::parse(&event_target_value(&ev)) { new_kind.set(k) }
                    }>
                        {kind_options(VariableKind::Regular, administrator)}
                    </select>
                    <FieldError error field="kind"/>
                </div>
                <label for="variable-value">"Value"</label>
                <div>
                    <input
                        id="variable-value"
                        name="value"
                        required
                        autocomplete="off"
                        type=move || if new_kind.get().is_hidden() { "password" } else { "text" }
                    />
                    <FieldError error field="value"/>
                </div>
                <label for="variable-description">"Description"</label>
                <div>
                    <input id="variable-description" name="description" maxlength="500"/>
                    <FieldError error field="description"/>
                </div>
                <span></span>
                <div>
                    <FormError error fields=FIELDS/>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Saving…" } else { "Create variable" }}
                    </button>
                </div>
            </ActionForm>
        </details>
    }
}

/// A variable's Edit form, in the row under it.
#[component]
fn VariableEditRow(
    v: VariableRow,
    project_id: i64,
    administrator: bool,
    update: ServerAction<UpdateVariable>,
    editing: RwSignal<bool>,
) -> impl IntoView {
    let variable_id = v.id;
    let hidden = v.kind.is_hidden();
    let edit_error = action_error(update.value());
    view! {
        <tr class="edit-row">
            <td colspan="6">
                <ActionForm action=update attr:class="form-grid">
                    <input type="hidden" name="project_id" value=project_id.to_string()/>
                    <input type="hidden" name="variable_id" value=variable_id.to_string()/>
                    <label for=format!("edit-name-{variable_id}")>"Name"</label>
                    <div>
                        <input id=format!("edit-name-{variable_id}") name="name" required value=v.name.clone()/>
                        <FieldError error=edit_error field="name"/>
                    </div>
                    <label for=format!("edit-kind-{variable_id}")>"Type"</label>
                    <select id=format!("edit-kind-{variable_id}") name="kind">{kind_options(v.kind, administrator)}</select>
                    <label for=format!("edit-value-{variable_id}")>"Value"</label>
                    <div>
                        <input
                            id=format!("edit-value-{variable_id}")
                            name="value"
                            autocomplete="off"
                            type=if hidden { "password" } else { "text" }
                            value=v.value.clone().unwrap_or_default()
                            placeholder=if hidden { "Leave empty to keep the current value" } else { "" }
                        />
                        <FieldError error=edit_error field="value"/>
                    </div>
                    <label for=format!("edit-description-{variable_id}")>"Description"</label>
                    <input id=format!("edit-description-{variable_id}") name="description" value=v.description.clone()/>
                    <span></span>
                    <div>
                        <FormError error=edit_error fields=FIELDS/>
                        <button type="submit" class="primary">"Save"</button>
                        " "
                        <button type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                    </div>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn VariableRowView(
    v: VariableRow,
    project_id: i64,
    role: ProjectRole,
    update: ServerAction<UpdateVariable>,
    delete: ServerAction<DeleteVariable>,
) -> impl IntoView {
    let administrator = role == ProjectRole::Administrator;
    let may_change =
        role.allows(ProjectAction::Use) && (v.kind != VariableKind::Restricted || administrator);
    let can_use = role.allows(ProjectAction::Use);
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let variable_id = v.id;
    let row = StoredValue::new(v.clone());
    let kind_class = format!("kind kind-{}", v.kind.as_str().to_ascii_lowercase());
    view! {
        <tr>
            <td><code>{v.name.clone()}</code></td>
            <td><span class=kind_class>{v.kind.as_str()}</span></td>
            <td>
                {match &v.value {
                    Some(value) => view! { <code class="value">{value.clone()}</code> }.into_any(),
                    None => view! { <span class="hidden-value" aria-label="hidden value">{domain::views::MASK}" hidden"</span> }.into_any(),
                }}
            </td>
            <td class="muted">{v.description.clone()}</td>
            <td><time datetime=v.updated_at.to_rfc3339()>{crate::time::minute(v.updated_at)}</time></td>
            {can_use.then(|| view! {
                <td class="actions">
                    {may_change.then(|| view! {
                        <button type="button" class="link-button" aria-expanded=move || editing.get().to_string() on:click=move |_| editing.update(|e| *e = !*e)>
                            "Edit"
                        </button>
                        <Show
                            when=move || confirming.get()
                            fallback=move || view! {
                                <button type="button" class="link-button" on:click=move |_| confirming.set(true)>"Delete"</button>
                            }
                        >
                            <span role="alert">"Delete it? "</span>
                            <button type="button" class="link-button danger-link" on:click=move |_| {
                                delete.dispatch(DeleteVariable { project_id, variable_id });
                            }>"Yes, delete"</button>
                            <button type="button" class="link-button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        </Show>
                    })}
                    {(!may_change).then(|| view! { <span class="muted">"Administrators only"</span> })}
                </td>
            })}
        </tr>
        <Show when=move || editing.get()>
            {move || view! { <VariableEditRow v=row.get_value() project_id administrator update editing/> }}
        </Show>
    }
}
