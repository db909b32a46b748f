//! tower-sessions' store on SeaORM, so sessions live in Wharf's own database (SQLite or
//! PostgreSQL) and survive a restart. `tower-sessions-sqlx-store` is built on sqlx 0.8 while
//! SeaORM 2 uses sqlx 0.9, hence this small store of our own.

use crate::platform::entities::sessions;
use crate::Clock;
use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, SqlErr,
};
use std::sync::Arc;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// The session key under which the signed-in user's id is kept.
pub const USER_ID_KEY: &str = "wharf.user_id";

/// Sessions in the `sessions` table.
#[derive(Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSessionStore").finish_non_exhaustive()
    }
}

impl DbSessionStore {
    /// A store over `db`, judging expiry by `clock`.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    fn row(record: &Record) -> session_store::Result<sessions::ActiveModel> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let user_id = record.data.get(USER_ID_KEY).and_then(|v| v.as_i64());
        Ok(sessions::ActiveModel {
            id: Set(record.id.to_string()),
            user_id: Set(user_id),
            data: Set(data),
            expires_at: Set(record.expiry_date.unix_timestamp()),
        })
    }
}

fn backend_error(e: DbErr) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A 128-bit id collides only in theory; if it ever does, draw again rather than
        // overwrite somebody else's session.
        loop {
            let row = Self::row(record)?;
            match sessions::Entity::insert(row).exec(&self.db).await {
                Ok(_) => return Ok(()),
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    record.id = Id::default();
                }
                Err(e) => return Err(backend_error(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let row = Self::row(record)?;
        sessions::Entity::insert(row)
            .on_conflict(
                OnConflict::column(sessions::Column::Id)
                    .update_columns([
                        sessions::Column::UserId,
                        sessions::Column::Data,
                        sessions::Column::ExpiresAt,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(backend_error)?;
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let now = self.clock.now().timestamp();
        let Some(row) = sessions::Entity::find_by_id(session_id.to_string())
            .filter(sessions::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await
            .map_err(backend_error)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expires_at)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *session_id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        sessions::Entity::delete_by_id(session_id.to_string())
            .exec(&self.db)
            .await
            .map_err(backend_error)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let now = self.clock.now().timestamp();
        sessions::Entity::delete_many()
            .filter(sessions::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await
            .map_err(backend_error)?;
        Ok(())
    }
}

/// Ends every session of `user_id` (after a password reset or when the account is disabled).
pub async fn end_sessions_of_user(db: &impl ConnectionTrait, user_id: i64) -> Result<u64, DbErr> {
    let res = sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Whether session `session_id` still signs in `user_id` now: it exists, has not expired and
/// its account is enabled. Live streams ask this as they run, so a password reset or a
/// disabled account ends them within seconds.
pub async fn still_signed_in(
    db: &impl ConnectionTrait,
    session_id: &str,
    user_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let Some(row) = sessions::Entity::find_by_id(session_id.to_owned())
        .filter(sessions::Column::ExpiresAt.gt(now.timestamp()))
        .filter(sessions::Column::UserId.eq(user_id))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let enabled = crate::platform::entities::users::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some_and(|u| !u.disabled);
    Ok(enabled && row.user_id == Some(user_id))
}
