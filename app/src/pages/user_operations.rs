//! User Operations: the approvals waiting for the signed-in user, as in Aria. Approve or Reject
//! with a comment; the execution goes on (or fails with the comment as the reason).

use crate::api::{list_user_operations, AnswerUserOperation};
use crate::components::{action_error, EmptyState, ErrorPanel, FormError, Loading, PageHeader};
use crate::ids;
use domain::executions::UserOperationRow;
use leptos::prelude::*;
use leptos_meta::Title;

/// The User Operations page.
#[component]
pub fn UserOperationsPage() -> impl IntoView {
    let answer = ServerAction::<AnswerUserOperation>::new();
    let list = crate::load::load(move || answer.version().get(), |_| list_user_operations());
    let error = action_error(answer.value());
    let done = Signal::derive(move || answer.value().get().and_then(|r| r.ok()));
    view! {
        <Title text="User Operations · Wharf"/>
        <PageHeader title="User Operations"/>
        <p class="page-lead">"Approvals that running pipelines wait for, where you are an approver. The execution waits until one approver answers or the request expires."</p>
        {move || done.get().map(|o| view! {
            <p class="notice success" role="status">
                {format!("{} #{} › {}.{}: {}", o.pipeline_name, o.run_index, o.stage, o.task, o.status.as_str().to_ascii_lowercase())}
            </p>
        })}
        <FormError error/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <EmptyState title="Nothing waits for you">
                            "When a pipeline's User Operation task names you as an approver, its request appears here."
                        </EmptyState>
                    }.into_any(),
                    Ok(rows) => view! {
                        <ul class="cards" data-testid=ids::USER_OPERATION_LIST>
                            {rows.into_iter().map(|o| view! { <Operation o answer/> }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Operation(o: UserOperationRow, answer: ServerAction<AnswerUserOperation>) -> impl IntoView {
    let comment = RwSignal::new(String::new());
    let id = o.id;
    let field = format!("comment-{id}");
    let send = move |approve: bool| {
        answer.dispatch(AnswerUserOperation {
            operation_id: id,
            approve,
            comment: comment.get_untracked(),
        });
    };
    view! {
        <li class="card operation" data-operation=o.summary.clone()>
            <h2>{o.summary.clone()}</h2>
            <p class="muted">
                {format!("{} #{} › {} › {}", o.pipeline_name, o.run_index, o.stage, o.task)}
            </p>
            {(!o.description.is_empty()).then(|| view! { <p>{o.description.clone()}</p> })}
            <dl class="facts">
                <dt>"Requested"</dt><dd><time datetime=o.created_at.to_rfc3339()>{crate::time::minute_utc(o.created_at)}</time></dd>
                <dt>"Expires"</dt><dd><time datetime=o.expires_at.to_rfc3339()>{crate::time::minute_utc(o.expires_at)}</time></dd>
                <dt>"Approvers"</dt><dd>{o.approvers.join(", ")}</dd>
            </dl>
            <label for=field.clone()>"Comment"</label>
            <textarea id=field rows="2" maxlength="2000" prop:value=move || comment.get()
                on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
            <div class="dialog-actions">
                <button type="button" class="primary" disabled=move || answer.pending().get() on:click=move |_| send(true)>"Approve"</button>
                <button type="button" class="danger" disabled=move || answer.pending().get() on:click=move |_| send(false)>"Reject"</button>
            </div>
        </li>
    }
}
