//! Pipelines: list, read, save, enable, delete, run.

use super::*;

/// A project's pipelines (the first 200 by name).
#[server]
pub async fn list_pipelines(
    project_id: i64,
) -> Result<Vec<domain::executions::PipelineRow>, AppError> {
    let (actor, _) = actor()?;
    Ok(
        backend::project::pipelines::list(&backend()?, actor, project_id, 0, 200)
            .await?
            .0,
    )
}

/// What the pipeline designer's pickers offer in a project (names only).
#[server]
pub async fn designer_picks(project_id: i64) -> Result<domain::views::DesignerPicks, AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::pipelines::picks(&backend()?, actor, project_id).await?)
}

/// One pipeline and its YAML.
#[server]
pub async fn get_pipeline(
    project_id: i64,
    pipeline_id: i64,
) -> Result<(domain::executions::PipelineRow, String), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::pipelines::get(&backend()?, actor, project_id, pipeline_id).await?)
}

/// Creates a pipeline from YAML (`pipeline_id` none: New and Import) or replaces its YAML.
#[server(input = server_fn::codec::Json)]
pub async fn save_pipeline(
    project_id: i64,
    pipeline_id: Option<i64>,
    yaml: String,
) -> Result<domain::executions::PipelineRow, AppError> {
    let (actor, _) = actor()?;
    let backend = backend()?;
    Ok(match pipeline_id {
        None => backend::project::pipelines::create(&backend, actor, project_id, &yaml).await?,
        Some(id) => {
            backend::project::pipelines::update(&backend, actor, project_id, id, &yaml).await?
        }
    })
}

/// Enables or disables a pipeline.
#[server]
pub async fn set_pipeline_enabled(
    project_id: i64,
    pipeline_id: i64,
    enabled: bool,
) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    backend::project::pipelines::set_enabled(&backend()?, actor, project_id, pipeline_id, enabled)
        .await?;
    Ok(())
}

/// Deletes a pipeline.
#[server]
pub async fn delete_pipeline(project_id: i64, pipeline_id: i64) -> Result<(), AppError> {
    let (actor, _) = actor()?;
    Ok(backend::project::pipelines::delete(&backend()?, actor, project_id, pipeline_id).await?)
}

/// Runs a pipeline from the Run dialog; says what happened.
#[server(input = server_fn::codec::Json)]
pub async fn run_pipeline(
    project_id: i64,
    pipeline_id: i64,
    input: Vec<(String, String)>,
    comments: String,
) -> Result<String, AppError> {
    use backend::runs::executions::{start, Started, Trigger};
    let (actor, _) = actor()?;
    let given = input.into_iter().collect();
    Ok(
        match start(
            &backend()?,
            actor,
            project_id,
            pipeline_id,
            given,
            &comments,
            Trigger::Manual,
        )
        .await?
        {
            Started::Queued(r) => format!("Execution #{} of {} is queued.", r.index, r.pipeline_name),
            Started::Skipped { active_index } => format!(
                "Not started: execution #{active_index} is still running and this pipeline skips runs while one is active (skip-if-running)."
            ),
        },
    )
}
