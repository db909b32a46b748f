use super::{Context, Outcome};
use crate::Backend;
use domain::pipeline::Task;

pub(super) async fn run(_ctx: &Context, _backend: &Backend, _task: &Task) -> Outcome {
    Outcome::failed("not yet")
}
