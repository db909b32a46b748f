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

/// A task's precondition: `None` when the task runs (no precondition, or it holds), else
/// the outcome instead (SKIPPED when false, FAILED when it cannot be evaluated).
pub(in crate::engine) fn precondition(ctx: &Context, task: &Task) -> Option<Outcome> {
    let pre = task.pre_condition.as_ref()?;
    match expr::evaluate(pre, &|b| ctx.resolve(b)) {
        Ok(true) => None,
        Ok(false) => Some(Outcome {
            status: RunStatus::Skipped,
            message: Some(format!("Skipped: the precondition {pre} is false.")),
            output: Value::Null,
            logs: Vec::new(),
        }),
        Err(m) => Some(Outcome::failed(format!(
            "The precondition cannot be evaluated: {m}"
        ))),
    }
}

pub(super) async fn run_task(ctx: &Context, tools: &Tools, stage: &str, task: &Task) -> Outcome {
    if let Some(instead) = precondition(ctx, task) {
        return instead;
    }
    match task.kind {
        TaskType::Condition => condition(ctx, task),
        TaskType::Rest => rest(ctx, &tools.http, task).await,
        TaskType::Poll => poll(ctx, tools, stage, task).await,
        TaskType::Kubernetes => kubernetes::run(ctx, &tools.backend, &tools.log, task).await,
        TaskType::Registry => registry::run(ctx, &tools.backend, task).await,
        // waits are handled by the engine itself (they need no worker while they wait)
        TaskType::UserOperation => Outcome::failed("A User Operation cannot run as a plain task."),
        TaskType::Pipeline => Outcome::failed("A Pipeline task cannot run as a plain task."),
        TaskType::Unsupported => Outcome::failed(format!(
            "{} tasks are not supported by Wharf.",
            task.type_name()
        )),
    }
}

/// What task runners may use.
pub(super) struct Tools {
    pub(super) http: Http,
    pub(super) backend: Backend,
    pub(super) log: LiveLog,
}
