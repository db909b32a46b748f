//! A project's resources: variables, endpoints and pipelines, and which of them use which
//! (`usage`, so an endpoint or pipeline in use cannot be deleted).

pub mod endpoints;
pub mod pipelines;
pub mod usage;
pub mod variables;
