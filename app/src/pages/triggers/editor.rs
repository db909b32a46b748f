//! The webhook card editor (New and Edit): name, registry endpoint, pipeline and its inputs,
//! API token, image and tag patterns, and switches.

use super::*;

/// The webhook editor's fields, one signal each.
#[derive(Clone, Copy)]
struct CardFields {
    name: RwSignal<String>,
    description: RwSignal<String>,
    endpoint: RwSignal<Option<i64>>,
    pipeline: RwSignal<Option<i64>>,
    input: RwSignal<BTreeMap<String, String>>,
    api_token: RwSignal<String>,
    image: RwSignal<String>,
    tag: RwSignal<String>,
    enabled: RwSignal<bool>,
    send_result: RwSignal<bool>,
}

impl CardFields {
    fn new(existing: Option<&WebhookCard>) -> Self {
        let pick = |f: fn(&WebhookCard) -> String| existing.map(f).unwrap_or_default();
        Self {
            name: RwSignal::new(pick(|c| c.name.clone())),
            description: RwSignal::new(pick(|c| c.description.clone())),
            endpoint: RwSignal::new(existing.map(|c| c.endpoint_id)),
            pipeline: RwSignal::new(existing.map(|c| c.pipeline_id)),
            input: RwSignal::new(existing.map(|c| c.input.clone()).unwrap_or_default()),
            api_token: RwSignal::new(String::new()),
            image: RwSignal::new(pick(|c| c.image.clone())),
            tag: RwSignal::new(pick(|c| c.tag.clone())),
            enabled: RwSignal::new(existing.is_none_or(|c| c.enabled)),
            send_result: RwSignal::new(existing.is_some_and(|c| c.send_result)),
        }
    }

    fn form(self) -> WebhookForm {
        WebhookForm {
            name: self.name.get_untracked(),
            description: self.description.get_untracked(),
            endpoint_id: self.endpoint.get_untracked().unwrap_or_default(),
            pipeline_id: self.pipeline.get_untracked().unwrap_or_default(),
            input: self.input.get_untracked(),
            api_token: self.api_token.get_untracked(),
            image: self.image.get_untracked(),
            tag: self.tag.get_untracked(),
            enabled: self.enabled.get_untracked(),
            send_result: self.send_result.get_untracked(),
        }
    }
}

#[component]
pub(super) fn WebhookEditor(
    project_id: i64,
    project_name: String,
    administrator: bool,
    existing: Option<WebhookCard>,
    save: ServerAction<SaveWebhook>,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let webhook_id = existing.as_ref().map(|c| c.id);
    let f = CardFields::new(existing.as_ref());
    let has_token = existing
        .as_ref()
        .is_some_and(|c| c.api_token_name.is_some());
    let generating = RwSignal::new(false);
    let endpoint_save = ServerAction::<SaveEndpoint>::new();
    let creating_endpoint = RwSignal::new(false);
    let endpoints = crate::load::load(
        move || endpoint_save.version().get(),
        move |_| list_endpoints(project_id, 1),
    );
    let pipelines = crate::load::load(|| (), move |_| list_pipelines(project_id));
    let error = action_error(save.value());
    let close = on_close.clone();
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            close();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveWebhook {
            project_id,
            webhook_id,
            form: f.form(),
        });
    };
    let title = if webhook_id.is_some() {
        "Edit Webhook for Docker"
    } else {
        "New Webhook for Docker"
    };
    let close = on_close.clone();
    view! {
        <Dialog title=title.to_owned() on_close=move || close() wide=true testid=ids::WEBHOOK_EDITOR>
            <form class="form-grid" on:submit=submit novalidate>
                <span class="label">"Project"</span>
                <span>{project_name}</span>

                <NameAndDescription name=f.name description=f.description error/>
                <RegistryPicker endpoint=f.endpoint endpoints endpoint_save creating_endpoint error/>
                <PipelinePicker pipeline=f.pipeline input=f.input pipelines error/>
                <TokenField api_token=f.api_token has_token generating error/>
                <ImageAndTag image=f.image tag=f.tag error/>
                <Switches enabled=f.enabled send_result=f.send_result/>

                <span></span>
                <div>
                    <FormError error fields=&["name", "endpoint_id", "pipeline_id", "input", "api_token", "image", "tag"]/>
                    <div class="dialog-actions">
                        <button type="submit" class="primary" disabled=move || save.pending().get()>
                            {move || if save.pending().get() { "Saving…" } else { "Save" }}
                        </button>
                        <button type="button" on:click=move |_| on_close()>"Cancel"</button>
                    </div>
                </div>
            </form>
        </Dialog>
        <GenerateTokenDialog open=generating/>
        {move || creating_endpoint.get().then(|| view! {
            <EndpointEditor project_id administrator existing=None save=endpoint_save on_close=move || creating_endpoint.set(false)/>
        })}
    }
}

/// The card's name and description.
#[component]
fn NameAndDescription(
    name: RwSignal<String>,
    description: RwSignal<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <label for="webhook-name">"Name"</label>
        <div>
            <input id="webhook-name" required maxlength="64" prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))/>
            <FieldError error field="name"/>
        </div>

        <label for="webhook-description">"Description"</label>
        <input id="webhook-description" maxlength="2000" prop:value=move || description.get()
            on:input=move |ev| description.set(event_target_value(&ev))/>
    }
}

/// Enabled, and whether the result goes back to the registry.
#[component]
fn Switches(enabled: RwSignal<bool>, send_result: RwSignal<bool>) -> impl IntoView {
    view! {
        <span></span>
        <label class="checkbox"><input type="checkbox" prop:checked=move || enabled.get()
            on:change=move |ev| enabled.set(event_target_checked(&ev))/>" Enabled"</label>

        <span></span>
        <label class="checkbox"><input type="checkbox" prop:checked=move || send_result.get()
            on:change=move |ev| send_result.set(event_target_checked(&ev))/>" Send the result back to the registry (Docker Hub callback)"</label>
    }
}

/// The card's Docker Registry endpoint, or a way to create one.
#[component]
fn RegistryPicker(
    endpoint: RwSignal<Option<i64>>,
    endpoints: crate::load::Loaded<Result<domain::endpoints::EndpointPage, AppError>>,
    endpoint_save: ServerAction<SaveEndpoint>,
    creating_endpoint: RwSignal<bool>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <label for="webhook-endpoint">"Docker Registry endpoint"</label>
        <div>
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match endpoints.await {
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                        Ok(p) => {
                            let registries: Vec<_> = p.rows.into_iter().filter(|e| e.kind == EndpointKind::DockerRegistry).collect();
                            if registries.is_empty() {
                                view! {
                                    <p class="notice">"This project has no Docker Registry endpoint yet. "
                                        <button type="button" on:click=move |_| { endpoint_save.clear(); creating_endpoint.set(true); }>"Create Endpoint"</button>
                                    </p>
                                }.into_any()
                            } else {
                                if endpoint.get_untracked().is_none() {
                                    endpoint.set(registries.first().map(|e| e.id));
                                }
                                view! {
                                    <select id="webhook-endpoint" on:change=move |ev| endpoint.set(event_target_value(&ev).parse().ok())>
                                        {registries.into_iter().map(|e| {
                                            let label = format!("{} ({})", e.name, e.server_type.map_or("", RegistryServerType::label));
                                            view! { <option value=e.id.to_string() selected=move || endpoint.get() == Some(e.id)>{label}</option> }
                                        }).collect_view()}
                                    </select>
                                    " "
                                    <button type="button" class="link-button" on:click=move |_| { endpoint_save.clear(); creating_endpoint.set(true); }>"Create Endpoint"</button>
                                }.into_any()
                            }
                        }
                    }
                })}
            </Transition>
            <FieldError error field="endpoint_id"/>
        </div>
    }
}

/// The pipeline the card runs (one with Docker inputs) and its other inputs' values.
#[component]
fn PipelinePicker(
    pipeline: RwSignal<Option<i64>>,
    input: RwSignal<BTreeMap<String, String>>,
    pipelines: crate::load::Loaded<Result<Vec<PipelineRow>, AppError>>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <label for="webhook-pipeline">"Pipeline"</label>
        <div>
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match pipelines.await {
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                        Ok(all) => {
                            let docker: Vec<PipelineRow> = all.into_iter().filter(|p| p.docker_inputs).collect();
                            if docker.is_empty() {
                                return view! {
                                    <p class="notice">"No pipeline of this project has Docker inputs. Open a pipeline, Input tab, " <strong>"Inject parameters: Docker"</strong> ", and save it. "
                                        <a href="/pipelines">"Go to Pipelines"</a></p>
                                }.into_any();
                            }
                            if pipeline.get_untracked().is_none() {
                                pipeline.set(docker.first().map(|p| p.id));
                            }
                            let rows = StoredValue::new(docker.clone());
                            view! {
                                <select id="webhook-pipeline" on:change=move |ev| { pipeline.set(event_target_value(&ev).parse().ok()); input.set(BTreeMap::new()); }>
                                    {docker.into_iter().map(|p| view! { <option value=p.id.to_string() selected=move || pipeline.get() == Some(p.id)>{p.name.clone()}</option> }).collect_view()}
                                </select>
                                <fieldset class="webhook-inputs">
                                    <legend>"Input parameters"</legend>
                                    {move || {
                                        let p = rows.with_value(|r| r.iter().find(|p| Some(p.id) == pipeline.get()).cloned());
                                        p.map(|p| p.input.into_iter().map(|(n, default)| {
                                            let from_event = DOCKER_INPUTS.contains(&n.as_str());
                                            let id = format!("webhook-input-{n}");
                                            let key = n.clone();
                                            let key2 = n.clone();
                                            view! {
                                                <div class="input-row">
                                                    <label for=id.clone()>{n.clone()}</label>
                                                    {if from_event {
                                                        view! { <span id=id class="muted">"From the pushed image"</span> }.into_any()
                                                    } else {
                                                        view! {
                                                            <input id=id placeholder=format!("default: {default}")
                                                                prop:value=move || input.with(|m| m.get(&key).cloned().unwrap_or_default())
                                                                on:input=move |ev| {
                                                                    let v = event_target_value(&ev);
                                                                    input.update(|m| { if v.is_empty() { m.remove(&key2); } else { m.insert(key2.clone(), v); } });
                                                                }/>
                                                        }.into_any()
                                                    }}
                                                </div>
                                            }
                                        }).collect_view())
                                    }}
                                </fieldset>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
            <FieldError error field="pipeline_id"/>
            <FieldError error field="input"/>
        </div>
    }
}

/// The API token the card's executions run with.
#[component]
fn TokenField(
    api_token: RwSignal<String>,
    has_token: bool,
    generating: RwSignal<bool>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <label for="webhook-token">"API token"</label>
        <div>
            <div class="token-box">
                <input id="webhook-token" type="password" autocomplete="off" spellcheck="false"
                    placeholder=if has_token { "Leave empty to keep the token set" } else { "Paste an API token" }
                    prop:value=move || api_token.get() on:input=move |ev| api_token.set(event_target_value(&ev))/>
                <button type="button" data-testid=ids::GENERATE_TOKEN on:click=move |_| generating.set(true)>"Generate Token"</button>
            </div>
            <p class="hint">"Executions run as the token's owner. Wharf keeps only a reference to the token, never the token itself."</p>
            <FieldError error field="api_token"/>
        </div>
    }
}

/// Which pushes the card takes: image and tag patterns.
#[component]
fn ImageAndTag(
    image: RwSignal<String>,
    tag: RwSignal<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <label for="webhook-image">"Image"</label>
        <div>
            <input id="webhook-image" required placeholder="acme/web" prop:value=move || image.get()
                on:input=move |ev| image.set(event_target_value(&ev))/>
            <p class="hint">"The repository name (acme/web), a glob (acme/*) or a /regular expression/."</p>
            <FieldError error field="image"/>
        </div>

        <label for="webhook-tag">"Tag"</label>
        <div>
            <input id="webhook-tag" placeholder="any tag" prop:value=move || tag.get()
                on:input=move |ev| tag.set(event_target_value(&ev))/>
            <p class="hint">"Exact (1.0), a glob (v*) or a /regular expression/; empty: any tag."</p>
            <FieldError error field="tag"/>
        </div>
    }
}
