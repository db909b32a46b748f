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
    let criteria = task
        .input
        .get("exitCriteria")
        .and_then(Value::as_str)
        .unwrap_or_default();
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
            let verdict = ctx.with_output(key, o.output.clone(), |c| {
                expr::evaluate(criteria, &|b| c.resolve(b))
            });
            match verdict {
                Ok(true) => {
                    logs.push(format!("attempt {attempt}/{attempts}: {criteria} → true"));
                    return Outcome {
                        status: RunStatus::Completed,
                        message: Some(format!("The exit criteria held after {attempt} call(s).")),
                        output: o.output,
                        logs,
                    };
                }
                Ok(false) => logs.push(format!("attempt {attempt}/{attempts}: {criteria} → false")),
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
            "The exit criteria did not hold after {attempts} call(s): {criteria}"
        )),
        output: last.output,
        logs,
    }
}
