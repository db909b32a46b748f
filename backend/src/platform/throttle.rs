//! Slowing repeated failed sign-ins, per account and per client address. The counters live in
//! the database so that every server process (and a restart) sees the same ones.

use crate::platform::entities::sign_in_throttle as row;
use crate::{Clock, Error, Result};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QuerySelect, Set,
};

/// How many failures are free, and how long a lock may grow.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures within the window that cost nothing.
    pub free_failures: i32,
    /// The window in seconds; a failure after a quiet window starts the count again.
    pub window_secs: i64,
    /// The longest lock in seconds.
    pub max_lock_secs: i64,
}

/// Per account: five tries, then 1 s, 2 s, 4 s … up to 15 minutes.
pub const ACCOUNT: Policy = Policy {
    free_failures: 5,
    window_secs: 15 * 60,
    max_lock_secs: 15 * 60,
};

/// Per address: more room (an office shares one address), the same growth.
pub const ADDRESS: Policy = Policy {
    free_failures: 20,
    window_secs: 15 * 60,
    max_lock_secs: 15 * 60,
};

/// The key for an account.
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// The key for a client address.
pub fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// Refuses with [`Error::RateLimited`] while any of `keys` is locked.
pub async fn check(db: &impl ConnectionTrait, clock: &dyn Clock, keys: &[String]) -> Result<()> {
    let now = clock.now().timestamp();
    let mut wait = 0i64;
    for key in keys {
        if let Some(r) = row::Entity::find_by_id(key.clone()).one(db).await? {
            wait = wait.max(r.locked_until - now);
        }
    }
    if wait > 0 {
        Err(Error::RateLimited {
            retry_after_secs: u64::try_from(wait).unwrap_or(1),
        })
    } else {
        Ok(())
    }
}

/// Counts one failure against `key` and locks it when the free failures are used up.
pub async fn record_failure(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    key: &str,
    policy: Policy,
) -> Result<()> {
    let now = clock.now().timestamp();
    let txn = crate::platform::db::begin_write(db).await?;
    // write first: the transaction holds the write lock before it reads, so concurrent
    // failures are counted one after another (each sees the last) and SQLite never has to
    // upgrade a read snapshot that a writer (the engine, say) has made stale
    row::Entity::insert(row::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(0),
        window_started_at: Set(now),
        locked_until: Set(0),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(row::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    // FOR UPDATE on PostgreSQL (each failure waits for the one before); SQLite's write lock,
    // taken at BEGIN, already does that
    let existing = row::Entity::find_by_id(key.to_owned())
        .lock_exclusive()
        .one(&txn)
        .await?;
    let (failures, window_started_at) = match &existing {
        Some(r) if now - r.window_started_at < policy.window_secs => {
            (r.failures + 1, r.window_started_at)
        }
        _ => (1, now),
    };
    let over = failures - policy.free_failures;
    let locked_until = if over > 0 {
        let lock = 1i64
            .checked_shl(u32::try_from(over - 1).unwrap_or(u32::MAX).min(62))
            .unwrap_or(policy.max_lock_secs)
            .min(policy.max_lock_secs);
        now + lock
    } else {
        0
    };
    let model = row::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(failures),
        window_started_at: Set(window_started_at),
        locked_until: Set(locked_until),
    };
    model.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Forgets the failures of `key` (after a successful sign-in).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<()> {
    row::Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}
