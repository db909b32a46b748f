//! What must change before a pipeline may be enabled: what its definition says (tasks Wharf
//! does not run, YAML it cannot fetch) and what the project lacks (a Kubernetes endpoint an
//! Aria `endpoints:` names, a pipeline a Pipeline task runs). Such a pipeline imports disabled
//! and cannot be enabled meanwhile.

use crate::platform::entities::{endpoints, pipelines as row};
use crate::{Error, Result};
use domain::endpoints::EndpointKind;
use domain::pipeline::{self, PipelineDef, TaskType};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// What must change before `def` may be enabled: what the definition itself says (tasks Wharf
/// does not run, YAML it cannot fetch), Kubernetes endpoints named by Aria's `endpoints:` that
/// the project lacks, and pipelines a Pipeline task names that the project lacks.
pub async fn attention(
    db: &impl ConnectionTrait,
    project_id: i64,
    def: &PipelineDef,
) -> Result<Vec<String>> {
    Ok(Names::of(db, project_id).await?.attention(def))
}

/// A project's Kubernetes endpoints and pipelines by name, read once for a list.
pub(crate) struct Names {
    endpoints: Vec<String>,
    pipelines: Vec<String>,
}

impl Names {
    pub(crate) async fn of(db: &impl ConnectionTrait, project_id: i64) -> Result<Names> {
        let endpoints = endpoints::Entity::find()
            .filter(endpoints::Column::ProjectId.eq(project_id))
            .filter(endpoints::Column::Kind.eq(EndpointKind::Kubernetes))
            .all(db)
            .await?
            .into_iter()
            .map(|e| e.name)
            .collect();
        let pipelines = row::Entity::find()
            .filter(row::Column::ProjectId.eq(project_id))
            .all(db)
            .await?
            .into_iter()
            .map(|p| p.name)
            .collect();
        Ok(Names {
            endpoints,
            pipelines,
        })
    }
}

impl Names {
    /// [`attention`] with these names.
    pub(crate) fn attention(&self, def: &PipelineDef) -> Vec<String> {
        let (endpoint_names, pipeline_names) = (&self.endpoints, &self.pipelines);
        let mut out: Vec<String> = def.attention.iter().map(ToString::to_string).collect();
        for s in &def.stages {
            for t in &s.tasks {
                let at = format!("stages.{}.tasks.{}", s.name, t.name);
                let named = t.endpoints.get(pipeline::KUBERNETES_ENDPOINT_KEY);
                if let Some(name) = named.and_then(|v| v.as_str()) {
                    let own = t.input.contains_key("endpoint");
                    if t.kind == TaskType::Kubernetes
                        && !own
                        && !endpoint_names.iter().any(|n| n == name)
                    {
                        out.push(format!(
                        "{at}.endpoints.{}: this project has no Kubernetes endpoint named '{name}': add it, or pick another cluster",
                        pipeline::KUBERNETES_ENDPOINT_KEY
                    ));
                    }
                }
                if t.kind == TaskType::Pipeline {
                    let child = t
                        .input
                        .get("pipeline")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default();
                    if !pipeline_names.iter().any(|n| n == child) {
                        out.push(format!(
                        "{at}.input.pipeline: this project has no pipeline named '{child}': import or create it"
                    ));
                    }
                }
            }
        }
        out
    }
}

/// A Pipeline task may not run the pipeline it is in.
pub(crate) fn check_children(def: &PipelineDef) -> Result<()> {
    for s in &def.stages {
        for t in &s.tasks {
            let child = t.input.get("pipeline").and_then(|v| v.as_str());
            if t.kind == TaskType::Pipeline && child == Some(def.name.as_str()) {
                return Err(Error::invalid(
                    "definition",
                    format!(
                        "stages.{}.tasks.{}.input.pipeline: a pipeline cannot run itself",
                        s.name, t.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A pipeline with something needing attention cannot be enabled.
pub(crate) fn refuse_enabled(enabled: bool, attention: &[String]) -> Result<()> {
    if enabled && !attention.is_empty() {
        return Err(Error::invalid(
            "definition",
            format!(
                "It cannot be enabled until these are replaced, removed or added (save it with enabled: false meanwhile):\n{}",
                attention.join("\n")
            ),
        ));
    }
    Ok(())
}
