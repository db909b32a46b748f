//! The board: stages as columns with their task cards, and the buttons that add, rename,
//! move and remove them.

use super::*;

/// A type picker: choose a type, then Add. `testid` names the form for tests.
#[component]
fn AddTask(
    design: Design,
    stage: String,
    /// Add beside this task (parallel); `None`: a new group at the stage's end.
    parallel_with: Option<String>,
    #[prop(into)] on_done: Callback<()>,
) -> impl IntoView {
    let kind = RwSignal::new(TaskType::Kubernetes);
    // the picker takes the focus when it opens, so a keyboard user goes on from there
    let picker = NodeRef::<leptos::html::Select>::new();
    Effect::new(move |_| {
        if let Some(el) = picker.get() {
            let _ = el.focus();
        }
    });
    let id = format!(
        "add-type-{}-{}",
        stage,
        parallel_with.clone().unwrap_or_default()
    )
    .replace(' ', "_");
    let label = match &parallel_with {
        Some(t) => format!("Type of the task to run beside {t}"),
        None => format!("Type of the task to add to {stage}"),
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (stage, parallel) = (stage.clone(), parallel_with.clone());
        let added = design
            .edit_with(None, |d| {
                d.add_task(&stage, kind.get_untracked(), parallel.as_deref())
            })
            .flatten();
        if let Some(name) = added {
            design.selected.set(Some((stage.clone(), name.clone())));
            design.focus.set(Some(format!("card:{stage}/{name}")));
        }
        on_done.run(());
    };
    view! {
        <form class="add-task" on:submit=add data-testid=ids::ADD_TASK_FORM>
            <label for=id.clone() class="visually-hidden">{label}</label>
            <select id=id node_ref=picker on:change=move |ev| {
                let v = event_target_value(&ev);
                if let Some(k) = TaskType::parse(&v) {
                    kind.set(k);
                }
            }>
                {TaskType::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
            </select>
            <button type="submit" class="primary">"Add"</button>
            <button type="button" on:click=move |_| on_done.run(())>"Cancel"</button>
        </form>
    }
}

/// A task card: selecting it opens its form; its buttons move, rename (in the form), run a
/// task beside it, or delete it.
#[component]
fn TaskCard(
    design: Design,
    stage: String,
    task: String,
    kind: String,
    /// Of a type Wharf does not run.
    unsupported: bool,
) -> impl IntoView {
    let path = format!("stages.{stage}.tasks.{task}");
    let problems = Signal::derive(move || design.problems_in(&path));
    let (s, t) = (stage.clone(), task.clone());
    let selected = Signal::derive(move || {
        design
            .selected
            .with(|x| x.as_ref().is_some_and(|(a, b)| *a == s && *b == t))
    });
    let adding = RwSignal::new(false);
    let key = format!("{stage}/{task}");
    let act = {
        let (stage, task) = (stage.clone(), task.clone());
        move |what: &'static str| {
            let (stage, task) = (stage.clone(), task.clone());
            let focus = Some(format!("{what}:{stage}/{task}"));
            match what {
                "up" => design.edit(focus, |d| d.move_task(&stage, &task, -1)),
                "down" => design.edit(focus, |d| d.move_task(&stage, &task, 1)),
                _ => {
                    design.selected.set(None);
                    let next = Some(format!("add-task:{stage}"));
                    design.edit(next, |d| d.remove_task(&stage, &task));
                }
            }
        }
    };
    let (a1, a2, a3) = (act.clone(), act.clone(), act);
    let select = {
        let (stage, task) = (stage.clone(), task.clone());
        move |_| design.selected.set(Some((stage.clone(), task.clone())))
    };
    let (task_attr, task_label) = (task.clone(), task.clone());
    view! {
        <li class="task-card" class:selected=selected class:has-problems={move || problems.get() > 0}
            class:unsupported=unsupported data-task=task_attr>
            <button type="button" class="card-select" data-focus=format!("card:{key}")
                aria-pressed=move || selected.get().to_string() on:click=select>
                <strong>{task_label}</strong>
                <span class="muted">{kind.clone()}</span>
                {move || {
                    let n = problems.get();
                    (n > 0).then(|| view! {
                        <span class="card-problems">{format!("⚠ {n} problem{}", if n == 1 { "" } else { "s" })}</span>
                    })
                }}
            </button>
            {design.can_use.then(|| view! {
                <div class="card-actions">
                    <button type="button" data-focus=format!("up:{key}") aria-label=format!("Move {task} earlier") title="Move earlier" on:click=move |_| a1("up")>"↑"</button>
                    <button type="button" data-focus=format!("down:{key}") aria-label=format!("Move {task} later") title="Move later" on:click=move |_| a2("down")>"↓"</button>
                    <button type="button" aria-label=format!("Add a task beside {task}") title="Add parallel task" on:click=move |_| adding.set(true)>"∥+"</button>
                    <button type="button" class="danger-link" aria-label=format!("Delete {task}") title="Delete" on:click=move |_| a3("delete")>"✕"</button>
                </div>
                <Show when=move || adding.get()>
                    <AddTask design stage=stage.clone() parallel_with=Some(task.clone()) on_done=move || adding.set(false)/>
                </Show>
            })}
        </li>
    }
}

/// A stage's groups of cards, in `taskOrder`; a parallel group in one frame.
fn stage_groups(design: Design, stage: &domain::pipeline::Stage) -> impl IntoView {
    stage
        .task_order
        .iter()
        .map(|g| {
            let cards = g
                .iter()
                .map(|t| {
                    let unsupported = stage.task(t).is_some_and(|x| x.kind == TaskType::Unsupported);
                    let kind = stage.task(t).map(|x| match x.kind {
                        TaskType::Unsupported => format!("{} (not supported by Wharf)", x.type_name()),
                        k => k.label().to_owned(),
                    });
                    view! { <TaskCard design stage=stage.name.clone() task=t.clone() kind=kind.unwrap_or_default() unsupported/> }
                })
                .collect_view();
            let parallel = g.len() > 1;
            view! {
                <ul class="card-group" class:parallel=parallel
                    aria-label=if parallel { "These tasks run in parallel" } else { "Task" }>{cards}</ul>
            }
        })
        .collect_view()
}

/// Rename a stage: its new name, checked (unique, no dots or commas) before it is used.
#[component]
fn RenameStage(design: Design, name: String, renaming: RwSignal<bool>) -> impl IntoView {
    let new_name = RwSignal::new(name.clone());
    let rename_error = RwSignal::new(None::<String>);
    let rename_id = format!("rename-stage-{name}").replace(' ', "_");
    let rename = {
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let to = new_name.get_untracked();
            let focus = Some(format!("stage-rename:{}", to.trim()));
            match design.edit_with(focus, |d| d.rename_stage(&name, &to)) {
                Some(Ok(())) | None => {}
                Some(Err(e)) => rename_error.set(Some(e)),
            }
        }
    };
    view! {
        <form class="rename" on:submit=rename>
            <label for=rename_id.clone()>"Stage name"</label>
            <input id=rename_id prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev))/>
            <button type="submit">"Rename"</button>
            <button type="button" on:click=move |_| renaming.set(false)>"Cancel"</button>
            {move || rename_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </form>
    }
}

/// A stage's column: its name and buttons, its groups of cards, and Add task.
#[component]
fn StageColumn(
    design: Design,
    stage: domain::pipeline::Stage,
    first: bool,
    last: bool,
) -> impl IntoView {
    let name = stage.name.clone();
    let adding = RwSignal::new(false);
    let renaming = RwSignal::new(false);
    let stage_problems = {
        let path = format!("stages.{name}");
        move || design.problems_at(&path)
    };
    let groups = stage_groups(design, &stage);
    let stage_act = {
        let name = name.clone();
        move |what: &'static str| {
            let name = name.clone();
            let focus = Some(format!("stage-{what}:{name}"));
            match what {
                "left" => design.edit(focus, |d| d.move_stage(&name, -1)),
                "right" => design.edit(focus, |d| d.move_stage(&name, 1)),
                _ => {
                    design.selected.set(None);
                    design.edit(Some("add-stage".to_owned()), |d| d.remove_stage(&name));
                }
            }
        }
    };
    let (m1, m2, m3) = (stage_act.clone(), stage_act.clone(), stage_act);
    let (name_a, name_b, name_c, name_d) = (name.clone(), name.clone(), name.clone(), name.clone());
    view! {
        <section class="stage-column" aria-label=format!("Stage {name_a}") data-stage=name_a.clone()>
            <header class="stage-head">
                <h3>{name_a.clone()}</h3>
                {design.can_use.then(|| view! {
                    <div class="stage-actions">
                        <button type="button" data-focus=format!("stage-rename:{name}") aria-label=format!("Rename stage {name}") on:click=move |_| renaming.set(true)>"Rename"</button>
                        <button type="button" data-focus=format!("stage-left:{name}") aria-label=format!("Move stage {name} earlier") disabled=first on:click=move |_| m1("left")>"←"</button>
                        <button type="button" data-focus=format!("stage-right:{name}") aria-label=format!("Move stage {name} later") disabled=last on:click=move |_| m2("right")>"→"</button>
                        <button type="button" class="danger-link" aria-label=format!("Delete stage {name}") on:click=move |_| m3("delete")>"✕"</button>
                    </div>
                })}
            </header>
            <Show when=move || renaming.get()>
                <RenameStage design name=name_d.clone() renaming/>
            </Show>
            {move || stage_problems().into_iter().map(|p| view! { <p class="field-error">{p}</p> }).collect_view()}
            {if stage.task_order.is_empty() {
                view! { <p class="muted">"No tasks yet."</p> }.into_any()
            } else {
                groups.into_any()
            }}
            {design.can_use.then(move || view! {
                <Show when=move || adding.get() fallback=move || view! {
                    <button type="button" class="add-task-button" data-focus=format!("add-task:{name_b}")
                        on:click=move |_| adding.set(true)>"+ Add task"</button>
                }>
                    <AddTask design stage=name_c.clone() parallel_with=None on_done=move || adding.set(false)/>
                </Show>
            })}
        </section>
    }
}

/// The stages, left to right, and Add stage.
#[component]
pub(in crate::pages::pipelines) fn Board(design: Design) -> impl IntoView {
    let add_stage = move |_| {
        let name = design.edit_with(None, PipelineDef::add_stage);
        if let Some(name) = name {
            design.focus.set(Some(format!("add-task:{name}")));
        }
    };
    view! {
        <div class="designer-board" role="region" aria-label="Stages and tasks" data-testid=ids::DESIGNER_BOARD>
            {move || {
                let stages = design.model.with(|d| d.stages.clone());
                let n = stages.len();
                stages
                    .into_iter()
                    .enumerate()
                    .map(|(i, stage)| view! { <StageColumn design stage first=i == 0 last=i + 1 == n/> })
                    .collect_view()
            }}
            {design.can_use.then(|| view! {
                <button type="button" class="add-stage" data-focus="add-stage" on:click=add_stage>"+ Add stage"</button>
            })}
        </div>
    }
}
