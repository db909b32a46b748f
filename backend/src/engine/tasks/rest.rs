//! The REST task: one HTTP call under the outbound policy, its response bounded.

use super::*;
use domain::executions::RunStatus;
use domain::pipeline::Task;
use serde_json::{json, Map, Value};

/// Reads at most `limit` bytes of a response body, chunk by chunk; whatever follows is never
/// read (the connection is dropped). Returns the bytes and whether the body was longer.
pub(super) async fn read_bounded(
    mut res: reqwest::Response,
    limit: usize,
) -> reqwest::Result<(Vec<u8>, bool)> {
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

pub(super) async fn rest(ctx: &Context, http: &Http, task: &Task) -> Outcome {
    // 1. the request, bound and checked against the outbound policy
    let (req, method, url) = match request(ctx, http, task) {
        Ok(r) => r,
        Err(m) => return Outcome::failed(m),
    };
    // 2. the call
    let mut logs = vec![format!("{method} {url}")];
    let res = match req.send().await {
        Ok(r) => r,
        Err(err) => {
            let why = crate::error::error_chain(&err);
            return Outcome::failed(format!("{method} {url} failed: {why}"));
        }
    };
    // 3. the response, at most MAX_RESPONSE_BYTES of it, as the task's output
    let status = res.status();
    let (output, read) = match response_output(res).await {
        Ok(o) => o,
        Err(m) => return Outcome::failed(m),
    };
    logs.push(format!("HTTP {} ({read} bytes)", status.as_u16()));
    if let Some(note) = output.get("note").and_then(Value::as_str) {
        logs.push(note.to_owned());
    }
    // 4. a 4xx or 5xx fails the task
    let failed = status.is_client_error() || status.is_server_error();
    Outcome {
        status: if failed {
            RunStatus::Failed
        } else {
            RunStatus::Completed
        },
        message: Some(if failed {
            format!("{method} {url} answered HTTP {}.", status.as_u16())
        } else {
            format!("HTTP {}", status.as_u16())
        }),
        output,
        logs,
    }
}

/// The task's request: its URL, method, headers and body with bindings resolved, the URL
/// allowed by the outbound policy, redirects followed only when asked.
fn request(
    ctx: &Context,
    http: &Http,
    task: &Task,
) -> std::result::Result<(reqwest::RequestBuilder, reqwest::Method, reqwest::Url), String> {
    let text = |k: &str| task.input.get(k).and_then(Value::as_str);
    let url = ctx.substitute(text("url").unwrap_or_default())?;
    let url = reqwest::Url::parse(&url)
        .map_err(|_| format!("{url} is not a URL."))
        .and_then(|u| http.policy.check_url(&u).map(|()| u))?;
    let follow = task
        .input
        .get("followRedirects")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let client = if follow { &http.follow } else { &http.plain };
    let method = text("method").unwrap_or("GET");
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("{method} is not an HTTP method"))?;
    let mut req = client.request(method.clone(), url.clone());
    if let Some(headers) = task.input.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            req = req.header(k.as_str(), ctx.substitute(v.as_str().unwrap_or_default())?);
        }
    }
    if let Some(body) = text("body") {
        req = req.body(ctx.substitute(body)?);
    }
    Ok((req, method, url))
}

/// The response as the task's output (`status`, `headers`, `body`: JSON when it parses),
/// with `truncated` and a `note` when it was longer than the cap; and how many bytes were read.
async fn response_output(res: reqwest::Response) -> std::result::Result<(Value, usize), String> {
    let status = res.status();
    let headers: Map<String, Value> = res
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(v.to_str().unwrap_or("").to_owned()),
            )
        })
        .collect();
    let (body, truncated) = read_bounded(res, MAX_RESPONSE_BYTES).await.map_err(|err| {
        let why = crate::error::error_chain(&err);
        format!("reading the response failed: {why}")
    })?;
    let text = || Value::String(String::from_utf8_lossy(&body).into_owned());
    let body_value = if truncated {
        text()
    } else {
        serde_json::from_slice::<Value>(&body).unwrap_or_else(|_| text())
    };
    let mut output = json!({"status": status.as_u16(), "headers": headers, "body": body_value});
    if truncated {
        let kib = MAX_RESPONSE_BYTES / 1024;
        let note = format!(
            "The response was longer than {kib} KiB: its first {kib} KiB are kept, the rest was discarded."
        );
        output["truncated"] = Value::Bool(true);
        output["note"] = Value::String(note);
    }
    Ok((output, body.len()))
}
