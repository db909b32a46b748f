//! Dynamic responses compressed for browsers that accept gzip: pages, server functions' and
//! the API's JSON, exported YAML, when they are large (over 1 KiB, or of unknown length: a
//! streamed page). The built assets are not (they are precompressed, see `scripts/compress-
//! site.sh`), nor live streams (server-sent events), nor what is already encoded. Compressed
//! as it streams: what the page has written goes out whenever it pauses, so a streamed page
//! still arrives in pieces. flate2 (tower-http's compression needs
//! async-compression, which this build cannot fetch) does the deflating.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use flate2::write::GzEncoder;
use http_body::Frame;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Bodies known to be smaller than this are sent as they are.
const MIN_BYTES: u64 = 1024;

/// Compresses the response when the browser accepts gzip and the response is worth it.
pub async fn compress(req: Request, next: Next) -> Response {
    let accepts = accepts_gzip(req.headers());
    let res = next.run(req).await;
    if !accepts || !worth_it(res.headers()) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let exact = http_body::Body::size_hint(&body).exact();
    if exact.is_some_and(|n| n < MIN_BYTES) {
        return Response::from_parts(parts, body);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    let gzip = Gzip {
        inner: body,
        encoder: Some(GzEncoder::new(Vec::new(), flate2::Compression::new(6))),
        unflushed: false,
    };
    Response::from_parts(parts, Body::new(gzip))
}

/// Whether `Accept-Encoding` takes gzip (and does not refuse it with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// A page, JSON or YAML, not already encoded, not a live stream, not said to be small (the
/// body's own size is checked too).
fn worth_it(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let essence = kind.split(';').next().unwrap_or_default().trim();
    let textual = matches!(
        essence,
        "text/html" | "application/json" | "application/yaml" | "text/plain" | "text/csv"
    ) || essence.ends_with("+json");
    let small = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n < MIN_BYTES);
    textual && !small
}

/// A body compressed with gzip as its chunks arrive: what the page has written goes out
/// (flushed) whenever the page has nothing more at once, so a streamed page still arrives in
/// pieces while the chunks written together compress together.
struct Gzip {
    inner: Body,
    encoder: Option<GzEncoder<Vec<u8>>>,
    unflushed: bool,
}

/// Compressed bytes that go out without waiting for a pause.
const SEND_AT: usize = 16 * 1024;

impl http_body::Body for Gzip {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        loop {
            let Some(encoder) = this.encoder.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending if this.unflushed => {
                    this.unflushed = false;
                    if let Err(e) = encoder.flush() {
                        return Poll::Ready(Some(Err(axum::Error::new(e))));
                    }
                    let out = std::mem::take(encoder.get_mut());
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                }
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers: none are sent
                    };
                    if let Err(e) = encoder.write_all(&data) {
                        return Poll::Ready(Some(Err(axum::Error::new(e))));
                    }
                    this.unflushed = true;
                    if encoder.get_ref().len() >= SEND_AT {
                        let out = std::mem::take(encoder.get_mut());
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    let Some(encoder) = this.encoder.take() else {
                        return Poll::Ready(None);
                    };
                    return match encoder.finish() {
                        Ok(out) => Poll::Ready(Some(Ok(Frame::data(Bytes::from(out))))),
                        Err(e) => Poll::Ready(Some(Err(axum::Error::new(e)))),
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn gzip_is_taken_only_when_accepted() {
        let a = |v: &str| accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, v)]));
        assert!(a("gzip, deflate, br"));
        assert!(a("br;q=1.0, gzip;q=0.8"));
        assert!(a("*"));
        assert!(!a("br"));
        assert!(!a("gzip;q=0"));
        assert!(!a("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn pages_and_json_are_compressed_streams_and_small_or_encoded_answers_are_not() {
        let w = |pairs: &[(header::HeaderName, &str)]| worth_it(&headers(pairs));
        assert!(w(&[(header::CONTENT_TYPE, "text/html; charset=utf-8")]));
        assert!(w(&[
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_LENGTH, "5000")
        ]));
        assert!(!w(&[
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_LENGTH, "40")
        ]));
        assert!(!w(&[(header::CONTENT_TYPE, "text/event-stream")]));
        assert!(!w(&[(header::CONTENT_TYPE, "application/wasm")]));
        assert!(!w(&[
            (header::CONTENT_TYPE, "text/html"),
            (header::CONTENT_ENCODING, "br")
        ]));
    }
}
