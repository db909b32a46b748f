//! API tokens: the Generate Token dialog and the list of one's own.

use super::*;

/// The Generate Token dialog: the signed-in person confirms e-mail and password. The response
/// is the only time the token crosses the wire.
#[server]
pub async fn generate_token(
    name: String,
    email: String,
    password: String,
) -> Result<domain::views::IssuedToken, AppError> {
    let (_, me) = actor()?;
    let address = crate::ssr::client_address();
    Ok(backend::access::tokens::issue_for_signed_in(
        &backend()?,
        &me,
        &email,
        &password,
        &name,
        &address,
    )
    .await?)
}

/// My API tokens (never the tokens themselves).
#[server]
pub async fn list_my_tokens() -> Result<Vec<domain::views::TokenRow>, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::access::tokens::list_mine(&backend()?, actor).await?)
}

/// Revokes one of my tokens.
#[server]
pub async fn revoke_token(token_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::access::tokens::revoke(&backend()?, actor, token_id).await?)
}

/// Endpoints shown per page.
pub const ENDPOINTS_PER_PAGE: u64 = 50;
