//! The property panel: the pipeline's own settings, or the selected task's form, typed per
//! task type (Kubernetes, REST and Poll, Condition, User Operation, Registry, Pipeline).

use super::fields::{At, CheckField, FieldProblems, NumberField, SelectField, TextField};
use super::*;
use domain::pipeline::{Concurrency, HTTP_METHODS, KUBERNETES_ACTIONS};

/// The panel: the selected task's form, or the pipeline's settings.
#[component]
pub(in crate::pages::pipelines) fn Properties(design: Design) -> impl IntoView {
    move || match design.selected.get() {
        None => view! { <PipelineSettings design/> }.into_any(),
        Some((stage, task)) => {
            // untracked: the form stays while its fields change the model
            let kind =
                untrack(|| design.task(&stage, &task, |t| (t.kind, t.type_name().to_owned())));
            match kind {
                None => view! { <PipelineSettings design/> }.into_any(),
                Some((kind, type_name)) => {
                    view! { <TaskForm design stage task kind type_name/> }.into_any()
                }
            }
        }
    }
}

/// The pipeline's name, description, concurrency and whether it is enabled.
#[component]
fn PipelineSettings(design: Design) -> impl IntoView {
    let get = move |f: fn(&PipelineDef) -> String| move || design.model.with(f);
    view! {
        <h2>"Pipeline"</h2>
        <p class="muted">"Select a task to edit it."</p>
        <div class="field">
            <label for="pipeline-name">"Name"</label>
            <input id="pipeline-name" readonly=!design.can_use prop:value=get(|d| d.name.clone())
                on:input=move |ev| { let v = event_target_value(&ev); design.edit(None, |d| d.name = v) }/>
            <FieldProblems design path="name".to_owned()/>
        </div>
        <div class="field">
            <label for="pipeline-description">"Description"</label>
            <textarea id="pipeline-description" rows="2" readonly=!design.can_use prop:value=get(|d| d.description.clone())
                on:input=move |ev| { let v = event_target_value(&ev); design.edit(None, |d| d.description = v) }></textarea>
        </div>
        <div class="field">
            <label for="pipeline-concurrency">"When triggered while running"</label>
            <select id="pipeline-concurrency" disabled=!design.can_use on:change=move |ev| {
                let v = event_target_value(&ev);
                design.edit(None, |d| {
                    if let Some(c) = Concurrency::parse(&v) {
                        d.concurrency = c;
                        d.max_running = None;
                    }
                })
            }>
                {Concurrency::ALL.iter().map(|c| {
                    let c = *c;
                    view! { <option value=c.as_str() selected=move || design.model.with(|d| d.concurrency == c)>{c.as_str()}</option> }
                }).collect_view()}
            </select>
        </div>
        <div class="field check">
            <input id="pipeline-enabled" type="checkbox" disabled=!design.can_use prop:checked=move || design.model.with(|d| d.enabled)
                on:change=move |ev| { let on = event_target_checked(&ev); design.edit(None, |d| d.enabled = on) }/>
            <label for="pipeline-enabled">"Enabled"</label>
        </div>
        <FieldProblems design path="stages".to_owned()/>
    }
}

/// A task's form: its name, precondition and failure handling, then its type's fields.
#[component]
fn TaskForm(
    design: Design,
    stage: String,
    task: String,
    kind: TaskType,
    type_name: String,
) -> impl IntoView {
    let new_name = RwSignal::new(task.clone());
    let rename_error = RwSignal::new(None::<String>);
    let rename = {
        let (stage, task) = (stage.clone(), task.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let to = new_name.get_untracked().trim().to_owned();
            match design.edit_with(None, |d| d.rename_task(&stage, &task, &to)) {
                Some(Ok(())) => design.selected.set(Some((stage.clone(), to))),
                Some(Err(e)) => rename_error.set(Some(e)),
                None => {}
            }
        }
    };
    view! {
        <h2>{task.clone()}</h2>
        <p class="muted">{kind.label()}</p>
        <form class="rename" on:submit=rename>
            <label for="task-name">"Name"</label>
            <input id="task-name" readonly=!design.can_use prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev))/>
            {design.can_use.then(|| view! { <button type="submit">"Rename"</button> })}
            {move || rename_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </form>
        <div class="task-fields" data-testid=ids::TASK_FORM>
            <TypeFields design stage=stage.clone() task=task.clone() kind type_name/>
        </div>
        <CommonFields design stage=stage.clone() task=task.clone()/>
        <button type="button" class="link-button" on:click=move |_| design.selected.set(None)>"Pipeline settings"</button>
    }
}

/// What every task has: its precondition and whether a failure stops the stage.
#[component]
fn CommonFields(design: Design, stage: String, task: String) -> impl IntoView {
    let (s, t) = (stage, task);
    let pre = {
        let (s, t) = (s.clone(), t.clone());
        move || {
            design
                .task(&s, &t, |x| x.pre_condition.clone())
                .flatten()
                .unwrap_or_default()
        }
    };
    let ignore = {
        let (s, t) = (s.clone(), t.clone());
        move || design.task(&s, &t, |x| x.ignore_failure).unwrap_or(false)
    };
    let (s1, t1, s2, t2) = (s.clone(), t.clone(), s.clone(), t.clone());
    view! {
        <div class="field">
            <label for="task-precondition">"Precondition"</label>
            <input id="task-precondition" readonly=!design.can_use prop:value=pre aria-describedby="task-precondition-hint"
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    let (s, t) = (s1.clone(), t1.clone());
                    design.edit(None, move |d| if let Some(x) = d.task_mut(&s, &t) {
                        x.pre_condition = (!v.trim().is_empty()).then_some(v);
                    })
                }/>
            <p class="hint" id="task-precondition-hint">"The task runs only when this holds; otherwise it is skipped."</p>
            <FieldProblems design path=format!("stages.{s}.tasks.{t}.preCondition")/>
        </div>
        <div class="field check">
            <input id="task-ignore-failure" type="checkbox" disabled=!design.can_use prop:checked=ignore
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    let (s, t) = (s2.clone(), t2.clone());
                    design.edit(None, move |d| if let Some(x) = d.task_mut(&s, &t) { x.ignore_failure = on })
                }/>
            <label for="task-ignore-failure">"Continue on failure"</label>
        </div>
    }
}

/// The fields of the task's type.
#[component]
fn TypeFields(
    design: Design,
    stage: String,
    task: String,
    kind: TaskType,
    type_name: String,
) -> impl IntoView {
    let at = |key: &str| At::new(&stage, &task, key);
    match kind {
        TaskType::Kubernetes => view! { <KubernetesFields design stage=stage.clone() task=task.clone()/> }.into_any(),
        TaskType::Rest | TaskType::Poll => view! {
            <HttpFields design stage=stage.clone() task=task.clone() poll=kind == TaskType::Poll/>
        }.into_any(),
        TaskType::Condition => view! {
            <TextField design at=at("condition") label="Condition" hint="For example ${input.DOCKER_TAG} != \"latest\""/>
        }.into_any(),
        TaskType::UserOperation => view! { <ApprovalFields design stage=stage.clone() task=task.clone()/> }.into_any(),
        TaskType::Registry => view! {
            <SelectField design at=at("endpoint") label="Docker Registry endpoint" none="Choose an endpoint"
                options=Signal::derive(move || design.picks.with(|p| p.registry_endpoints.clone()))/>
            <TextField design at=at("repository") label="Repository"/>
            <TextField design at=at("reference") label="Tag or digest to copy"/>
            <TextField design at=at("tag") label="New tag"/>
        }.into_any(),
        TaskType::Pipeline => view! { <PipelineFields design stage=stage.clone() task=task.clone()/> }.into_any(),
        TaskType::Unsupported => view! {
            <p class="notice warn">{format!("{type_name} tasks are not supported by Wharf. Replace this task with one Wharf runs, or delete it; its settings are kept as written until then.")}</p>
        }.into_any(),
    }
}

/// Kubernetes: cluster, action, payload (a local definition, or a file from the person's
/// disk read into it), namespace, rollout wait.
#[component]
fn KubernetesFields(design: Design, stage: String, task: String) -> impl IntoView {
    let at = |key: &str| At::new(&stage, &task, key);
    let upload_note = RwSignal::new(None::<String>);
    let (s, t) = (stage.clone(), task.clone());
    let on_file = move |ev: leptos::ev::Event| {
        read_file(ev, design, s.clone(), t.clone(), upload_note);
    };
    view! {
        <SelectField design at=at("endpoint") label="Kubernetes cluster" none="Choose a cluster"
            options=Signal::derive(move || design.picks.with(|p| p.kubernetes_endpoints.clone()))/>
        <SelectField design at=at("action") label="Action"
            options=Signal::derive(|| KUBERNETES_ACTIONS.iter().map(|a| (*a).to_owned()).collect())/>
        <fieldset class="field">
            <legend>"Payload source"</legend>
            <p class="hint">"Local definition: the YAML below. Or upload a YAML file from your disk into it."</p>
            <label for="payload-file">"Upload a YAML file"</label>
            <input id="payload-file" type="file" accept=".yaml,.yml,text/yaml,application/yaml" disabled=!design.can_use on:change=on_file/>
            {move || upload_note.get().map(|n| view! { <p class="hint" role="status">{n}</p> })}
        </fieldset>
        <TextField design at=at("yaml") label="Local definition (YAML)" multiline=true/>
        <TextField design at=at("namespace") label="Namespace" hint="Empty: the endpoint's namespace."/>
        <CheckField design at=at("waitForRollout") label="Wait for the rollout"/>
        <NumberField design at=at("rolloutTimeout") label="Rollout timeout (seconds)" max=3600/>
    }
}

/// Reads the chosen file (text, at most 256 KiB) into the task's local definition.
fn read_file(
    ev: leptos::ev::Event,
    design: Design,
    stage: String,
    task: String,
    note: RwSignal<Option<String>>,
) {
    #[cfg(feature = "hydrate")]
    {
        let input: leptos::web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        if file.size() > 256.0 * 1024.0 {
            note.set(Some(format!("{} is larger than 256 KiB.", file.name())));
            return;
        }
        let name = file.name();
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
            match text.ok().and_then(|t| t.as_string()) {
                Some(t) => {
                    design.set(&stage, &task, "yaml", Value::String(t));
                    note.set(Some(format!("Read {name} into the local definition.")));
                }
                None => note.set(Some(format!("{name} could not be read as text."))),
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, design, stage, task, note);
}

/// REST and Poll: method, URL, headers, body; Poll also its exit criteria and pace.
#[component]
fn HttpFields(design: Design, stage: String, task: String, poll: bool) -> impl IntoView {
    let at = |key: &str| At::new(&stage, &task, key);
    view! {
        <SelectField design at=at("method") label="Method"
            options=Signal::derive(|| HTTP_METHODS.iter().map(|m| (*m).to_owned()).collect())/>
        <TextField design at=at("url") label="URL"/>
        <Headers design stage=stage.clone() task=task.clone()/>
        <TextField design at=at("body") label="Body" multiline=true/>
        {poll.then(|| view! {
            <ExitCriteria design stage=stage.clone() task=task.clone()/>
            <NumberField design at=at("interval") label="Interval (seconds)" max=3600/>
            <NumberField design at=at("attempts") label="Attempts" max=10000/>
            <CheckField design at=at("ignoreFailure") label="Ignore intermediate failures"/>
        })}
    }
}

/// The headers table: a name and a value a row, added and removed by buttons.
#[component]
fn Headers(design: Design, stage: String, task: String) -> impl IntoView {
    let rows = {
        let (s, t) = (stage.clone(), task.clone());
        move || match design.setting(&s, &t, "headers") {
            Value::Object(o) => o
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        }
    };
    let write = {
        let (s, t) = (stage.clone(), task.clone());
        move |rows: Vec<(String, String)>| {
            let o: serde_json::Map<String, Value> = rows
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            design.set(
                &s,
                &t,
                "headers",
                if o.is_empty() {
                    Value::Null
                } else {
                    Value::Object(o)
                },
            );
        }
    };
    let (w1, w2, r1) = (write.clone(), write, rows.clone());
    view! {
        <fieldset class="field headers">
            <legend>"Headers"</legend>
            <table class="table compact">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Value"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
                <tbody>
                    {move || {
                        let all = rows();
                        all.clone().into_iter().enumerate().map(|(i, (k, v))| {
                            let (wk, wv, wr) = (w1.clone(), w1.clone(), w1.clone());
                            let (ak, av, ar) = (all.clone(), all.clone(), all.clone());
                            view! {
                                <tr>
                                    <td><input aria-label=format!("Header {} name", i + 1) prop:value=k.clone() readonly=!design.can_use
                                        on:change=move |ev| { let mut a = ak.clone(); a[i].0 = event_target_value(&ev); wk(a) }/></td>
                                    <td><input aria-label=format!("Header {} value", i + 1) prop:value=v.clone() readonly=!design.can_use
                                        on:change=move |ev| { let mut a = av.clone(); a[i].1 = event_target_value(&ev); wv(a) }/></td>
                                    <td><button type="button" class="link-button" disabled=!design.can_use
                                        on:click=move |_| { let mut a = ar.clone(); a.remove(i); wr(a) }>"Remove"</button></td>
                                </tr>
                            }
                        }).collect_view()
                    }}
                </tbody>
            </table>
            <button type="button" disabled=!design.can_use on:click=move |_| {
                let mut a = r1();
                let name = (1..).map(|n| format!("X-Header-{n}")).find(|n| !a.iter().any(|(k, _)| k == n)).unwrap_or_default();
                a.push((name, String::new()));
                w2(a)
            }>"Add header"</button>
        </fieldset>
    }
}

/// A Poll task's success and failure expressions.
#[component]
fn ExitCriteria(design: Design, stage: String, task: String) -> impl IntoView {
    let path = field_path(&stage, &task, "exitCriteria");
    let part = move |which: &'static str, label: &'static str| {
        let (s, t) = (stage.clone(), task.clone());
        let (s2, t2) = (s.clone(), t.clone());
        let id = format!("exit-{which}");
        let value = move || match design.setting(&s, &t, "exitCriteria") {
            Value::Object(o) => o
                .get(which)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            Value::String(e) if which == "success" => e,
            _ => String::new(),
        };
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <input id=id readonly=!design.can_use prop:value=value on:input=move |ev| {
                    let v = event_target_value(&ev);
                    let mut o = match design.setting(&s2, &t2, "exitCriteria") {
                        Value::Object(o) => o,
                        Value::String(e) => [("success".to_owned(), Value::String(e))].into_iter().collect(),
                        _ => serde_json::Map::new(),
                    };
                    o.insert(which.to_owned(), Value::String(v));
                    design.set(&s2, &t2, "exitCriteria", Value::Object(o));
                }/>
            </div>
        }
    };
    view! {
        {part("success", "Success when")}
        {part("failure", "Failure when")}
        <FieldProblems design path/>
    }
}

/// A User Operation: approvers picked from the project's members, summary, description, expiry.
#[component]
fn ApprovalFields(design: Design, stage: String, task: String) -> impl IntoView {
    let at = |key: &str| At::new(&stage, &task, key);
    let (s, t) = (stage.clone(), task.clone());
    let chosen = move || -> Vec<String> {
        match design.setting(&s, &t, "approvers") {
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let (s2, t2) = (stage.clone(), task.clone());
    let toggle = move |email: String, on: bool| {
        let mut now: Vec<String> = match design.setting(&s2, &t2, "approvers") {
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        now.retain(|e| *e != email);
        if on {
            now.push(email);
        }
        let v = if now.is_empty() {
            Value::Null
        } else {
            Value::Array(now.into_iter().map(Value::String).collect())
        };
        design.set(&s2, &t2, "approvers", v);
    };
    let path = field_path(&stage, &task, "approvers");
    view! {
        <fieldset class="field">
            <legend>"Approvers"</legend>
            {move || {
                let picked = chosen();
                let mut everyone = design.picks.with(|p| p.members.clone());
                everyone.extend(picked.iter().filter(|e| !everyone.contains(e)).cloned().collect::<Vec<_>>());
                everyone.into_iter().enumerate().map(|(i, email)| {
                    let id = format!("approver-{i}");
                    let on = picked.contains(&email);
                    let toggle = toggle.clone();
                    let e2 = email.clone();
                    view! {
                        <div class="check">
                            <input id=id.clone() type="checkbox" disabled=!design.can_use prop:checked=on
                                on:change=move |ev| toggle(e2.clone(), event_target_checked(&ev))/>
                            <label for=id>{email}</label>
                        </div>
                    }
                }).collect_view()
            }}
            <FieldProblems design path/>
        </fieldset>
        <TextField design at=at("summary") label="Summary"/>
        <TextField design at=at("description") label="Description" multiline=true/>
        <NumberField design at=at("expiry") label="Expires after (hours)" max=2160/>
    }
}

/// A Pipeline task: which pipeline of the project, and its inputs.
#[component]
fn PipelineFields(design: Design, stage: String, task: String) -> impl IntoView {
    let at = |key: &str| At::new(&stage, &task, key);
    let (s, t) = (stage.clone(), task.clone());
    let own = move || design.model.with(|d| d.name.clone());
    let names = Signal::derive(move || {
        let own = own();
        design.picks.with(|p| {
            p.pipelines
                .iter()
                .map(|(n, _)| n.clone())
                .filter(|n| *n != own)
                .collect()
        })
    });
    let inputs = move || {
        let chosen = design.text_of(&s, &t, "pipeline");
        design.picks.with(|p| {
            p.pipelines
                .iter()
                .find(|(n, _)| *n == chosen)
                .map(|(_, i)| i.clone())
                .unwrap_or_default()
        })
    };
    let (s2, t2) = (stage.clone(), task.clone());
    view! {
        <SelectField design at=at("pipeline") label="Pipeline to run" none="Choose a pipeline" options=names/>
        <fieldset class="field">
            <legend>"Its inputs"</legend>
            {move || {
                let names = inputs();
                if names.is_empty() {
                    return view! { <p class="muted">"It takes no inputs."</p> }.into_any();
                }
                names.into_iter().map(|name| {
                    let (s, t, s3, t3) = (s2.clone(), t2.clone(), s2.clone(), t2.clone());
                    let (n1, n2) = (name.clone(), name.clone());
                    let id = format!("child-input-{name}");
                    let value = move || match design.setting(&s, &t, "inputProperties") {
                        Value::Object(o) => o.get(&n1).and_then(Value::as_str).unwrap_or_default().to_owned(),
                        _ => String::new(),
                    };
                    view! {
                        <label for=id.clone()><code>{name.clone()}</code></label>
                        <input id=id readonly=!design.can_use prop:value=value on:input=move |ev| {
                            let v = event_target_value(&ev);
                            let mut o = match design.setting(&s3, &t3, "inputProperties") {
                                Value::Object(o) => o,
                                _ => serde_json::Map::new(),
                            };
                            o.insert(n2.clone(), Value::String(v));
                            design.set(&s3, &t3, "inputProperties", Value::Object(o));
                        }/>
                    }
                }).collect_view().into_any()
            }}
        </fieldset>
    }
}
