//! The dashboard's HTML, rendered on the server only (issue 18: a small first load). Home shows
//! what the server knows and links onward; it needs no code of its own in the browser, which
//! only puts this HTML in place and asks for it again when the project's executions change
//! (see [`super::HomePage`]). Every value goes into the page through Leptos's views, which
//! escape text and attributes: nothing here pastes a value into markup.

use crate::components::{EmptyState, TableHead};
use crate::ids;
use crate::pages::executions::{exact as when, lower, no_executions, status_badge, status_cell};
use crate::pages::triggers::activity_badge;
use domain::executions::{
    duration_words, Dashboard, ExecutionSummary, FailingWebhook, StatusCounts,
};
use domain::webhooks::ActivityRow;
use leptos::prelude::*;

/// The dashboard as HTML: the counts, the latest executions, the failing webhooks and the
/// latest Activity.
pub fn render(d: Dashboard) -> String {
    let owner = Owner::new();
    owner.with(|| view! { <DashboardView d/> }.to_html())
}

#[component]
fn DashboardView(d: Dashboard) -> impl IntoView {
    let project = d.project_id;
    view! {
        <div class="dashboard-counts" data-testid=ids::HOME_COUNTS>
            <Counts label="Last 24 hours" counts=d.day project/>
            <Counts label="Last 7 days" counts=d.week project/>
        </div>
        <section aria-labelledby="home-latest">
            <div class="section-header">
                <h2 id="home-latest">"Latest executions"</h2>
                <a href=format!("/executions?project={project}")>"All executions"</a>
            </div>
            <Latest rows=d.latest.rows/>
        </section>
        <FailingSection failing=d.failing/>
        <section aria-labelledby="home-activity" data-testid=ids::HOME_ACTIVITY>
            <div class="section-header">
                <h2 id="home-activity">"Latest Activity"</h2>
                <a href="/triggers/docker">"All Activity"</a>
            </div>
            {if d.activity.is_empty() {
                view! {
                    <EmptyState title="No Docker events yet">
                        "When a registry calls one of this project's Docker webhooks, the event shows here and on Triggers › Docker."
                    </EmptyState>
                }.into_any()
            } else {
                view! { <ActivityTable rows=d.activity/> }.into_any()
            }}
        </section>
    }
}

#[component]
fn Counts(label: &'static str, counts: StatusCounts, project: i64) -> impl IntoView {
    view! {
        <section class="card counts" aria-label=format!("Executions, {}", label.to_ascii_lowercase())>
            <h2>{label}</h2>
            <p class="count-total">
                <span class="count-number">{counts.total()}</span>
                " executions"
            </p>
            <ul class="count-list">
                {counts.by_status.into_iter().map(|(s, n)| {
                    let href = format!("/executions?project={project}&status={}", s.as_str());
                    view! {
                        <li data-status=s.as_str() class=if n == 0 { "count-zero" } else { "" }>
                            <a href=href>{status_badge(s)} " " <span class="count-n">{n}</span></a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The latest executions, newest first: the Executions list's rows, each stage an icon whose
/// name says its status, and the row's execution a link.
#[component]
fn Latest(rows: Vec<ExecutionSummary>) -> impl IntoView {
    if rows.is_empty() {
        return no_executions().into_any();
    }
    view! {
        <table class="table executions" data-testid=ids::EXECUTION_LIST aria-label="Executions, newest first">
            <TableHead columns=&["Execution", "Status", "Stages", "Started by", "Started", "Duration"]/>
            {rows.into_iter().map(|e| view! { <Row e/> }).collect_view()}
        </table>
    }
    .into_any()
}

#[component]
fn Row(e: ExecutionSummary) -> impl IntoView {
    let id = e.row.id;
    let created = e.row.created_at;
    // a running execution's duration grows without an event: it says so instead of a figure
    let duration = match (e.row.started_at, e.row.ended_at) {
        (Some(s), Some(end)) => duration_words((end - s).num_seconds()),
        (Some(_), None) => "running".to_owned(),
        _ => "—".to_owned(),
    };
    view! {
        <tbody data-execution=id.to_string() data-status=e.row.status.as_str()>
            <tr>
                <td>
                    <a href=format!("/executions/{id}")>{format!("{} #{}", e.row.pipeline_name, e.row.index)}</a>
                    <div class="muted small">{e.project_name}</div>
                </td>
                {status_cell(e.row.status, e.queue.as_ref())}
                <td>
                    <div class="stage-icons" role="group" aria-label="Stages">
                        {e.stages.into_iter().map(|s| {
                            let tip = format!("{}: {}", s.name, s.status.as_str());
                            view! {
                                <span class=format!("stage-icon static stage-{}", lower(s.status)) role="img"
                                    title=tip.clone() aria-label=tip data-stage=s.name></span>
                            }
                        }).collect_view()}
                    </div>
                </td>
                <td>{e.started_by}</td>
                <td><time datetime=created.to_rfc3339()>{when(created)}</time></td>
                <td class="duration">{duration}</td>
            </tr>
        </tbody>
    }
}

/// The Docker webhooks whose last event failed, or that none did.
#[component]
fn FailingSection(failing: Vec<FailingWebhook>) -> impl IntoView {
    view! {
        <section aria-labelledby="home-failing" data-testid=ids::HOME_FAILING>
            <h2 id="home-failing">"Webhooks whose last event failed"</h2>
            {if failing.is_empty() {
                view! { <p class="all-clear">"None: the latest event of every Docker webhook went through."</p> }.into_any()
            } else {
                view! {
                    <ul class="failing-webhooks">
                        {failing.into_iter().map(|f| view! { <FailingItem f/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn FailingItem(f: FailingWebhook) -> impl IntoView {
    let execution = f.last.execution_id.map(|e| {
        view! { " · " <a href=format!("/executions/{e}")>{format!("execution #{}", f.last.execution_index.unwrap_or_default())}</a> }
    });
    view! {
        <li class="card failing" data-webhook=f.last.webhook_id.to_string()>
            <strong>{f.name}</strong> " " {activity_badge(f.last.status)}
            <p class="task-message">{f.reason}</p>
            <p class="muted small">
                <code>{f.last.image}</code> " · " {when(f.last.received_at)} {execution}
                " · " <a href="/triggers/docker">"Activity"</a>
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
                            <a href=format!("/executions/{e}")>{format!("{} #{i}", r.pipeline_name.unwrap_or_default())}</a>
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

#[cfg(test)]
mod tests {
    use super::*;
    use domain::executions::{ExecutionRow, ExecutionsPage, RunStatus, StageRunView};
    use domain::webhooks::ActivityStatus;

    const HOSTILE: &str =
        "x\"><script>alert(1)</script><img src=x onerror=alert(2)>\n'; DROP TABLE executions; --";

    fn activity(status: ActivityStatus) -> ActivityRow {
        ActivityRow {
            id: 7,
            webhook_id: 3,
            webhook_name: HOSTILE.to_owned(),
            received_at: chrono::Utc::now(),
            owner: "acme".to_owned(),
            image: format!("acme/app:{HOSTILE}"),
            repository: "acme/app".to_owned(),
            tag: Some(HOSTILE.to_owned()),
            digest: None,
            pipeline_id: Some(2),
            pipeline_name: Some(HOSTILE.to_owned()),
            execution_id: Some(11),
            execution_index: Some(4),
            execution_status: Some(RunStatus::Failed),
            status,
            message: HOSTILE.to_owned(),
            resubmitted_by: None,
            resubmit_of: None,
            callback_state: None,
            callback_message: None,
        }
    }

    fn dashboard() -> Dashboard {
        let now = chrono::Utc::now();
        let row = ExecutionRow {
            id: 11,
            pipeline_id: 2,
            pipeline_name: HOSTILE.to_owned(),
            index: 4,
            status: RunStatus::Failed,
            message: Some(HOSTILE.to_owned()),
            trigger: "docker".to_owned(),
            comments: HOSTILE.to_owned(),
            created_at: now,
            started_at: Some(now),
            ended_at: Some(now + chrono::Duration::seconds(75)),
        };
        let stage = StageRunView {
            name: HOSTILE.to_owned(),
            status: RunStatus::Failed,
            started_at: Some(now),
            ended_at: Some(now),
            tasks: Vec::new(),
        };
        let summary = ExecutionSummary {
            row,
            project_id: 1,
            project_name: HOSTILE.to_owned(),
            started_by: HOSTILE.to_owned(),
            stages: vec![stage],
            version: 9,
            queue: None,
        };
        Dashboard {
            project_id: 1,
            project_name: HOSTILE.to_owned(),
            day: StatusCounts::from_pairs([(RunStatus::Failed, 1)]),
            week: StatusCounts::from_pairs([(RunStatus::Failed, 3)]),
            latest: ExecutionsPage {
                rows: vec![summary],
                next_before: None,
                version: 9,
            },
            activity: vec![activity(ActivityStatus::Failed)],
            failing: vec![FailingWebhook {
                name: HOSTILE.to_owned(),
                last: activity(ActivityStatus::Failed),
                reason: HOSTILE.to_owned(),
            }],
        }
    }

    #[test]
    fn every_value_on_the_dashboard_is_text_never_markup() {
        let html = render(dashboard());
        // the hostile strings appear only escaped: no element or attribute of theirs exists
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(">x\"&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        // in an attribute, the quote is escaped too: the value cannot close it
        assert!(
            html.contains("data-stage=\"x&quot;&gt;&lt;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("data-stage=\"x\">"), "{html}");
        // what the page is made of is there
        for part in [
            "data-testid=\"home-counts\"",
            "aria-label=\"Executions, last 24 hours\"",
            "data-testid=\"execution-list\"",
            "data-execution=\"11\"",
            "data-status=\"FAILED\"",
            "href=\"/executions/11\"",
            "href=\"/executions?project=1&amp;status=FAILED\"",
            "stage-icon static stage-failed",
            "data-testid=\"home-failing\"",
            "data-testid=\"home-activity\"",
            "data-activity=\"7\"",
            "1m 15s",
        ] {
            assert!(html.contains(part), "{part} missing from {html}");
        }
    }

    #[test]
    fn an_empty_project_says_so_in_each_section() {
        let html = render(Dashboard {
            day: StatusCounts::from_pairs([]),
            week: StatusCounts::from_pairs([]),
            latest: ExecutionsPage {
                rows: Vec::new(),
                next_before: None,
                version: 0,
            },
            activity: Vec::new(),
            failing: Vec::new(),
            ..dashboard()
        });
        assert!(html.contains("No executions yet"), "{html}");
        assert!(html.contains("No Docker events yet"), "{html}");
        assert!(html.contains("None: the latest event of every Docker webhook went through."));
        assert!(!html.contains("data-execution="), "{html}");
    }
}
