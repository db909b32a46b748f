//! Step ④ of the flow, the queue: executions started under their pipeline's concurrency
//! policy, their actions (cancel, pause, resume, rerun, delete) and queries, and the User
//! Operations (approvals) they wait for.

pub mod executions;
pub mod user_operations;
