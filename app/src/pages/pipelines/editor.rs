//! A pipeline's page: the editor (YAML checked as you type, the diagram, the Input tab) and its recent executions.

use super::*;

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
pub(super) enum Tab {
    Designer,
    Definition,
    Input,
}

#[component]
pub(super) fn Editor(project: ProjectSummary, pipeline_id: Option<i64>) -> impl IntoView {
    let project_id = project.id;
    let loaded = crate::load::load(
        move || (project_id, pipeline_id),
        |(p, id)| async move {
            match id {
                Some(id) => get_pipeline(p, id)
                    .await
                    .map(|(row, yaml)| (row.attention, yaml)),
                None => Ok((Vec::new(), STARTER.to_owned())),
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
                    Ok((saved_attention, yaml)) => view! { <EditorBody project_id pipeline_id yaml saved_attention can_use/> }.into_any(),
                }
            })}
        </Suspense>
        {pipeline_id.map(|pipeline| view! { <RecentExecutions project_id pipeline/> })}
    }
}

/// The pipeline's recent executions, live, with their stage icons.
#[component]
pub(super) fn RecentExecutions(project_id: i64, pipeline: i64) -> impl IntoView {
    let filter = ExecutionFilter {
        project: Some(project_id),
        pipeline: Some(pipeline),
        ..ExecutionFilter::default()
    };
    let filter = StoredValue::new(filter);
    let page = crate::load::load(move || filter.get_value(), crate::api::list_executions);
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
pub(super) fn EditorBody(
    project_id: i64,
    pipeline_id: Option<i64>,
    yaml: String,
    saved_attention: Vec<String>,
    can_use: bool,
) -> impl IntoView {
    let first = pipeline::parse(&yaml);
    let saved_attention = beyond_definition(saved_attention, first.as_ref().ok());
    let text = RwSignal::new(yaml);
    // the designer is the default view; a definition that does not parse opens as YAML
    let tab = RwSignal::new(if first.is_ok() {
        Tab::Designer
    } else {
        Tab::Definition
    });
    let parsed = Memo::new(move |_| text.with(|t| pipeline::parse(t)));
    let design = designer_state(project_id, text, first.ok(), parsed, can_use);
    let synced = follow_yaml(tab, parsed, design);
    let last_good = last_good(parsed);
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
    // on the designer's model, which also holds what does not check yet
    let inject = move |_| design.edit(None, PipelineDef::inject_docker_inputs);
    view! {
        <PageHeader title=title>
            <a class="button" href="/pipelines">"Back to pipelines"</a>
        </PageHeader>
        <Attention parsed server=saved_attention/>
        <TabBar tab/>
        <DesignerView tab synced design/>
        <div class="editor" class:designing=move || tab.get() == Tab::Designer>
            <div class="editor-main">
                <Show when=move || tab.get() == Tab::Designer>
                    <DesignerProblems parsed/>
                </Show>
                <Show when=move || tab.get() == Tab::Definition>
                    <DefinitionTab text parsed can_use/>
                </Show>
                <Show when=move || tab.get() == Tab::Input>
                    <InputTab model=design.model synced inject can_use/>
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
            <Diagram tab last_good/>
        </div>
    }
}

/// The tabs: Designer, YAML, Input.
#[component]
fn TabBar(tab: RwSignal<Tab>) -> impl IntoView {
    view! {
        <div class="tabs" role="tablist">
            <button type="button" role="tab" aria-selected=move || (tab.get() == Tab::Designer).to_string()
                on:click=move |_| tab.set(Tab::Designer)>"Designer"</button>
            <button type="button" role="tab" aria-selected=move || (tab.get() == Tab::Definition).to_string()
                on:click=move |_| tab.set(Tab::Definition)>"YAML"</button>
            <button type="button" role="tab" aria-selected=move || (tab.get() == Tab::Input).to_string()
                on:click=move |_| tab.set(Tab::Input)>"Input"</button>
        </div>
    }
}

/// The designer tab: the designer, or why it cannot show the YAML as it is.
#[component]
fn DesignerView(
    tab: RwSignal<Tab>,
    synced: RwSignal<bool>,
    design: super::designer::Design,
) -> impl IntoView {
    view! {
        <Show when=move || tab.get() == Tab::Designer>
            <Show when=move || synced.get() fallback=|| view! {
                <p class="notice warn" role="status">"The YAML has problems the designer cannot show. Fix them in the YAML view, then come back."</p>
            }>
                <super::designer::Designer design/>
            </Show>
        </Show>
    }
}

/// Beside the YAML view: the stages and tasks of the last definition that parsed.
#[component]
fn Diagram(tab: RwSignal<Tab>, last_good: RwSignal<Option<PipelineDef>>) -> impl IntoView {
    view! {
        <aside class="editor-diagram" aria-label="Stages and tasks" data-testid=ids::PIPELINE_DIAGRAM
            hidden=move || tab.get() == Tab::Designer>
            <h2>"Stages"</h2>
            {move || match last_good.get() {
                None => view! { <p class="muted">"The diagram appears once the definition is valid."</p> }.into_any(),
                Some(d) => diagram(&d).into_any(),
            }}
        </aside>
    }
}

/// YAML typed in the YAML view (or the Input tab's Inject) reaches the designer's model
/// whenever it parses; the flag says whether the model shows the text.
fn follow_yaml(
    tab: RwSignal<Tab>,
    parsed: Memo<Result<PipelineDef, Vec<pipeline::DefinitionError>>>,
    design: super::designer::Design,
) -> RwSignal<bool> {
    let synced = RwSignal::new(true);
    Effect::new(move |_| {
        let p = parsed.get();
        if tab.get_untracked() != Tab::Designer {
            match p {
                Ok(d) => {
                    design.model.set(d);
                    synced.set(true);
                }
                // text the designer wrote from its model is still the model's
                Err(_) => synced.set(design.model.with_untracked(|m| {
                    design.text.with_untracked(|t| *t == pipeline::to_yaml(m))
                })),
            }
        }
    });
    synced
}

/// The last definition that parsed, for the diagram while the text has problems.
fn last_good(
    parsed: Memo<Result<PipelineDef, Vec<pipeline::DefinitionError>>>,
) -> RwSignal<Option<PipelineDef>> {
    let last = RwSignal::new(None::<PipelineDef>);
    Effect::new(move |_| {
        if let Ok(d) = parsed.get() {
            last.set(Some(d));
        }
    });
    last
}

/// The designer's shared state, with what its pickers offer loaded from the server.
fn designer_state(
    project_id: i64,
    text: RwSignal<String>,
    first: Option<PipelineDef>,
    parsed: Memo<Result<PipelineDef, Vec<pipeline::DefinitionError>>>,
    can_use: bool,
) -> super::designer::Design {
    let design = super::designer::Design {
        model: RwSignal::new(first.unwrap_or_else(|| PipelineDef::new("", ""))),
        text,
        selected: RwSignal::new(None),
        problems: Signal::derive(move || {
            parsed.with(|p| p.as_ref().err().cloned().unwrap_or_default())
        }),
        picks: RwSignal::new(Default::default()),
        focus: RwSignal::new(None),
        can_use,
    };
    let picks = LocalResource::new(move || crate::api::designer_picks(project_id));
    Effect::new(move |_| {
        if let Some(Ok(p)) = picks.get() {
            design.picks.set(p);
        }
    });
    design
}

/// Below the designer: every problem the checker finds, each also shown at its field.
#[component]
fn DesignerProblems(
    parsed: Memo<Result<PipelineDef, Vec<pipeline::DefinitionError>>>,
) -> impl IntoView {
    move || {
        match parsed.get() {
        Ok(_) => view! { <p class="valid" data-testid=ids::PIPELINE_VALID>"✓ The definition is valid."</p> }.into_any(),
        Err(ps) => view! {
            <ul class="problems" data-testid=ids::PIPELINE_PROBLEMS aria-live="polite">
                {ps.into_iter().map(|p| view! { <li>{p.to_string()}</li> }).collect_view()}
            </ul>
        }.into_any(),
    }
    }
}

/// What the server found beyond the definition itself (endpoints and pipelines the project
/// lacks): the saved list less what the saved definition says.
fn beyond_definition(saved: Vec<String>, def: Option<&PipelineDef>) -> Vec<String> {
    let own: Vec<String> = def
        .map(|d| d.attention.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    saved.into_iter().filter(|l| !own.contains(l)).collect()
}

/// What must change before the pipeline may be enabled: what the definition says as it is
/// typed, and what the server found when it was saved (endpoints and pipelines the project
/// lacks).
#[component]
fn Attention(
    parsed: Memo<Result<PipelineDef, Vec<pipeline::DefinitionError>>>,
    /// What the server found when it was saved, beyond the definition itself.
    server: Vec<String>,
) -> impl IntoView {
    let lines = move || {
        let mut lines = server.clone();
        if let Ok(d) = parsed.get() {
            lines.extend(d.attention.iter().map(ToString::to_string));
        }
        lines
    };
    move || {
        let lines = lines();
        (!lines.is_empty()).then(|| view! {
            <div class="notice warn" role="status">
                <p><strong>"Wharf cannot run this pipeline yet."</strong> " It stays disabled until these are replaced, removed or added:"</p>
                <super::AttentionList lines/>
            </div>
        })
    }
}

/// The YAML definition, with its problems (or that it is valid) as it is typed.
#[component]
fn DefinitionTab(
    text: RwSignal<String>,
    parsed: Memo<Result<PipelineDef, Vec<pipeline::DefinitionError>>>,
    can_use: bool,
) -> impl IntoView {
    let problems = move || parsed.with(|p| p.as_ref().err().cloned().unwrap_or_default());
    view! {
        <label for="pipeline-yaml">"YAML definition"</label>
        <super::code::CodeEditor text problems=Signal::derive(problems) readonly=!can_use/>
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
    }
}

pub(super) fn diagram(d: &PipelineDef) -> impl IntoView {
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
                            let kind = s.task(t).map(|t| t.type_name().to_owned()).unwrap_or_else(|| "?".to_owned());
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
pub(super) fn InputTab<F>(
    model: RwSignal<PipelineDef>,
    synced: RwSignal<bool>,
    inject: F,
    can_use: bool,
) -> impl IntoView
where
    F: Fn(leptos::ev::MouseEvent) + Clone + Send + Sync + 'static,
{
    view! {
        {move || match synced.get().then(|| model.get()) {
            None => view! { <p class="notice">"Fix the YAML's problems first (YAML tab)."</p> }.into_any(),
            Some(d) => {
                let docker = d.takes_docker_inputs();
                let inject = inject.clone();
                view! {
                    <p class="page-lead">"Inputs are set when the pipeline runs (the Run dialog, the API, or a Docker webhook) and read as " <code>"${input.NAME}"</code> "."</p>
                    {if d.input.is_empty() {
                        view! { <p class="muted">"This pipeline takes no inputs."</p> }.into_any()
                    } else {
                        view! {
                            <table class="table" data-testid=ids::PIPELINE_INPUTS>
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Default"</th><th scope="col">"Description"</th><th scope="col">"Mandatory"</th></tr></thead>
                                <tbody>
                                    {d.input.iter().map(|(n, v)| {
                                        let meta = d.meta(n).cloned().unwrap_or_default();
                                        view! {
                                            <tr>
                                                <td><code>{n.clone()}</code> {DOCKER_INPUTS.contains(&n.as_str()).then(|| view! { " " <span class="badge">"Docker"</span> })}</td>
                                                <td>{v.clone()}</td>
                                                <td>{meta.description}</td>
                                                <td>{if meta.mandatory { "Yes" } else { "No" }}</td>
                                            </tr>
                                        }
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
