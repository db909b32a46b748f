//! User Operations waiting for the signed-in user, and their answers.

use super::*;

/// The user operations waiting for the signed-in user's answer.
#[server]
pub async fn list_user_operations() -> Result<Vec<domain::executions::UserOperationRow>, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::runs::user_operations::waiting_for(&backend()?, actor).await?)
}

/// Approves or rejects a user operation.
#[server]
pub async fn answer_user_operation(
    operation_id: i64,
    approve: bool,
    comment: String,
) -> Result<domain::executions::UserOperationRow, AppError> {
    let (actor, _) = actor()?;
    Ok(
        backend::runs::user_operations::respond(
            &backend()?,
            actor,
            operation_id,
            approve,
            &comment,
        )
        .await?,
    )
}
