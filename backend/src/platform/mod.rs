//! What every other part stands on: the database and its entities, time, the master key and
//! sealed secrets, sessions, sign-in slowing, the in-process event bus and the masking rule.
//! Uses nothing of Wharf's but the crate root.

pub mod clock;
pub mod cluster;
pub mod db;
pub mod entities;
pub mod events;
pub mod keys;
pub mod masking;
pub mod secrets;
pub mod sessions;
pub mod throttle;
