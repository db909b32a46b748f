//! Route components, one module per area.

pub mod auth;
pub mod endpoints;
pub mod not_found;
pub mod placeholders;
pub mod projects;
pub mod shell;
pub mod tokens;
pub mod users;
pub mod variables;
