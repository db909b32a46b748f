//! An execution's page: its facts, why it is queued, its actions, its stages and tasks live,
//! a task's panel (live log, bound input, output) and the approvals it waits for.

use super::*;
use crate::api::{get_execution_view, AnswerUserOperation, ExecutionView};
use crate::components::{action_error, FormError};
use crate::error::AppError;
use domain::executions::{ExecutionDetail, ExecutionSummary, TaskRunView, UserOperationRow};
use leptos_router::hooks::{use_navigate, use_params_map};

/// One execution.
#[component]
pub fn ExecutionDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok())));
    let data = crate::load::load(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_execution_view(id).await,
                None => Err(AppError::new(
                    domain::ErrorCode::NotFound,
                    "There is no such execution.",
                )),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <PageHeader title="Execution"/><Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! {
                        <Title text="Execution · Wharf"/>
                        <PageHeader title="Execution"/>
                        <ErrorPanel error=e/>
                        <p><A href="/executions">"Back to Executions"</A></p>
                    }.into_any(),
                    Ok(v) => view! { <Detail v/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What the detail page shows that changes while the execution runs.
#[derive(Clone, Copy)]
struct Shown {
    summary: RwSignal<ExecutionSummary>,
    detail: RwSignal<ExecutionDetail>,
    operations: RwSignal<Vec<UserOperationRow>>,
}

/// Keeps `shown` up to date from the live stream and returns a refresh that reloads it.
fn follow_execution(
    v: &ExecutionView,
    shown: Shown,
    live: RwSignal<bool>,
) -> impl Fn() + Copy + Send + Sync + 'static {
    let id = v.summary.row.id;
    let Shown {
        summary,
        detail,
        operations,
    } = shown;
    let refresh = move || {
        leptos::task::spawn_local(async move {
            if let Ok(v) = get_execution_view(id).await {
                detail.set(v.detail);
                operations.set(v.operations);
                summary.update(|s| {
                    if s.version <= v.summary.version {
                        *s = v.summary;
                    }
                });
            }
        })
    };
    // the pipeline's changes: this execution's own, and (while it is queued) those of the run
    // it waits behind, so "Waiting for …" follows when another run takes the head
    follow(
        format!(
            "/live/executions?pipeline={}&since={}",
            v.summary.row.pipeline_id, v.feed_version
        ),
        move |e| {
            if e.row.id == id {
                summary.update(|s| {
                    if s.version <= e.version {
                        *s = e;
                    }
                });
                refresh();
            } else {
                summary.update(|s| waits_behind(std::slice::from_mut(s), &e));
            }
        },
        live,
    );
    refresh
}

#[component]
pub(super) fn Detail(v: ExecutionView) -> impl IntoView {
    use domain::executions::ExecutionAction as Asked;
    let id = v.summary.row.id;
    let summary = RwSignal::new(v.summary.clone());
    let detail = RwSignal::new(v.detail.clone());
    let operations = RwSignal::new(v.operations.clone());
    let can_act = v.can_act;
    let live = RwSignal::new(false);
    let hydrated = use_hydrated();
    let now = use_clock();
    let selected = RwSignal::new(None::<(String, String)>);
    let refresh = follow_execution(
        &v,
        Shown {
            summary,
            detail,
            operations,
        },
        live,
    );
    let act = ServerAction::<crate::api::ExecutionAction>::new();
    let error = action_error(act.value());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(result)) = act.value().get() {
            let last = act.input().get_untracked();
            match (result, last.as_ref().map(|a| a.action.as_str())) {
                (Some(new_id), _) => navigate(&format!("/executions/{new_id}"), Default::default()),
                (None, Some(a)) if a == Asked::Delete.as_str() => {
                    navigate("/executions", Default::default())
                }
                _ => refresh(),
            }
        }
    });
    let title = format!("{} #{}", v.summary.row.pipeline_name, v.summary.row.index);
    let r = move || summary.with(|s| s.row.clone());
    view! {
        <Title text=format!("{title} · Executions · Wharf")/>
        <div data-testid=ids::EXECUTION_DETAIL data-status=move || summary.with(|s| s.row.status.as_str())>
            <PageHeader title=title.clone()/>
            <p><A href="/executions">"‹ Executions"</A></p>
            <LiveState live/>
            <Facts summary now/>
            {move || (can_act && hydrated.get()).then(|| view! { <ActionButtons id status=Signal::derive(move || r().status) act/> })}
            <FormError error/>
            {move || {
                let ops = operations.get();
                (!ops.is_empty()).then(|| view! { <Operations ops refresh=Callback::new(move |_| refresh())/> })
            }}
            <InputsTable detail/>
            <h2>"Stages"</h2>
            <StageColumns summary selected now/>
            {move || selected.get().map(|(stage, task)| {
                let found: Option<TaskRunView> = detail.with(|d| d.stages.iter().find(|s| s.name == stage).and_then(|s| s.tasks.iter().find(|t| t.name == task).cloned()));
                let live_status = summary.with(|s| s.stages.iter().find(|s| s.name == stage).and_then(|s| s.tasks.iter().find(|t| t.name == task).map(|t| t.status)));
                view! { <TaskPanel execution=id stage task found live_status/> }
            })}
        </div>
    }
}

/// The execution's facts: status, why it waits, pipeline, who started it, times, message.
#[component]
fn Facts(summary: RwSignal<ExecutionSummary>, now: ReadSignal<i64>) -> impl IntoView {
    let r = move || summary.with(|s| s.row.clone());
    view! {
        <dl class="facts">
            <dt>"Status"</dt><dd>{move || status_badge(r().status)}</dd>
            {move || summary.with(|s| s.queue.clone()).map(|q| view! {
                <dt>"Waiting"</dt><dd data-testid=ids::QUEUE_REASON>{q.describe()}</dd>
            })}
            <dt>"Pipeline"</dt><dd>{move || r().pipeline_name} " · " {summary.with(|s| s.project_name.clone())}</dd>
            <dt>"Started by"</dt><dd>{move || summary.with(|s| s.started_by.clone())}</dd>
            <dt>"Queued"</dt><dd>{move || exact(r().created_at)}</dd>
            <dt>"Started"</dt><dd>{move || r().started_at.map(exact).unwrap_or_else(|| "not yet".to_owned())}</dd>
            <dt>"Ended"</dt><dd>{move || r().ended_at.map(exact).unwrap_or_else(|| "not yet".to_owned())}</dd>
            <dt>"Duration"</dt><dd class="duration">{move || row_duration(now.get(), &r())}</dd>
            {move || r().message.map(|m| view! { <dt>"Message"</dt><dd class=message_class(r().status)>{m}</dd> })}
            {move || (!r().comments.is_empty()).then(|| view! { <dt>"Comments"</dt><dd>{r().comments}</dd> })}
        </dl>
    }
}

/// Cancel, Pause, Resume, Rerun and Delete, as the status allows.
#[component]
fn ActionButtons(
    id: i64,
    status: Signal<RunStatus>,
    act: ServerAction<crate::api::ExecutionAction>,
) -> impl IntoView {
    use domain::executions::ExecutionAction as Asked;
    view! {
        <div class="actions" role="group" aria-label="Execution actions">
            {move || {
                let s = status.get();
                let button = move |action: Asked, label: &'static str| view! {
                    <button type="button" class=if matches!(action, Asked::Delete | Asked::Cancel) { "danger" } else { "button" }
                        disabled=move || act.pending().get()
                        on:click=move |_| { act.dispatch(crate::api::ExecutionAction { id, action: action.as_str().to_owned() }); }>
                        {label}
                    </button>
                };
                view! {
                    {(!s.is_final()).then(|| button(Asked::Cancel, "Cancel"))}
                    {matches!(s, RunStatus::Queued | RunStatus::Running).then(|| button(Asked::Pause, "Pause"))}
                    {(s == RunStatus::Paused).then(|| button(Asked::Resume, "Resume"))}
                    {button(Asked::Rerun, "Rerun")}
                    {s.is_final().then(|| button(Asked::Delete, "Delete"))}
                }
            }}
        </div>
    }
}

/// The inputs the execution ran with.
#[component]
fn InputsTable(detail: RwSignal<ExecutionDetail>) -> impl IntoView {
    view! {
        <h2>"Inputs"</h2>
        {move || {
            let input = detail.with(|d| d.input.clone());
            if input.is_empty() {
                view! { <p class="muted">"This pipeline takes no inputs."</p> }.into_any()
            } else {
                view! {
                    <table class="table compact">
                        <thead><tr><th scope="col">"Input"</th><th scope="col">"Value"</th></tr></thead>
                        <tbody>
                            {input.into_iter().map(|(k, v)| view! { <tr><td><code>{k}</code></td><td><code>{v}</code></td></tr> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }
        }}
    }
}

/// A column per stage, a card per task; a card opens its task's panel.
#[component]
fn StageColumns(
    summary: RwSignal<ExecutionSummary>,
    selected: RwSignal<Option<(String, String)>>,
    now: ReadSignal<i64>,
) -> impl IntoView {
    view! {
        <div class="stage-columns">
            {move || summary.with(|s| s.stages.clone()).into_iter().map(|stage| {
                let stage_name = StoredValue::new(stage.name.clone());
                let (st, en) = (stage.started_at, stage.ended_at);
                view! {
                    <section class=format!("stage-column stage-col-{}", lower(stage.status)) aria-label=format!("Stage {}", stage.name) data-stage=stage.name.clone() data-status=stage.status.as_str()>
                        <h3><span class=format!("stage-icon stage-{}", lower(stage.status)) aria-hidden="true"></span> " " {stage.name.clone()}</h3>
                        <p class="small">{status_badge(stage.status)} " " <span class="duration">{move || span(now.get(), st, en)}</span></p>
                        {stage.tasks.into_iter().map(|t| {
                            let task = StoredValue::new(t.name.clone());
                            let (ts, te) = (t.started_at, t.ended_at);
                            let is_open = move || selected.get().is_some_and(|(s, n)| s == stage_name.get_value() && n == task.get_value());
                            view! {
                                <button type="button" class=format!("task-card status-border-{}", lower(t.status))
                                    aria-pressed=move || is_open().to_string()
                                    data-task=t.name.clone() data-status=t.status.as_str()
                                    on:click=move |_| selected.set(if is_open() { None } else { Some((stage_name.get_value(), task.get_value())) })>
                                    <span class="task-name">{t.name.clone()}</span>
                                    <span class="muted small">{t.kind.clone()}</span>
                                    {status_badge(t.status)}
                                    <span class="duration small">{move || span(now.get(), ts, te)}</span>
                                </button>
                            }
                        }).collect_view()}
                    </section>
                }
            }).collect_view()}
        </div>
    }
}

#[component]
pub(super) fn Operations(ops: Vec<UserOperationRow>, refresh: Callback<()>) -> impl IntoView {
    let answer = ServerAction::<AnswerUserOperation>::new();
    let error = action_error(answer.value());
    Effect::new(move |_| {
        if let Some(Ok(_)) = answer.value().get() {
            refresh.run(());
        }
    });
    view! {
        <section class="operations" aria-label="Waiting for your approval">
            <h2>"Waiting for your approval"</h2>
            <FormError error/>
            {ops.into_iter().map(|o| {
                let comment = RwSignal::new(String::new());
                let oid = o.id;
                let field = format!("uo-comment-{oid}");
                let send = move |approve: bool| {
                    answer.dispatch(AnswerUserOperation { operation_id: oid, approve, comment: comment.get_untracked() });
                };
                view! {
                    <div class="card operation">
                        <p><strong>{o.summary.clone()}</strong> " " <span class="muted">{format!("{} › {}", o.stage, o.task)}</span></p>
                        {(!o.description.is_empty()).then(|| view! { <p>{o.description.clone()}</p> })}
                        <label for=field.clone()>"Comment"</label>
                        <textarea id=field rows="2" on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
                        <div class="actions">
                            <button type="button" class="primary" disabled=move || answer.pending().get() on:click=move |_| send(true)>"Approve"</button>
                            <button type="button" class="danger" disabled=move || answer.pending().get() on:click=move |_| send(false)>"Reject"</button>
                        </div>
                    </div>
                }
            }).collect_view()}
        </section>
    }
}

#[component]
pub(super) fn TaskPanel(
    execution: i64,
    stage: String,
    task: String,
    found: Option<TaskRunView>,
    live_status: Option<RunStatus>,
) -> impl IntoView {
    let lines = RwSignal::new(Vec::<String>::new());
    let ended = RwSignal::new(false);
    follow_log(
        format!(
            "/live/executions/{execution}/log?stage={}&task={}",
            encode(&stage),
            encode(&task)
        ),
        lines,
        ended,
    );
    let status = live_status.or(found.as_ref().map(|t| t.status));
    let output = found
        .as_ref()
        .and_then(|t| t.output.clone())
        .map(|o| serde_json_pretty(&o));
    let message = found.as_ref().and_then(|t| t.message.clone());
    let input = found
        .as_ref()
        .and_then(|t| t.input.as_deref())
        .map(input_rows);
    view! {
        <section class="task-panel card" data-testid=ids::TASK_PANEL aria-label=format!("Task {task}")>
            <h3>{format!("{stage} › {task}")} " " {status.map(status_badge)}</h3>
            {message.map(|m| view! { <p class=status.map_or("task-message", message_class) role="note">{m}</p> })}
            <h4>"Input"</h4>
            {match input {
                Some(rows) => view! {
                    <dl class="task-input" data-testid=ids::TASK_INPUT>
                        {rows.into_iter().map(|(k, v)| view! { <dt><code>{k}</code></dt><dd><pre class="code">{v}</pre></dd> }).collect_view()}
                    </dl>
                }.into_any(),
                None => view! { <p class="muted">"The task has not started: its bindings are resolved when it does."</p> }.into_any(),
            }}
            <h4>"Output"</h4>
            {match output {
                Some(o) => view! { <pre class="code">{o}</pre> }.into_any(),
                None => view! { <p class="muted">"No output yet."</p> }.into_any(),
            }}
            <h4>"Log"</h4>
            <pre class="code log" data-testid=ids::TASK_LOG aria-live="polite">
                {move || {
                    let l = lines.get();
                    if l.is_empty() {
                        if ended.get() { "(this task wrote no log lines)".to_owned() } else { "Waiting for log lines…".to_owned() }
                    } else {
                        l.join("\n")
                    }
                }}
            </pre>
        </section>
    }
}

pub(super) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A task's bound input (a JSON object) as rows: text as written (a YAML document stays
/// readable), anything else as JSON.
pub(super) fn input_rows(text: &str) -> Vec<(String, String)> {
    use serde_json::Value;
    match crate::load::from_json::<serde_json::Map<String, Value>>(text) {
        Ok(m) => m
            .into_iter()
            .map(|(k, v)| {
                let shown = match v {
                    Value::String(s) => s,
                    other => serde_json::to_string_pretty(&other).unwrap_or_default(),
                };
                (k, shown)
            })
            .collect(),
        Err(_) => vec![("input".to_owned(), text.to_owned())],
    }
}

/// Pretty-prints JSON text (as it is, when it is not JSON); the same on the server and in the
/// browser, so hydration finds what the server rendered.
pub(super) fn serde_json_pretty(s: &str) -> String {
    crate::load::from_json::<serde_json::Value>(s)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| s.to_owned())
}

/// Follows a task's log stream, appending its lines.
pub(super) fn follow_log(url: String, lines: RwSignal<Vec<String>>, ended: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;
        let Ok(es) = web_sys::EventSource::new(&url) else {
            return;
        };
        let on_line =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                if let Some(text) = ev.data().as_string() {
                    if let Ok(line) = crate::load::from_json::<String>(&text) {
                        lines.update(|l| l.push(line));
                    }
                }
            });
        let es2 = es.clone();
        let on_end = Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
            ended.set(true);
            es2.close();
        });
        let _ = es.add_event_listener_with_callback("line", on_line.as_ref().unchecked_ref());
        let _ = es.add_event_listener_with_callback("end", on_end.as_ref().unchecked_ref());
        let _ = es.add_event_listener_with_callback("gone", on_end.as_ref().unchecked_ref());
        let kept = StoredValue::new_local((es, on_line, on_end));
        on_cleanup(move || kept.with_value(|k| k.0.close()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, lines, ended);
}
