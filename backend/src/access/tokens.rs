//! API tokens, as Aria's Generate Token: a refresh token valid six months, shown once, stored
//! only as a SHA-256 hash; exchanged for short-lived access tokens that REST calls carry as
//! `Authorization: Bearer …`. Tokens are 256 random bits, so a fast hash is enough: there is
//! nothing to guess.

use crate::access::accounts::{self, Actor};
use crate::platform::entities::{access_tokens, api_tokens, users};
use crate::{Backend, Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Months, Utc};
use domain::views::{CurrentUser, IssuedToken, TokenRow, TokenStatus};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};

/// How long a refresh token works.
pub const REFRESH_LIFETIME: Months = Months::new(6);
/// How long an access token works, in minutes.
pub const ACCESS_LIFETIME_MINUTES: i64 = 30;
const REFRESH_PREFIX: &str = "wharf_rt_";
const ACCESS_PREFIX: &str = "wharf_at_";

fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Where a token stands at `now`.
pub(crate) fn status(m: &api_tokens::Model, now: DateTime<Utc>) -> TokenStatus {
    if m.revoked_at.is_some() {
        TokenStatus::Revoked
    } else if m.expires_at <= now {
        TokenStatus::Expired
    } else {
        TokenStatus::Active
    }
}

fn row(m: api_tokens::Model, now: DateTime<Utc>) -> TokenRow {
    TokenRow {
        status: status(&m, now),
        id: m.id,
        name: m.name,
        created_at: m.created_at,
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
    }
}

fn parse_name(name: &str) -> Result<String> {
    let s = name.trim();
    if s.is_empty() {
        return Err(Error::invalid(
            "name",
            "Give the token a name, such as the webhook it is for.",
        ));
    }
    if s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "A token name has at most 100 characters and no control characters.",
        ));
    }
    Ok(s.to_owned())
}

/// Creates a refresh token for whoever `email` and `password` identify (the REST call
/// `POST /pipelines/api/tokens`). Failed attempts count towards sign-in slowing.
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn issue(
    backend: &Backend,
    email: &str,
    password: &str,
    name: &str,
    address: &str,
) -> Result<IssuedToken> {
    let name = parse_name(name)?;
    let user = accounts::sign_in(backend, email, password, address).await?;
    let now = backend.clock.now();
    let expires_at = now
        .checked_add_months(REFRESH_LIFETIME)
        .ok_or_else(|| Error::Internal("token expiry out of range".to_owned()))?;
    let token = new_token(REFRESH_PREFIX);
    let model = api_tokens::ActiveModel {
        user_id: Set(user.id),
        name: Set(name),
        token_hash: Set(hash(&token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&backend.db)
    .await?;
    tracing::info!(user_id = user.id, token_id = model.id, "API token created");
    Ok(IssuedToken {
        token,
        row: row(model, now),
    })
}

/// The Generate Token dialog: the signed-in person confirms their own e-mail and password.
pub async fn issue_for_signed_in(
    backend: &Backend,
    me: &CurrentUser,
    email: &str,
    password: &str,
    name: &str,
    address: &str,
) -> Result<IssuedToken> {
    if !email.trim().eq_ignore_ascii_case(&me.email) {
        return Err(Error::invalid(
            "email",
            "Enter the e-mail address you are signed in with.",
        ));
    }
    issue(backend, email, password, name, address).await
}

/// My tokens, newest first.
pub async fn list_mine(backend: &Backend, actor: Actor) -> Result<Vec<TokenRow>> {
    let now = backend.clock.now();
    Ok(api_tokens::Entity::find()
        .filter(api_tokens::Column::UserId.eq(actor.user_id))
        .order_by_desc(api_tokens::Column::CreatedAt)
        .order_by_desc(api_tokens::Column::Id)
        .all(&backend.db)
        .await?
        .into_iter()
        .map(|m| row(m, now))
        .collect())
}

/// Revokes one of my tokens and every access token it gave out.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, token_id))]
pub async fn revoke(backend: &Backend, actor: Actor, token_id: i64) -> Result<()> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let token = api_tokens::Entity::find_by_id(token_id)
        .filter(api_tokens::Column::UserId.eq(actor.user_id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("token"))?;
    if token.revoked_at.is_none() {
        let mut model: api_tokens::ActiveModel = token.into();
        model.revoked_at = Set(Some(backend.clock.now()));
        model.update(&txn).await?;
    }
    access_tokens::Entity::delete_many()
        .filter(access_tokens::Column::ApiTokenId.eq(token_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// A refresh token that works now, with its owner if the account is enabled.
async fn usable_refresh(
    backend: &Backend,
    refresh: &str,
) -> Result<(api_tokens::Model, users::Model)> {
    let now = backend.clock.now();
    let found = api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(hash(refresh.trim())))
        .find_also_related(users::Entity)
        .one(&backend.db)
        .await?;
    match found {
        Some((t, Some(u))) if status(&t, now) == TokenStatus::Active && !u.disabled => Ok((t, u)),
        _ => Err(Error::Unauthenticated),
    }
}

/// Exchanges a refresh token for an access token (`POST /pipelines/api/login`).
pub async fn exchange(backend: &Backend, refresh: &str) -> Result<(String, DateTime<Utc>)> {
    let (token, _) = usable_refresh(backend, refresh).await?;
    let now = backend.clock.now();
    let expires_at = now + Duration::minutes(ACCESS_LIFETIME_MINUTES);
    let access = new_token(ACCESS_PREFIX);
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    access_tokens::ActiveModel {
        api_token_id: Set(token.id),
        token_hash: Set(hash(&access)),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // expired access tokens of this refresh token are of no use to anyone
    access_tokens::Entity::delete_many()
        .filter(access_tokens::Column::ApiTokenId.eq(token.id))
        .filter(access_tokens::Column::ExpiresAt.lte(now))
        .exec(&txn)
        .await?;
    let mut model: api_tokens::ActiveModel = token.into();
    model.last_used_at = Set(Some(now));
    model.update(&txn).await?;
    txn.commit().await?;
    Ok((access, expires_at))
}

/// The user a refresh token stands for, if it works now (webhooks run as the token's owner).
pub async fn owner_of_refresh(backend: &Backend, refresh: &str) -> Result<Actor> {
    let (_, u) = usable_refresh(backend, refresh).await?;
    Ok(Actor {
        user_id: u.id,
        is_admin: u.is_admin,
    })
}

/// The user behind an access token, if it and its refresh token still work.
pub async fn authenticate(backend: &Backend, access: &str) -> Result<Actor> {
    let now = backend.clock.now();
    let Some((a, Some(t))) = access_tokens::Entity::find()
        .filter(access_tokens::Column::TokenHash.eq(hash(access.trim())))
        .find_also_related(api_tokens::Entity)
        .one(&backend.db)
        .await?
    else {
        return Err(Error::Unauthenticated);
    };
    if a.expires_at <= now || status(&t, now) != TokenStatus::Active {
        return Err(Error::Unauthenticated);
    }
    let user = users::Entity::find_by_id(t.user_id)
        .one(&backend.db)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(Error::Unauthenticated)?;
    Ok(Actor {
        user_id: user.id,
        is_admin: user.is_admin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_random_bits_and_a_recognisable_prefix() {
        let a = new_token(REFRESH_PREFIX);
        let b = new_token(REFRESH_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("wharf_rt_"));
        assert_eq!(a.len(), "wharf_rt_".len() + 43);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
    }
}
