//! The built site as browsers get it: a content-hashed asset in the encoding the browser
//! accepts (brotli, else gzip, else as built), kept a year; everything else revalidated.

use crate::support::{config, start};
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, IF_MODIFIED_SINCE, LAST_MODIFIED, VARY,
};

const HASHED: &str = "wharf.Ab3dEf6hIj9kLm0nQ2.wasm";

#[tokio::test]
async fn hashed_assets_are_precompressed_by_negotiation_and_kept_a_year_pages_are_revalidated() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("site").join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join(HASHED), b"\0asm plain").unwrap();
    std::fs::write(pkg.join(format!("{HASHED}.br")), b"brotli bytes").unwrap();
    std::fs::write(pkg.join(format!("{HASHED}.gz")), b"gzip bytes").unwrap();
    std::fs::write(pkg.join("unhashed.js"), b"export {}").unwrap();
    let server = start(config(dir.path())).await;
    let c = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    let get = |path: String, encoding: &'static str| {
        c.get(server.url(&path))
            .header(ACCEPT_ENCODING, encoding)
            .send()
    };
    let asset = format!("/pkg/{HASHED}");
    for (accepts, encoding, body) in [
        ("br, gzip", Some("br"), "brotli bytes"),
        ("gzip, deflate", Some("gzip"), "gzip bytes"),
        ("identity", None, "\0asm plain"),
    ] {
        let res = get(asset.clone(), accepts).await.unwrap();
        assert_eq!(res.status(), 200, "{accepts}");
        let h = res.headers().clone();
        assert_eq!(
            h.get(CONTENT_ENCODING).map(|v| v.to_str().unwrap()),
            encoding,
            "{accepts}"
        );
        assert_eq!(h[CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert!(h[VARY]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("accept-encoding"));
        assert_eq!(res.text().await.unwrap(), body);
    }
    // a file whose name does not change with its content is checked before each use
    let res = get("/pkg/unhashed.js".into(), "br").await.unwrap();
    assert_eq!(res.headers()[CACHE_CONTROL], "no-cache");
    let modified = res.headers()[LAST_MODIFIED].clone();
    let again = c
        .get(server.url("/pkg/unhashed.js"))
        .header(IF_MODIFIED_SINCE, modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // pages and API answers too
    for path in ["/login", "/healthz", "/pipelines/api/openapi.json"] {
        let res = get(path.into(), "br").await.unwrap();
        assert_eq!(res.headers()[CACHE_CONTROL], "no-cache", "{path}");
    }
    // a missing hashed name is not kept a year
    let res = get("/pkg/wharf.ZZZZZZZZZZZZZZZZZZZZ.wasm".into(), "br")
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()[CACHE_CONTROL], "no-cache");
    server.stop().await;
}

/// Pages and large JSON go out gzip-compressed to a browser that accepts it, and read back
/// the same; a live stream and a small answer go as they are.
#[tokio::test]
async fn pages_are_compressed_live_streams_and_small_answers_are_not() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let (server, browser) = crate::support::with_admin(dir.path()).await;
    let get = |path: &'static str, encoding: &'static str| {
        browser
            .get(server.url(path))
            .header(ACCEPT_ENCODING, encoding)
            .send()
    };
    let plain = get("/projects", "identity").await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let plain = plain.text().await.unwrap();
    let zipped = get("/projects", "gzip, deflate, br").await.unwrap();
    assert_eq!(zipped.headers()[CONTENT_ENCODING], "gzip");
    assert!(zipped.headers()[VARY]
        .to_str()
        .unwrap()
        .contains("accept-encoding"));
    let bytes = zipped.bytes().await.unwrap();
    let mut page = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut page)
        .unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page:.80}");
    // a fraction of the size, even when every piece the page streams is flushed apart
    // (about 40 % then; about 30 % when it arrives at once)
    assert!(
        bytes.len() * 3 < plain.len() * 2,
        "{} of {}",
        bytes.len(),
        plain.len()
    );
    let small = get("/healthz", "gzip").await.unwrap();
    assert!(small.headers().get(CONTENT_ENCODING).is_none());
    let stream = get("/live/executions", "gzip").await.unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    assert!(stream.headers().get(CONTENT_ENCODING).is_none());
    drop(stream);
    server.stop().await;
}
