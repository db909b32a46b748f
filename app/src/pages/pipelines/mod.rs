//! Pipelines of the project picked in the header, as in Aria: the list (enabled, last
//! execution, stages) with Run, Edit, Enable/Disable, Export and Delete; New and Import; and the
//! editor: the visual designer (stages as columns, tasks as cards, typed property forms), the
//! YAML view checked as it is typed (the same parser the server uses, compiled to wasm) with
//! problems at their lines, and an Input tab with Inject parameters: Docker.

use crate::api::{
    get_pipeline, list_pipelines, DeletePipeline, RunPipeline, SavePipeline, SetPipelineEnabled,
};
use crate::components::{action_error, EmptyState, ErrorPanel, FormError, Loading, PageHeader};
use crate::error::AppError;
use crate::ids;
use crate::pages::executions::{status_badge, LiveList};
use crate::pages::shell::WithProject;
use domain::executions::{ExecutionFilter, PipelineRow};
use domain::pipeline::{self, InputMeta, PipelineDef, DOCKER_INPUTS};
use domain::role::ProjectAction;
use domain::views::ProjectSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

mod code;
mod designer;
mod editor;

pub use editor::PipelineEditorPage;

/// What New starts from.
const STARTER: &str = r#"kind: PIPELINE
name: deploy-web
description: Deploys the web image
enabled: true
concurrency: queue
input:
  TAG: latest
stageOrder: [Check]
stages:
  Check:
    taskOrder: [Tag]
    tasks:
      Tag:
        type: Condition
        input:
          condition: '${input.TAG} != ""'
"#;

/// The Pipelines page.
#[component]
pub fn PipelinesPage() -> impl IntoView {
    view! {
        <Title text="Pipelines · Wharf"/>
        <WithProject title="Pipelines" what="Pipelines" render=Box::new(|project| view! { <ProjectPipelines project/> }.into_any())/>
    }
}

/// A dialog frame: focus on its first control, Escape closes it.
#[component]
pub(crate) fn Dialog(
    title: String,
    #[prop(into)] on_close: Callback<()>,
    #[prop(optional)] wide: bool,
    #[prop(optional)] testid: &'static str,
    children: Children,
) -> impl IntoView {
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            on_close.run(());
        }
    });
    on_cleanup(move || escape.remove());
    let node = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(d) = node.get() {
            if let Ok(Some(first)) = d.query_selector("input, textarea, select, button") {
                use leptos::wasm_bindgen::JsCast;
                if let Ok(el) = first.dyn_into::<leptos::web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        }
    });
    view! {
        <div class="dialog-backdrop" on:click=move |_| on_close.run(())></div>
        <div node_ref=node class=if wide { "dialog wide" } else { "dialog" } role="dialog" aria-modal="true"
            aria-labelledby="dialog-title" data-testid=testid>
            <h2 id="dialog-title">{title}</h2>
            {children()}
        </div>
    }
}

#[derive(Clone, PartialEq)]
enum Open {
    None,
    Run(PipelineRow),
    Export(i64, String),
    Import,
}

#[component]
fn ProjectPipelines(project: ProjectSummary) -> impl IntoView {
    let project_id = project.id;
    let can_use = project.my_role.allows(ProjectAction::Use);
    let toggle = ServerAction::<SetPipelineEnabled>::new();
    let delete = ServerAction::<DeletePipeline>::new();
    let import = ServerAction::<SavePipeline>::new();
    let run = ServerAction::<RunPipeline>::new();
    let list = crate::load::load(
        move || {
            (
                project_id,
                toggle.version().get(),
                delete.version().get(),
                import.version().get(),
                run.version().get(),
            )
        },
        |(id, ..)| list_pipelines(id),
    );
    let open = RwSignal::new(Open::None);
    let row_error = Signal::derive(move || {
        action_error(toggle.value())
            .get()
            .or_else(|| action_error(delete.value()).get())
    });
    let ran = Signal::derive(move || run.value().get().and_then(|r| r.ok()));
    view! {
        <PageHeader title="Pipelines">
            {can_use.then(|| view! {
                <a class="button primary" href="/pipelines/new" data-testid=ids::NEW_PIPELINE>"New pipeline"</a>
                <button type="button" on:click=move |_| open.set(Open::Import)>"Import"</button>
            })}
        </PageHeader>
        <p class="muted">"Project: " <strong>{project.name.clone()}</strong></p>
        {(!can_use).then(|| view! {
            <p class="notice" data-testid=ids::READ_ONLY_NOTICE>
                "You are a viewer of this project: you can see and export its pipelines but not change or run them."
            </p>
        })}
        {move || ran.get().map(|m| view! { <p class="notice success" role="status" data-testid=ids::RUN_RESULT>{m} " " <a href="/executions">"See executions"</a></p> })}
        <FormError error=row_error/>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <EmptyState title="No pipelines yet">
                            <p>"Pipelines define the stages and tasks that deploy an image: Kubernetes, REST, Poll, Condition, User Operation and Registry tasks."</p>
                            {if can_use { "Start with New pipeline, or Import one exported from Wharf or Aria." } else { "" }}
                        </EmptyState>
                    }.into_any(),
                    Ok(rows) => view! {
                        <table class="table" data-testid=ids::PIPELINE_LIST>
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Last execution"</th>
                                    <th scope="col">"Stages"</th>
                                    <th scope="col">"Concurrency"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|p| view! { <PipelineRowView p project_id can_use open toggle delete/> }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
        {move || match open.get() {
            Open::None => None,
            Open::Run(p) => Some(view! { <RunDialog p project_id run on_close=move || open.set(Open::None)/> }.into_any()),
            Open::Export(id, name) => Some(view! { <ExportDialog project_id pipeline_id=id name on_close=move || open.set(Open::None)/> }.into_any()),
            Open::Import => Some(view! { <ImportDialog project_id import on_close=move || open.set(Open::None)/> }.into_any()),
        }}
    }
}

#[component]
fn PipelineRowView(
    p: PipelineRow,
    project_id: i64,
    can_use: bool,
    open: RwSignal<Open>,
    toggle: ServerAction<SetPipelineEnabled>,
    delete: ServerAction<DeletePipeline>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let pipeline_id = p.id;
    let enabled = p.enabled;
    let blocked = !enabled && !p.attention.is_empty();
    let row = StoredValue::new(p.clone());
    let name = p.name.clone();
    view! {
        <tr data-pipeline=p.name.clone()>
            <td>
                <a href=format!("/pipelines/{}", p.id)><strong>{p.name.clone()}</strong></a>
                {p.docker_inputs.then(|| view! { " " <span class="badge" title="A Docker webhook may trigger it">"Docker inputs"</span> })}
                {(!p.attention.is_empty()).then(|| {
                    let n = p.attention.len();
                    view! { " " <span class="badge warn" title="Open it to see what must change before it can be enabled">{format!("Needs attention ({n})")}</span> }
                })}
                <div class="muted">{p.description.clone()}</div>
            </td>
            <td>{if p.enabled { view! { <span class="badge ok">"Enabled"</span> } } else { view! { <span class="badge">"Disabled"</span> } }}</td>
            <td>
                {match p.last_execution {
                    Some((index, status, at)) => view! {
                        <span>"#" {index} " "</span>{status_badge(status)}
                        <div class="muted"><time datetime=at.to_rfc3339()>{crate::time::minute(at)}</time></div>
                    }.into_any(),
                    None => view! { <span class="muted">"Never run"</span> }.into_any(),
                }}
            </td>
            <td>{p.stage_count}</td>
            <td><code>{p.concurrency.clone()}</code></td>
            <td class="actions">
                {can_use.then(|| view! {
                    <button type="button" class="link-button" disabled=!enabled
                        title=if enabled { "Run with inputs" } else { "Enable it to run it" }
                        on:click=move |_| open.set(Open::Run(row.get_value()))>"Run"</button>
                    <a class="link-button" href=format!("/pipelines/{pipeline_id}")>"Edit"</a>
                    <button type="button" class="link-button" disabled=blocked
                        title=if blocked { "Replace or remove what needs attention first" } else { "" }
                        on:click=move |_| {
                        toggle.dispatch(SetPipelineEnabled { project_id, pipeline_id, enabled: !enabled });
                    }>{if enabled { "Disable" } else { "Enable" }}</button>
                })}
                <button type="button" class="link-button" on:click=move |_| open.set(Open::Export(pipeline_id, name.clone()))>"Export"</button>
                {can_use.then(|| view! {
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! { <button type="button" class="link-button" on:click=move |_| confirming.set(true)>"Delete"</button> }
                    >
                        <span role="alert">"Delete it and its finished executions? "</span>
                        <button type="button" class="link-button danger-link" on:click=move |_| {
                            delete.dispatch(DeletePipeline { project_id, pipeline_id });
                        }>"Yes, delete"</button>
                        <button type="button" class="link-button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </Show>
                })}
            </td>
        </tr>
    }
}

#[component]
fn RunDialog(
    p: PipelineRow,
    project_id: i64,
    run: ServerAction<RunPipeline>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let values: Vec<(String, RwSignal<String>, InputMeta)> = p
        .input
        .iter()
        .map(|(n, d)| {
            let meta = p
                .input_meta
                .iter()
                .find(|(m, _)| m == n)
                .map(|(_, m)| m.clone());
            (
                n.clone(),
                RwSignal::new(d.clone()),
                meta.unwrap_or_default(),
            )
        })
        .collect();
    let values = StoredValue::new(values);
    let comments = RwSignal::new(String::new());
    let pipeline_id = p.id;
    let error = action_error(run.value());
    let submitted = RwSignal::new(false);
    Effect::new(move |_| {
        if submitted.get() && matches!(run.value().get(), Some(Ok(_))) {
            on_close.run(());
        }
    });
    view! {
        <Dialog title=format!("Run {}", p.name) on_close testid=ids::RUN_DIALOG>
            <form class="form-grid compact" on:submit=move |ev| {
                ev.prevent_default();
                let input = values.with_value(|v| v.iter().map(|(n, s, _)| (n.clone(), s.get_untracked())).collect());
                submitted.set(true);
                run.dispatch(RunPipeline { project_id, pipeline_id, input, comments: comments.get_untracked() });
            }>
                {if p.input.is_empty() {
                    view! { <p class="muted full">"This pipeline takes no inputs."</p> }.into_any()
                } else {
                    values.with_value(|v| v.iter().map(|(name, value, meta)| {
                        let id = format!("run-input-{name}");
                        let hint = format!("{id}-hint");
                        let value = *value;
                        let described = (!meta.description.is_empty()).then(|| hint.clone());
                        view! {
                            <label for=id.clone()>
                                <code>{name.clone()}</code>
                                {meta.mandatory.then(|| view! { " " <span class="required">"(required)"</span> })}
                            </label>
                            <div>
                                <input id=id required=meta.mandatory aria-describedby=described
                                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                                {(!meta.description.is_empty()).then(|| view! { <p class="hint" id=hint>{meta.description.clone()}</p> })}
                            </div>
                        }
                    }).collect_view()).into_any()
                }}
                <label for="run-comments">"Comments"</label>
                <textarea id="run-comments" rows="2" maxlength="2000" prop:value=move || comments.get()
                    on:input=move |ev| comments.set(event_target_value(&ev))></textarea>
                <span></span>
                <div>
                    <FormError error/>
                    <div class="dialog-actions">
                        <button type="submit" class="primary" disabled=move || run.pending().get()>
                            {move || if run.pending().get() { "Starting…" } else { "Run" }}
                        </button>
                        <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    </div>
                </div>
            </form>
        </Dialog>
    }
}

/// `%`-encodes text for a `data:` URL.
fn data_url(yaml: &str) -> String {
    let mut out = String::from("data:application/yaml;charset=utf-8,");
    for b in yaml.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[component]
fn ExportDialog(
    project_id: i64,
    pipeline_id: i64,
    name: String,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let yaml = crate::load::load(
        move || (project_id, pipeline_id),
        |(p, i)| get_pipeline(p, i),
    );
    let file = format!("{name}.yaml");
    view! {
        <Dialog title=format!("Export {name}") on_close wide=true testid=ids::EXPORT_DIALOG>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || {
                    let file = file.clone();
                    Suspend::new(async move {
                        match yaml.await {
                            Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                            Ok((_, text)) => view! {
                                <label for="export-yaml">"YAML (import it into any Wharf project)"</label>
                                <textarea id="export-yaml" class="code" rows="18" readonly prop:value=text.clone()></textarea>
                                <div class="dialog-actions">
                                    <a class="button primary" href=data_url(&text) download=file>"Download"</a>
                                    <button type="button" on:click=move |_| on_close.run(())>"Close"</button>
                                </div>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </Dialog>
    }
}

#[component]
fn ImportDialog(
    project_id: i64,
    import: ServerAction<SavePipeline>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = action_error(import.value());
    let submitted = RwSignal::new(false);
    // imported disabled: what needs attention stays on screen until the person closes it
    let imported = RwSignal::new(None::<PipelineRow>);
    Effect::new(move |_| {
        if submitted.get() {
            if let Some(Ok(row)) = import.value().get() {
                if row.attention.is_empty() {
                    on_close.run(());
                } else {
                    imported.set(Some(row));
                }
            }
        }
    });
    view! {
        <Dialog title="Import a pipeline".to_owned() on_close wide=true testid=ids::IMPORT_DIALOG>
            {move || imported.get().map(|row| view! {
                <div class="notice warn" role="status">
                    <p>
                        <strong>{row.name.clone()}</strong>
                        " was imported disabled: Wharf cannot run it until these are replaced, removed or added. Nothing of it was lost; export gives it back as it was."
                    </p>
                    <AttentionList lines=row.attention.clone()/>
                    <div class="dialog-actions">
                        <a class="button primary" href=format!("/pipelines/{}", row.id)>"Open it"</a>
                        <button type="button" on:click=move |_| on_close.run(())>"Close"</button>
                    </div>
                </div>
            })}
            <form hidden=move || imported.with(Option::is_some) on:submit=move |ev| {
                ev.prevent_default();
                submitted.set(true);
                import.dispatch(SavePipeline { project_id, pipeline_id: None, yaml: text.get_untracked() });
            }>
                <label for="import-yaml">"Paste the exported YAML (kind: PIPELINE)"</label>
                <textarea id="import-yaml" class="code" rows="16" required spellcheck="false"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <ProblemList error/>
                <div class="dialog-actions">
                    <button type="submit" class="primary" disabled=move || import.pending().get()>
                        {move || if import.pending().get() { "Importing…" } else { "Import" }}
                    </button>
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                </div>
            </form>
        </Dialog>
    }
}

/// What must change before a pipeline may be enabled, a line each.
#[component]
pub(super) fn AttentionList(lines: Vec<String>) -> impl IntoView {
    view! {
        <ul class="problems attention" data-testid=ids::PIPELINE_ATTENTION>
            {lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
        </ul>
    }
}

/// A server error; a definition's problems are shown one a line.
#[component]
fn ProblemList(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let lines: Vec<String> = e.message.lines().map(str::to_owned).collect();
            view! {
                <ul class="problems" role="alert" data-testid=ids::FORM_ERROR>
                    {lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
                </ul>
            }
        })
    }
}
