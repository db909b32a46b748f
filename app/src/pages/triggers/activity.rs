//! The Activity tab: every delivery with what Wharf did about it, filters, a row's payload, Resubmit.

use super::*;
use crate::components::TableHead;

#[component]
pub(super) fn Activity(project_id: i64, can_use: bool, tab: RwSignal<Tab>) -> impl IntoView {
    let webhook = RwSignal::new(None::<i64>);
    let status = RwSignal::new(None::<ActivityStatus>);
    let text = RwSignal::new(String::new());
    // the `before` keys of the pages seen: the last is the current page's
    let pages: RwSignal<Vec<Option<i64>>> = RwSignal::new(vec![None]);
    let tick = RwSignal::new(0u64);
    let resubmit = ServerAction::<ResubmitActivity>::new();
    let open = RwSignal::new(None::<i64>);
    #[cfg(feature = "hydrate")]
    {
        // live: statuses and new events every 3 seconds while the tab is shown
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|t| *t += 1),
            std::time::Duration::from_secs(3),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    let page = crate::load::load(
        move || {
            (
                webhook.get(),
                status.get(),
                text.get(),
                pages.with(|p| p.last().copied().flatten()),
                tick.get(),
                resubmit.version().get(),
            )
        },
        move |(webhook_id, status, text, before, ..)| {
            list_activity(
                project_id,
                ActivityFilter {
                    webhook_id,
                    status,
                    text: Some(text),
                    before,
                    limit: Some(25),
                },
            )
        },
    );
    let reset = move || pages.set(vec![None]);
    let resubmitted = Signal::derive(move || resubmit.value().get().and_then(|r| r.ok()));
    view! {
        <ActivityFilters project_id webhook status text reset/>
        {move || resubmitted.get().map(|r| view! {
            <p class="notice success" role="status">{format!("Resubmitted: {}", r.message)}</p>
        })}
        <FormError error=action_error(resubmit.value())/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(p) if p.rows.is_empty() && pages.with_untracked(|s| s.len() == 1) => view! {
                        <EmptyState title="No Docker events yet">
                            <p>"When a registry posts to a webhook's listener URL, the push appears here: who pushed which image and tag, and the execution it started."</p>
                            <button type="button" on:click=move |_| tab.set(Tab::Webhooks)>"Go to Webhooks for Docker"</button>
                        </EmptyState>
                    }.into_any(),
                    Ok(p) => {
                        let next = p.next_before;
                        let first = pages.with_untracked(|s| s.len() == 1);
                        view! {
                            <ActivityTable rows=p.rows open/>
                            <nav class="pager" aria-label="Activity pages">
                                <button type="button" disabled=first on:click=move |_| reset()>"Newest"</button>
                                <button type="button" disabled=next.is_none() on:click=move |_| pages.update(|s| s.push(next))>"Older"</button>
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        {move || open.get().map(|id| view! {
            <ActivityDetailDialog project_id activity_id=id can_use resubmit on_close=move || open.set(None)/>
        })}
    }
}

/// Filters: webhook, status and search text; changing one goes back to the newest page.
#[component]
fn ActivityFilters(
    project_id: i64,
    webhook: RwSignal<Option<i64>>,
    status: RwSignal<Option<ActivityStatus>>,
    text: RwSignal<String>,
    reset: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let cards = crate::load::load(move || project_id, list_webhooks);
    view! {
        <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
            <label for="activity-webhook">"Webhook"</label>
            <select id="activity-webhook" on:change=move |ev| { webhook.set(event_target_value(&ev).parse().ok()); reset(); }>
                <option value="">"All webhooks"</option>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        cards.await.unwrap_or_default().into_iter().map(|c| view! {
                            <option value=c.id.to_string()>{c.name}</option>
                        }).collect_view()
                    })}
                </Transition>
            </select>
            <label for="activity-status">"Status"</label>
            <select id="activity-status" on:change=move |ev| { status.set(ActivityStatus::parse(&event_target_value(&ev))); reset(); }>
                <option value="">"All"</option>
                {ActivityStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
            </select>
            <label for="activity-text">"Search"</label>
            <input id="activity-text" type="search" placeholder="image, tag, owner, message"
                on:input=move |ev| { text.set(event_target_value(&ev)); reset(); }/>
        </form>
    }
}

/// A page of Activity rows.
#[component]
fn ActivityTable(rows: Vec<ActivityRow>, open: RwSignal<Option<i64>>) -> impl IntoView {
    view! {
        <table class="table activity" data-testid=ids::ACTIVITY_LIST>
            <TableHead columns=&["Received", "Webhook", "Owner", "Image", "Tag", "Digest", "Pipeline", "Execution", "Message"]/>
            <tbody>
                {rows.into_iter().map(|r| view! { <ActivityRowView r open/> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub(super) fn ActivityRowView(r: ActivityRow, open: RwSignal<Option<i64>>) -> impl IntoView {
    let id = r.id;
    let execution = match (r.execution_id, r.execution_index) {
        (Some(e), Some(i)) => {
            let s = r.execution_status.unwrap_or(RunStatus::Queued);
            let class = format!("status status-{}", s.as_str().to_ascii_lowercase());
            view! {
                <a href=format!("/executions/{e}")>{format!("#{i}")}</a> " " <span class=class>{s.as_str()}</span>
            }
            .into_any()
        }
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    };
    view! {
        <tr data-activity=id.to_string() class="clickable" tabindex="0"
            on:click=move |_| open.set(Some(id))
            on:keydown=move |ev| if ev.key() == "Enter" { open.set(Some(id)) }>
            <td class="nowrap">{when(r.received_at)}</td>
            <td>{r.webhook_name}</td>
            <td>{r.owner}</td>
            <td class="wrap"><code>{r.image}</code></td>
            <td>{r.tag.unwrap_or_default()}</td>
            <td><code>{short_digest(&r.digest)}</code></td>
            <td>{r.pipeline_name.unwrap_or_default()}</td>
            <td class="nowrap">{execution}</td>
            <td>
                {activity_badge(r.status)} " " {r.message}
                {r.resubmitted_by.map(|w| view! { <div class="muted small">{format!("Resubmitted by {w}")}</div> })}
                {r.callback_state.map(|s| view! { <div class="muted small">{format!("Callback {}: {}", s.as_str().to_ascii_lowercase(), r.callback_message.unwrap_or_default())}</div> })}
            </td>
        </tr>
    }
}

#[component]
pub(super) fn ActivityDetailDialog(
    project_id: i64,
    activity_id: i64,
    can_use: bool,
    resubmit: ServerAction<ResubmitActivity>,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let detail = crate::load::load(move || activity_id, move |id| get_activity(project_id, id));
    let close = on_close.clone();
    view! {
        <Dialog title=format!("Docker event #{activity_id}") on_close=move || close() wide=true testid=ids::ACTIVITY_DETAIL>
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                        Ok(d) => view! {
                            <dl class="facts">
                                <dt>"Received"</dt><dd>{when(d.row.received_at)}</dd>
                                <dt>"From"</dt><dd>{match d.source.as_str() { "docker_hub" => "Docker Hub", "distribution" => "Docker Registry (distribution)", "harbor" => "Harbor", other => other }.to_owned()}</dd>
                                <dt>"Webhook"</dt><dd>{d.row.webhook_name.clone()}</dd>
                                <dt>"Image"</dt><dd><code>{d.row.image.clone()}</code></dd>
                                <dt>"Digest"</dt><dd><code class="wrap">{d.row.digest.clone().unwrap_or_default()}</code></dd>
                                <dt>"Result"</dt><dd>{activity_badge(d.row.status)} " " {d.row.message.clone()}</dd>
                            </dl>
                            <h3>"Payload as received"</h3>
                            <pre class="payload" data-testid=ids::ACTIVITY_PAYLOAD tabindex="0">{d.payload}</pre>
                        }.into_any(),
                    }
                })}
            </Transition>
            <div class="dialog-actions">
                {can_use.then(|| view! {
                    <button type="button" class="primary" disabled=move || resubmit.pending().get() on:click={
                        let close = on_close.clone();
                        move |_| { resubmit.dispatch(ResubmitActivity { project_id, activity_id }); close(); }
                    }>"Resubmit"</button>
                })}
                <button type="button" on:click=move |_| on_close()>"Close"</button>
            </div>
        </Dialog>
    }
}
