//! People: the first administrator, sign-in, and the Users page's operations.

use crate::error::conflict_on_unique;
use crate::platform::entities::users;
use crate::platform::{sessions, throttle};
use crate::{Backend, Error, Result};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use domain::views::{CurrentUser, UserRow};
use domain::{DisplayName, Email, Password};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::sync::OnceLock;

/// Who is asking: the signed-in user, as the services check them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The user's id.
    pub user_id: i64,
    /// Whether they administer the installation.
    pub is_admin: bool,
}

impl Actor {
    /// Refuses unless the actor is a system administrator.
    pub fn require_admin(&self) -> Result<()> {
        if self.is_admin {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "Only administrators can do this.".to_owned(),
            ))
        }
    }
}

/// How many argon2 hashes or verifications run at once (each takes about 19 MiB): a burst of
/// sign-ins waits its turn instead of taking the memory of all of them at once.
pub const ARGON2_AT_ONCE: usize = 4;

/// The process's argon2 slots: the memory they bound is the process's, hence one for it.
static ARGON2_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(ARGON2_AT_ONCE);

/// Hashes a password with argon2id (OWASP's parameters, the crate's default) off the async
/// threads.
pub async fn hash_password(password: &Password) -> Result<String> {
    let secret = password.expose().to_owned();
    let _slot = ARGON2_SLOTS
        .acquire()
        .await
        .map_err(|e| Error::Internal(format!("argon2 slots: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task failed: {e}")))?
}

/// Checks a password against a stored hash, off the async threads.
pub async fn verify_password(hash: String, candidate: String) -> bool {
    let Ok(_slot) = ARGON2_SLOTS.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(candidate.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of nothing in particular: verifying against it when the account does not exist makes
/// a wrong e-mail address take as long as a wrong password.
fn decoy_hash() -> String {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY
        .get_or_init(|| {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(b"wharf decoy password", &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

fn current_user(m: &users::Model) -> CurrentUser {
    CurrentUser {
        id: m.id,
        email: m.email.clone(),
        display_name: m.display_name.clone(),
        is_admin: m.is_admin,
    }
}

fn user_row(m: users::Model) -> UserRow {
    UserRow {
        id: m.id,
        email: m.email,
        display_name: m.display_name,
        is_admin: m.is_admin,
        disabled: m.disabled,
        created_at: m.created_at,
    }
}

/// Whether the installation still needs its first administrator.
pub async fn needs_setup(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(users::Entity::find().count(db).await? == 0)
}

/// Creates the first administrator. Refused once any user exists, so the set-up page cannot be
/// used to add a second administrator later.
pub async fn create_first_admin(
    backend: &Backend,
    email: &str,
    display_name: &str,
    password: &str,
) -> Result<CurrentUser> {
    let email = Email::parse(email)?;
    let name = DisplayName::parse(display_name)?;
    let password = Password::parse(password)?;
    let hash = hash_password(&password).await?;
    let now = backend.clock.now();
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    if users::Entity::find().count(&txn).await? > 0 {
        return Err(Error::Conflict(
            "Wharf already has an administrator. Sign in instead.".to_owned(),
        ));
    }
    let model = users::ActiveModel {
        email: Set(email.as_str().to_owned()),
        display_name: Set(name.as_str().to_owned()),
        password_hash: Set(hash),
        is_admin: Set(true),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(user_id = model.id, "first administrator created");
    Ok(current_user(&model))
}

/// Checks e-mail and password, slowing repeated failures per account and per `address`.
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn sign_in(
    backend: &Backend,
    email: &str,
    password: &str,
    address: &str,
) -> Result<CurrentUser> {
    let db = &backend.db;
    let clock = backend.clock.as_ref();
    // An address that is not an e-mail cannot match an account; count it against the text typed.
    let email_key = Email::parse(email)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let account_key = throttle::account_key(&email_key);
    let address_key = throttle::address_key(address);
    throttle::check(db, clock, &[account_key.clone(), address_key.clone()]).await?;

    let user = users::Entity::find()
        .filter(users::Column::Email.eq(email_key.as_str()))
        .one(db)
        .await?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(decoy_hash);
    let ok = verify_password(hash, password.to_owned()).await && user.is_some();
    match user {
        Some(user) if ok => {
            if user.disabled {
                return Err(Error::Forbidden(
                    "This account is disabled. Ask an administrator.".to_owned(),
                ));
            }
            throttle::clear(db, &account_key).await?;
            tracing::info!(user_id = user.id, "signed in");
            Ok(current_user(&user))
        }
        _ => {
            throttle::record_failure(db, clock, &account_key, throttle::ACCOUNT).await?;
            throttle::record_failure(db, clock, &address_key, throttle::ADDRESS).await?;
            tracing::info!("sign-in failed");
            Err(Error::BadCredentials)
        }
    }
}

/// The user behind a session, if the account still exists and is enabled.
pub async fn find_active_user(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<CurrentUser>> {
    Ok(users::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(|u| !u.disabled)
        .map(|u| current_user(&u)))
}

/// Every user, by e-mail address (administrators only).
pub async fn list_users(backend: &Backend, actor: Actor) -> Result<Vec<UserRow>> {
    actor.require_admin()?;
    Ok(users::Entity::find()
        .order_by_asc(users::Column::Email)
        .all(&backend.db)
        .await?
        .into_iter()
        .map(user_row)
        .collect())
}

/// What the Users page's "New user" form sends.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Their e-mail address.
    pub email: String,
    /// Their name as shown.
    pub display_name: String,
    /// Their first password (they can be given a new one later).
    pub password: String,
    /// Whether they administer the installation.
    pub is_admin: bool,
}

/// Creates a user (administrators only).
#[tracing::instrument(skip_all, fields(actor = actor.user_id))]
pub async fn create_user(backend: &Backend, actor: Actor, new: NewUser) -> Result<UserRow> {
    actor.require_admin()?;
    let email = Email::parse(&new.email)?;
    let name = DisplayName::parse(&new.display_name)?;
    let password = Password::parse(&new.password)?;
    let hash = hash_password(&password).await?;
    let now = backend.clock.now();
    let model = users::ActiveModel {
        email: Set(email.as_str().to_owned()),
        display_name: Set(name.as_str().to_owned()),
        password_hash: Set(hash),
        is_admin: Set(new.is_admin),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&backend.db)
    .await
    .map_err(|e| conflict_on_unique(e, "A user with that e-mail address already exists."))?;
    Ok(user_row(model))
}

/// Sets a new password for a user, ends their sessions and revokes their API tokens
/// (administrators only).
#[tracing::instrument(skip_all, fields(actor = actor.user_id, user_id))]
pub async fn reset_password(
    backend: &Backend,
    actor: Actor,
    user_id: i64,
    password: &str,
) -> Result<()> {
    actor.require_admin()?;
    let password = Password::parse(password)?;
    let hash = hash_password(&password).await?;
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let user = users::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let mut model: users::ActiveModel = user.into();
    model.password_hash = Set(hash);
    model.updated_at = Set(backend.clock.now());
    model.update(&txn).await?;
    sessions::end_sessions_of_user(&txn, user_id).await?;
    revoke_all_of_user(&txn, user_id, backend.clock.now()).await?;
    txn.commit().await?;
    Ok(())
}

/// Disables or re-enables an account (administrators only). A disabled account's sessions end at
/// once and its API tokens are revoked. Nobody can disable themselves, and the last enabled administrator stays enabled.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, user_id, disabled))]
pub async fn set_disabled(
    backend: &Backend,
    actor: Actor,
    user_id: i64,
    disabled: bool,
) -> Result<UserRow> {
    actor.require_admin()?;
    if disabled && user_id == actor.user_id {
        return Err(Error::Conflict(
            "You cannot disable your own account.".to_owned(),
        ));
    }
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let user = users::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if disabled && user.is_admin && !user.disabled {
        // their rows locked (FOR UPDATE on PostgreSQL): two administrators disabling each
        // other at once are counted one after the other, so one stays enabled
        let enabled_admins: Vec<i64> = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::IsAdmin.eq(true))
            .filter(users::Column::Disabled.eq(false))
            .lock_exclusive()
            .into_tuple()
            .all(&txn)
            .await?;
        if enabled_admins.len() <= 1 {
            return Err(Error::Conflict(
                "Wharf needs at least one enabled administrator.".to_owned(),
            ));
        }
    }
    let mut model: users::ActiveModel = user.into();
    model.disabled = Set(disabled);
    model.updated_at = Set(backend.clock.now());
    let updated = model.update(&txn).await?;
    if disabled {
        sessions::end_sessions_of_user(&txn, user_id).await?;
        revoke_all_of_user(&txn, user_id, backend.clock.now()).await?;
    }
    txn.commit().await?;
    Ok(user_row(updated))
}

/// Revokes every token of a user and deletes the access tokens they gave out: a password reset
/// or a disabled account must not leave a way in.
async fn revoke_all_of_user(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let ids: Vec<i64> = crate::platform::entities::api_tokens::Entity::find()
        .select_only()
        .column(crate::platform::entities::api_tokens::Column::Id)
        .filter(crate::platform::entities::api_tokens::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    crate::platform::entities::api_tokens::Entity::update_many()
        .col_expr(
            crate::platform::entities::api_tokens::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Some(now)),
        )
        .filter(crate::platform::entities::api_tokens::Column::UserId.eq(user_id))
        .filter(crate::platform::entities::api_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    crate::platform::entities::access_tokens::Entity::delete_many()
        .filter(crate::platform::entities::access_tokens::Column::ApiTokenId.is_in(ids))
        .exec(db)
        .await?;
    Ok(())
}
