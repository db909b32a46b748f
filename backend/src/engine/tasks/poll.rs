//! The Poll task: a REST call repeated until its exit criteria hold or its attempts run out.

use super::*;
use domain::executions::RunStatus;
use domain::pipeline::expr::{self};
use domain::pipeline::Task;
use serde_json::Value;
use std::time::Duration;

/// POLL: the REST call, repeated every `interval` seconds until `exitCriteria` holds (it reads
/// this task's latest response as `${Stage.Task.output…}`) or `attempts` calls were made.
pub(super) async fn poll(ctx: &Context, tools: &Tools, stage: &str, task: &Task) -> Outcome {
    let http = &tools.http;
    let number =
        |k: &str, default: u64| task.input.get(k).and_then(Value::as_u64).unwrap_or(default);
    let interval = Duration::from_secs(number("interval", 60));
    let attempts = number("attempts", 10);
    let criteria = Criteria::of(task);
    // Aria's "Ignore intermediate failure": a response the criteria cannot read (a 503 page
    // while the service starts) does not end the poll
    let keep_going = task
        .input
        .get("ignoreFailure")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut logs = Vec::new();
    let mut last = Outcome::failed("The poll made no call.");
    for attempt in 1..=attempts {
        let mut o = rest(ctx, http, task).await;
        logs.append(&mut o.logs);
        if o.output.is_null() {
            // no response at all (refused, DNS …): report it, keep trying
            logs.push(format!(
                "attempt {attempt}/{attempts}: {}",
                o.message.clone().unwrap_or_default()
            ));
        } else {
            let key = (stage.to_owned(), task.name.clone());
            let verdict = ctx.with_output(key, o.output.clone(), |c| criteria.judge(c));
            match verdict {
                Ok(Some((status, said))) => {
                    logs.push(format!("attempt {attempt}/{attempts}: {said}"));
                    let message = if status == RunStatus::Completed {
                        format!("The exit criteria held after {attempt} call(s).")
                    } else {
                        format!("The failure criteria held after {attempt} call(s): {said}")
                    };
                    return Outcome {
                        status,
                        message: Some(message),
                        output: o.output,
                        logs,
                    };
                }
                Ok(None) => logs.push(format!(
                    "attempt {attempt}/{attempts}: {} → false",
                    criteria.success
                )),
                Err(m) if keep_going => {
                    logs.push(format!("attempt {attempt}/{attempts}: {m} (ignored)"));
                }
                Err(m) => {
                    logs.push(format!("attempt {attempt}/{attempts}: {m}"));
                    return Outcome {
                        status: RunStatus::Failed,
                        message: Some(format!("The exit criteria cannot be evaluated: {m}")),
                        output: o.output,
                        logs,
                    };
                }
            }
        }
        last = o;
        if attempt < attempts {
            // the attempts so far show while the poll waits for the next
            for l in logs.iter().skip(tools.log.written()) {
                tools.log.line(l).await;
            }
            tokio::time::sleep(interval).await;
        }
    }
    Outcome {
        status: RunStatus::Failed,
        message: Some(format!(
            "The exit criteria did not hold after {attempts} call(s): {}",
            criteria.success
        )),
        output: last.output,
        logs,
    }
}

/// A Poll task's exit criteria: Wharf's one expression (success when it holds), or Aria's
/// `success` and `failure` expressions (either may be empty).
struct Criteria {
    success: String,
    failure: String,
}

impl Criteria {
    fn of(task: &Task) -> Self {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
        match task.input.get("exitCriteria") {
            Some(Value::Object(o)) => Criteria {
                success: text(o.get("success")),
                failure: text(o.get("failure")),
            },
            other => Criteria {
                success: text(other),
                failure: String::new(),
            },
        }
    }

    /// The failure expression first, then the success one: the outcome and what held, or
    /// `None` to poll again.
    fn judge(&self, c: &Context) -> Result<Option<(RunStatus, String)>, String> {
        let holds = |e: &str| -> Result<bool, String> {
            if e.trim().is_empty() {
                return Ok(false);
            }
            expr::evaluate(e, &|b| c.resolve(b))
        };
        if holds(&self.failure)? {
            return Ok(Some((
                RunStatus::Failed,
                format!("{} → true", self.failure),
            )));
        }
        if holds(&self.success)? {
            return Ok(Some((
                RunStatus::Completed,
                format!("{} → true", self.success),
            )));
        }
        Ok(None)
    }
}
