//! Stable error codes shared by the UI, the REST API and the services.

use serde::{Deserialize, Serialize};

/// A wire-safe error category. The string forms are part of the public API: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request carries no valid session or token.
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden,
    /// The object does not exist, or the caller may not know that it does.
    NotFound,
    /// The body could not be read (not JSON, wrong shape).
    Malformed,
    /// A field failed validation.
    Invalid,
    /// The request conflicts with the current state (a duplicate name, the last administrator).
    Conflict,
    /// Too many attempts; try again later.
    RateLimited,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// The body is not in a format the endpoint takes.
    UnsupportedMediaType,
    /// The path exists but does not take this method.
    MethodNotAllowed,
    /// Something failed inside the server; details are in its log, never on the wire.
    Internal,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Malformed,
        ErrorCode::Invalid,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Internal,
    ];

    /// The code an HTTP status carries, when one does.
    pub fn for_status(status: u16) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.http_status() == status)
    }

    /// The HTTP status that carries this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Malformed => 400,
            ErrorCode::Invalid => 422,
            ErrorCode::Conflict => 409,
            ErrorCode::RateLimited => 429,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Internal => 500,
        }
    }

    /// The stable string form, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Malformed => "malformed",
            ErrorCode::Invalid => "invalid",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Internal => "internal",
        }
    }

    /// Parses the stable string form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_string_form() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("teapot"), None);
    }

    #[test]
    fn codes_map_to_the_statuses_clients_expect() {
        assert_eq!(ErrorCode::Unauthenticated.http_status(), 401);
        assert_eq!(ErrorCode::NotFound.http_status(), 404);
        assert_eq!(ErrorCode::Invalid.http_status(), 422);
    }
}
