//! The live views' data: executions as the Executions list, the detail page and the home
//! dashboard show them, the dashboard itself, and the change feed the live stream reads.
//! Every change of an execution's, a stage's or a task's status gives the execution the next
//! `live_version` (database triggers, migration 000013, in the writing transaction); a client
//! that has seen version `v` catches up with the executions whose version is above `v`, each
//! once, in order, also after a restart.

use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::platform::entities::{
    docker_webhooks as cards, executions as row, pipeline_slots, project_members as members,
    projects, stage_runs, task_runs, users, webhook_activity as activity,
};
use crate::runs::executions::{row_view, stage_views};
use crate::triggers::inbox::rows_view;
use crate::{Backend, Result};
use domain::executions::{
    Dashboard, ExecutionFilter, ExecutionSummary, ExecutionsPage, FailingWebhook, QueueWait,
    RunStatus, StatusCounts,
};
use domain::role::ProjectAction;
use domain::webhooks::{ActivityFilter, ActivityStatus};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use std::collections::HashMap;

/// Most executions one catch-up sends; a client further behind is told to reload.
pub const CATCH_UP_LIMIT: u64 = 500;

/// The projects `actor` may see, or `None` for every project (administrators).
async fn visible(db: &impl ConnectionTrait, actor: Actor) -> Result<Option<Vec<i64>>> {
    if actor.is_admin {
        return Ok(None);
    }
    Ok(Some(
        members::Entity::find()
            .select_only()
            .column(members::Column::ProjectId)
            .filter(members::Column::UserId.eq(actor.user_id))
            .into_tuple::<i64>()
            .all(db)
            .await?,
    ))
}

fn scoped(q: Select<row::Entity>, visible: Option<Vec<i64>>) -> Select<row::Entity> {
    match visible {
        Some(ids) => q.filter(row::Column::ProjectId.is_in(ids)),
        None => q,
    }
}

/// Which executions a live stream follows: all the viewer may see, or those of one project,
/// one pipeline or one execution (the filters combine).
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    pub project: Option<i64>,
    pub pipeline: Option<i64>,
    pub execution: Option<i64>,
}

/// The change feed's current version.
pub async fn version(db: &impl ConnectionTrait) -> Result<i64> {
    Ok(row::Entity::find()
        .select_only()
        .column_as(Expr::col(row::Column::LiveVersion).max(), "v")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// A page of the executions `actor` may see, newest first (keyset on the id).
pub async fn page(
    backend: &Backend,
    actor: Actor,
    filter: &ExecutionFilter,
    limit: u64,
) -> Result<ExecutionsPage> {
    let db = &backend.db;
    // read first: a change made while the page is read is sent again by the stream, never lost
    let version = version(db).await?;
    let mut q = scoped(row::Entity::find(), visible(db, actor).await?);
    if let Some(p) = filter.project {
        q = q.filter(row::Column::ProjectId.eq(p));
    }
    if let Some(p) = filter.pipeline {
        q = q.filter(row::Column::PipelineId.eq(p));
    }
    if let Some(s) = filter.status {
        q = q.filter(row::Column::Status.eq(s));
    }
    let text = filter.text.trim();
    if !text.is_empty() {
        q = q.filter(
            Condition::any()
                .add(row::Column::PipelineName.contains(text))
                .add(row::Column::Comments.contains(text))
                .add(row::Column::Message.contains(text)),
        );
    }
    if let Some(b) = filter.before {
        q = q.filter(row::Column::Id.lt(b));
    }
    let limit = limit.clamp(1, 200);
    let mut models = q
        .order_by_desc(row::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next_before = if models.len() as u64 > limit {
        models.truncate(limit as usize);
        models.last().map(|m| m.id)
    } else {
        None
    };
    Ok(ExecutionsPage {
        rows: summaries(backend, models).await?,
        next_before,
        version,
    })
}

/// What a client that has seen `since` missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchUp {
    /// The executions that changed, each once in its latest state, oldest change first.
    Changes(Vec<ExecutionSummary>),
    /// More changed than one catch-up sends: reload.
    TooFarBehind,
}

/// The executions `actor` may see (of one project or one execution, if given) that changed
/// after version `since`.
pub async fn changes_since(
    backend: &Backend,
    actor: Actor,
    scope: Scope,
    since: i64,
) -> Result<CatchUp> {
    let db = &backend.db;
    let mut q = scoped(row::Entity::find(), visible(db, actor).await?)
        .filter(row::Column::LiveVersion.gt(since));
    if let Some(p) = scope.project {
        q = q.filter(row::Column::ProjectId.eq(p));
    }
    if let Some(p) = scope.pipeline {
        q = q.filter(row::Column::PipelineId.eq(p));
    }
    if let Some(e) = scope.execution {
        q = q.filter(row::Column::Id.eq(e));
    }
    let models = q
        .order_by_asc(row::Column::LiveVersion)
        .limit(CATCH_UP_LIMIT + 1)
        .all(db)
        .await?;
    if models.len() as u64 > CATCH_UP_LIMIT {
        return Ok(CatchUp::TooFarBehind);
    }
    Ok(CatchUp::Changes(summaries(backend, models).await?))
}

/// One execution as the live views show it, if `actor` may see it.
pub async fn summary(backend: &Backend, actor: Actor, id: i64) -> Result<ExecutionSummary> {
    let db = &backend.db;
    let m = scoped(row::Entity::find(), visible(db, actor).await?)
        .filter(row::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(crate::Error::NotFound("execution"))?;
    summaries(backend, vec![m])
        .await?
        .pop()
        .ok_or(crate::Error::NotFound("execution"))
}

/// Builds the live views of `models`, keeping their order.
/// Why each QUEUED execution of `models` has not started: the run its pipeline waits for
/// (the pipeline's head, kept by the database) or, for a head, the busy workers.
async fn queue_waits(backend: &Backend, models: &[row::Model]) -> Result<HashMap<i64, QueueWait>> {
    let db = &backend.db;
    let queued: Vec<&row::Model> = models
        .iter()
        .filter(|m| m.status == RunStatus::Queued)
        .collect();
    let mut out = HashMap::new();
    if queued.is_empty() {
        return Ok(out);
    }
    let pipelines: Vec<i64> = queued.iter().map(|m| m.pipeline_id).collect();
    // each pipeline's running slots (one unless its definition says how many), oldest first
    use crate::platform::entities::pipelines as pipeline_rows;
    let slots = pipeline_slots::Entity::find()
        .filter(pipeline_slots::Column::PipelineId.is_in(pipelines.clone()))
        .all(db);
    let at_once = pipeline_rows::Entity::find()
        .select_only()
        .columns([pipeline_rows::Column::Id, pipeline_rows::Column::MaxRunning])
        .filter(pipeline_rows::Column::Id.is_in(pipelines))
        .into_tuple::<(i64, i32)>()
        .all(db);
    let (slots, at_once) = tokio::try_join!(slots, at_once)?;
    let at_once: HashMap<i64, i32> = at_once.into_iter().collect();
    let mut heads: HashMap<i64, Vec<i64>> = HashMap::new();
    for h in slots {
        heads.entry(h.pipeline_id).or_default().push(h.head_id);
    }
    heads.values_mut().for_each(|v| v.sort_unstable());
    let head_rows: HashMap<i64, row::Model> = row::Entity::find()
        .filter(row::Column::Id.is_in(heads.values().flatten().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut busy = None;
    for m in queued {
        let slots = heads.get(&m.pipeline_id).cloned().unwrap_or_default();
        let head = slots.first().and_then(|h| head_rows.get(h));
        let wait = match head {
            Some(h) if !slots.contains(&m.id) => QueueWait::Behind {
                id: h.id,
                pipeline: h.pipeline_name.clone(),
                index: h.run_index,
                status: h.status,
                at_once: at_once
                    .get(&m.pipeline_id)
                    .and_then(|n| u32::try_from(*n).ok())
                    .unwrap_or(1),
            },
            _ => {
                let busy = match busy {
                    Some(b) => b,
                    None => {
                        let now = backend.clock.now();
                        let b = row::Entity::find()
                            .filter(row::Column::Status.eq(RunStatus::Running))
                            .filter(row::Column::LeaseUntil.gt(now))
                            .count(db)
                            .await?;
                        busy = Some(b);
                        b
                    }
                };
                QueueWait::Workers {
                    busy: u32::try_from(busy).unwrap_or(u32::MAX),
                    total: u32::try_from(backend.workers).unwrap_or(u32::MAX),
                }
            }
        };
        out.insert(m.id, wait);
    }
    Ok(out)
}

async fn summaries(backend: &Backend, models: Vec<row::Model>) -> Result<Vec<ExecutionSummary>> {
    if models.is_empty() {
        return Ok(Vec::new());
    }
    // everything the rows need, read in a few statements for all of them, at once (each on
    // a connection of the pool: a read waits for the database, not for the reads before it)
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let (mut waits, (stages, tasks), names) = tokio::try_join!(
        queue_waits(backend, &models),
        runs_of(&backend.db, &ids),
        Names::load(&backend.db, &models),
    )?;
    let mut out = Vec::with_capacity(models.len());
    for m in models {
        let own: Vec<stage_runs::Model> = stages
            .iter()
            .filter(|s| s.execution_id == m.id)
            .cloned()
            .collect();
        let mut views = stage_views(&own, &tasks, false)?;
        // a running stage whose task waits for an approval shows as waiting
        for v in &mut views {
            if v.status == RunStatus::Running
                && v.tasks.iter().any(|t| t.status == RunStatus::Waiting)
            {
                v.status = RunStatus::Waiting;
            }
        }
        out.push(ExecutionSummary {
            row: row_view(&m)?,
            project_id: m.project_id,
            project_name: names
                .projects
                .get(&m.project_id)
                .cloned()
                .unwrap_or_default(),
            started_by: names.started_by(&m),
            stages: views,
            version: m.live_version,
            queue: waits.remove(&m.id),
        });
    }
    Ok(out)
}

/// The stage and task runs of executions `ids`, in plan order.
async fn runs_of(
    db: &sea_orm::DatabaseConnection,
    ids: &[i64],
) -> Result<(Vec<stage_runs::Model>, Vec<task_runs::Model>)> {
    let stages = stage_runs::Entity::find()
        .filter(stage_runs::Column::ExecutionId.is_in(ids.iter().copied()))
        .order_by_asc(stage_runs::Column::Position)
        .all(db);
    let tasks = task_runs::Entity::find()
        .filter(task_runs::Column::ExecutionId.is_in(ids.iter().copied()))
        .order_by_asc(task_runs::Column::StagePosition)
        .order_by_asc(task_runs::Column::GroupPosition)
        .order_by_asc(task_runs::Column::Id)
        .all(db);
    Ok(tokio::try_join!(stages, tasks)?)
}

/// The names a page of executions shows: projects, who started each, and the Docker webhook
/// (card and image) behind those a push started.
struct Names {
    projects: HashMap<i64, String>,
    emails: HashMap<i64, String>,
    cards: HashMap<i64, String>,
    /// execution → (card, image)
    pushes: HashMap<i64, (i64, String)>,
}

impl Names {
    async fn load(db: &sea_orm::DatabaseConnection, models: &[row::Model]) -> Result<Names> {
        // only the columns shown, the three reads at once
        let projects = projects::Entity::find()
            .select_only()
            .columns([projects::Column::Id, projects::Column::Name])
            .filter(projects::Column::Id.is_in(models.iter().map(|m| m.project_id)))
            .into_tuple::<(i64, String)>()
            .all(db);
        let emails = users::Entity::find()
            .select_only()
            .columns([users::Column::Id, users::Column::Email])
            .filter(users::Column::Id.is_in(models.iter().filter_map(|m| m.created_by)))
            .into_tuple::<(i64, String)>()
            .all(db);
        let pushes = activity::Entity::find()
            .select_only()
            .columns([
                activity::Column::ExecutionId,
                activity::Column::WebhookId,
                activity::Column::Image,
            ])
            .filter(activity::Column::ExecutionId.is_in(models.iter().map(|m| m.id)))
            .into_tuple::<(Option<i64>, i64, String)>()
            .all(db);
        let (projects, emails, pushes) = tokio::try_join!(projects, emails, pushes)?;
        let projects = projects.into_iter().collect();
        let emails = emails.into_iter().collect();
        let pushes: HashMap<i64, (i64, String)> = pushes
            .into_iter()
            .filter_map(|(e, card, image)| e.map(|e| (e, (card, image))))
            .collect();
        let cards = if pushes.is_empty() {
            HashMap::new()
        } else {
            cards::Entity::find()
                .select_only()
                .columns([cards::Column::Id, cards::Column::Name])
                .filter(cards::Column::Id.is_in(pushes.values().map(|(card, _)| *card)))
                .into_tuple::<(i64, String)>()
                .all(db)
                .await?
                .into_iter()
                .collect()
        };
        Ok(Names {
            projects,
            emails,
            cards,
            pushes,
        })
    }

    /// "Docker webhook web-deploy · acme/web:v2", "ada@example.com (API)", a rerun's comment,
    /// or the person who pressed Run.
    fn started_by(&self, m: &row::Model) -> String {
        let who = || {
            m.created_by
                .and_then(|u| self.emails.get(&u).cloned())
                .unwrap_or_else(|| "a deleted user".to_owned())
        };
        match m.trigger.as_str() {
            "docker" => match self.pushes.get(&m.id) {
                Some((card, image)) => {
                    let card = self.cards.get(card).map_or("(deleted)", String::as_str);
                    format!("Docker webhook {card} · {image}")
                }
                None => "Docker webhook".to_owned(),
            },
            "rerun" => m.comments.clone(),
            "api" => format!("{} (API)", who()),
            _ => who(),
        }
    }
}

/// How many latest executions and Activity rows the dashboard shows.
pub const DASHBOARD_ROWS: u64 = 10;

/// The home dashboard of project `project_id`, if `actor` may see it.
pub async fn dashboard(backend: &Backend, actor: Actor, project_id: i64) -> Result<Dashboard> {
    let db = &backend.db;
    authorize(db, actor, project_id, ProjectAction::View).await?;
    let project = projects::Entity::find_by_id(project_id)
        .one(db)
        .await?
        .ok_or(crate::Error::NotFound("project"))?;
    let now = backend.clock.now();
    let (day, week) = counts(
        db,
        project.id,
        now - chrono::Duration::hours(24),
        now - chrono::Duration::days(7),
    )
    .await?;
    let filter = ExecutionFilter {
        project: Some(project.id),
        ..ExecutionFilter::default()
    };
    let mut latest = page(backend, actor, &filter, DASHBOARD_ROWS).await?;
    latest.next_before = None;
    let recent = crate::triggers::inbox::list(
        backend,
        actor,
        project.id,
        &ActivityFilter {
            limit: Some(DASHBOARD_ROWS),
            ..ActivityFilter::default()
        },
    )
    .await?;
    Ok(Dashboard {
        project_id: project.id,
        project_name: project.name,
        day,
        week,
        latest,
        activity: recent.rows,
        failing: failing_webhooks(db, project.id).await?,
    })
}

/// Executions of `project` created since `day` and since `week`, by status: one pass over the
/// index on (project, created, status), the week's rows only.
async fn counts(
    db: &impl ConnectionTrait,
    project: i64,
    day: chrono::DateTime<chrono::Utc>,
    week: chrono::DateTime<chrono::Utc>,
) -> Result<(StatusCounts, StatusCounts)> {
    let rows = row::Entity::find()
        .select_only()
        .column(row::Column::Status)
        .column_as(
            Expr::expr(Func::sum(
                Expr::case(row::Column::CreatedAt.gte(day), 1).finally(0),
            )),
            "d",
        )
        .column_as(Expr::col(row::Column::Id).count(), "w")
        .filter(row::Column::ProjectId.eq(project))
        .filter(row::Column::CreatedAt.gte(week))
        .group_by(row::Column::Status)
        .into_tuple::<(RunStatus, Option<i64>, i64)>()
        .all(db)
        .await?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let parsed: Vec<(RunStatus, u64, u64)> = rows
        .into_iter()
        .map(|(s, d, w)| (s, count(d.unwrap_or(0)), count(w)))
        .collect();
    Ok((
        StatusCounts::from_pairs(parsed.iter().map(|(s, d, _)| (*s, *d))),
        StatusCounts::from_pairs(parsed.iter().map(|(s, _, w)| (*s, *w))),
    ))
}

/// The Docker webhooks of `project` whose latest event failed: it started nothing (the
/// pipeline refused it, the card's API token is invalid), its execution failed, or the
/// callback to the registry failed.
async fn failing_webhooks(db: &impl ConnectionTrait, project: i64) -> Result<Vec<FailingWebhook>> {
    let last_ids: Vec<i64> = activity::Entity::find()
        .select_only()
        .column_as(Expr::col(activity::Column::Id).max(), "id")
        .filter(activity::Column::ProjectId.eq(project))
        .group_by(activity::Column::WebhookId)
        .into_tuple::<i64>()
        .all(db)
        .await?;
    let latest = activity::Entity::find()
        .filter(activity::Column::Id.is_in(last_ids))
        .order_by_desc(activity::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for last in rows_view(db, latest).await? {
        let reason = match (last.status, last.execution_status) {
            (ActivityStatus::Failed | ActivityStatus::InvalidToken, _) => last.message.clone(),
            (_, Some(RunStatus::Failed)) => format!(
                "Its execution {} #{} failed.",
                last.pipeline_name.clone().unwrap_or_default(),
                last.execution_index.unwrap_or_default()
            ),
            _ if last.callback_state == Some(domain::webhooks::CallbackState::Failed) => format!(
                "The result could not be sent back: {}",
                last.callback_message.clone().unwrap_or_default()
            ),
            _ => continue,
        };
        out.push(FailingWebhook {
            name: last.webhook_name.clone(),
            last,
            reason,
        });
    }
    Ok(out)
}
