//! Wharf's schema. The same migrations run on SQLite and PostgreSQL; `Migrator::up` applies
//! whatever is missing at start-up.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_create_users;
mod m20261121_000002_create_projects;
mod m20261121_000003_create_sessions;
mod m20261121_000004_create_sign_in_throttle;
mod m20261121_000005_create_variables;
mod m20261121_000006_create_api_tokens;
mod m20261121_000007_create_endpoints;
mod m20261121_000008_kubernetes_endpoints;
mod m20261121_000009_create_pipelines;
mod m20261121_000010_create_user_operations;
mod m20261121_000011_create_docker_webhooks;
mod m20261121_000012_activity_dedup_index;
mod m20261121_000013_live_versions;
mod m20261121_000014_dashboard_indexes;
mod m20261121_000015_task_input;
mod m20261202_000016_restricted_release;
mod m20261202_000017_pipeline_heads;
mod m20261202_000018_delivery_retries;
mod m20261202_000019_head_bump_skip_locked;
mod m20261203_000020_child_executions;
mod m20261203_000021_pipeline_slots;
mod m20261204_000022_many_writers;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_users::Migration),
            Box::new(m20261121_000002_create_projects::Migration),
            Box::new(m20261121_000003_create_sessions::Migration),
            Box::new(m20261121_000004_create_sign_in_throttle::Migration),
            Box::new(m20261121_000005_create_variables::Migration),
            Box::new(m20261121_000006_create_api_tokens::Migration),
            Box::new(m20261121_000007_create_endpoints::Migration),
            Box::new(m20261121_000008_kubernetes_endpoints::Migration),
            Box::new(m20261121_000009_create_pipelines::Migration),
            Box::new(m20261121_000010_create_user_operations::Migration),
            Box::new(m20261121_000011_create_docker_webhooks::Migration),
            Box::new(m20261121_000012_activity_dedup_index::Migration),
            Box::new(m20261121_000013_live_versions::Migration),
            Box::new(m20261121_000014_dashboard_indexes::Migration),
            Box::new(m20261121_000015_task_input::Migration),
            Box::new(m20261202_000016_restricted_release::Migration),
            Box::new(m20261202_000017_pipeline_heads::Migration),
            Box::new(m20261202_000018_delivery_retries::Migration),
            Box::new(m20261202_000019_head_bump_skip_locked::Migration),
            Box::new(m20261203_000020_child_executions::Migration),
            Box::new(m20261203_000021_pipeline_slots::Migration),
            Box::new(m20261204_000022_many_writers::Migration),
        ]
    }
}
