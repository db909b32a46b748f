//! Steps ① to ③ of the flow: Docker webhook cards (`cards`, what a registry's delivery is
//! matched against, with the listener's token cache), their Docker Hub twin (`hub_sync`) and
//! the durable inbox (`inbox`: intake, normalise, match, then `runs::executions::start_in`).

pub mod card_form;
pub mod cards;
pub mod hub_sync;
pub mod inbox;
pub mod listener;
