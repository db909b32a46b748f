//! Wharf's pure types and rules. Nothing here performs I/O, so the crate compiles to wasm and
//! the browser and the server share one definition of every rule.

pub mod endpoints;
pub mod error;
pub mod executions;
pub mod image_ref;
pub mod names;
pub mod pipeline;
pub mod registry_events;
pub mod role;
pub mod serde_util;
pub mod variables;
pub mod views;
pub mod webhooks;

pub use error::ErrorCode;
pub use names::{DisplayName, Email, NameError, Password, ProjectName};
pub use role::ProjectRole;
