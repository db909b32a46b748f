//! The endpoint form (New and Edit, both kinds) and Accept certificate.

use super::*;
use crate::error::AppError;

/// The editor's fields, one signal each (and the accepted certificate's fingerprint).
#[derive(Clone, Copy)]
struct Fields {
    kind: RwSignal<EndpointKind>,
    name: RwSignal<String>,
    server_type: RwSignal<RegistryServerType>,
    url: RwSignal<String>,
    username: RwSignal<String>,
    secret: RwSignal<String>,
    restricted: RwSignal<bool>,
    auth: RwSignal<KubernetesAuth>,
    namespace: RwSignal<String>,
    ca_data: RwSignal<String>,
    client_certificate: RwSignal<String>,
    pin: RwSignal<Option<String>>,
}

impl Fields {
    fn new(existing: Option<&EndpointRow>) -> Self {
        let k = existing.and_then(|e| e.kubernetes.as_ref());
        Self {
            kind: RwSignal::new(existing.map_or(EndpointKind::DockerRegistry, |e| e.kind)),
            name: RwSignal::new(existing.map(|e| e.name.clone()).unwrap_or_default()),
            server_type: RwSignal::new(
                existing
                    .and_then(|e| e.server_type)
                    .unwrap_or(RegistryServerType::DockerHub),
            ),
            url: RwSignal::new(existing.map(|e| e.url.clone()).unwrap_or_default()),
            username: RwSignal::new(
                existing
                    .and_then(|e| e.username.clone())
                    .unwrap_or_default(),
            ),
            secret: RwSignal::new(String::new()),
            restricted: RwSignal::new(existing.is_some_and(|e| e.restricted)),
            auth: RwSignal::new(k.map_or(KubernetesAuth::BearerToken, |k| k.auth)),
            namespace: RwSignal::new(
                k.map(|k| k.namespace.clone())
                    .unwrap_or_else(|| "default".to_owned()),
            ),
            ca_data: RwSignal::new(k.and_then(|k| k.ca_data.clone()).unwrap_or_default()),
            client_certificate: RwSignal::new(
                k.and_then(|k| k.client_certificate.clone())
                    .unwrap_or_default(),
            ),
            pin: RwSignal::new(None),
        }
    }

    fn form(self) -> EndpointForm {
        EndpointForm {
            kind: self.kind.get_untracked().as_str().to_owned(),
            name: self.name.get_untracked(),
            server_type: self.server_type.get_untracked().as_str().to_owned(),
            url: self.url.get_untracked(),
            username: self.username.get_untracked(),
            secret: self.secret.get_untracked(),
            restricted: self.restricted.get_untracked(),
            certificate_sha256: self.pin.get_untracked(),
            auth_method: self.auth.get_untracked().as_str().to_owned(),
            namespace: self.namespace.get_untracked(),
            ca_data: self.ca_data.get_untracked(),
            client_certificate: self.client_certificate.get_untracked(),
        }
    }

    fn kubernetes(self) -> bool {
        self.kind.get() == EndpointKind::Kubernetes
    }
}

/// What was saved before the edit: a stored secret is bound to where it was entered (see
/// backend::project::endpoints::update), and a moved https endpoint asks for its certificate.
#[derive(Clone, Copy)]
struct Saved {
    url: StoredValue<Option<String>>,
    pin: StoredValue<Option<String>>,
    server_type: Option<RegistryServerType>,
    auth: Option<KubernetesAuth>,
    ca: StoredValue<String>,
    has_secret: bool,
}

impl Saved {
    fn new(existing: Option<&EndpointRow>) -> Self {
        let k = existing.and_then(|e| e.kubernetes.as_ref());
        Self {
            url: StoredValue::new(existing.map(|e| e.url.clone())),
            pin: StoredValue::new(existing.and_then(|e| e.certificate_sha256.clone())),
            server_type: existing.and_then(|e| e.server_type),
            auth: k.map(|k| k.auth),
            ca: StoredValue::new(k.and_then(|k| k.ca_data.clone()).unwrap_or_default()),
            has_secret: existing.is_some_and(|e| e.has_secret),
        }
    }

    fn url_changed(self, f: Fields) -> bool {
        self.url.with_value(|o| {
            o.as_deref() != Some(f.url.get_untracked().trim().trim_end_matches('/'))
        })
    }

    /// Whether the secret would now go somewhere else than where it was entered.
    fn destination_changed(self, f: Fields) -> bool {
        f.url.track();
        self.url_changed(f)
            || f.pin.get().is_some()
            || match f.kind.get() {
                EndpointKind::DockerRegistry => Some(f.server_type.get()) != self.server_type,
                EndpointKind::Kubernetes => {
                    Some(f.auth.get()) != self.auth
                        || f.ca_data
                            .with(|c| self.ca.with_value(|o| c.trim() != o.trim()))
                }
            }
    }

    fn secret_kept(self, f: Fields) -> bool {
        self.has_secret && !self.destination_changed(f)
    }
}

/// Whether `url` is an https address, as typed (spaces and case aside).
fn is_https(url: &str) -> bool {
    url.trim().to_ascii_lowercase().starts_with("https://")
}

fn https(f: Fields) -> bool {
    f.url.with(|u| is_https(u))
}

/// Whether saving must first ask to accept the server's certificate (an https endpoint that
/// is new or moved, unless a Kubernetes endpoint brings its CA data), and how to fetch it for
/// review.
fn certificate_review(
    project_id: i64,
    f: Fields,
    saved: Saved,
    cert: RwSignal<CertStep>,
) -> (
    impl Fn() -> bool + Copy + Send + Sync + 'static,
    impl Fn() + Copy + Send + Sync + 'static,
) {
    let fetch = ServerAction::<FetchEndpointCertificate>::new();
    Effect::new(move |_| match fetch.value().get() {
        Some(Ok(c)) => cert.set(CertStep::Show(c)),
        Some(Err(e)) => cert.set(CertStep::Failed(e.message)),
        None => {}
    });
    let needs_certificate = move || {
        f.url.with_untracked(|u| is_https(u))
            && f.pin.get_untracked().is_none()
            && (saved.pin.with_value(Option::is_none) || saved.url_changed(f))
            && (f.kind.get_untracked() != EndpointKind::Kubernetes
                || f.ca_data.get_untracked().trim().is_empty())
    };
    let review = move || {
        cert.set(CertStep::Fetching);
        fetch.dispatch(FetchEndpointCertificate {
            project_id,
            url: f.url.get_untracked().trim().to_owned(),
        });
    };
    (needs_certificate, review)
}

/// Escape closes the editor, or the certificate dialog first.
fn close_on_escape(cert: RwSignal<CertStep>, close: impl Fn() + Clone + Send + Sync + 'static) {
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
}

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
    let f = Fields::new(existing.as_ref());
    let saved = Saved::new(existing.as_ref());
    let cert = RwSignal::new(CertStep::Closed);
    let error = action_error(save.value());
    let submit = move || {
        save.dispatch(SaveEndpoint {
            project_id,
            endpoint_id,
            form: f.form(),
        });
    };
    let (needs_certificate, review) = certificate_review(project_id, f, saved, cert);
    let close = on_close.clone();
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            close();
        }
    });
    close_on_escape(cert, on_close.clone());
    let close = on_close.clone();
    let title = if editing {
        "Edit Endpoint"
    } else {
        "New Endpoint"
    };
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
                <KindAndName f error editing/>
                <UrlField f saved error review/>
                <KubernetesAuthFields f error/>
                <SecretField f saved error/>
                <ClusterFields f error/>
                <RestrictedField f administrator/>
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
            CertStep::Show(c) => Some(view! { <AcceptCertificate c pin=f.pin cert submit/> }.into_any()),
            CertStep::Failed(message) => Some(view! { <NoCertificate message cert submit/> }.into_any()),
        }}
    }
}

/// Type (fixed once created) and name, which takes the focus.
#[component]
fn KindAndName(f: Fields, error: Signal<Option<AppError>>, editing: bool) -> impl IntoView {
    let name_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = name_input.get() {
            let _ = input.focus();
        }
    });
    view! {
        <label for="endpoint-kind">"Type"</label>
        <div>
            <select id="endpoint-kind" disabled=editing on:change=move |ev| {
                if let Some(k) = EndpointKind::parse(&event_target_value(&ev)) { f.kind.set(k) }
            }>
                {EndpointKind::ALL.into_iter().map(|k| view! {
                    <option value=k.as_str() selected=move || f.kind.get() == k>{k.label()}</option>
                }).collect_view()}
            </select>
            <FieldError error field="kind"/>
        </div>
        <label for="endpoint-name">"Name"</label>
        <div>
            <input id="endpoint-name" node_ref=name_input required maxlength="64" autocomplete="off"
                prop:value=move || f.name.get() on:input=move |ev| f.name.set(event_target_value(&ev))/>
            <FieldError error field="name"/>
        </div>
        <Show when=move || f.kind.get() == EndpointKind::DockerRegistry>
            <label for="endpoint-server-type">"Server type"</label>
            <div>
                <select id="endpoint-server-type" on:change=move |ev| {
                    if let Some(t) = RegistryServerType::parse(&event_target_value(&ev)) { f.server_type.set(t) }
                }>
                    {RegistryServerType::ALL.into_iter().map(|t| view! {
                        <option value=t.as_str() selected=move || f.server_type.get() == t>{t.label()}</option>
                    }).collect_view()}
                </select>
                <FieldError error field="server_type"/>
            </div>
        </Show>
    }
}

/// The URL, with a warning for plain http and, for https, where its certificate stands.
#[component]
fn UrlField(
    f: Fields,
    saved: Saved,
    error: Signal<Option<AppError>>,
    review: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let plain_http = move || {
        f.url
            .get()
            .trim()
            .to_ascii_lowercase()
            .starts_with("http://")
    };
    view! {
        <label for="endpoint-url">{move || if f.kubernetes() { "API server URL" } else { "Repository URL" }}</label>
        <div>
            <input id="endpoint-url" required type="url" autocomplete="off"
                placeholder=move || if f.kubernetes() { "https://k8s.example.com:6443" } else { "https://registry.example.com" }
                prop:value=move || f.url.get()
                on:input=move |ev| { f.url.set(event_target_value(&ev)); f.pin.set(None); }/>
            <FieldError error field="url"/>
            <Show when=plain_http>
                <p class="warning-text" role="note" data-testid=ids::PLAIN_HTTP_WARNING>
                    {move || format!(
                        "⚠ Plain http: credentials and data travel unencrypted. Use https unless this {} is on a trusted network.",
                        if f.kubernetes() { "cluster" } else { "registry" }
                    )}
                </p>
            </Show>
            <Show when=move || https(f)>
                <p class="hint">
                    {move || match (f.pin.get(), saved.pin.get_value()) {
                        (Some(p), _) => format!("Certificate accepted (SHA-256 {}…); it is saved with the endpoint.", &p[..11.min(p.len())]),
                        (None, Some(p)) if !saved.url_changed(f) => format!("Certificate accepted (SHA-256 {}…).", &p[..11.min(p.len())]),
                        _ => "Saving asks you to accept the server's certificate.".to_owned(),
                    }}
                    " "
                    <button type="button" class="link-button" on:click=move |_| review()>"Review certificate"</button>
                </p>
            </Show>
        </div>
    }
}

/// A cluster's authentication method, with the user name or client certificate it needs (a
/// registry's user name too).
#[component]
fn KubernetesAuthFields(f: Fields, error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <Show when=move || f.kubernetes()>
            <label for="endpoint-auth">"Authentication"</label>
            <div>
                <select id="endpoint-auth" on:change=move |ev| {
                    if let Some(a) = KubernetesAuth::parse(&event_target_value(&ev)) { f.auth.set(a) }
                }>
                    {KubernetesAuth::ALL.into_iter().map(|a| view! {
                        <option value=a.as_str() selected=move || f.auth.get() == a>{a.label()}</option>
                    }).collect_view()}
                </select>
                <FieldError error field="auth_method"/>
            </div>
        </Show>
        <Show when=move || f.kind.get() == EndpointKind::DockerRegistry || f.auth.get() == KubernetesAuth::Basic>
            <label for="endpoint-username">"User name"</label>
            <div>
                <input id="endpoint-username" autocomplete="off" maxlength="256"
                    prop:value=move || f.username.get() on:input=move |ev| f.username.set(event_target_value(&ev))/>
                <FieldError error field="username"/>
            </div>
        </Show>
        <Show when=move || f.kubernetes() && f.auth.get() == KubernetesAuth::ClientCertificate>
            <label for="endpoint-client-certificate">"Client certificate (PEM)"</label>
            <div>
                <textarea id="endpoint-client-certificate" rows="4" spellcheck="false" class="pem"
                    placeholder="-----BEGIN CERTIFICATE-----"
                    prop:value=move || f.client_certificate.get()
                    on:input=move |ev| f.client_certificate.set(event_target_value(&ev))></textarea>
                <FieldError error field="client_certificate"/>
            </div>
        </Show>
    }
}

/// The password, token or key: kept while the destination stays, asked again when it moves.
#[component]
fn SecretField(f: Fields, saved: Saved, error: Signal<Option<AppError>>) -> impl IntoView {
    let secret_label = move || match f.kind.get() {
        EndpointKind::DockerRegistry => "Password or access token",
        EndpointKind::Kubernetes => f.auth.get().secret_label(),
    };
    let secret_kept = move || saved.secret_kept(f);
    let secret_discarded = move || saved.has_secret && saved.destination_changed(f);
    view! {
        <label for="endpoint-secret">{secret_label}</label>
        <div>
            {move || if f.kubernetes() && f.auth.get() == KubernetesAuth::ClientCertificate {
                view! {
                    <textarea id="endpoint-secret" rows="4" spellcheck="false" autocomplete="off" class="pem secret-text"
                        placeholder=move || if secret_kept() { "A key is set. Leave empty to keep it." } else { "-----BEGIN PRIVATE KEY-----" }
                        prop:value=move || f.secret.get()
                        on:input=move |ev| f.secret.set(event_target_value(&ev))></textarea>
                }.into_any()
            } else {
                view! {
                    <input id="endpoint-secret" type="password" autocomplete="new-password"
                        placeholder=move || if secret_kept() { "A value is set. Leave empty to keep it." } else { "" }
                        prop:value=move || f.secret.get()
                        on:input=move |ev| f.secret.set(event_target_value(&ev))/>
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
    }
}

/// A cluster's CA data and default namespace.
#[component]
fn ClusterFields(f: Fields, error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <Show when=move || f.kubernetes()>
            <label for="endpoint-ca-data">"CA data (PEM, optional)"</label>
            <div>
                <textarea id="endpoint-ca-data" rows="4" spellcheck="false" class="pem"
                    placeholder="-----BEGIN CERTIFICATE----- (the cluster's certificate authority)"
                    prop:value=move || f.ca_data.get()
                    on:input=move |ev| f.ca_data.set(event_target_value(&ev))></textarea>
                <FieldError error field="ca_data"/>
                <p class="hint">"With CA data, the API server's certificate is checked against it; without, you accept the server's certificate."</p>
            </div>
            <label for="endpoint-namespace">"Default namespace"</label>
            <div>
                <input id="endpoint-namespace" maxlength="63" autocomplete="off"
                    prop:value=move || f.namespace.get() on:input=move |ev| f.namespace.set(event_target_value(&ev))/>
                <FieldError error field="namespace"/>
            </div>
        </Show>
    }
}

/// Mark restricted: only administrators may.
#[component]
fn RestrictedField(f: Fields, administrator: bool) -> impl IntoView {
    view! {
        <span></span>
        <div>
            <label class="checkbox">
                <input type="checkbox" disabled=!administrator
                    prop:checked=move || f.restricted.get()
                    on:change=move |ev| f.restricted.set(event_target_checked(&ev))/>
                " Mark restricted"
            </label>
            <p class="hint">{if administrator {
                "Only the project's administrators can use a restricted endpoint in a pipeline or webhook."
            } else {
                "Only the project's administrators can mark an endpoint restricted."
            }}</p>
        </div>
    }
}

/// No certificate could be fetched: save without one, or go back.
#[component]
fn NoCertificate(
    message: String,
    cert: RwSignal<CertStep>,
    submit: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
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
