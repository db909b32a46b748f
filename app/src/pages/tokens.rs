//! API tokens: the Generate Token dialog (as in Aria) and the "My tokens" page.

use crate::api::{list_my_tokens, CreateVariable, GenerateToken, RevokeToken};
use crate::components::{
    action_error, EmptyState, ErrorPanel, FieldError, FormError, Loading, PageHeader,
};
use crate::ids;
use crate::pages::shell::use_shell;
use domain::role::ProjectAction;
use domain::views::{IssuedToken, TokenStatus};
use leptos::prelude::*;
use leptos_meta::Title;

/// Copies `text` to the clipboard; `done` turns true when the browser confirms.
pub(crate) fn copy_to_clipboard(text: String, done: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let Some(window) = web_sys::window() else {
            return;
        };
        let promise = window.navigator().clipboard().write_text(&text);
        if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
            done.set(true);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (text, done);
}

/// Generate Token: confirm e-mail and password, then Copy, Create Variable, Close.
#[component]
pub fn GenerateTokenDialog(open: RwSignal<bool>) -> impl IntoView {
    let generate = ServerAction::<GenerateToken>::new();
    let error = action_error(generate.value());
    let close = move || {
        // forget the token: it is shown once
        generate.clear();
        open.set(false);
    };
    view! {
        <Show when=move || open.get()>
            <div class="dialog-backdrop" on:click=move |_| close()></div>
            <div
                class="dialog"
                role="dialog"
                aria-modal="true"
                aria-labelledby="generate-token-title"
                data-testid=ids::TOKEN_DIALOG
                on:keydown=move |ev| if ev.key() == "Escape" { close() }
            >
                <h2 id="generate-token-title">"Generate Token"</h2>
                {move || match generate.value().get() {
                    Some(Ok(issued)) => view! { <IssuedTokenView issued close=Callback::new(move |_| close())/> }.into_any(),
                    _ => view! {
                        <p class="lead">
                            "An API token lets scripts and Docker webhooks act as you. It is valid for six months. Confirm who you are to create one."
                        </p>
                        <ActionForm action=generate attr:class="stack">
                            <label for="token-name">"Token name"</label>
                            <input id="token-name" name="name" required maxlength="100" value="API token" autofocus/>
                            <FieldError error field="name"/>
                            <label for="token-email">"E-mail address"</label>
                            <input id="token-email" type="email" name="email" required autocomplete="username"/>
                            <FieldError error field="email"/>
                            <label for="token-password">"Password"</label>
                            <input id="token-password" type="password" name="password" required autocomplete="current-password"/>
                            <FormError error fields=&["name", "email"]/>
                            <div class="dialog-actions">
                                <button type="submit" class="primary" disabled=move || generate.pending().get()>
                                    {move || if generate.pending().get() { "Generating…" } else { "Generate" }}
                                </button>
                                <button type="button" on:click=move |_| close()>"Cancel"</button>
                            </div>
                        </ActionForm>
                    }.into_any(),
                }}
            </div>
        </Show>
    }
}

#[component]
fn IssuedTokenView(issued: IssuedToken, close: Callback<()>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let save = ServerAction::<CreateVariable>::new();
    let save_error = action_error(save.value());
    let token = issued.token.clone();
    let projects: Vec<_> = use_shell()
        .and_then(|s| s.info.get_untracked())
        .and_then(|r| r.ok())
        .map(|i| {
            i.projects
                .into_iter()
                .filter(|p| p.my_role.allows(ProjectAction::Use))
                .collect()
        })
        .unwrap_or_default();
    let selected = use_shell().and_then(|s| s.project.get_untracked());
    let description = format!("API token \"{}\"", issued.row.name);
    view! {
        <p>"Your token. Copy it now: Wharf stores only a hash of it and cannot show it again."</p>
        <div class="token-box">
            <label for="issued-token" class="visually-hidden">"API token"</label>
            <input id="issued-token" readonly value=token.clone() data-testid=ids::TOKEN_VALUE on:focus=move |ev| {
                #[cfg(feature = "hydrate")]
                {
                    use leptos::wasm_bindgen::JsCast;
                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                        input.select();
                    }
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }/>
            <button type="button" on:click={
                let token = token.clone();
                move |_| copy_to_clipboard(token.clone(), copied)
            }>"Copy"</button>
        </div>
        <p class="hint" role="status">
            {move || if copied.get() { "Copied to the clipboard. ".to_owned() } else { String::new() }}
            {format!("Valid until {}.", crate::time::date(issued.row.expires_at))}
        </p>
        <section class="create-variable">
            <h3>"Create Variable"</h3>
            {if projects.is_empty() {
                view! { <p class="muted">"You cannot create variables in any project."</p> }.into_any()
            } else {
                view! {
                    <ActionForm action=save attr:class="form-grid compact" attr:data-testid=ids::TOKEN_VARIABLE_FORM>
                        <input type="hidden" name="kind" value="SECRET"/>
                        <input type="hidden" name="value" value=token.clone()/>
                        <input type="hidden" name="description" value=description/>
                        <label for="token-variable-project">"Project"</label>
                        <select id="token-variable-project" name="project_id">
                            {projects.into_iter().map(|p| view! {
                                <option value=p.id.to_string() selected=Some(p.id) == selected>{p.name}</option>
                            }).collect_view()}
                        </select>
                        <label for="token-variable-name">"Variable name"</label>
                        <input id="token-variable-name" name="name" required value="API_TOKEN"/>
                        <span></span>
                        <div>
                            <button type="submit" disabled=move || save.pending().get()>"Create Variable"</button>
                        </div>
                    </ActionForm>
                    <FieldError error=save_error field="name"/>
                    <FormError error=save_error fields=&["name"]/>
                    {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! {
                        <p class="saved" role="status">"Saved as a SECRET variable."</p>
                    })}
                }.into_any()
            }}
        </section>
        <div class="dialog-actions">
            <button type="button" class="primary" on:click=move |_| close.run(())>"Close"</button>
        </div>
    }
}

/// My tokens: name, created, expires, last used; the owner can revoke.
#[component]
pub fn TokensPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeToken>::new();
    let error = action_error(revoke.value());
    let dialog_open = use_context::<crate::pages::shell::TokenDialog>();
    let list = crate::load::load(
        move || (revoke.version().get(), dialog_open.map(|d| d.0.get())),
        |_| list_my_tokens(),
    );
    view! {
        <Title text="My tokens · Wharf"/>
        <PageHeader title="My tokens">
            <button type="button" class="primary" on:click=move |_| if let Some(d) = dialog_open { d.0.set(true) }>
                "Generate Token"
            </button>
        </PageHeader>
        <p class="page-lead">"API tokens act as you in scripts and Docker webhooks. Revoke one and everything using it stops at once."</p>
        <FormError error/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <EmptyState title="No tokens yet">"Generate one for a script or a Docker webhook."</EmptyState>
                    }.into_any(),
                    Ok(rows) => view! {
                        <table class="table" data-testid=ids::TOKEN_LIST>
                            <thead><tr>
                                <th scope="col">"Name"</th><th scope="col">"Created"</th><th scope="col">"Expires"</th>
                                <th scope="col">"Last used"</th><th scope="col">"Status"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|t| {
                                    let id = t.id;
                                    let (label, class) = match t.status {
                                        TokenStatus::Active => ("Active", "status status-active"),
                                        TokenStatus::Expired => ("Expired", "status status-disabled"),
                                        TokenStatus::Revoked => ("Revoked", "status status-disabled"),
                                    };
                                    view! {
                                        <tr>
                                            <td>{t.name.clone()}</td>
                                            <td>{crate::time::minute(t.created_at)}</td>
                                            <td>{crate::time::minute(t.expires_at)}</td>
                                            <td>{t.last_used_at.map(crate::time::minute).unwrap_or_else(|| "never".to_owned())}</td>
                                            <td><span class=class>{label}</span></td>
                                            <td class="actions">
                                                {(t.status == TokenStatus::Active).then(|| view! {
                                                    <button type="button" class="link-button" aria-label=format!("Revoke {}", t.name)
                                                        on:click=move |_| { revoke.dispatch(RevokeToken { token_id: id }); }>
                                                        "Revoke"
                                                    </button>
                                                })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
