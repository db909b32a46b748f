//! Server functions, one file per area (mirroring `pages/` and the server's `api/`): each
//! parses, authorises through the services, calls one service and maps its error. Business
//! rules live in `backend`.

use crate::error::AppError;
use domain::views::{CurrentUser, ProjectDetail, ProjectSummary, UserRow};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::ssr::{actor, backend, session, session_error};

mod endpoints;
mod executions;
mod pipelines;
mod projects;
mod session;
mod tokens;
mod triggers;
mod user_operations;
mod users;
mod variables;

pub use endpoints::*;
pub use executions::*;
pub use pipelines::*;
pub use projects::*;
pub use session::*;
pub use tokens::*;
pub use triggers::*;
pub use user_operations::*;
pub use users::*;
pub use variables::*;
