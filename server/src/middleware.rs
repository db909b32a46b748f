//! Request guards: cross-site request forgery, and the sign-in gate for pages.

use crate::state::AppState;
use app::ssr::ClientAddress;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use backend::access::accounts;
use backend::platform::sessions::USER_ID_KEY;
use std::net::SocketAddr;
use tower_sessions::Session;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "wharf.sid";

fn error_json(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "code": code, "message": message })),
    )
        .into_response()
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn carries_session_cookie(headers: &HeaderMap) -> bool {
    headers.get_all(header::COOKIE).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(';')
                .any(|c| c.trim_start().starts_with(&format!("{SESSION_COOKIE}=")))
        })
    })
}

/// Whether a state-changing request may go on, judged as modern browsers allow: by
/// `Sec-Fetch-Site`, else by `Origin` against `Host`. A request with neither header but with
/// our session cookie is refused: it cannot be told apart from a forgery.
pub fn cross_site_verdict(method: &Method, headers: &HeaderMap) -> Result<(), &'static str> {
    if matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return Ok(());
    }
    match header_str(headers, "sec-fetch-site") {
        Some("same-origin") | Some("none") => return Ok(()),
        Some(_) => return Err("The request came from another site."),
        None => {}
    }
    if let Some(origin) = header_str(headers, header::ORIGIN) {
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let host = header_str(headers, header::HOST);
        return match (origin_host, host) {
            (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => Ok(()),
            _ => Err("The request came from another site."),
        };
    }
    if carries_session_cookie(headers) {
        return Err("The request did not say where it came from.");
    }
    Ok(())
}

/// Refuses cross-site state-changing requests with 403.
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    match cross_site_verdict(req.method(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(why) => {
            tracing::warn!(path = %req.uri().path(), why, "cross-site request refused");
            error_json(StatusCode::FORBIDDEN, "forbidden", why)
        }
    }
}

fn is_page(path: &str) -> bool {
    !(path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path.starts_with("/pipelines/api/")
        || path.starts_with("/live/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/favicon.svg"
        || path == "/favicon.ico")
}

fn login_redirect(path_and_query: &str) -> Response {
    let next: String = url_escape(path_and_query);
    if path_and_query == "/" {
        Redirect::to("/login").into_response()
    } else {
        Redirect::to(&format!("/login?next={next}")).into_response()
    }
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Loads the signed-in user into the request, notes the client's address, and sends people who
/// are not signed in to the sign-in page (or, on a new installation, to the set-up page).
pub async fn auth_gate(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    // 1. who is asking: their address, 2. their signed-in account
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned());
    req.extensions_mut().insert(ClientAddress(address));
    let user = match signed_in_user(&state, &session).await {
        Ok(u) => u,
        Err(answer) => return answer,
    };
    let signed_in = user.is_some();
    if let Some(u) = user {
        req.extensions_mut().insert(u);
    }
    // 3. pages: set-up first, then sign-in
    let path = req.uri().path().to_owned();
    if req.method() == Method::GET && is_page(&path) {
        let needs_setup = match state.needs_setup().await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = ?e, "checking for users failed");
                return database_down();
            }
        };
        let wanted = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        if let Some(r) = page_redirect(&path, wanted, needs_setup, signed_in) {
            return r;
        }
    }
    next.run(req).await
}

fn database_down() -> Response {
    error_json(
        StatusCode::SERVICE_UNAVAILABLE,
        "internal",
        "The database is not answering.",
    )
}

/// The session's user while their account is active. A session of a disabled or deleted
/// account is ended.
async fn signed_in_user(
    state: &AppState,
    session: &Session,
) -> Result<Option<domain::views::CurrentUser>, Response> {
    let user_id: Option<i64> = match session.get(USER_ID_KEY).await {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "session store failed");
            return Err(error_json(
                StatusCode::SERVICE_UNAVAILABLE,
                "internal",
                "Sessions are not available right now.",
            ));
        }
    };
    let Some(id) = user_id else {
        return Ok(None);
    };
    match accounts::find_active_user(&state.backend.db, id).await {
        Ok(Some(u)) => Ok(Some(u)),
        Ok(None) => {
            if let Err(e) = session.flush().await {
                tracing::error!(error = %e, "could not end a stale session");
            }
            Ok(None)
        }
        Err(e) => {
            tracing::error!(error = ?e, "loading the signed-in user failed");
            Err(database_down())
        }
    }
}

/// Where a page request goes instead: set-up while Wharf has no users, sign-in for a person
/// not signed in (coming back to `wanted`), home for a signed-in one asking for sign-in.
fn page_redirect(path: &str, wanted: &str, needs_setup: bool, signed_in: bool) -> Option<Response> {
    if path == "/setup" {
        (!needs_setup).then(|| Redirect::to(if signed_in { "/" } else { "/login" }).into_response())
    } else if needs_setup {
        Some(Redirect::to("/setup").into_response())
    } else if path == "/login" {
        signed_in.then(|| Redirect::to("/").into_response())
    } else if !signed_in {
        Some(login_redirect(wanted))
    } else {
        None
    }
}

/// The headers every response carries: no sniffing, no referrer beyond this site, no framing,
/// and a Content-Security-Policy. Pages set their own (with the nonce of their hydration
/// script, see `app::page_csp`); every other response gets one that allows nothing.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    add_security_headers(res.headers_mut());
    res
}

fn add_security_headers(h: &mut HeaderMap) {
    use axum::http::HeaderValue;
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
        );
    }
}

/// The listeners' one layer: errors in the API's format ([`crate::api::json_errors`]), the
/// security headers and `Cache-Control: no-cache`, as every other API answer has them, in one
/// step rather than three (a flood of deliveries pays for each layer).
pub async fn listener_frame(req: Request, next: Next) -> Response {
    let mut res = crate::api::json_errors(req, next).await;
    let h = res.headers_mut();
    add_security_headers(h);
    h.insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    res
}

/// How long browsers keep what they fetched, and that the site's files vary by encoding. A content-hashed asset (`/pkg/NAME.HASH.EXT`,
/// cargo-leptos's `hash-files`: a new build gives a new name) is kept a year without asking
/// again; everything else that does not say (pages, other files, API answers) is `no-cache`:
/// stored, but checked with the server before each use (files answer 304 when unchanged).
pub async fn cache_control(req: Request, next: Next) -> Response {
    use axum::http::HeaderValue;
    let hashed = is_hashed_asset(req.uri().path());
    let file = req.uri().path().starts_with("/pkg/");
    let mut res = next.run(req).await;
    // the site's files are served precompressed by negotiation: shared caches must key on it
    if file && !res.headers().contains_key(header::VARY) {
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        let value = if hashed && res.status().is_success() {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// `/pkg/NAME.HASH.EXT` (or `NAME.HASH_bg.wasm`), HASH being at least 16 letters, digits,
/// `-` or `_`: a name that changes with the content.
fn is_hashed_asset(path: &str) -> bool {
    let Some(file) = path.strip_prefix("/pkg/") else {
        return false;
    };
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|h| {
            let h = h.strip_suffix("_bg").unwrap_or(h);
            h.len() >= 16
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reads_are_never_blocked() {
        let h = headers(&[("sec-fetch-site", "cross-site"), ("cookie", "wharf.sid=x")]);
        assert!(cross_site_verdict(&Method::GET, &h).is_ok());
    }

    #[test]
    fn same_origin_posts_pass_and_cross_site_ones_are_refused() {
        assert!(cross_site_verdict(
            &Method::POST,
            &headers(&[("sec-fetch-site", "same-origin")])
        )
        .is_ok());
        assert!(
            cross_site_verdict(&Method::POST, &headers(&[("sec-fetch-site", "cross-site")]))
                .is_err()
        );
        assert!(
            cross_site_verdict(&Method::POST, &headers(&[("sec-fetch-site", "same-site")]))
                .is_err()
        );
    }

    #[test]
    fn origin_must_match_host_when_fetch_metadata_is_missing() {
        let ok = headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(cross_site_verdict(&Method::POST, &ok).is_ok());
        let evil = headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(cross_site_verdict(&Method::POST, &evil).is_err());
        let null = headers(&[("origin", "null"), ("host", "127.0.0.1:3000")]);
        assert!(cross_site_verdict(&Method::DELETE, &null).is_err());
    }

    #[test]
    fn a_cookie_without_origin_is_refused_but_cookieless_clients_pass() {
        let with_cookie = headers(&[("cookie", "theme=dark; wharf.sid=abc")]);
        assert!(cross_site_verdict(&Method::POST, &with_cookie).is_err());
        let other_cookie = headers(&[("cookie", "theme=dark")]);
        assert!(cross_site_verdict(&Method::POST, &other_cookie).is_ok());
        assert!(cross_site_verdict(&Method::POST, &HeaderMap::new()).is_ok());
    }

    #[test]
    fn next_parameter_is_escaped() {
        assert_eq!(
            url_escape("/projects/1?x=a b&y"),
            "/projects/1%3Fx%3Da%20b%26y"
        );
    }

    #[test]
    fn only_content_hashed_assets_count_as_hashed() {
        assert!(is_hashed_asset("/pkg/wharf.Ab3dEf6hIj9kLm0n.wasm"));
        assert!(is_hashed_asset("/pkg/wharf.Ab3dEf6hIj9kLm0n_bg.wasm"));
        assert!(is_hashed_asset("/pkg/wharf.Ab3dEf6hIj9kLm0n.css"));
        assert!(!is_hashed_asset("/pkg/wharf.wasm"));
        assert!(!is_hashed_asset("/pkg/wharf_bg.wasm"));
        assert!(!is_hashed_asset("/pkg/wharf.short.js"));
        assert!(!is_hashed_asset("/login"));
        assert!(!is_hashed_asset("/favicon.svg"));
    }
}
