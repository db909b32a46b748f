//! The server's integration tests, in one test binary: each binary links all of Wharf (about
//! 160 MB in a debug build), so seven of them cost CI a gigabyte of disk and seven links.

#![allow(dead_code)]

mod support;

mod api;
mod assets;
mod authz;
mod crash;
mod docker_webhooks;
mod http;
mod live;
mod logs;
mod pipelines_api;
mod replicas;
mod trust;
