//! Stand-ins for systems Wharf's tests cannot reach from these machines (Kubernetes, Docker Hub),
//! each following the public API contract of the real thing, and helpers that start the real
//! parts that do run here (Debian's docker-registry, skopeo). Only tests use this crate; the
//! product never knows.

pub mod certs;
pub mod database;
pub mod dockerhub;
pub mod fixtures;
pub mod kube;
pub mod listener;
pub mod registry;
pub mod wharf;
