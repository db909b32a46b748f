//! The Condition task: an expression over bindings, true or false.

use super::*;
use domain::executions::RunStatus;
use domain::pipeline::expr::{self};
use domain::pipeline::Task;
use serde_json::{json, Value};

pub(super) fn condition(ctx: &Context, task: &Task) -> Outcome {
    let src = task
        .input
        .get("condition")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match expr::evaluate(src, &|b| ctx.resolve(b)) {
        Ok(true) => Outcome {
            status: RunStatus::Completed,
            message: Some("The condition holds.".to_owned()),
            output: json!({"result": true}),
            logs: vec![format!("{src} → true")],
        },
        Ok(false) => Outcome {
            status: RunStatus::Failed,
            message: Some(format!("The condition is false: {src}")),
            output: json!({"result": false}),
            logs: vec![format!("{src} → false")],
        },
        Err(m) => Outcome::failed(m),
    }
}
