//! Project variables.

use super::*;

/// A project's variables (hidden kinds without their values).
#[server]
pub async fn list_variables(
    project_id: i64,
) -> Result<Vec<domain::variables::VariableRow>, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::variables::list(&backend()?, actor, project_id).await?)
}

#[cfg(feature = "ssr")]
fn variable_input(
    name: String,
    kind: String,
    value: String,
    description: String,
) -> backend::project::variables::VariableInput {
    backend::project::variables::VariableInput {
        name,
        kind,
        // an empty value on an edit keeps the stored one
        value: (!value.is_empty()).then(|| backend::platform::secrets::SecretValue::new(value)),
        description,
    }
}

/// Creates a variable. The response never carries a hidden value.
#[server]
pub async fn create_variable(
    project_id: i64,
    name: String,
    kind: String,
    value: String,
    description: String,
) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    let input = variable_input(name, kind, value, description);
    backend::project::variables::create(&backend()?, actor, project_id, input).await?;
    Ok(())
}

/// Changes a variable; an empty value keeps a hidden one.
#[server]
pub async fn update_variable(
    project_id: i64,
    variable_id: i64,
    name: String,
    kind: String,
    value: String,
    description: String,
) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    let input = variable_input(name, kind, value, description);
    backend::project::variables::update(&backend()?, actor, project_id, variable_id, input).await?;
    Ok(())
}

/// Deletes a variable.
#[server]
pub async fn delete_variable(project_id: i64, variable_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::variables::delete(&backend()?, actor, project_id, variable_id).await?)
}
