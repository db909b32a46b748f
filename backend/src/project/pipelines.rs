//! Pipelines: stored as the YAML a person wrote (export gives it back), checked by
//! `domain::pipeline::parse` on every save, and started as executions under their concurrency
//! policy.
//!
//! Who may do what: viewers read and export; members create, change, enable, run and delete;
//! a pipeline that uses a restricted endpoint can only be saved by a project administrator.

use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::error::conflict_on_unique;
use crate::platform::entities::{endpoints, executions, pipelines as row, variables};
use crate::project::attention::{attention, check_children, refuse_enabled, Names};
use crate::{Backend, Error, Result};
use domain::endpoints::EndpointKind;
use domain::executions::{PipelineRow, RunStatus};
use domain::pipeline::{self, PipelineDef, TaskType};
use domain::role::ProjectAction;
use domain::ProjectRole;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use std::collections::HashMap;

/// The statuses of an execution that still has work to do.
pub const ACTIVE: [RunStatus; 4] = [
    RunStatus::Queued,
    RunStatus::Running,
    RunStatus::Waiting,
    RunStatus::Paused,
];

/// Parses `yaml`, turning its problems into one field error (a line each).
pub fn check(yaml: &str) -> Result<PipelineDef> {
    pipeline::parse(yaml).map_err(|errors| {
        Error::invalid(
            "definition",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// The endpoint names a definition uses, with the field that names each.
pub fn endpoint_uses(def: &PipelineDef) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in &def.stages {
        for t in &s.tasks {
            if matches!(t.kind, TaskType::Kubernetes | TaskType::Registry) {
                if let Some(e) = t.settings().get("endpoint").and_then(|v| v.as_str()) {
                    out.push((
                        e.to_owned(),
                        format!("stages.{}.tasks.{}.input.endpoint", s.name, t.name),
                    ));
                }
            }
        }
    }
    out
}

/// Every `${var.NAME}` a definition uses, with the field that holds it.
pub fn variable_uses(def: &PipelineDef) -> Vec<(String, String)> {
    fn walk(v: &serde_json::Value, path: &str, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::String(s) => {
                for b in pipeline::expr::bindings_in(s).unwrap_or_default() {
                    if let pipeline::expr::Binding::Var(n) = b {
                        out.push((path.to_owned(), n));
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, path, out)),
            serde_json::Value::Object(o) => o
                .iter()
                .for_each(|(k, x)| walk(x, &format!("{path}.{k}"), out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for s in &def.stages {
        for t in &s.tasks {
            let at = format!("stages.{}.tasks.{}", s.name, t.name);
            if let Some(pre) = &t.pre_condition {
                walk(
                    &serde_json::Value::String(pre.clone()),
                    &format!("{at}.preCondition"),
                    &mut out,
                );
            }
            walk(
                &serde_json::Value::Object(t.input.clone()),
                &format!("{at}.input"),
                &mut out,
            );
        }
    }
    for (name, value) in &def.output {
        walk(
            &serde_json::Value::String(value.clone()),
            &format!("output.{name}"),
            &mut out,
        );
    }
    out
}

/// Every endpoint a pipeline names must exist in the project and have the right kind; a
/// restricted one needs an administrator.
async fn check_endpoints(
    db: &impl ConnectionTrait,
    project_id: i64,
    role: ProjectRole,
    def: &PipelineDef,
) -> Result<()> {
    let found: HashMap<String, endpoints::Model> = endpoints::Entity::find()
        .filter(endpoints::Column::ProjectId.eq(project_id))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect();
    let mut problems = Vec::new();
    for s in &def.stages {
        for t in &s.tasks {
            let wanted = match t.kind {
                TaskType::Kubernetes => EndpointKind::Kubernetes,
                TaskType::Registry => EndpointKind::DockerRegistry,
                _ => continue,
            };
            // an endpoint named by Aria's task-level `endpoints:` the project lacks is for
            // attention (`attention`), not an error
            let Some(name) = t.input.get("endpoint").and_then(|v| v.as_str()) else {
                continue;
            };
            let path = format!("stages.{}.tasks.{}.input.endpoint", s.name, t.name);
            match found.get(name) {
                None => problems.push(format!(
                    "{path}: this project has no endpoint named '{name}'"
                )),
                Some(e) if e.kind != wanted => problems.push(format!(
                    "{path}: '{name}' is not a {} endpoint",
                    wanted.label()
                )),
                Some(e) if e.restricted && role != ProjectRole::Administrator => {
                    problems.push(format!(
                        "{path}: '{name}' is restricted; only the project's administrators can use it in a pipeline"
                    ))
                }
                Some(_) => {}
            }
        }
    }
    let restricted_vars: std::collections::HashSet<String> = variables::Entity::find()
        .filter(variables::Column::ProjectId.eq(project_id))
        .filter(variables::Column::Kind.eq(domain::variables::VariableKind::Restricted))
        .all(db)
        .await?
        .into_iter()
        .map(|v| v.name)
        .collect();
    if role != ProjectRole::Administrator {
        for (path, name) in variable_uses(def) {
            if restricted_vars.contains(&name) {
                problems.push(format!(
                    "{path}: variable {name} is restricted; only the project's administrators can use it in a pipeline"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else if problems.iter().all(|p| p.contains("is restricted")) {
        Err(Error::Forbidden(problems.join("\n")))
    } else {
        Err(Error::invalid("definition", problems.join("\n")))
    }
}

async fn last_executions(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, (i64, RunStatus, chrono::DateTime<chrono::Utc>)>> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    // each pipeline's latest run through the (pipeline_id, run_index) index: one look-up per
    // pipeline. A MAX(id) grouped by pipeline read every run of them (12-14 ms for a project
    // with 100,000 executions, paid by the Executions page's filter form).
    let latest = Alias::new("latest");
    let latest_of = Query::select()
        .column((latest.clone(), executions::Column::Id))
        .from_as(executions::Entity, latest.clone())
        .and_where(
            Expr::col((latest.clone(), executions::Column::PipelineId))
                .equals((row::Entity, row::Column::Id)),
        )
        .order_by((latest, executions::Column::RunIndex), Order::Desc)
        .limit(1)
        .to_owned();
    let heads = Query::select()
        .expr(latest_of)
        .from(row::Entity)
        .and_where(Expr::col((row::Entity, row::Column::Id)).is_in(ids.iter().copied()))
        .to_owned();
    let rows = executions::Entity::find()
        .filter(executions::Column::Id.in_subquery(heads))
        .all(db)
        .await?;
    for e in rows {
        out.insert(e.pipeline_id, (e.run_index, e.status, e.created_at));
    }
    Ok(out)
}

/// How many executions of `def` may run at once: Aria's number with the queue policy, else 1.
fn max_running(def: &PipelineDef) -> i32 {
    match def.concurrency {
        pipeline::Concurrency::Queue => def
            .max_running
            .map_or(1, |n| Ord::max(i32::try_from(n).unwrap_or(1), 1)),
        _ => 1,
    }
}

/// A pipeline's row from its stored model, its definition (parsed once by the caller; `None`
/// if the stored YAML no longer parses) and what needs attention.
fn view(
    m: row::Model,
    last: Option<(i64, RunStatus, chrono::DateTime<chrono::Utc>)>,
    def: Option<&PipelineDef>,
    attention: Vec<String>,
) -> PipelineRow {
    PipelineRow {
        id: m.id,
        name: m.name,
        description: def.map(|d| d.description.clone()).unwrap_or_default(),
        enabled: m.enabled,
        concurrency: m.concurrency,
        docker_inputs: m.docker_inputs,
        stage_count: m.stage_count,
        input: def.map(|d| d.input.clone()).unwrap_or_default(),
        input_meta: def.map(|d| d.input_meta.clone()).unwrap_or_default(),
        attention,
        last_execution: last,
        updated_at: m.updated_at,
    }
}

/// A project's pipelines by name, one page at a time, with the total.
pub async fn list(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    offset: u64,
    limit: u64,
) -> Result<(Vec<PipelineRow>, u64)> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let query = row::Entity::find()
        .filter(row::Column::ProjectId.eq(project_id))
        .order_by_asc(row::Column::Name);
    let (models, total) = crate::platform::db::page(&backend.db, query, offset, limit).await?;
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let mut last = last_executions(&backend.db, &ids).await?;
    let names = Names::of(&backend.db, project_id).await?;
    Ok((
        models
            .into_iter()
            .map(|m| {
                let def = pipeline::parse(&m.definition).ok();
                let needs = def.as_ref().map(|d| names.attention(d)).unwrap_or_default();
                let l = last.remove(&m.id);
                view(m, l, def.as_ref(), needs)
            })
            .collect(),
        total,
    ))
}

/// What the pipeline designer's pickers offer: the project's endpoints by kind, members,
/// variable names and pipelines with their inputs. Anyone who may view the project may read it.
pub async fn picks(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
) -> Result<domain::views::DesignerPicks> {
    use crate::platform::entities::{project_members, users};
    let db = &backend.db;
    authorize(db, actor, project_id, ProjectAction::View).await?;
    let mut picks = domain::views::DesignerPicks::default();
    let found = endpoints::Entity::find()
        .filter(endpoints::Column::ProjectId.eq(project_id))
        .order_by_asc(endpoints::Column::Name)
        .all(db)
        .await?;
    for e in found {
        match e.kind {
            EndpointKind::Kubernetes => picks.kubernetes_endpoints.push(e.name),
            EndpointKind::DockerRegistry => picks.registry_endpoints.push(e.name),
        }
    }
    let member_ids: Vec<i64> = project_members::Entity::find()
        .filter(project_members::Column::ProjectId.eq(project_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    picks.members = users::Entity::find()
        .filter(users::Column::Id.is_in(member_ids))
        .filter(users::Column::Disabled.eq(false))
        .order_by_asc(users::Column::Email)
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.email)
        .collect();
    picks.variables = variables::Entity::find()
        .filter(variables::Column::ProjectId.eq(project_id))
        .order_by_asc(variables::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|v| v.name)
        .collect();
    picks.pipelines = row::Entity::find()
        .filter(row::Column::ProjectId.eq(project_id))
        .order_by_asc(row::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            let inputs = pipeline::parse(&p.definition)
                .map(|d| d.input.into_iter().map(|(n, _)| n).collect())
                .unwrap_or_default();
            (p.name, inputs)
        })
        .collect();
    Ok(picks)
}

/// The project a pipeline belongs to (for routes that name only the pipeline).
pub async fn project_of(backend: &Backend, id: i64) -> Result<i64> {
    crate::access::scoped::project_of::<row::Entity>(&backend.db, id).await
}

pub(crate) async fn find_in_project(
    db: &impl ConnectionTrait,
    project_id: i64,
    id: i64,
) -> Result<row::Model> {
    crate::access::scoped::find::<row::Entity>(db, project_id, id).await
}

/// One pipeline with its YAML.
pub async fn get(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
) -> Result<(PipelineRow, String)> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    let m = find_in_project(&backend.db, project_id, id).await?;
    let mut last = last_executions(&backend.db, &[m.id]).await?;
    let yaml = m.definition.clone();
    let l = last.remove(&m.id);
    let def = pipeline::parse(&yaml).ok();
    let needs = match &def {
        Some(d) => attention(&backend.db, project_id, d).await?,
        None => Vec::new(),
    };
    Ok((view(m, l, def.as_ref(), needs), yaml))
}

/// The YAML to export (as saved).
pub async fn export(backend: &Backend, actor: Actor, project_id: i64, id: i64) -> Result<String> {
    Ok(get(backend, actor, project_id, id).await?.1)
}

/// Creates a pipeline from YAML (New, and Import).
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id))]
pub async fn create(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    yaml: &str,
) -> Result<PipelineRow> {
    let mut def = check(yaml)?;
    check_children(&def)?;
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    crate::access::projects::write_first(&txn, project_id).await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    check_endpoints(&txn, project_id, role, &def).await?;
    let needs = attention(&txn, project_id, &def).await?;
    // what needs attention imports disabled, and says so in its YAML too
    let yaml = if def.enabled && !needs.is_empty() {
        def.enabled = false;
        pipeline::to_yaml(&def)
    } else {
        yaml.to_owned()
    };
    let now = backend.clock.now();
    let m = row::ActiveModel {
        project_id: Set(project_id),
        name: Set(def.name.clone()),
        definition: Set(yaml),
        enabled: Set(def.enabled),
        concurrency: Set(def.concurrency.as_str().to_owned()),
        max_running: Set(max_running(&def)),
        docker_inputs: Set(def.takes_docker_inputs()),
        stage_count: Set(i32::try_from(def.stages.len()).unwrap_or(i32::MAX)),
        next_index: Set(1),
        created_by: Set(Some(actor.user_id)),
        saved_by: Set(Some(actor.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "This project already has a pipeline with that name."))?;
    txn.commit().await?;
    Ok(view(m, None, Some(&def), needs))
}

async fn store(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
    change: impl FnOnce(&row::Model) -> Result<String>,
) -> Result<PipelineRow> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    crate::access::projects::write_first(&txn, project_id).await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let existing = find_in_project(&txn, project_id, id).await?;
    let yaml = change(&existing)?;
    let def = check(&yaml)?;
    check_children(&def)?;
    check_endpoints(&txn, project_id, role, &def).await?;
    let needs = attention(&txn, project_id, &def).await?;
    refuse_enabled(def.enabled, &needs)?;
    let mut m: row::ActiveModel = existing.into();
    m.name = Set(def.name.clone());
    m.definition = Set(yaml);
    m.enabled = Set(def.enabled);
    m.concurrency = Set(def.concurrency.as_str().to_owned());
    m.max_running = Set(max_running(&def));
    m.docker_inputs = Set(def.takes_docker_inputs());
    m.saved_by = Set(Some(actor.user_id));
    m.stage_count = Set(i32::try_from(def.stages.len()).unwrap_or(i32::MAX));
    m.updated_at = Set(backend.clock.now());
    let m = m.update(&txn).await.map_err(|e| {
        conflict_on_unique(e, "This project already has a pipeline with that name.")
    })?;
    let mut last = last_executions(&txn, &[m.id]).await?;
    txn.commit().await?;
    let l = last.remove(&m.id);
    Ok(view(m, l, Some(&def), needs))
}

/// Replaces a pipeline's YAML (Edit).
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, pipeline_id = id))]
pub async fn update(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
    yaml: &str,
) -> Result<PipelineRow> {
    let yaml = yaml.to_owned();
    store(backend, actor, project_id, id, move |_| Ok(yaml)).await
}

fn rewrite(existing: &row::Model, edit: impl FnOnce(&mut PipelineDef)) -> Result<String> {
    let mut def = check(&existing.definition)?;
    edit(&mut def);
    Ok(pipeline::to_yaml(&def))
}

/// Enables or disables a pipeline (the YAML's `enabled` follows; the YAML is rewritten in
/// Wharf's layout).
pub async fn set_enabled(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
    enabled: bool,
) -> Result<PipelineRow> {
    store(backend, actor, project_id, id, |m| {
        rewrite(m, |d| d.enabled = enabled)
    })
    .await
}

/// Inject parameters: Docker: adds the Docker inputs, so a Docker webhook may trigger it.
pub async fn inject_docker_inputs(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    id: i64,
) -> Result<PipelineRow> {
    store(backend, actor, project_id, id, |m| {
        rewrite(m, PipelineDef::inject_docker_inputs)
    })
    .await
}

/// Deletes a pipeline and its finished executions; refused while one is still active.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, pipeline_id = id))]
pub async fn delete(backend: &Backend, actor: Actor, project_id: i64, id: i64) -> Result<()> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    crate::access::projects::write_first(&txn, project_id).await?;
    authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let m = find_in_project(&txn, project_id, id).await?;
    let active = executions::Entity::find()
        .filter(executions::Column::PipelineId.eq(m.id))
        .filter(executions::Column::Status.is_in(ACTIVE))
        .count(&txn)
        .await?;
    if active > 0 {
        return Err(Error::Conflict(format!(
            "{} has {active} execution(s) still queued, running or waiting; cancel them first.",
            m.name
        )));
    }
    let webhooks = crate::project::usage::cards_using_pipeline(&txn, m.id).await?;
    if !webhooks.is_empty() {
        return Err(Error::Conflict(format!(
            "{} is run by webhook {}; delete or change {} first.",
            m.name,
            webhooks.join(", "),
            if webhooks.len() == 1 { "it" } else { "them" }
        )));
    }
    row::Entity::delete_by_id(m.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// The pipelines of a project that name the endpoint `name` (for refusing its deletion).
pub async fn using_endpoint(
    db: &impl ConnectionTrait,
    project_id: i64,
    name: &str,
) -> Result<Vec<String>> {
    let models = row::Entity::find()
        .filter(row::Column::ProjectId.eq(project_id))
        .all(db)
        .await?;
    Ok(models
        .into_iter()
        .filter(|m| {
            pipeline::parse(&m.definition)
                .map(|d| endpoint_uses(&d).iter().any(|(e, _)| e == name))
                .unwrap_or(false)
        })
        .map(|m| m.name)
        .collect())
}
