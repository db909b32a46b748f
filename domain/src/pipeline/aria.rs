//! Aria Automation Pipelines' spellings: the task inputs Aria exports under its own names, the
//! inputs Wharf keeps without acting on them, the outputs Aria's bindings name, and the task
//! types Aria has that Wharf does not run.
//!
//! A task keeps its input exactly as written, so Aria → Wharf → Aria round-trips; what the
//! runners and checks read is [`settings`], the same input in Wharf's names.

use super::{Task, TaskType};
use serde_json::{Map, Value};

/// The key of a task-level `endpoints:` map that names a Kubernetes task's cluster.
pub const KUBERNETES_ENDPOINT_KEY: &str = "kubernetesServer";

/// Aria's task types that Wharf does not run: such a task imports as "not supported by Wharf".
pub const UNSUPPORTED_TYPES: [&str; 13] = [
    "SSH",
    "CI",
    "Jenkins",
    "Blueprint",
    "Bamboo",
    "TFS",
    "vRO",
    "PowerShell",
    "Terraform",
    "Custom",
    "Git",
    "CloudTemplate",
    "VMwareCloudTemplate",
];

/// Aria's inputs a type has that Wharf keeps and writes back but does not act on (or reads
/// elsewhere: a Kubernetes task's `timeout` is its time limit, `expirationUnit` goes with
/// `expiration`).
pub(super) fn kept_inputs(kind: TaskType) -> &'static [&'static str] {
    match kind {
        TaskType::Kubernetes => &["filePath", "scmConstants", "commit", "timeout"],
        TaskType::UserOperation => &[
            "approverGroups",
            "sendemail",
            "cancelPreviousPendingUserOp",
            "expirationUnit",
        ],
        TaskType::Pipeline => &["outputProperties"],
        _ => &[],
    }
}

/// Inputs that are true or false, and whole numbers: Aria writes them as text too.
const FLAGS: [&str; 4] = [
    "waitForRollout",
    "followRedirects",
    "continueOnConflict",
    "ignoreFailure",
];
const NUMBERS: [&str; 4] = ["rolloutTimeout", "interval", "attempts", "expiry"];

/// `'true'` → true, `'5'` → 5; anything else as it is.
pub(super) fn coerce_flag(v: &Value) -> Value {
    match v.as_str().map(str::trim) {
        Some("true") => Value::Bool(true),
        Some("false") => Value::Bool(false),
        _ => v.clone(),
    }
}

pub(super) fn coerce_number(v: &Value) -> Value {
    match v
        .as_str()
        .map(str::trim)
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(n) => Value::Number(n.into()),
        None => v.clone(),
    }
}

fn whole(v: &Value) -> Option<u64> {
    coerce_number(v).as_u64()
}

/// One input under Wharf's name: `None` when Aria's name maps to nothing the runner reads.
fn rename(task: &Task, key: &str, v: &Value) -> Option<(String, Value)> {
    let upper = |v: &Value| match v.as_str() {
        Some(s) => Value::String(s.to_ascii_uppercase()),
        None => v.clone(),
    };
    let http = matches!(task.kind, TaskType::Rest | TaskType::Poll);
    Some(match (task.kind, key) {
        (_, "action") if http => ("method".to_owned(), upper(v)),
        (_, "payload") if http => ("body".to_owned(), v.clone()),
        (TaskType::Poll, "pollCount") => ("attempts".to_owned(), v.clone()),
        (TaskType::Poll, "pollIntervalSeconds") => ("interval".to_owned(), v.clone()),
        (TaskType::UserOperation, "expirationInDays") => {
            let hours = whole(v).map_or(v.clone(), |d| Value::Number((d * 24).into()));
            ("expiry".to_owned(), hours)
        }
        (TaskType::UserOperation, "expiration") => {
            let unit = task.input.get("expirationUnit").and_then(Value::as_str);
            let hours = whole(v).and_then(|n| match unit.unwrap_or("DAYS") {
                "DAYS" => Some(n * 24),
                "HOURS" => Some(n),
                "MINUTES" => Some(n.div_ceil(60)),
                _ => None,
            });
            let value = hours.map_or(Value::Null, |h| Value::Number(h.into()));
            ("expiry".to_owned(), value)
        }
        _ => (key.to_owned(), v.clone()),
    })
}

/// See [`Task::settings`].
pub(super) fn settings(task: &Task) -> Map<String, Value> {
    let kept = kept_inputs(task.kind);
    let mut out = Map::new();
    // Wharf's own names first, so they win over an Aria name for the same thing
    for (k, v) in &task.input {
        if task.kind.fields().iter().any(|(f, _)| f == k) {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in &task.input {
        if kept.contains(&k.as_str()) || out.contains_key(k) {
            continue;
        }
        if let Some((name, value)) = rename(task, k, v) {
            out.entry(name).or_insert(value);
        }
    }
    if task.kind == TaskType::Kubernetes && !out.contains_key("endpoint") {
        if let Some(e) = task.endpoints.get(KUBERNETES_ENDPOINT_KEY) {
            out.insert("endpoint".to_owned(), e.clone());
        }
    }
    for f in FLAGS {
        if let Some(v) = out.get_mut(f) {
            *v = coerce_flag(v);
        }
    }
    for f in NUMBERS {
        if let Some(v) = out.get_mut(f) {
            *v = coerce_number(v);
        }
    }
    out
}

/// A Kubernetes task's Aria `timeout` (minutes) in seconds.
pub(super) fn minutes_limit(task: &Task) -> Option<u64> {
    if task.kind != TaskType::Kubernetes {
        return None;
    }
    let minutes = whole(task.input.get("timeout")?)?;
    Some(minutes.saturating_mul(60).clamp(1, 7 * 24 * 3600))
}

/// The output of a REST or Poll task under Aria's name: `responseCode` is Wharf's `status`,
/// `responseHeaders` its `headers`, `responseBody` and `responseJson` its `body`.
pub fn output_alias(key: &str) -> Option<&'static str> {
    match key {
        "responseCode" => Some("status"),
        "responseHeaders" => Some("headers"),
        "responseBody" | "responseJson" => Some("body"),
        _ => None,
    }
}
