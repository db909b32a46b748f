//! The endpoint form (New and Edit, both kinds) and Accept certificate.

use super::*;

#[component]
pub(crate) fn EndpointEditor(
    project_id: i64,
    administrator: bool,
    existing: Option<EndpointRow>,
    save: ServerAction<SaveEndpoint>,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let editing = existing.is_some();
    let endpoint_id = existing.as_ref().map(|e| e.id);
    let k = existing.as_ref().and_then(|e| e.kubernetes.clone());
    let kind = RwSignal::new(
        existing
            .as_ref()
            .map_or(EndpointKind::DockerRegistry, |e| e.kind),
    );
    let name = RwSignal::new(
        existing
            .as_ref()
            .map(|e| e.name.clone())
            .unwrap_or_default(),
    );
    let server_type = RwSignal::new(
        existing
            .as_ref()
            .and_then(|e| e.server_type)
            .unwrap_or(RegistryServerType::DockerHub),
    );
    let url = RwSignal::new(existing.as_ref().map(|e| e.url.clone()).unwrap_or_default());
    let username = RwSignal::new(
        existing
            .as_ref()
            .and_then(|e| e.username.clone())
            .unwrap_or_default(),
    );
    let secret = RwSignal::new(String::new());
    let restricted = RwSignal::new(existing.as_ref().is_some_and(|e| e.restricted));
    let auth = RwSignal::new(k.as_ref().map_or(KubernetesAuth::BearerToken, |k| k.auth));
    let namespace = RwSignal::new(
        k.as_ref()
            .map(|k| k.namespace.clone())
            .unwrap_or_else(|| "default".to_owned()),
    );
    let ca_data = RwSignal::new(
        k.as_ref()
            .and_then(|k| k.ca_data.clone())
            .unwrap_or_default(),
    );
    let client_certificate = RwSignal::new(
        k.as_ref()
            .and_then(|k| k.client_certificate.clone())
            .unwrap_or_default(),
    );
    let has_secret = existing.as_ref().is_some_and(|e| e.has_secret);
    let original_url = StoredValue::new(existing.as_ref().map(|e| e.url.clone()));
    let original_auth = k.as_ref().map(|k| k.auth);
    let stored_pin = StoredValue::new(existing.as_ref().and_then(|e| e.certificate_sha256.clone()));
    let pin: RwSignal<Option<String>> = RwSignal::new(None);
    let cert = RwSignal::new(CertStep::Closed);
    let fetch = ServerAction::<FetchEndpointCertificate>::new();
    let error = action_error(save.value());

    let form = move || EndpointForm {
        kind: kind.get_untracked().as_str().to_owned(),
        name: name.get_untracked(),
        server_type: server_type.get_untracked().as_str().to_owned(),
        url: url.get_untracked(),
        username: username.get_untracked(),
        secret: secret.get_untracked(),
        restricted: restricted.get_untracked(),
        certificate_sha256: pin.get_untracked(),
        auth_method: auth.get_untracked().as_str().to_owned(),
        namespace: namespace.get_untracked(),
        ca_data: ca_data.get_untracked(),
        client_certificate: client_certificate.get_untracked(),
    };
    let submit = move || {
        save.dispatch(SaveEndpoint {
            project_id,
            endpoint_id,
            form: form(),
        });
    };
    let https = move || url.get().trim().to_lowercase().starts_with("https://");
    let plain_http = move || url.get().trim().to_lowercase().starts_with("http://");
    let url_changed = move || {
        original_url
            .with_value(|o| o.as_deref() != Some(url.get_untracked().trim().trim_end_matches('/')))
    };
    // an https endpoint asks to accept its certificate when it is new or moved, unless a
    // Kubernetes endpoint brings its CA data
    let needs_certificate = move || {
        https()
            && pin.get_untracked().is_none()
            && (stored_pin.with_value(Option::is_none) || url_changed())
            && (kind.get_untracked() != EndpointKind::Kubernetes
                || ca_data.get_untracked().trim().is_empty())
    };
    let review = move || {
        cert.set(CertStep::Fetching);
        fetch.dispatch(FetchEndpointCertificate {
            project_id,
            url: url.get_untracked().trim().to_owned(),
        });
    };
    Effect::new(move |_| match fetch.value().get() {
        Some(Ok(c)) => cert.set(CertStep::Show(c)),
        Some(Err(e)) => cert.set(CertStep::Failed(e.message)),
        None => {}
    });
    let close = on_close.clone();
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            close();
        }
    });
    // the first field takes the focus; Escape closes the editor (or the certificate dialog first)
    let name_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = name_input.get() {
            let _ = input.focus();
        }
    });
    let close = on_close.clone();
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            if cert.get_untracked() == CertStep::Closed {
                close();
            } else {
                cert.set(CertStep::Closed);
            }
        }
    });
    on_cleanup(move || escape.remove());
    let close = on_close.clone();
    let title = if editing {
        "Edit Endpoint"
    } else {
        "New Endpoint"
    };
    let secret_label = move || match kind.get() {
        EndpointKind::DockerRegistry => "Password or access token",
        EndpointKind::Kubernetes => auth.get().secret_label(),
    };
    // a stored secret is bound to where it was entered (see backend::project::endpoints::update)
    let original_server_type = existing.as_ref().and_then(|e| e.server_type);
    let original_ca = StoredValue::new(
        k.as_ref()
            .and_then(|k| k.ca_data.clone())
            .unwrap_or_default(),
    );
    let destination_changed = move || {
        url.track();
        url_changed()
            || pin.get().is_some()
            || match kind.get() {
                EndpointKind::DockerRegistry => Some(server_type.get()) != original_server_type,
                EndpointKind::Kubernetes => {
                    Some(auth.get()) != original_auth
                        || ca_data.with(|c| original_ca.with_value(|o| c.trim() != o.trim()))
                }
            }
    };
    let secret_kept = move || has_secret && !destination_changed();
    let secret_discarded = move || has_secret && destination_changed();
    view! {
        <div class="dialog-backdrop"></div>
        <div
            class="dialog wide"
            role="dialog"
            aria-modal="true"
            aria-labelledby="endpoint-editor-title"
            data-testid=ids::ENDPOINT_EDITOR
        >
            <h2 id="endpoint-editor-title">{title}</h2>
            <form class="form-grid compact" on:submit=move |ev| {
                ev.prevent_default();
                if needs_certificate() { review() } else { submit() }
            }>
                <label for="endpoint-kind">"Type"</label>
                <div>
                    <select id="endpoint-kind" disabled=editing on:change=move |ev| {
                        if let Some(k) = EndpointKind::parse(&event_target_value(&ev)) { kind.set(k) }
                    }>
                        {EndpointKind::ALL.into_iter().map(|k| view! {
                            <option value=k.as_str() selected=move || kind.get() == k>{k.label()}</option>
                        }).collect_view()}
                    </select>
                    <FieldError error field="kind"/>
                </div>
                <label for="endpoint-name">"Name"</label>
                <div>
                    <input id="endpoint-name" node_ref=name_input required maxlength="64" autocomplete="off"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    <FieldError error field="name"/>
                </div>
                <Show when=move || kind.get() == EndpointKind::DockerRegistry>
                    <label for="endpoint-server-type">"Server type"</label>
                    <div>
                        <select id="endpoint-server-type" on:change=move |ev| {
                            if let Some(t) = RegistryServerType::parse(&event_target_value(&ev)) { server_type.set(t) }
                        }>
                            {RegistryServerType::ALL.into_iter().map(|t| view! {
                                <option value=t.as_str() selected=move || server_type.get() == t>{t.label()}</option>
                            }).collect_view()}
                        </select>
                        <FieldError error field="server_type"/>
                    </div>
                </Show>
                <label for="endpoint-url">{move || if kind.get() == EndpointKind::Kubernetes { "API server URL" } else { "Repository URL" }}</label>
                <div>
                    <input id="endpoint-url" required type="url" autocomplete="off"
                        placeholder=move || if kind.get() == EndpointKind::Kubernetes { "https://k8s.example.com:6443" } else { "https://registry.example.com" }
                        prop:value=move || url.get()
                        on:input=move |ev| { url.set(event_target_value(&ev)); pin.set(None); }/>
                    <FieldError error field="url"/>
                    <Show when=plain_http>
                        <p class="warning-text" role="note" data-testid=ids::PLAIN_HTTP_WARNING>
                            {move || format!(
                                "⚠ Plain http: credentials and data travel unencrypted. Use https unless this {} is on a trusted network.",
                                if kind.get() == EndpointKind::Kubernetes { "cluster" } else { "registry" }
                            )}
                        </p>
                    </Show>
                    <Show when=https>
                        <p class="hint">
                            {move || match (pin.get(), stored_pin.get_value()) {
                                (Some(p), _) => format!("Certificate accepted (SHA-256 {}…); it is saved with the endpoint.", &p[..11.min(p.len())]),
                                (None, Some(p)) if !url_changed() => format!("Certificate accepted (SHA-256 {}…).", &p[..11.min(p.len())]),
                                _ => "Saving asks you to accept the server's certificate.".to_owned(),
                            }}
                            " "
                            <button type="button" class="link-button" on:click=move |_| review()>"Review certificate"</button>
                        </p>
                    </Show>
                </div>
                <Show when=move || kind.get() == EndpointKind::Kubernetes>
                    <label for="endpoint-auth">"Authentication"</label>
                    <div>
                        <select id="endpoint-auth" on:change=move |ev| {
                            if let Some(a) = KubernetesAuth::parse(&event_target_value(&ev)) { auth.set(a) }
                        }>
                            {KubernetesAuth::ALL.into_iter().map(|a| view! {
                                <option value=a.as_str() selected=move || auth.get() == a>{a.label()}</option>
                            }).collect_view()}
                        </select>
                        <FieldError error field="auth_method"/>
                    </div>
                </Show>
                <Show when=move || kind.get() == EndpointKind::DockerRegistry || auth.get() == KubernetesAuth::Basic>
                    <label for="endpoint-username">"User name"</label>
                    <div>
                        <input id="endpoint-username" autocomplete="off" maxlength="256"
                            prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev))/>
                        <FieldError error field="username"/>
                    </div>
                </Show>
                <Show when=move || kind.get() == EndpointKind::Kubernetes && auth.get() == KubernetesAuth::ClientCertificate>
                    <label for="endpoint-client-certificate">"Client certificate (PEM)"</label>
                    <div>
                        <textarea id="endpoint-client-certificate" rows="4" spellcheck="false" class="pem"
                            placeholder="-----BEGIN CERTIFICATE-----"
                            prop:value=move || client_certificate.get()
                            on:input=move |ev| client_certificate.set(event_target_value(&ev))></textarea>
                        <FieldError error field="client_certificate"/>
                    </div>
                </Show>
                <label for="endpoint-secret">{secret_label}</label>
                <div>
                    {move || if kind.get() == EndpointKind::Kubernetes && auth.get() == KubernetesAuth::ClientCertificate {
                        view! {
                            <textarea id="endpoint-secret" rows="4" spellcheck="false" autocomplete="off" class="pem secret-text"
                                placeholder=move || if secret_kept() { "A key is set. Leave empty to keep it." } else { "-----BEGIN PRIVATE KEY-----" }
                                prop:value=move || secret.get()
                                on:input=move |ev| secret.set(event_target_value(&ev))></textarea>
                        }.into_any()
                    } else {
                        view! {
                            <input id="endpoint-secret" type="password" autocomplete="new-password"
                                placeholder=move || if secret_kept() { "A value is set. Leave empty to keep it." } else { "" }
                                prop:value=move || secret.get()
                                on:input=move |ev| secret.set(event_target_value(&ev))/>
                        }.into_any()
                    }}
                    <FieldError error field="secret"/>
                    <Show when=secret_discarded>
                        <p class="warning-text" role="note" data-testid=ids::SECRET_DISCARDED>
                            "The destination changed, so the stored secret will not be sent there: enter it again."
                        </p>
                    </Show>
                    <p class="hint">"Stored encrypted; never shown again."</p>
                </div>
                <Show when=move || kind.get() == EndpointKind::Kubernetes>
                    <label for="endpoint-ca-data">"CA data (PEM, optional)"</label>
                    <div>
                        <textarea id="endpoint-ca-data" rows="4" spellcheck="false" class="pem"
                            placeholder="-----BEGIN CERTIFICATE----- (the cluster's certificate authority)"
                            prop:value=move || ca_data.get()
                            on:input=move |ev| ca_data.set(event_target_value(&ev))></textarea>
                        <FieldError error field="ca_data"/>
                        <p class="hint">"With CA data, the API server's certificate is checked against it; without, you accept the server's certificate."</p>
                    </div>
                    <label for="endpoint-namespace">"Default namespace"</label>
                    <div>
                        <input id="endpoint-namespace" maxlength="63" autocomplete="off"
                            prop:value=move || namespace.get() on:input=move |ev| namespace.set(event_target_value(&ev))/>
                        <FieldError error field="namespace"/>
                    </div>
                </Show>
                <span></span>
                <div>
                    <label class="checkbox">
                        <input type="checkbox" disabled=!administrator
                            prop:checked=move || restricted.get()
                            on:change=move |ev| restricted.set(event_target_checked(&ev))/>
                        " Mark restricted"
                    </label>
                    <p class="hint">{if administrator {
                        "Only the project's administrators can use a restricted endpoint in a pipeline or webhook."
                    } else {
                        "Only the project's administrators can mark an endpoint restricted."
                    }}</p>
                </div>
                <span></span>
                <div>
                    <FormError error fields=FIELDS/>
                    <div class="dialog-actions">
                        <button type="submit" class="primary" disabled=move || save.pending().get() || cert.get() == CertStep::Fetching>
                            {move || if save.pending().get() { "Saving…" } else if cert.get() == CertStep::Fetching { "Fetching certificate…" } else if editing { "Save" } else { "Create" }}
                        </button>
                        <button type="button" on:click={ let close = close.clone(); move |_| close() }>"Cancel"</button>
                    </div>
                </div>
            </form>
        </div>
        {move || match cert.get() {
            CertStep::Closed | CertStep::Fetching => None,
            CertStep::Show(c) => Some(view! { <AcceptCertificate c pin cert submit/> }.into_any()),
            CertStep::Failed(message) => Some(view! {
                <div class="dialog-backdrop top"></div>
                <div class="dialog top" role="alertdialog" aria-modal="true" aria-labelledby="cert-failed-title"
                    data-testid=ids::CERTIFICATE_DIALOG>
                    <h2 id="cert-failed-title">"No certificate to accept"</h2>
                    <p role="alert" class="form-error">{message}</p>
                    <p>"You can save the endpoint without accepting a certificate: Wharf then trusts only certificates signed by a well-known authority, and Validate tells whether the server can be reached."</p>
                    <div class="dialog-actions">
                        <button type="button" class="primary" node_ref=focus_on_mount() on:click=move |_| { cert.set(CertStep::Closed); submit(); }>"Save without a certificate"</button>
                        <button type="button" on:click=move |_| cert.set(CertStep::Closed)>"Back"</button>
                    </div>
                </div>
            }.into_any()),
        }}
    }
}

/// Aria's Accept certificate dialog: what the server presented, and Accept or Cancel.
#[component]
pub(super) fn AcceptCertificate(
    c: CertificateView,
    pin: RwSignal<Option<String>>,
    cert: RwSignal<CertStep>,
    submit: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let sha = c.sha256.clone();
    let expired = c.expired;
    view! {
        <div class="dialog-backdrop top"></div>
        <div class="dialog top" role="dialog" aria-modal="true" aria-labelledby="accept-cert-title"
            data-testid=ids::CERTIFICATE_DIALOG>
            <h2 id="accept-cert-title">"Accept certificate"</h2>
            <p>"The server presented this certificate. Accept it only if you recognise it: Wharf will then talk to this endpoint only while it presents this exact certificate."</p>
            <dl class="cert">
                <dt>"Subject"</dt><dd>{c.subject.clone()}</dd>
                <dt>"Issuer"</dt><dd>{c.issuer.clone()}</dd>
                <dt>"Valid from"</dt><dd>{time(c.not_before)}</dd>
                <dt>"Valid until"</dt><dd>{time(c.not_after)} {expired.then(|| view! { " " <strong class="danger-link">"(expired)"</strong> })}</dd>
                <dt>"SHA-256 fingerprint"</dt><dd><code class="fingerprint" data-testid=ids::CERTIFICATE_FINGERPRINT>{c.sha256.clone()}</code></dd>
                <dt>"Chain"</dt><dd>{format!("{} certificate{}", c.chain_len, if c.chain_len == 1 { "" } else { "s" })}</dd>
            </dl>
            <div class="dialog-actions">
                <button type="button" class="primary" node_ref=focus_on_mount() on:click=move |_| {
                    pin.set(Some(sha.clone()));
                    cert.set(CertStep::Closed);
                    submit();
                }>"Accept"</button>
                <button type="button" on:click=move |_| cert.set(CertStep::Closed)>"Cancel"</button>
            </div>
        </div>
    }
}
