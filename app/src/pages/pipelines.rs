//! Pipelines of the project picked in the header, as in Aria: the list (enabled, last
//! execution, stages) with Run, Edit, Enable/Disable, Export and Delete; New and Import; and the
//! editor: YAML checked as it is typed (the same parser the server uses, compiled to wasm),
//! problems listed with their line and field, a read-only diagram of stages and tasks, and an
//! Input tab with Inject parameters: Docker.

use crate::api::{
    get_pipeline, list_pipelines, DeletePipeline, RunPipeline, SavePipeline, SetPipelineEnabled,
};
use crate::components::{action_error, EmptyState, ErrorPanel, FormError, Loading, PageHeader};
use crate::error::AppError;
use crate::ids;
use crate::pages::executions::{status_badge, LiveList};
use crate::pages::shell::WithProject;
use domain::executions::{ExecutionFilter, PipelineRow};
use domain::pipeline::{self, PipelineDef, DOCKER_INPUTS};
use domain::role::ProjectAction;
use domain::views::ProjectSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

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
    let list = Resource::new(
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
    let row = StoredValue::new(p.clone());
    let name = p.name.clone();
    view! {
        <tr data-pipeline=p.name.clone()>
            <td>
                <a href=format!("/pipelines/{}", p.id)><strong>{p.name.clone()}</strong></a>
                {p.docker_inputs.then(|| view! { " " <span class="badge" title="A Docker webhook may trigger it">"Docker inputs"</span> })}
                <div class="muted">{p.description.clone()}</div>
            </td>
            <td>{if p.enabled { view! { <span class="badge ok">"Enabled"</span> } } else { view! { <span class="badge">"Disabled"</span> } }}</td>
            <td>
                {match p.last_execution {
                    Some((index, status, at)) => view! {
                        <span>"#" {index} " "</span>{status_badge(status)}
                        <div class="muted"><time datetime=at.to_rfc3339()>{at.format("%Y-%m-%d %H:%M").to_string()}</time></div>
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
                    <button type="button" class="link-button" on:click=move |_| {
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
    let values: Vec<(String, RwSignal<String>)> = p
        .input
        .iter()
        .map(|(n, d)| (n.clone(), RwSignal::new(d.clone())))
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
                let input = values.with_value(|v| v.iter().map(|(n, s)| (n.clone(), s.get_untracked())).collect());
                submitted.set(true);
                run.dispatch(RunPipeline { project_id, pipeline_id, input, comments: comments.get_untracked() });
            }>
                {if p.input.is_empty() {
                    view! { <p class="muted full">"This pipeline takes no inputs."</p> }.into_any()
                } else {
                    values.with_value(|v| v.iter().map(|(name, value)| {
                        let id = format!("run-input-{name}");
                        let value = *value;
                        view! {
                            <label for=id.clone()><code>{name.clone()}</code></label>
                            <input id=id prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
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
    let yaml = Resource::new(
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
    Effect::new(move |_| {
        if submitted.get() && matches!(import.value().get(), Some(Ok(_))) {
            on_close.run(());
        }
    });
    view! {
        <Dialog title="Import a pipeline".to_owned() on_close wide=true testid=ids::IMPORT_DIALOG>
            <form on:submit=move |ev| {
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

/// New (`/pipelines/new`) and Edit (`/pipelines/:id`).
#[component]
pub fn PipelineEditorPage() -> impl IntoView {
    let params = use_params_map();
    view! {
        <WithProject title="Pipeline" what="Pipelines" render=Box::new(move |project| {
            let id = params.with_untracked(|p| p.get("id")).and_then(|s| s.parse::<i64>().ok());
            view! { <Editor project pipeline_id=id/> }.into_any()
        })/>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Definition,
    Input,
}

#[component]
fn Editor(project: ProjectSummary, pipeline_id: Option<i64>) -> impl IntoView {
    let project_id = project.id;
    let loaded = Resource::new(
        move || (project_id, pipeline_id),
        |(p, id)| async move {
            match id {
                Some(id) => get_pipeline(p, id).await.map(|(_, yaml)| yaml),
                None => Ok(STARTER.to_owned()),
            }
        },
    );
    let can_use = project.my_role.allows(ProjectAction::Use);
    view! {
        <Title text=if pipeline_id.is_some() { "Edit pipeline · Wharf" } else { "New pipeline · Wharf" }/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match loaded.await {
                    Err(e) => view! { <PageHeader title="Pipeline"/><ErrorPanel error=e/> }.into_any(),
                    Ok(yaml) => view! { <EditorBody project_id pipeline_id yaml can_use/> }.into_any(),
                }
            })}
        </Suspense>
        {pipeline_id.map(|pipeline| view! { <RecentExecutions project_id pipeline/> })}
    }
}

/// The pipeline's recent executions, live, with their stage icons.
#[component]
fn RecentExecutions(project_id: i64, pipeline: i64) -> impl IntoView {
    let filter = ExecutionFilter {
        project: Some(project_id),
        pipeline: Some(pipeline),
        ..ExecutionFilter::default()
    };
    let filter = StoredValue::new(filter);
    let page = Resource::new(move || filter.get_value(), crate::api::list_executions);
    view! {
        <section class="recent-executions" aria-labelledby="recent-executions" data-testid=ids::PIPELINE_EXECUTIONS>
            <div class="section-header">
                <h2 id="recent-executions">"Recent executions"</h2>
                <a href=format!("/executions?project={project_id}&pipeline={pipeline}")>"All executions of this pipeline"</a>
            </div>
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                        Ok(p) => view! { <LiveList page=p filter=filter.get_value() compact=true/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn EditorBody(
    project_id: i64,
    pipeline_id: Option<i64>,
    yaml: String,
    can_use: bool,
) -> impl IntoView {
    let text = RwSignal::new(yaml);
    let tab = RwSignal::new(Tab::Definition);
    let parsed = Memo::new(move |_| text.with(|t| pipeline::parse(t)));
    // the last definition that parsed, for the diagram while the text has problems
    let last_good = RwSignal::new(None::<PipelineDef>);
    Effect::new(move |_| {
        if let Ok(d) = parsed.get() {
            last_good.set(Some(d));
        }
    });
    let save = ServerAction::<SavePipeline>::new();
    let error = action_error(save.value());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            navigate("/pipelines", Default::default());
        }
    });
    let title = match pipeline_id {
        Some(_) => "Edit pipeline",
        None => "New pipeline",
    };
    let problems = move || parsed.with(|p| p.as_ref().err().cloned().unwrap_or_default());
    let inject = move |_| {
        if let Ok(mut d) = parsed.get_untracked() {
            d.inject_docker_inputs();
            text.set(pipeline::to_yaml(&d));
        }
    };
    view! {
        <PageHeader title=title>
            <a class="button" href="/pipelines">"Back to pipelines"</a>
        </PageHeader>
        <div class="tabs" role="tablist">
            <button type="button" role="tab" aria-selected=move || (tab.get() == Tab::Definition).to_string()
                on:click=move |_| tab.set(Tab::Definition)>"Definition"</button>
            <button type="button" role="tab" aria-selected=move || (tab.get() == Tab::Input).to_string()
                on:click=move |_| tab.set(Tab::Input)>"Input"</button>
        </div>
        <div class="editor">
            <div class="editor-main">
                <Show when=move || tab.get() == Tab::Definition>
                    <label for="pipeline-yaml">"YAML definition"</label>
                    <textarea id="pipeline-yaml" class="code" rows="28" spellcheck="false" readonly=!can_use
                        aria-describedby="pipeline-problems" data-testid=ids::PIPELINE_YAML
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    <div id="pipeline-problems" aria-live="polite">
                        {move || {
                            let ps = problems();
                            if ps.is_empty() {
                                view! { <p class="valid" data-testid=ids::PIPELINE_VALID>"✓ The definition is valid."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="problems" data-testid=ids::PIPELINE_PROBLEMS>
                                        {ps.into_iter().map(|p| view! { <li>{p.to_string()}</li> }).collect_view()}
                                    </ul>
                                }.into_any()
                            }
                        }}
                    </div>
                </Show>
                <Show when=move || tab.get() == Tab::Input>
                    <InputTab parsed inject can_use/>
                </Show>
                {can_use.then(|| view! {
                    <form on:submit=move |ev| {
                        ev.prevent_default();
                        save.dispatch(SavePipeline { project_id, pipeline_id, yaml: text.get_untracked() });
                    }>
                        <ProblemList error/>
                        <div class="dialog-actions">
                            <button type="submit" class="primary" data-testid=ids::SAVE_PIPELINE
                                disabled=move || save.pending().get() || parsed.with(|p| p.is_err())>
                                {move || if save.pending().get() { "Saving…" } else { "Save" }}
                            </button>
                            <a class="button" href="/pipelines">"Cancel"</a>
                        </div>
                    </form>
                })}
            </div>
            <aside class="editor-diagram" aria-label="Stages and tasks" data-testid=ids::PIPELINE_DIAGRAM>
                <h2>"Stages"</h2>
                {move || match last_good.get() {
                    None => view! { <p class="muted">"The diagram appears once the definition is valid."</p> }.into_any(),
                    Some(d) => diagram(&d).into_any(),
                }}
            </aside>
        </div>
    }
}

fn diagram(d: &PipelineDef) -> impl IntoView {
    d.stages
        .iter()
        .map(|s| {
            let groups = s
                .task_order
                .iter()
                .map(|g| {
                    let tasks = g
                        .iter()
                        .map(|t| {
                            let kind = s.task(t).map(|t| t.kind.as_str()).unwrap_or("?");
                            view! { <li class="task-box"><strong>{t.clone()}</strong> <span class="muted">{kind}</span></li> }
                        })
                        .collect_view();
                    let class = if g.len() > 1 { "group parallel" } else { "group" };
                    let hint = if g.len() > 1 { "These tasks run in parallel" } else { "" };
                    view! { <ul class=class title=hint>{tasks}</ul> }
                })
                .collect_view();
            view! {
                <section class="stage-box">
                    <h3>{s.name.clone()}</h3>
                    {groups}
                </section>
            }
        })
        .collect_view()
}

#[component]
fn InputTab<F>(
    parsed: Memo<Result<PipelineDef, Vec<pipeline::DefinitionError>>>,
    inject: F,
    can_use: bool,
) -> impl IntoView
where
    F: Fn(leptos::ev::MouseEvent) + Clone + Send + Sync + 'static,
{
    view! {
        {move || match parsed.get() {
            Err(_) => view! { <p class="notice">"Fix the definition's problems first (Definition tab)."</p> }.into_any(),
            Ok(d) => {
                let docker = d.takes_docker_inputs();
                let inject = inject.clone();
                view! {
                    <p class="page-lead">"Inputs are set when the pipeline runs (the Run dialog, the API, or a Docker webhook) and read as " <code>"${input.NAME}"</code> "."</p>
                    {if d.input.is_empty() {
                        view! { <p class="muted">"This pipeline takes no inputs."</p> }.into_any()
                    } else {
                        view! {
                            <table class="table" data-testid=ids::PIPELINE_INPUTS>
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Default"</th></tr></thead>
                                <tbody>
                                    {d.input.iter().map(|(n, v)| view! {
                                        <tr>
                                            <td><code>{n.clone()}</code> {DOCKER_INPUTS.contains(&n.as_str()).then(|| view! { " " <span class="badge">"Docker"</span> })}</td>
                                            <td>{v.clone()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                    {if docker {
                        view! { <p class="notice success">"Docker parameters are injected: a Docker webhook may trigger this pipeline and fills them from the pushed image."</p> }.into_any()
                    } else if can_use {
                        view! {
                            <button type="button" data-testid=ids::INJECT_DOCKER on:click=inject>"Inject parameters: Docker"</button>
                            <p class="muted">"Adds " {DOCKER_INPUTS.join(", ")} " to the inputs, so a Docker webhook may trigger this pipeline."</p>
                        }.into_any()
                    } else {
                        view! { <span></span> }.into_any()
                    }}
                }.into_any()
            }
        }}
    }
}
