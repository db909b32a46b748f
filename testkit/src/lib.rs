//! Stand-ins for systems Wharf's tests cannot reach from these machines, each following the
//! public API contract of the real thing. Only tests use this crate; the product never knows.

pub mod certs;
pub mod kube;
