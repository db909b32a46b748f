//! A project's resources: variables, endpoints and pipelines, which of them use which
//! (`usage`, so an endpoint or pipeline in use cannot be deleted), and what a pipeline needs
//! before it may be enabled (`attention`).

pub mod attention;
pub mod endpoints;
pub mod pipelines;
pub mod usage;
pub mod variables;
