//! Route components, one module per area.

pub mod auth;
pub mod cells;
pub mod endpoints;
pub mod executions;
pub mod home;
pub mod not_found;
pub mod pipelines;
pub mod projects;
pub mod shell;
pub mod tokens;
pub mod triggers;
pub mod user_operations;
pub mod users;
pub mod variables;
