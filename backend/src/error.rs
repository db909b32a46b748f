//! The services' error: rich inside the server, mapped to a wire-safe [`ErrorCode`] and message
//! at the edge. Causes are logged once, where the error leaves the server.

use domain::{ErrorCode, NameError};
use sea_orm::{DbErr, SqlErr};

/// What a service call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No valid session or token.
    #[error("sign in to continue")]
    Unauthenticated,
    /// A sign-in failed. One message for every cause, so it does not tell which part was wrong.
    #[error("Wrong e-mail address or password.")]
    BadCredentials,
    /// The caller may not do this; the message says what is missing.
    #[error("{0}")]
    Forbidden(String),
    /// The object does not exist or is not visible to the caller.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A field failed validation.
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// What is wrong, in words.
        message: String,
    },
    /// The request conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts.
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
    },
    /// The database failed.
    #[error("database error")]
    Db(#[source] DbErr),
    /// Anything else that is the server's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The services' result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A validation error on `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The wire-safe category.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Unauthenticated | Error::BadCredentials => ErrorCode::Unauthenticated,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Invalid { .. } => ErrorCode::Invalid,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::Db(_) | Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The message a client may see: never a database detail or a cause chain.
    pub fn public_message(&self) -> String {
        match self {
            Error::Db(_) | Error::Internal(_) => {
                "Something went wrong on the server. It has been logged.".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The field at fault, for errors that have one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Whether this is the server's fault, and so worth a log line with its cause.
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Db(_) | Error::Internal(_))
    }
}

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        Error::Db(e)
    }
}

impl From<NameError> for Error {
    fn from(e: NameError) -> Self {
        Error::Invalid {
            field: e.field.to_owned(),
            message: e.message,
        }
    }
}

/// Turns a unique-key violation into a [`Error::Conflict`] with `message`; other errors pass.
pub fn conflict_on_unique(e: DbErr, message: &str) -> Error {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(message.to_owned()),
        _ => Error::Db(e),
    }
}

/// An error and all its sources, joined by ": " (what outbound clients report in words).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        out.push_str(": ");
        out.push_str(&inner.to_string());
        source = inner.source();
    }
    out
}

/// The outbound policy's refusal inside an error chain, if that is why a connection failed:
/// the sentence from "Wharf's outbound policy" to its end.
pub fn policy_refusal(chain: &str) -> Option<String> {
    let start = chain.find("Wharf's outbound policy")?;
    let rest = &chain[start..];
    let end = rest.find(".:").map_or(rest.len(), |i| i + 1);
    Some(rest[..end].trim().to_owned())
}
