//! The error server functions return: wire-safe (a stable code, a message for people, the
//! field at fault), never a cause chain or a database detail.

use domain::ErrorCode;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a page shows when a server call fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The stable category.
    pub code: ErrorCode,
    /// What went wrong, in words.
    pub message: String,
    /// The form field at fault, when there is one.
    pub field: Option<String>,
}

impl AppError {
    /// An error with no particular field.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A validation error on `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Invalid,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// The message when it belongs to `field`.
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_) => {
                // on the server this is a bad request, not the server's fault
                #[cfg(feature = "ssr")]
                crate::ssr::set_status(400);
                AppError::new(
                    ErrorCode::Invalid,
                    "The form was not filled in as expected. Reload the page and try again.",
                )
            }
            ServerFnErrorErr::Request(_) => AppError::new(
                ErrorCode::Internal,
                "Wharf could not be reached. Check the connection and try again.",
            ),
            _ => AppError::new(
                ErrorCode::Internal,
                "Something went wrong on the server. It has been logged.",
            ),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::Error> for AppError {
    fn from(e: backend::Error) -> Self {
        if e.is_internal() {
            tracing::error!(error = ?e, "request failed");
        }
        let code = e.code();
        crate::ssr::set_status(code.http_status());
        AppError {
            code,
            message: e.public_message(),
            field: e.field().map(str::to_owned),
        }
    }
}
