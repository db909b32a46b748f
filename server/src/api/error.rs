//! The REST API's errors: `{"code": …, "message": …}` with a stable code and the matching
//! status. Causes are logged once here and never sent.

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::ErrorCode;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// Stable code: unauthenticated, forbidden, not_found, malformed, invalid, conflict,
    /// rate_limited, payload_too_large, unsupported_media_type, method_not_allowed, internal.
    #[schema(example = "invalid")]
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The stable code an answer with `status` carries, when there is one (any 5xx: internal).
pub fn code_for(status: StatusCode) -> Option<ErrorCode> {
    ErrorCode::for_status(status.as_u16())
        .or_else(|| status.is_server_error().then_some(ErrorCode::Internal))
}

/// An error on its way out.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    field: Option<String>,
}

impl ApiError {
    /// The same error naming the request field `to` where it named the service's `from`
    /// (a service's `secret` is the endpoint API's `password`).
    pub fn field_renamed(mut self, from: &str, to: &str) -> Self {
        if self.field.as_deref() == Some(from) {
            self.field = Some(to.to_owned());
        }
        self
    }

    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }
}

impl From<backend::Error> for ApiError {
    fn from(e: backend::Error) -> Self {
        if e.is_internal() {
            tracing::error!(error = ?e, "API request failed");
        }
        Self {
            code: e.code(),
            message: e.public_message(),
            field: e.field().map(camel_case),
        }
    }
}

/// The API's JSON is camelCase; services name fields in snake_case.
fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON, with Content-Type: application/json.",
            ),
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::new(ErrorCode::Malformed, "The body is not valid JSON.")
            }
            JsonRejection::JsonDataError(e) => ApiError::new(
                ErrorCode::Invalid,
                format!(
                    "The JSON does not have the expected fields: {}",
                    e.body_text()
                ),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(ErrorCode::PayloadTooLarge, "The body is too large.")
            }
            _ => ApiError::new(ErrorCode::Malformed, "The body could not be read."),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ApiErrorBody {
            code: self.code.as_str(),
            message: self.message,
            field: self.field,
        };
        (status, Json(body)).into_response()
    }
}
