//! Small pieces every page uses.

use crate::error::AppError;
use crate::ids;
use leptos::prelude::*;

/// The page's title bar.
#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="page-header">
            <h1>{title}</h1>
            <div class="page-actions">{children.map(|c| c())}</div>
        </div>
    }
}

/// A table's header row, a heading per column; `actions` adds a last column for the row's
/// buttons, named "Actions" for screen readers.
#[component]
pub fn TableHead(
    columns: &'static [&'static str],
    #[prop(optional)] actions: bool,
) -> impl IntoView {
    view! {
        <thead>
            <tr>
                {columns.iter().map(|c| view! { <th scope="col">{*c}</th> }).collect_view()}
                {actions.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
            </tr>
        </thead>
    }
}

/// What a page shows when it has nothing to list.
#[component]
pub fn EmptyState(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <section class="empty-state" data-testid=ids::EMPTY_STATE>
            <h2>{title}</h2>
            <div class="empty-body">{children()}</div>
        </section>
    }
}

/// A form's error that no [`FieldError`] of the form shows: `fields` names those that do.
#[component]
pub fn FormError(
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(optional)] fields: &'static [&'static str],
) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| e.field.as_deref().is_none_or(|f| !fields.contains(&f)))
            .map(|e| {
                view! {
                    <p class="form-error" role="alert" data-testid=ids::FORM_ERROR>
                        {e.message}
                    </p>
                }
            })
    }
}

/// The error under one field.
#[component]
pub fn FieldError(
    #[prop(into)] error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.for_field(field)).map(|m| {
            view! {
                <p class="field-error" id=format!("{field}-error") role="alert">
                    {m}
                </p>
            }
        })
    }
}

/// An error shown where a list or page should have been.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    view! {
        <div class="error-panel" role="alert">
            <strong>"Could not load this page. "</strong>
            {error.message}
        </div>
    }
}

/// Shown while data loads.
#[component]
pub fn Loading() -> impl IntoView {
    view! {
        <p class="loading" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            "Loading…"
        </p>
    }
}

/// Turns an action's last result into its error, if any.
pub fn action_error<T, S>(value: S) -> Signal<Option<AppError>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|r| r.err()))
}

/// Clears `form` each time `action` succeeds, so the next entry starts empty. Runs only in the
/// browser (effects do not run on the server).
pub fn reset_on_success<S>(action: ServerAction<S>, form: NodeRef<leptos::html::Form>)
where
    S: leptos::server_fn::ServerFn + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + Clone + 'static,
    S::Error: Send + Sync + Clone + 'static,
{
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            if let Some(f) = form.get_untracked() {
                f.reset();
            }
        }
    });
}
