//! The pages a person sees before signing in: first-run set-up and sign-in.

use crate::api::{CreateAdmin, SignIn};
use crate::components::{action_error, FieldError, FormError};
use crate::ids;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
fn AuthCard(
    #[prop(into)] title: String,
    #[prop(into)] lead: String,
    children: Children,
) -> impl IntoView {
    view! {
        <main class="auth-page">
            <div class="auth-card">
                <div class="brand brand-large">
                    <span class="brand-mark" aria-hidden="true">"⚓"</span>
                    <span class="brand-name">"Wharf"</span>
                </div>
                <h1>{title}</h1>
                <p class="lead">{lead}</p>
                {children()}
            </div>
        </main>
    }
}

/// First run: the installation has no users yet.
#[component]
pub fn SetupPage() -> impl IntoView {
    let action = ServerAction::<CreateAdmin>::new();
    let error = action_error(action.value());
    view! {
        <Title text="Create the administrator · Wharf"/>
        <AuthCard
            title="Create the administrator"
            lead="Wharf has no users yet. The administrator you create here manages users and projects; you can add more people afterwards."
        >
            <ActionForm action=action attr:data-testid=ids::SETUP_FORM attr:class="stack">
                <label for="setup-email">"E-mail address"</label>
                <input id="setup-email" type="email" name="email" autocomplete="username" required autofocus/>
                <FieldError error field="email"/>
                <label for="setup-name">"Your name"</label>
                <input id="setup-name" type="text" name="display_name" autocomplete="name" required maxlength="100"/>
                <FieldError error field="display_name"/>
                <label for="setup-password">"Password"</label>
                <input id="setup-password" type="password" name="password" autocomplete="new-password" required minlength="12" aria-describedby="setup-password-hint"/>
                <p class="hint" id="setup-password-hint">"At least 12 characters. A phrase of several words is easy to remember and hard to guess."</p>
                <FieldError error field="password"/>
                <label for="setup-password-confirm">"Password again"</label>
                <input id="setup-password-confirm" type="password" name="password_confirm" autocomplete="new-password" required/>
                <FieldError error field="password_confirm"/>
                <FormError error fields=&["email", "display_name", "password", "password_confirm"]/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create administrator" }}
                </button>
            </ActionForm>
        </AuthCard>
    }
}

/// Sign-in with e-mail address and password.
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = action_error(action.value());
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next")).unwrap_or_default();
    view! {
        <Title text="Sign in · Wharf"/>
        <AuthCard title="Sign in" lead="Continuous delivery for your container images.">
            <ActionForm action=action attr:data-testid=ids::SIGN_IN_FORM attr:class="stack">
                <input type="hidden" name="next" prop:value=next/>
                <label for="sign-in-email">"E-mail address"</label>
                <input id="sign-in-email" type="email" name="email" autocomplete="username" required autofocus/>
                <label for="sign-in-password">"Password"</label>
                <input id="sign-in-password" type="password" name="password" autocomplete="current-password" required/>
                <FormError error/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </AuthCard>
    }
}
