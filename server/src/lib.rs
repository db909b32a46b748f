//! The `wharf` server: configuration, start-up, the HTTP router and shutdown. `main.rs` is a
//! thin wrapper so that integration tests start the same server in-process on port 0.

pub mod api;
pub mod compress;
pub mod config;
pub mod live;
pub mod middleware;
pub mod state;
pub mod telemetry;

use crate::config::Config;
use crate::state::AppState;
use app::{shell, App};
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{middleware as mw, Json, Router};
use backend::access::accounts;
use backend::engine::Engine;
use backend::platform::db::{self, DbConfig};
use backend::platform::keys::MasterKey;
use backend::platform::sessions::DbSessionStore;
use backend::{Backend, SystemClock};
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::{Key, SameSite};
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

/// A start-up failure, said in words.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is inconsistent.
    #[error("configuration: {0}")]
    Config(String),
    /// The key file could not be read or created.
    #[error("key file {path}: {source}")]
    Key {
        /// The key file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error("database {url}: {source}")]
    Database {
        /// The URL, password redacted.
        url: String,
        /// Why.
        source: sea_orm::DbErr,
    },
    /// The unattended administrator could not be created.
    #[error("creating the administrator from WHARF_ADMIN_EMAIL: {0}")]
    Admin(String),
    /// Binding or serving failed.
    #[error("listening on {addr}: {source}")]
    Io {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A server that has opened its database and bound its port, ready to serve.
pub struct Prepared {
    router: Router,
    listener: TcpListener,
    backend: Backend,
    store: DbSessionStore,
    engine: Engine,
    workers: usize,
    inbox: backend::triggers::inbox::Inbox,
    closing: CancellationToken,
    role: config::Role,
    callback_client: Option<backend::triggers::inbox::CallbackClient>,
}

impl Prepared {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` is cancelled, then finishes in-flight requests.
    pub async fn serve(self, shutdown: CancellationToken) -> Result<(), StartError> {
        let addr = self.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let sweeper = tokio::spawn(sweep_expired_sessions(self.store, shutdown.clone()));
        let stop = shutdown.clone();
        let checkpoints = tokio::spawn(backend::triggers::inbox::run_checkpoints(
            self.backend.db.clone(),
            self.backend.inbox_gate.clone(),
            async move { stop.cancelled().await },
        ));
        // the worker part: what the web part accepted, run to the end
        let works = self.role != config::Role::Web;
        let stop = shutdown.clone();
        let workers = if works { self.workers } else { 0 };
        let engine = tokio::spawn(async move {
            if workers > 0 {
                let stop = async move { stop.cancelled().await };
                self.engine
                    .run(workers, Duration::from_millis(250), stop)
                    .await;
            }
        });
        let stop = shutdown.clone();
        let backend = self.backend.clone();
        let wake = self.inbox.wake();
        let processor = tokio::spawn(async move {
            if works {
                let stop = async move { stop.cancelled().await };
                backend::triggers::inbox::run_processor(backend, wake, stop).await;
            }
        });
        let stop = shutdown.clone();
        let callbacks = self.callback_client.filter(|_| works).map(|client| {
            tokio::spawn(backend::triggers::inbox::run_callbacks(
                self.backend.clone(),
                client,
                async move { stop.cancelled().await },
            ))
        });
        let stop = shutdown.clone();
        let listening = tokio::spawn(backend::platform::cluster::listen(
            self.backend.db.clone(),
            self.backend.instance.to_string(),
            relay(self.backend.clone(), self.inbox.wake()),
            async move { stop.cancelled().await },
        ));
        let closing = self.closing.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            closing.cancel();
        });
        // Nagle's algorithm off: a small write (a live event, a webhook's 2xx) goes out at once
        // instead of waiting for the ACK of the one before, which a client may delay (a live
        // stream writes QUEUED and, about 2 ms later, RUNNING)
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY was not set on a connection");
            }
        });
        let result = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await;
        shutdown.cancel();
        let _ = sweeper.await;
        let _ = checkpoints.await;
        let _ = processor.await;
        let _ = listening.await;
        if let Some(c) = callbacks {
            let _ = c.await;
        }
        // running tasks finish their current group; what is cut short resumes after a restart
        let _ = engine.await;
        self.backend.db.close_by_ref().await.ok();
        result.map_err(|source| StartError::Io { addr, source })
    }
}

/// What another process's notice wakes here: the live views, idle workers and callbacks (on
/// the event bus), the inbox's processor, the listener's token cache.
fn relay(
    backend: Backend,
    inbox: Arc<tokio::sync::Notify>,
) -> impl FnMut(backend::platform::cluster::Notice) + Send {
    use backend::platform::cluster::Notice;
    move |notice| match notice {
        Notice::Delivery => inbox.notify_one(),
        Notice::Cards => backend.listeners.invalidate(),
        Notice::Anything => {
            inbox.notify_one();
            backend.listeners.invalidate();
        }
        other => backend::platform::events::relay(&backend, &other),
    }
}

async fn sweep_expired_sessions(store: DbSessionStore, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!(error = %e, "sweeping expired sessions failed");
                }
            }
        }
    }
}

/// Opens the database (migrating it), loads the key, builds the router and binds the port.
pub async fn prepare(config: &Config) -> Result<Prepared, StartError> {
    let started = Instant::now();
    config.validate().map_err(StartError::Config)?;
    // 1. the key, 2. the database, migrated, 3. the port, 4. the services
    let key = load_key(config)?;
    let url = config.database_url();
    let instance = backend::instance_name();
    let conn = db::connect_and_migrate(&DbConfig {
        url: url.clone(),
        max_connections: config.db_max_connections,
        instance: instance.clone(),
    })
    .await
    .map_err(|source| StartError::Database {
        url: db::redact_url(&url),
        source,
    })?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Io {
            addr: config.listen.to_string(),
            source,
        })?;
    let bound = listener.local_addr().unwrap_or(config.listen);
    let public_url = match &config.public_url {
        Some(_) => config.public_url(),
        None => format!("http://{bound}"),
    };
    let backend = services(config, conn, &key, &public_url).with_instance(&instance);
    // 5. the first administrator, 6. the web app and API
    bootstrap_admin(config, &backend).await?;
    let leptos_options = LeptosOptions::builder()
        .output_name("wharf")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .hash_files(assets_hashed())
        .site_addr(bound)
        .env(Env::PROD)
        .build();
    let store = DbSessionStore::new(backend.db.clone(), backend.clock.clone());
    let state = AppState::new(state::Shared {
        leptos_options,
        backend: backend.clone(),
        set_up: Arc::new(AtomicBool::new(false)),
        inbox: backend::triggers::inbox::Inbox::start(backend.clone()),
        refused_deliveries: Default::default(),
        closing: CancellationToken::new(),
    });
    let engine = Engine::new(
        backend.clone(),
        instance,
        Duration::from_secs(config.lease_seconds.max(3)),
    )
    .map_err(|e| StartError::Config(e.to_string()))?;
    let callback_client = callback_client(config, &backend)?;
    let state_inbox = state.inbox.clone();
    let state_closing = state.closing.clone();
    let router = router(config, state, store.clone(), &key);
    tracing::info!(
        listen = %bound,
        public_url = %public_url,
        database = %db::redact_url(&url),
        startup_ms = started.elapsed().as_millis() as u64,
        "wharf is ready"
    );
    Ok(Prepared {
        router,
        listener,
        backend,
        store,
        engine,
        workers: config.workers.clamp(1, 64),
        inbox: state_inbox,
        closing: state_closing,
        role: config.role,
        callback_client,
    })
}

/// The client callbacks go out with, or `None` (logged: callbacks then stay pending) when it
/// cannot be built; a CA file that cannot be read stops the start.
fn callback_client(
    config: &Config,
    backend: &Backend,
) -> Result<Option<backend::triggers::inbox::CallbackClient>, StartError> {
    let extra = match &config.callback_ca_file {
        Some(path) => std::fs::read(path).map_err(|source| StartError::Key {
            path: path.display().to_string(),
            source,
        })?,
        None => Vec::new(),
    };
    match backend::triggers::inbox::callback_client(&backend.outbound, &extra) {
        Ok(c) => Ok(Some(c)),
        Err(e) if !extra.is_empty() => {
            Err(StartError::Config(format!("WHARF_CALLBACK_CA_FILE: {e}")))
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot build the callback client; callbacks stay pending");
            Ok(None)
        }
    }
}

/// Whether the site's file names carry content hashes: cargo-leptos (`hash-files`) writes
/// them to `hash.txt` beside the binary it built, which the hydration script and stylesheet
/// links read. A binary without one (a test's) links the plain names.
fn assets_hashed() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt").is_file()))
        .unwrap_or(false)
}

fn load_key(config: &Config) -> Result<MasterKey, StartError> {
    let key_path = config.key_file();
    MasterKey::load_or_create(&key_path).map_err(|source| StartError::Key {
        path: key_path.display().to_string(),
        source,
    })
}

/// The services, configured as `config` says.
fn services(
    config: &Config,
    conn: sea_orm::DatabaseConnection,
    key: &MasterKey,
    public_url: &str,
) -> Backend {
    let sealer = Arc::new(backend::platform::secrets::Sealer::new(key));
    Backend::new(conn, Arc::new(SystemClock), sealer)
        .with_database_clock()
        .with_public_url(public_url)
        .with_docker_hub_api(&config.docker_hub_api)
        .with_workers(config.workers)
        .with_outbound(backend::clients::outbound::OutboundPolicy {
            allow_loopback: config.outbound_allow_loopback,
            allow_private: config.outbound_allow_private,
            allow_link_local: config.outbound_allow_link_local,
        })
        .with_callback_hosts(
            config
                .callback_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        )
}

async fn bootstrap_admin(config: &Config, backend: &Backend) -> Result<(), StartError> {
    let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) else {
        return Ok(());
    };
    let needs = accounts::needs_setup(&backend.db)
        .await
        .map_err(|e| StartError::Admin(e.to_string()))?;
    if !needs {
        tracing::info!("WHARF_ADMIN_EMAIL ignored: Wharf already has users");
        return Ok(());
    }
    if let Err(e) = accounts::create_first_admin(backend, email, &config.admin_name, password).await
    {
        // a replica starting at the same moment may have created the administrator first
        let created_meanwhile = !accounts::needs_setup(&backend.db)
            .await
            .map_err(|e| StartError::Admin(e.to_string()))?;
        if !created_meanwhile {
            return Err(StartError::Admin(e.public_message()));
        }
        tracing::info!("WHARF_ADMIN_EMAIL: another process created the administrator");
    }
    Ok(())
}

fn router(config: &Config, state: AppState, store: DbSessionStore, key: &MasterKey) -> Router {
    if config.role == config::Role::Worker {
        // a worker serves its health only: people and registries go to the web processes
        return Router::new()
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .with_state(state);
    }
    let routes = generate_route_list(App);
    let sessions = SessionManagerLayer::new(store)
        .with_name(middleware::SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.public_url().starts_with("https://"))
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(
            config.session_idle_hours,
        )))
        .with_signed(Key::from(key.bytes()));
    let backend = state.backend.clone();
    let options = state.leptos_options.clone();
    let api::Routers { api, listeners, .. } = api::router();
    let api = api.layer(mw::from_fn_with_state(state.clone(), api::bearer_first));
    // the listeners: their answers in the API's format, with the security and cache headers,
    // and nothing a registry's delivery does not need (see `api::Routers::listeners`)
    let listeners = listeners.layer(mw::from_fn(middleware::listener_frame));
    Router::new()
        .merge(api)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/live/executions", get(live::executions))
        .route("/live/executions/{id}/log", get(live::task_log))
        // the built assets: precompressed by negotiation (scripts/compress-site.sh), with
        // conditional requests (304) and ranges
        .nest_service(
            "/pkg",
            tower_http::services::ServeDir::new(
                std::path::Path::new(&config.site_root).join("pkg"),
            )
            .precompressed_br()
            .precompressed_gzip(),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(backend.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(mw::from_fn_with_state(state.clone(), middleware::auth_gate))
        .layer(sessions)
        .layer(mw::from_fn(middleware::csrf_guard))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(mw::from_fn(api::json_errors))
        .layer(mw::from_fn(compress::compress))
        .layer(mw::from_fn(middleware::security_headers))
        .layer(mw::from_fn(middleware::cache_control))
        .layer(
            // the path only: query strings may carry tokens
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        )
        .merge(listeners)
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "up" }))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match db::ping(&state.backend.db).await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ready" })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "reason": "database" })),
            )
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
