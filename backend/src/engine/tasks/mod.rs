//! ⑥ The task runners: one file per task type, and [`run_task`], which checks a task's
//! precondition and hands it to its runner. (A User Operation is not run here: the engine waits
//! for its answer without a worker, `engine/user_operation.rs`.)

use super::*;
use crate::Backend;
use domain::executions::RunStatus;
use domain::pipeline::expr::{self};
use domain::pipeline::{Task, TaskType};
use serde_json::Value;

mod condition;
mod kubernetes;
mod poll;
mod registry;
mod rest;

use condition::condition;
use poll::poll;
use rest::rest;

pub(super) async fn run_task(ctx: &Context, tools: &Tools, stage: &str, task: &Task) -> Outcome {
    if let Some(pre) = &task.pre_condition {
        match expr::evaluate(pre, &|b| ctx.resolve(b)) {
            Ok(true) => {}
            Ok(false) => {
                return Outcome {
                    status: RunStatus::Skipped,
                    message: Some(format!("Skipped: the precondition {pre} is false.")),
                    output: Value::Null,
                    logs: Vec::new(),
                }
            }
            Err(m) => return Outcome::failed(format!("The precondition cannot be evaluated: {m}")),
        }
    }
    match task.kind {
        TaskType::Condition => condition(ctx, task),
        TaskType::Rest => rest(ctx, &tools.http, task).await,
        TaskType::Poll => poll(ctx, tools, stage, task).await,
        TaskType::Kubernetes => kubernetes::run(ctx, &tools.backend, &tools.log, task).await,
        TaskType::Registry => registry::run(ctx, &tools.backend, task).await,
        // waits are handled by the engine itself (they need no worker while they wait)
        TaskType::UserOperation => Outcome::failed("A User Operation cannot run as a plain task."),
    }
}

/// What task runners may use.
pub(super) struct Tools {
    pub(super) http: Http,
    pub(super) backend: Backend,
    pub(super) log: LiveLog,
}
