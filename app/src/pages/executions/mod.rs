//! Executions, as in Aria Automation Pipelines: the list (one icon per stage, the stage's tasks
//! in place), the detail page (stages as columns, tasks as cards, a task's output and live
//! log, the actions, User Operations answered in place). Both render complete on the server;
//! in the browser they follow `/live/executions` (server-sent events) and change without a
//! reload. The stream resumes after the version the page was rendered at, and the browser
//! resumes it after a disconnect with `Last-Event-ID`.

use crate::api::list_executions;
use crate::components::TableHead;
use crate::components::{EmptyState, ErrorPanel, Loading, PageHeader};
use crate::ids;
use crate::pages::shell::use_shell;
use chrono::{DateTime, Utc};
use domain::executions::{
    duration_words, ExecutionFilter, ExecutionRow, ExecutionSummary, ExecutionsPage, QueueWait,
    RunStatus, StageRunView,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

mod detail;

use detail::encode;
pub use detail::ExecutionDetailPage;

/// Milliseconds since the epoch, in the browser or on the server.
fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        web_sys::js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Utc::now().timestamp_millis()
    }
}

/// A clock that ticks every second in the browser (durations of running executions).
fn use_clock() -> ReadSignal<i64> {
    let (now, set_now) = signal(now_ms());
    #[cfg(feature = "hydrate")]
    {
        if let Ok(h) = set_interval_with_handle(
            move || set_now.set(now_ms()),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || h.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_now;
    now
}

fn ago(now: i64, t: DateTime<Utc>) -> String {
    let s = (now - t.timestamp_millis()).max(0) / 1000;
    match s {
        0..=9 => "just now".to_owned(),
        10..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => crate::time::date(t),
    }
}

/// A time in full, in UTC.
pub(crate) fn exact(t: DateTime<Utc>) -> String {
    crate::time::second_utc(t)
}

fn span(now: i64, started: Option<DateTime<Utc>>, ended: Option<DateTime<Utc>>) -> String {
    match (started, ended) {
        (Some(s), Some(e)) => duration_words((e - s).num_seconds()),
        (Some(s), None) => duration_words((now - s.timestamp_millis()) / 1000),
        _ => "—".to_owned(),
    }
}

fn row_duration(now: i64, r: &ExecutionRow) -> String {
    span(now, r.started_at, r.ended_at)
}

/// A message in red when it explains a failure, plain otherwise.
fn message_class(s: RunStatus) -> &'static str {
    if s == RunStatus::Failed {
        "task-message"
    } else {
        "task-message ok"
    }
}

pub(crate) fn lower(s: RunStatus) -> String {
    s.as_str().to_ascii_lowercase()
}

/// A row's status cell: the badge and, while the execution is QUEUED, why.
pub(crate) fn status_cell(status: RunStatus, queue: Option<&QueueWait>) -> impl IntoView {
    let why = queue.map(QueueWait::describe);
    view! {
        <td>
            {status_badge(status)}
            {why.map(|w| view! { <div class="muted small queue-reason" data-testid=ids::QUEUE_REASON>{w}</div> })}
        </td>
    }
}

/// What a list of executions says while there are none at all.
pub(crate) fn no_executions() -> impl IntoView {
    view! { <EmptyState title="No executions yet">"Run a pipeline from Pipelines, or push an image to a registry a Docker webhook listens to; its execution appears here at once."</EmptyState> }
}

/// A status badge.
pub(crate) fn status_badge(s: RunStatus) -> impl IntoView {
    view! { <span class=format!("status status-{}", lower(s))>{s.as_str()}</span> }
}

/// When `e` holds its pipeline (it is active and not queued behind another, so it is the
/// pipeline's oldest active execution), every newer queued execution of that pipeline in
/// `list` now waits for it: their "why" follows without asking the server.
fn waits_behind(list: &mut [ExecutionSummary], e: &ExecutionSummary) {
    let holds = match e.row.status {
        RunStatus::Running | RunStatus::Waiting | RunStatus::Paused => true,
        RunStatus::Queued => !matches!(e.queue, Some(QueueWait::Behind { .. })),
        _ => false,
    };
    if !holds {
        return;
    }
    for r in list.iter_mut() {
        if r.row.pipeline_id == e.row.pipeline_id
            && r.row.id > e.row.id
            && r.row.status == RunStatus::Queued
        {
            // how many run at once is the server's to say; keep what it said last
            let at_once = match &r.queue {
                Some(QueueWait::Behind { at_once, .. }) => *at_once,
                _ => 1,
            };
            if at_once > 1 {
                continue;
            }
            r.queue = Some(QueueWait::Behind {
                id: e.row.id,
                pipeline: e.row.pipeline_name.clone(),
                index: e.row.index,
                status: e.row.status,
                at_once,
            });
        }
    }
}

/// Opens a live stream at `url` and hands each execution event to `on_execution`; `live`
/// says whether the stream is connected (see [`follow_stream`]).
fn follow(url: String, on_execution: impl Fn(ExecutionSummary) + 'static, live: RwSignal<bool>) {
    follow_stream(
        url,
        move |text| {
            if let Ok(e) = crate::load::from_json::<ExecutionSummary>(&text) {
                on_execution(e);
            }
        },
        live,
    );
}

/// Opens a live stream at `url` and hands the text of each execution event to `on_event`;
/// `live` says whether the stream is connected. A `reload` event (the client is too far
/// behind) or a `signed-out` event (the session ended) reloads the page. Nothing happens on
/// the server.
pub(crate) fn follow_stream(
    url: String,
    on_event: impl Fn(String) + 'static,
    live: RwSignal<bool>,
) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;
        let Ok(es) = web_sys::EventSource::new(&url) else {
            return;
        };
        let on_message =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                if let Some(text) = ev.data().as_string() {
                    on_event(text);
                }
            });
        let on_reload = Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        });
        let on_open = Closure::<dyn Fn(web_sys::Event)>::new(move |_| live.set(true));
        let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |_| live.set(false));
        let _ =
            es.add_event_listener_with_callback("execution", on_message.as_ref().unchecked_ref());
        let _ = es.add_event_listener_with_callback("reload", on_reload.as_ref().unchecked_ref());
        // the session ended (signed out, password reset, account disabled): the reload leads
        // to the sign-in page and the page shows nothing more
        let _ =
            es.add_event_listener_with_callback("signed-out", on_reload.as_ref().unchecked_ref());
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let kept = StoredValue::new_local((es, on_message, on_reload, on_open, on_error));
        on_cleanup(move || kept.with_value(|k| k.0.close()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, on_event, live);
}

/// True once the page runs in the browser (effects never run on the server), so that what
/// needs JavaScript is offered only where it works.
fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set) = signal(false);
    Effect::new(move |_| set.set(true));
    hydrated
}

#[component]
pub(crate) fn LiveState(live: RwSignal<bool>) -> impl IntoView {
    let hydrated = use_hydrated();
    view! {
        <p class="live-state" role="status" data-testid=ids::LIVE_STATE data-live=move || live.get().to_string()>
            {move || if live.get() {
                "● Live: changes appear as they happen"
            } else if hydrated.get() {
                "○ Connecting to live updates…"
            } else {
                "Reload the page to see changes (live updates need JavaScript)."
            }}
        </p>
    }
}

fn filter_from(q: &leptos_router::params::ParamsMap) -> ExecutionFilter {
    ExecutionFilter {
        project: q.get("project").and_then(|v| v.parse().ok()),
        pipeline: q.get("pipeline").and_then(|v| v.parse().ok()),
        status: q.get("status").and_then(|v| RunStatus::parse(&v)),
        text: q.get("q").unwrap_or_default(),
        before: q.get("before").and_then(|v| v.parse().ok()),
    }
}

fn list_href(f: &ExecutionFilter, before: Option<i64>) -> String {
    let mut parts = Vec::new();
    if let Some(p) = f.project {
        parts.push(format!("project={p}"));
    }
    if let Some(p) = f.pipeline {
        parts.push(format!("pipeline={p}"));
    }
    if let Some(s) = f.status {
        parts.push(format!("status={}", s.as_str()));
    }
    if !f.text.is_empty() {
        parts.push(format!("q={}", encode(&f.text)));
    }
    if let Some(b) = before {
        parts.push(format!("before={b}"));
    }
    if parts.is_empty() {
        "/executions".to_owned()
    } else {
        format!("/executions?{}", parts.join("&"))
    }
}

/// The Executions page (also the landing page).
#[component]
pub fn ExecutionsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(filter_from));
    let page = crate::load::load(move || filter.get(), list_executions);
    view! {
        <Title text="Executions · Wharf"/>
        <PageHeader title="Executions"/>
        <p class="page-lead">"Every run of a pipeline, newest first. Click a stage icon to see its tasks; the list follows the runs as they happen."</p>
        <Filters filter/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    // the page may have been left while the list loaded (its filter then gone)
                    Ok(p) => view! { <LiveList page=p filter=filter.try_get_untracked().unwrap_or_default()/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Filters(filter: Memo<ExecutionFilter>) -> impl IntoView {
    let shell = use_shell();
    // the chosen project's pipelines (a GET form: pick the project, Apply, then the pipeline)
    let pipelines = crate::load::load(
        move || filter.with(|f| f.project),
        |project| async move {
            match project {
                Some(p) => crate::api::list_pipelines(p).await.unwrap_or_default(),
                None => Vec::new(),
            }
        },
    );
    view! {
        <Form method="GET" action="/executions" attr:class="filters" attr:data-testid=ids::EXECUTION_FILTERS attr:aria-label="Filter executions">
            <label>"Project"
                <select name="project">
                    <option value="" selected=move || filter.with(|f| f.project.is_none())>"All projects"</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let projects = match shell {
                                Some(s) => s.info.await.map(|i| i.projects).unwrap_or_default(),
                                None => Vec::new(),
                            };
                            projects.into_iter().map(|p| {
                                let id = p.id;
                                view! { <option value=id.to_string() selected=move || filter.with(|f| f.project == Some(id))>{p.name}</option> }
                            }).collect_view()
                        })}
                    </Transition>
                </select>
            </label>
            <label>"Status"
                <select name="status">
                    <option value="" selected=move || filter.with(|f| f.status.is_none())>"Any status"</option>
                    {RunStatus::ALL.into_iter().filter(|s| *s != RunStatus::Skipped).map(|s| view! {
                        <option value=s.as_str() selected=move || filter.with(|f| f.status == Some(s))>{s.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Text"
                <input type="search" name="q" placeholder="Pipeline, comments, message" prop:value=move || filter.with(|f| f.text.clone())/>
            </label>
            <label>"Pipeline"
                <select name="pipeline" disabled=move || filter.with(|f| f.project.is_none())
                    title=move || filter.with(|f| f.project.is_none()).then_some("Pick a project and Apply first")>
                    <option value="" selected=move || filter.with(|f| f.pipeline.is_none())>"All pipelines"</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            pipelines.await.into_iter().map(|p| {
                                let id = p.id;
                                view! { <option value=id.to_string() selected=move || filter.with(|f| f.pipeline == Some(id))>{p.name}</option> }
                            }).collect_view()
                        })}
                    </Transition>
                </select>
            </label>
            <button type="submit" class="primary">"Apply"</button>
            <A href="/executions" attr:class="button">"Clear"</A>
        </Form>
        {move || filter.with(|f| f.pipeline).map(|_| {
            let without = filter.with(|f| list_href(&ExecutionFilter { pipeline: None, before: None, ..f.clone() }, None));
            view! { <p class="muted">"One pipeline only. " <A href=without>"Show every pipeline"</A></p> }
        })}
    }
}

/// A live list of executions: `page` as rendered, then every change the stream sends for
/// `filter`. `compact` (the dashboard, a pipeline's page) drops the pager; `on_change` hears
/// of every execution that changed.
#[component]
pub(crate) fn LiveList(
    page: ExecutionsPage,
    filter: ExecutionFilter,
    #[prop(optional)] compact: bool,
    #[prop(optional)] on_change: Option<Callback<()>>,
) -> impl IntoView {
    let page_size = page.rows.len().max(10);
    let rows = RwSignal::new(page.rows);
    let now = use_clock();
    let live = RwSignal::new(false);
    let expanded = RwSignal::new(None::<(i64, String)>);
    let first_page = filter.before.is_none();
    let mut url = format!("/live/executions?since={}", page.version);
    if let Some(p) = filter.project {
        url.push_str(&format!("&project={p}"));
    }
    let admit = filter.clone();
    follow(
        url,
        move |e| {
            rows.update(|list| {
                waits_behind(list, &e);
                if let Some(slot) = list.iter_mut().find(|r| r.row.id == e.row.id) {
                    if slot.version < e.version {
                        *slot = e;
                    }
                } else if first_page && admit.admits(&e) {
                    let at = list
                        .iter()
                        .position(|r| r.row.id < e.row.id)
                        .unwrap_or(list.len());
                    list.insert(at, e);
                    if compact {
                        list.truncate(page_size);
                    }
                }
            });
            if let Some(f) = on_change {
                f.run(());
            }
        },
        live,
    );
    let newer = (!compact)
        .then_some(filter.before)
        .flatten()
        .map(|_| list_href(&filter, None));
    let older = (!compact)
        .then_some(page.next_before)
        .flatten()
        .map(|b| list_href(&filter, Some(b)));
    let filtered = !compact
        && (filter.project.is_some()
            || filter.pipeline.is_some()
            || filter.status.is_some()
            || !filter.text.is_empty());
    view! {
        <LiveState live/>
        <Show
            when=move || rows.with(|r| !r.is_empty())
            fallback=move || if filtered {
                view! { <EmptyState title="No executions match">"Change or clear the filters."</EmptyState> }.into_any()
            } else {
                no_executions().into_any()
            }
        >
            <ExecutionTable rows now expanded/>
        </Show>
        <nav class="pager" aria-label="Pages">
            {newer.map(|h| view! { <A href=h attr:class="button">"Newest"</A> })}
            {older.map(|h| view! { <A href=h attr:class="button">"Older"</A> })}
        </nav>
    }
}

/// The executions, newest first, each row updating live.
#[component]
fn ExecutionTable(
    rows: RwSignal<Vec<ExecutionSummary>>,
    now: ReadSignal<i64>,
    expanded: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    view! {
        <table class="table executions" data-testid=ids::EXECUTION_LIST aria-label="Executions, newest first">
            <TableHead columns=&["Execution", "Status", "Stages", "Started by", "Started", "Duration"]/>
            <For each=move || rows.get() key=|e| (e.row.id, e.version, e.queue.as_ref().map(QueueWait::describe)) let:e>
                <ListRow e now expanded/>
            </For>
        </table>
    }
}

#[component]
fn ListRow(
    e: ExecutionSummary,
    now: ReadSignal<i64>,
    expanded: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    let id = e.row.id;
    let row = StoredValue::new(e.row.clone());
    let stages = StoredValue::new(e.stages.clone());
    let href = format!("/executions/{id}");
    let created = e.row.created_at;
    let open_stage = move || {
        expanded
            .get()
            .filter(|(x, _)| *x == id)
            .and_then(|(_, name)| stages.with_value(|s| s.iter().find(|s| s.name == name).cloned()))
    };
    view! {
        <tbody data-execution=id.to_string() data-status=e.row.status.as_str()>
            <tr>
                <td>
                    <A href=href.clone()>{format!("{} #{}", e.row.pipeline_name, e.row.index)}</A>
                    <div class="muted small">{e.project_name.clone()}</div>
                </td>
                {status_cell(e.row.status, e.queue.as_ref())}
                <td>
                    <div class="stage-icons" role="group" aria-label="Stages">
                        {e.stages.iter().map(|s| view! { <StageIcon execution=id stage=s.clone() now expanded/> }).collect_view()}
                    </div>
                </td>
                <td>{e.started_by.clone()}</td>
                <td><time datetime=created.to_rfc3339() title=exact(created)>{move || ago(now.get(), created)}</time></td>
                <td class="duration">{move || row.with_value(|r| row_duration(now.get(), r))}</td>
            </tr>
            {move || open_stage().map(|s| view! {
                <tr class="stage-tasks-row">
                    <td colspan="6">
                        <StageTasks stage=s now/>
                    </td>
                </tr>
            })}
        </tbody>
    }
}

#[component]
fn StageIcon(
    execution: i64,
    stage: StageRunView,
    now: ReadSignal<i64>,
    expanded: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    let name = StoredValue::new(stage.name.clone());
    let (started, ended, status) = (stage.started_at, stage.ended_at, stage.status);
    let tip = move || {
        format!(
            "{}: {} · {}",
            name.get_value(),
            status.as_str(),
            span(now.get(), started, ended)
        )
    };
    let open = move || {
        expanded
            .get()
            .is_some_and(|(x, n)| x == execution && n == name.get_value())
    };
    view! {
        <button
            type="button"
            class=format!("stage-icon stage-{}", lower(status))
            title=tip
            aria-label=tip
            aria-expanded=move || open().to_string()
            data-stage=stage.name.clone()
            on:click=move |_| {
                let next = if open() { None } else { Some((execution, name.get_value())) };
                expanded.set(next);
            }
        ></button>
    }
}

#[component]
fn StageTasks(stage: StageRunView, now: ReadSignal<i64>) -> impl IntoView {
    view! {
        <div class="stage-tasks" data-testid=ids::STAGE_TASKS>
            <h3 class="small">{format!("Stage {} · {}", stage.name, stage.status.as_str())}</h3>
            {if stage.tasks.is_empty() {
                view! { <p class="muted">"This stage has no tasks."</p> }.into_any()
            } else {
                view! {
                    <ul class="task-lines">
                        {stage.tasks.into_iter().map(|t| {
                            let (s, e) = (t.started_at, t.ended_at);
                            view! {
                                <li data-task=t.name.clone() data-status=t.status.as_str()>
                                    <strong>{t.name.clone()}</strong> " " <span class="muted">{t.kind.clone()}</span> " "
                                    {status_badge(t.status)} " "
                                    <span class="duration">{move || span(now.get(), s, e)}</span>
                                    {t.message.clone().map(|m| view! { <div class=message_class(t.status)>{m}</div> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}
