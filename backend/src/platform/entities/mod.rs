//! SeaORM entities, one per table, in the form `sea-orm-cli generate entity` writes them.
//! They mirror the migrations and hold no behaviour: that lives in the service modules.

pub mod access_tokens;
pub mod api_tokens;
pub mod docker_webhooks;
pub mod endpoints;
pub mod executions;
pub mod pipeline_slots;
pub mod pipelines;
pub mod project_claims;
pub mod project_members;
pub mod projects;
pub mod push_keys;
pub mod sessions;
pub mod sign_in_throttle;
pub mod stage_runs;
pub mod task_logs;
pub mod task_runs;
pub mod user_operations;
pub mod users;
pub mod variables;
pub mod webhook_activity;
pub mod webhook_deliveries;
