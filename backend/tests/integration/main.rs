//! The backend's integration tests, in one test binary: each binary links the backend and its
//! dependencies, so one binary instead of eleven saves CI disk and link time.

#![allow(dead_code)]

mod support;

mod aria;
mod endpoints;
mod engine;
mod fairness;
mod inbox;
mod kubernetes;
mod kubernetes_task;
mod layout;
mod registry;
mod registry_task;
mod services;
mod tls;
mod tokens;
mod trust;
mod variables;
