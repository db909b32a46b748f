//! The installation's people (system administrators).

use super::*;
#[cfg(feature = "ssr")]
use backend::access::accounts;

/// Every user (administrators).
#[server]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    let (actor, _) = actor()?;
    Ok(accounts::list_users(&backend()?, actor).await?)
}

/// Creates a user (administrators).
#[server]
pub async fn create_user(
    email: String,
    display_name: String,
    password: String,
    is_admin: Option<String>,
) -> Result<UserRow, AppError> {
    let (actor, _) = actor()?;
    let new = accounts::NewUser {
        email,
        display_name,
        password,
        is_admin: is_admin.is_some(),
    };
    Ok(accounts::create_user(&backend()?, actor, new).await?)
}

/// Gives a user a new password and ends their sessions (administrators).
#[server]
pub async fn reset_user_password(user_id: i64, password: String) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(accounts::reset_password(&backend()?, actor, user_id, &password).await?)
}

/// Disables or re-enables an account (administrators).
#[server]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<UserRow, AppError> {
    let (actor, _) = actor()?;
    Ok(accounts::set_disabled(&backend()?, actor, user_id, disabled).await?)
}
