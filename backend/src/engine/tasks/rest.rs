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
    let text = |k: &str| task.input.get(k).and_then(Value::as_str);
    let bind = |s: &str| ctx.substitute(s);
    let url = match bind(text("url").unwrap_or_default()) {
        Ok(u) => u,
        Err(m) => return Outcome::failed(m),
    };
    let checked = reqwest::Url::parse(&url)
        .map_err(|_| format!("{url} is not a URL."))
        .and_then(|u| http.policy.check_url(&u).map(|()| u));
    let url = match checked {
        Ok(u) => u,
        Err(m) => return Outcome::failed(m),
    };
    let follow = task
        .input
        .get("followRedirects")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let client = if follow { &http.follow } else { &http.plain };
    let method = text("method").unwrap_or("GET");
    let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
        return Outcome::failed(format!("{method} is not an HTTP method"));
    };
    let mut req = client.request(method.clone(), url.clone());
    if let Some(headers) = task.input.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            match bind(v.as_str().unwrap_or_default()) {
                Ok(v) => req = req.header(k.as_str(), v),
                Err(m) => return Outcome::failed(m),
            }
        }
    }
    if let Some(body) = text("body") {
        match bind(body) {
            Ok(b) => req = req.body(b),
            Err(m) => return Outcome::failed(m),
        }
    }
    let mut logs = vec![format!("{method} {url}")];
    let res = match req.send().await {
        Ok(r) => r,
        Err(err) => {
            return Outcome::failed(format!(
                "{method} {url} failed: {}",
                crate::error::error_chain(&err)
            ))
        }
    };
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
    let (body, truncated) = match read_bounded(res, MAX_RESPONSE_BYTES).await {
        Ok(b) => b,
        Err(err) => {
            return Outcome::failed(format!(
                "reading the response failed: {}",
                crate::error::error_chain(&err)
            ))
        }
    };
    let body_value = if truncated {
        Value::String(String::from_utf8_lossy(&body).into_owned())
    } else {
        serde_json::from_slice::<Value>(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    logs.push(format!("HTTP {} ({} bytes)", status.as_u16(), body.len()));
    let mut output = json!({"status": status.as_u16(), "headers": headers, "body": body_value});
    if truncated {
        let note = format!(
            "The response was longer than {} KiB: its first {} KiB are kept, the rest was discarded.",
            MAX_RESPONSE_BYTES / 1024,
            MAX_RESPONSE_BYTES / 1024
        );
        logs.push(note.clone());
        output["truncated"] = Value::Bool(true);
        output["note"] = Value::String(note);
    }
    if status.is_client_error() || status.is_server_error() {
        Outcome {
            status: RunStatus::Failed,
            message: Some(format!("{method} {url} answered HTTP {}.", status.as_u16())),
            output,
            logs,
        }
    } else {
        Outcome {
            status: RunStatus::Completed,
            message: Some(format!("HTTP {}", status.as_u16())),
            output,
            logs,
        }
    }
}
