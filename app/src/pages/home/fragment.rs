//! Home: the selected project's dashboard. How many executions ran in the last day and week by
//! status (each a link to those executions), the latest executions with their stage icons
//! (live), the Docker webhooks whose latest event failed, and the latest Activity rows.

use crate::api::get_dashboard;
use crate::components::TableHead;
use crate::components::{EmptyState, ErrorPanel, Loading, PageHeader};
use crate::ids;
use crate::pages::executions::{exact as when, status_badge, LiveList};
use crate::pages::shell::WithProject;
use crate::pages::triggers::activity_badge;
use domain::executions::{Dashboard, ExecutionFilter, FailingWebhook, StatusCounts};
use domain::views::ProjectSummary;
use domain::webhooks::ActivityRow;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// The home page (`/`).
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Home · Wharf"/>
        <WithProject title="Home" what="Dashboards" render=Box::new(|project| view! { <ProjectHome project/> }.into_any())/>
    }
}

#[component]
fn ProjectHome(project: ProjectSummary) -> impl IntoView {
    let id = project.id;
    let data = crate::load::load(move || id, get_dashboard);
    view! {
        <PageHeader title="Home"/>
        <p class="page-lead">{format!("Project {}: what ran, what came in, and what needs attention.", project.name)}</p>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(d) => view! { <DashboardView d/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DashboardView(d: Dashboard) -> impl IntoView {
    let project = d.project_id;
    let day = RwSignal::new(d.day);
    let week = RwSignal::new(d.week);
    let activity = RwSignal::new(d.activity);
    let failing = RwSignal::new(d.failing);
    // an execution changed: counts, Activity and failing webhooks may have too. One reload at
    // a time; changes that arrive meanwhile cause one more, not one each.
    let loading = StoredValue::new(false);
    let again = StoredValue::new(false);
    let refresh = Callback::new(move |_| {
        if loading.get_value() {
            again.set_value(true);
            return;
        }
        loading.set_value(true);
        leptos::task::spawn_local(async move {
            loop {
                again.set_value(false);
                if let Ok(d) = get_dashboard(project).await {
                    day.set(d.day);
                    week.set(d.week);
                    activity.set(d.activity);
                    failing.set(d.failing);
                }
                if !again.get_value() {
                    break;
                }
            }
            loading.set_value(false);
        })
    });
    let filter = ExecutionFilter {
        project: Some(project),
        ..ExecutionFilter::default()
    };
    view! {
        <div class="dashboard-counts" data-testid=ids::HOME_COUNTS>
            <Counts label="Last 24 hours" counts=day project/>
            <Counts label="Last 7 days" counts=week project/>
        </div>
        <section aria-labelledby="home-latest">
            <div class="section-header">
                <h2 id="home-latest">"Latest executions"</h2>
                <A href=format!("/executions?project={project}")>"All executions"</A>
            </div>
            <LiveList page=d.latest filter compact=true on_change=refresh/>
        </section>
        <FailingSection failing/>
        <section aria-labelledby="home-activity" data-testid=ids::HOME_ACTIVITY>
            <div class="section-header">
                <h2 id="home-activity">"Latest Activity"</h2>
                <A href="/triggers/docker">"All Activity"</A>
            </div>
            {move || {
                let rows = activity.get();
                if rows.is_empty() {
                    view! {
                        <EmptyState title="No Docker events yet">
                            "When a registry calls one of this project's Docker webhooks, the event shows here and on Triggers › Docker."
                        </EmptyState>
                    }.into_any()
                } else {
                    view! { <ActivityTable rows/> }.into_any()
                }
            }}
        </section>
    }
}

/// The Docker webhooks whose last event failed, or that none did.
#[component]
fn FailingSection(failing: RwSignal<Vec<FailingWebhook>>) -> impl IntoView {
    view! {
        <section aria-labelledby="home-failing" data-testid=ids::HOME_FAILING>
            <h2 id="home-failing">"Webhooks whose last event failed"</h2>
            {move || {
                let list = failing.get();
                if list.is_empty() {
                    view! { <p class="all-clear">"None: the latest event of every Docker webhook went through."</p> }.into_any()
                } else {
                    view! {
                        <ul class="failing-webhooks">
                            {list.into_iter().map(|f| view! { <FailingItem f/> }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn Counts(label: &'static str, counts: RwSignal<StatusCounts>, project: i64) -> impl IntoView {
    view! {
        <section class="card counts" aria-label=format!("Executions, {}", label.to_ascii_lowercase())>
            <h2>{label}</h2>
            <p class="count-total">
                <span class="count-number">{move || counts.with(StatusCounts::total)}</span>
                " executions"
            </p>
            <ul class="count-list">
                {move || counts.with(|c| c.by_status.clone()).into_iter().map(|(s, n)| {
                    let href = format!("/executions?project={project}&status={}", s.as_str());
                    view! {
                        <li data-status=s.as_str() class=if n == 0 { "count-zero" } else { "" }>
                            <A href=href>{status_badge(s)} " " <span class="count-n">{n}</span></A>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn FailingItem(f: FailingWebhook) -> impl IntoView {
    let execution = f.last.execution_id.map(|e| {
        view! { " · " <A href=format!("/executions/{e}")>{format!("execution #{}", f.last.execution_index.unwrap_or_default())}</A> }
    });
    view! {
        <li class="card failing" data-webhook=f.last.webhook_id.to_string()>
            <strong>{f.name}</strong> " " {activity_badge(f.last.status)}
            <p class="task-message">{f.reason}</p>
            <p class="muted small">
                <code>{f.last.image}</code> " · " {when(f.last.received_at)} {execution}
                " · " <A href="/triggers/docker">"Activity"</A>
            </p>
        </li>
    }
}

#[component]
fn ActivityTable(rows: Vec<ActivityRow>) -> impl IntoView {
    view! {
        <table class="table compact" aria-label="Latest Activity, newest first">
            <TableHead columns=&["Received", "Webhook", "Image", "Result", "Execution"]/>
            <tbody>
                {rows.into_iter().map(|r| {
                    let execution = match (r.execution_id, r.execution_index) {
                        (Some(e), Some(i)) => view! {
                            <A href=format!("/executions/{e}")>{format!("{} #{i}", r.pipeline_name.clone().unwrap_or_default())}</A>
                            " " {r.execution_status.map(status_badge)}
                        }.into_any(),
                        _ => view! { <span class="muted">"—"</span> }.into_any(),
                    };
                    view! {
                        <tr data-activity=r.id.to_string()>
                            <td class="nowrap">{when(r.received_at)}</td>
                            <td>{r.webhook_name}</td>
                            <td class="wrap"><code>{r.image}</code></td>
                            <td>{activity_badge(r.status)} " " <span class="small">{r.message}</span></td>
                            <td class="nowrap">{execution}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
