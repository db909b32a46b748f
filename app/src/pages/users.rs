//! The Users page (administrators only): create users, reset passwords, disable accounts.

use crate::api::{list_users, CreateUser, ResetUserPassword, SetUserDisabled};
use crate::components::{
    action_error, reset_on_success, ErrorPanel, FieldError, FormError, Loading, PageHeader,
};
use crate::ids;
use domain::views::UserRow;
use leptos::prelude::*;
use leptos_meta::Title;

/// Every account, with the administrator's actions.
#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let disable = ServerAction::<SetUserDisabled>::new();
    let error = action_error(create.value());
    let form = NodeRef::new();
    reset_on_success(create, form);
    let row_error = Signal::derive(move || {
        action_error(reset.value())
            .get()
            .or_else(|| action_error(disable.value()).get())
    });
    let users = crate::load::load(
        move || (create.version().get(), disable.version().get()),
        |_| list_users(),
    );
    view! {
        <Title text="Users · Wharf"/>
        <PageHeader title="Users"/>
        <details class="card">
            <summary>"New user"</summary>
            <ActionForm action=create node_ref=form attr:data-testid=ids::NEW_USER_FORM attr:class="form-grid">
                <label for="new-user-email">"E-mail address"</label>
                <div>
                    <input id="new-user-email" type="email" name="email" required autocomplete="off"/>
                    <FieldError error field="email"/>
                </div>
                <label for="new-user-name">"Name"</label>
                <div>
                    <input id="new-user-name" name="display_name" required maxlength="100"/>
                    <FieldError error field="display_name"/>
                </div>
                <label for="new-user-password">"First password"</label>
                <div>
                    <input id="new-user-password" type="password" name="password" required minlength="12" autocomplete="new-password"/>
                    <p class="hint">"At least 12 characters. Tell it to the person by a safe channel."</p>
                    <FieldError error field="password"/>
                </div>
                <span></span>
                <label class="checkbox"><input type="checkbox" name="is_admin" value="on"/>" Administrator of Wharf (manages users and all projects)"</label>
                <span></span>
                <div>
                    <FormError error fields=&["email", "display_name", "password"]/>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create user" }}
                    </button>
                </div>
            </ActionForm>
        </details>
        <FormError error=row_error/>
        {move || matches!(reset.value().get(), Some(Ok(()))).then(|| view! {
            <p class="notice" role="status">"Password changed. That person's sessions have ended."</p>
        })}
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid=ids::USER_LIST>
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"E-mail address"</th>
                                    <th scope="col">"Role"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|u| view! { <UserRowView u reset disable/> }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn UserRowView(
    u: UserRow,
    reset: ServerAction<ResetUserPassword>,
    disable: ServerAction<SetUserDisabled>,
) -> impl IntoView {
    let show_reset = RwSignal::new(false);
    let user_id = u.id;
    let disabled = u.disabled;
    let reset_id = StoredValue::new(format!("reset-{user_id}"));
    let reset_label = StoredValue::new(format!("New password for {}", u.display_name));
    view! {
        <tr class:disabled=disabled>
            <td>{u.display_name.clone()}</td>
            <td class="muted">{u.email.clone()}</td>
            <td>{if u.is_admin { "Administrator" } else { "User" }}</td>
            <td>
                <span class=if disabled { "status status-disabled" } else { "status status-active" }>
                    {if disabled { "Disabled" } else { "Active" }}
                </span>
            </td>
            <td><time datetime=u.created_at.to_rfc3339()>{crate::time::date(u.created_at)}</time></td>
            <td class="actions">
                <button type="button" class="link-button" aria-expanded=move || show_reset.get().to_string() on:click=move |_| show_reset.update(|s| *s = !*s)>
                    "Reset password"
                </button>
                <button
                    type="button"
                    class="link-button"
                    on:click=move |_| { disable.dispatch(SetUserDisabled { user_id, disabled: !disabled }); }
                >
                    {if disabled { "Enable" } else { "Disable" }}
                </button>
                <Show when=move || show_reset.get()>
                    <ActionForm action=reset attr:class="inline-form">
                        <input type="hidden" name="user_id" value=user_id.to_string()/>
                        <label for=reset_id.get_value()>{reset_label.get_value()}</label>
                        <input id=reset_id.get_value() type="password" name="password" required minlength="12" autocomplete="new-password"/>
                        <button type="submit">"Set password"</button>
                    </ActionForm>
                    <FieldError error=action_error(reset.value()) field="password"/>
                </Show>
            </td>
        </tr>
    }
}
