//! A loopback HTTP server that records every request it receives: the attacker's listener in
//! trust-boundary tests ("does any secret arrive here?"), and a server of chosen answers
//! (a 50 MiB body, redirects) for the outbound HTTP policy's tests.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET /v2/?x=1`
    pub line: String,
    /// Every header, in order.
    pub headers: Vec<(String, String)>,
    /// The body, as text (lossy).
    pub body: String,
}

impl Seen {
    /// Everything of the request as one text, for "does it contain this secret?".
    pub fn text(&self) -> String {
        let mut out = self.line.clone();
        for (k, v) in &self.headers {
            out.push('\n');
            out.push_str(k);
            out.push_str(": ");
            out.push_str(v);
        }
        out.push('\n');
        out.push_str(&self.body);
        out
    }
}

/// What the listener answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 401 with a Basic challenge, inviting credentials.
    BasicChallenge,
    /// 200 with a streamed body of this many bytes ('x').
    Stream(u64),
    /// 302 to this location.
    RedirectTo(String),
    /// 200 `{"ok":true}`.
    Ok,
}

/// The running listener; it stops with the test's runtime.
#[derive(Clone)]
pub struct Listener {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The port.
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    streamed: Arc<std::sync::atomic::AtomicU64>,
}

impl Listener {
    /// Starts a listener answering every request with `answer`.
    pub async fn start(answer: Answer) -> Listener {
        Self::serve(answer, None).await
    }

    /// [`Listener::start`] over https with the certificate `tls` (for callers that must use
    /// https, such as Docker Hub callbacks); its `url` says `https://127.0.0.1:PORT`.
    pub async fn start_tls(answer: Answer, tls: &crate::certs::Pem) -> Listener {
        Self::serve(answer, Some(tls)).await
    }

    async fn serve(answer: Answer, tls: Option<&crate::certs::Pem>) -> Listener {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let port = tcp.local_addr().expect("local address").port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let streamed: Arc<std::sync::atomic::AtomicU64> = Arc::default();
        let log = seen.clone();
        let counter = streamed.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let log = log.clone();
            let answer = answer.clone();
            let counter = counter.clone();
            async move {
                let line = format!("{} {}", req.method(), req.uri());
                let headers = header_list(req.headers());
                let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                    .await
                    .unwrap_or_default();
                log.lock().expect("lock").push(Seen {
                    line,
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                respond(answer, counter)
            }
        });
        let scheme = match tls {
            None => {
                tokio::spawn(async move {
                    let _ = axum::serve(tcp, app).await;
                });
                "http"
            }
            Some(pem) => {
                let acceptor = acceptor(pem);
                tokio::spawn(async move {
                    use hyper_util::rt::{TokioExecutor, TokioIo};
                    use hyper_util::server::conn::auto::Builder;
                    use hyper_util::service::TowerToHyperService;
                    loop {
                        let Ok((conn, _)) = tcp.accept().await else {
                            continue;
                        };
                        let (acceptor, app) = (acceptor.clone(), app.clone());
                        tokio::spawn(async move {
                            let Ok(stream) = acceptor.accept(conn).await else {
                                return;
                            };
                            let _ = Builder::new(TokioExecutor::new())
                                .serve_connection(
                                    TokioIo::new(stream),
                                    TowerToHyperService::new(app),
                                )
                                .await;
                        });
                    }
                });
                "https"
            }
        };
        Listener {
            url: format!("{scheme}://127.0.0.1:{port}"),
            port,
            seen,
            streamed,
        }
    }

    /// How many body bytes a `Stream` answer has handed to the connection so far (the
    /// reader's pace bounds it: a client that stops reading stops the stream).
    pub fn streamed(&self) -> u64 {
        self.streamed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// Whether any request carried `needle` anywhere (line, headers, body).
    pub fn saw(&self, needle: &str) -> bool {
        self.seen().iter().any(|s| s.text().contains(needle))
    }

    /// Whether any request carried an `Authorization` header.
    pub fn saw_authorization(&self) -> bool {
        self.seen().iter().any(|s| {
            s.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        })
    }
}

fn header_list(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn respond(answer: Answer, counter: Arc<std::sync::atomic::AtomicU64>) -> Response {
    match answer {
        Answer::BasicChallenge => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, r#"Basic realm="listener""#)],
            "<html><body>Foreign error page: secret internals</body></html>",
        )
            .into_response(),
        Answer::Stream(total) => {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let chunks = total.div_ceil(64 * 1024);
            let stream = chunked_body(chunk, chunks, counter);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Answer::RedirectTo(location) => {
            (StatusCode::FOUND, [(header::LOCATION, location)], "").into_response()
        }
        Answer::Ok => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"ok":true}"#,
        )
            .into_response(),
    }
}

/// `n` copies of `chunk` as a body stream, produced one at a time (never all in memory).
fn chunked_body(
    chunk: Bytes,
    n: u64,
    counter: Arc<std::sync::atomic::AtomicU64>,
) -> tokio_stream::wrappers::ReceiverStream<Result<Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    tokio::spawn(async move {
        for _ in 0..n {
            if tx.send(Ok(chunk.clone())).await.is_err() {
                break;
            }
            counter.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::SeqCst);
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// A TLS acceptor presenting `pem`.
fn acceptor(pem: &crate::certs::Pem) -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.cert.as_bytes())
        .collect::<Result<_, _>>()
        .expect("server certificate");
    let key = PrivateKeyDer::from_pem_slice(pem.key.as_bytes()).expect("server key");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}
