//! Who is asking and what they may do: accounts (people, passwords), projects and their
//! members (the one authorisation rule, `projects::authorize`), API and access tokens.

pub mod accounts;
pub mod projects;
pub mod scoped;
pub mod tokens;
