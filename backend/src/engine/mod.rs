//! The execution engine. Executions are durable jobs in the database; a worker claims one with a
//! lease (owner and expiry, set by a conditional UPDATE so two workers never hold one), runs its
//! next group of tasks (the tasks of one `taskOrder` entry, in parallel) while a heartbeat keeps
//! the lease alive, records every outcome and releases the lease. Each step is its own claim, so
//! any worker (of any process) can take the next one.
//!
//! After a crash the lease expires and another worker claims the execution. A task left RUNNING
//! runs again only when running it twice cannot do harm (its type is read-only or idempotent);
//! otherwise it fails with a message saying why, so no task runs twice to completion and no
//! execution stays RUNNING.

use crate::platform::entities::{
    executions as exec_rows, pipeline_heads, project_claims, stage_runs, task_logs, task_runs,
};
use crate::platform::events::publish;
use crate::platform::masking::Masker;
use crate::runs::executions::{finish_open_runs, status};
use crate::{Backend, Error, Result};
use chrono::{DateTime, Utc};
use domain::executions::RunStatus;
use domain::pipeline::expr::{self, Binding};
use domain::pipeline::{PipelineDef, Task, TaskType};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

mod kube;
mod registry;
mod restricted;
mod user_operation;

/// The longest a task may run when it sets no timeout.
const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(3600);

/// A worker pool over the database.
#[derive(Clone)]
pub struct Engine {
    backend: Backend,
    owner: String,
    lease: Duration,
    http: Http,
}

/// The REST and Poll tasks' HTTP clients, both under the backend's outbound policy.
#[derive(Clone)]
struct Http {
    /// Follows no redirects (the default).
    plain: reqwest::Client,
    /// Follows redirects to the same host (`followRedirects: true`).
    follow: reqwest::Client,
    policy: crate::clients::outbound::OutboundPolicy,
}

/// The most of a response body a REST or Poll task keeps; the rest is discarded unread.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The most of a task's log that is stored; a note says where the rest was cut.
pub const MAX_LOG_BYTES: usize = 10 * 1024 * 1024;
/// The longest a task's output may be (as JSON) to be stored whole: 1 MiB of content and
/// room for its framing (a REST task's status and headers around its 1 MiB body).
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024 + 64 * 1024;
/// What a cut log ends with.
pub const LOG_TRUNCATED: &str = "… the log is longer than 10 MiB: the rest was not kept.";

/// What a task ended with.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) status: RunStatus,
    pub(crate) message: Option<String>,
    pub(crate) output: Value,
    pub(crate) logs: Vec<String>,
}

impl Outcome {
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            status: RunStatus::Failed,
            message: Some(message.into()),
            output: Value::Null,
            logs: Vec::new(),
        }
    }
}

/// A running task's log as it is written: each line is stored (masked) at once, so the task's
/// log streams to the browser while the task runs. The lines written here are the first lines
/// of the task's [`Outcome::logs`]; [`Engine::record`] stores only the rest.
#[derive(Clone)]
pub(crate) struct LiveLog {
    backend: Backend,
    task_run_id: i64,
    ctx: Arc<Context>,
    /// Lines stored before the task started (a task run again after a restart keeps them).
    base: i32,
    /// Their bytes.
    base_bytes: usize,
    written: Arc<std::sync::atomic::AtomicI32>,
    written_bytes: Arc<std::sync::atomic::AtomicUsize>,
    /// A line could not be stored: the rest wait for the end, so the stored lines stay the
    /// first lines of the task's log.
    stopped: Arc<std::sync::atomic::AtomicBool>,
}

impl LiveLog {
    async fn start(backend: &Backend, task_run_id: i64, ctx: Arc<Context>) -> Result<Self> {
        Ok(Self {
            backend: backend.clone(),
            task_run_id,
            ctx,
            base: stored_lines(&backend.db, task_run_id).await?,
            base_bytes: stored_bytes(&backend.db, task_run_id).await?,
            written: Arc::default(),
            written_bytes: Arc::default(),
            stopped: Arc::default(),
        })
    }

    /// Stores one line now. A line that cannot be stored is kept, with every line after it,
    /// for the end of the task.
    pub(crate) async fn line(&self, text: &str) {
        use std::sync::atomic::Ordering;
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        let n = self.written.load(Ordering::SeqCst);
        let bytes = self.written_bytes.load(Ordering::SeqCst);
        if self.base_bytes + bytes + text.len() > MAX_LOG_BYTES {
            // the end of the task stores the note that the log was cut here
            self.stopped.store(true, Ordering::SeqCst);
            return;
        }
        let stored = task_logs::ActiveModel {
            task_run_id: Set(self.task_run_id),
            line: Set(self.base + n + 1),
            at: Set(self.backend.clock.now()),
            text: Set(self.ctx.mask(text)),
            ..Default::default()
        }
        .insert(&self.backend.db)
        .await;
        match stored {
            Ok(_) => {
                self.written.store(n + 1, Ordering::SeqCst);
                self.written_bytes.fetch_add(text.len(), Ordering::SeqCst);
            }
            Err(_) => self.stopped.store(true, Ordering::SeqCst),
        }
    }

    fn written(&self) -> usize {
        usize::try_from(self.written.load(std::sync::atomic::Ordering::SeqCst)).unwrap_or(0)
    }
}

async fn stored_bytes(db: &impl sea_orm::ConnectionTrait, task_run_id: i64) -> Result<usize> {
    // LENGTH counts characters on both databases: close enough to bytes for a 10 MiB cap
    let total: Option<i64> = task_logs::Entity::find()
        .select_only()
        .column_as(Expr::cust("COALESCE(SUM(LENGTH(text)), 0)"), "total")
        .filter(task_logs::Column::TaskRunId.eq(task_run_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(usize::try_from(total.unwrap_or(0)).unwrap_or(0))
}

/// `output` as stored: whole when it is at most [`MAX_OUTPUT_BYTES`] as JSON, else a note and
/// the start of it.
fn bounded_output(output: &Value) -> Option<String> {
    if output.is_null() {
        return None;
    }
    let text = output.to_string();
    if text.len() <= MAX_OUTPUT_BYTES {
        return Some(text);
    }
    let mut cut = 64 * 1024;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(
        json!({
            "truncated": true,
            "note": format!(
                "The output was {} KiB, more than the 1 MiB kept: only its start is shown.",
                text.len() / 1024
            ),
            "start": &text[..cut],
        })
        .to_string(),
    )
}

async fn stored_lines(db: &impl sea_orm::ConnectionTrait, task_run_id: i64) -> Result<i32> {
    Ok(i32::try_from(
        task_logs::Entity::find()
            .filter(task_logs::Column::TaskRunId.eq(task_run_id))
            .count(db)
            .await?,
    )
    .unwrap_or(i32::MAX))
}

/// What tasks of one execution can read: inputs, variables, earlier outputs.
#[derive(Clone)]
pub(crate) struct Context {
    execution_id: i64,
    project_id: i64,
    index: i64,
    name: String,
    inputs: HashMap<String, String>,
    vars: HashMap<String, String>,
    /// (stage, task) → outputs
    outputs: HashMap<(String, String), Value>,
    /// Masks hidden values wherever they would be shown.
    masker: Arc<Masker>,
    /// The names of the project's RESTRICTED variables.
    restricted: Arc<std::collections::HashSet<String>>,
    /// Whether this task may read them (see `restricted.rs`).
    released: bool,
}

impl Context {
    pub(crate) fn resolve(&self, b: &Binding) -> std::result::Result<String, String> {
        match b {
            Binding::Input(n) => self
                .inputs
                .get(n)
                .cloned()
                .ok_or_else(|| format!("the execution has no input {n}")),
            Binding::Var(n) if self.restricted.contains(n) && !self.released => Err(format!(
                "variable {n} is RESTRICTED and was not released to this task"
            )),
            Binding::Var(n) => self.vars.get(n).cloned().ok_or_else(|| {
                format!("the project has no variable {n} that this execution may use")
            }),
            Binding::ExecutionId => Ok(self.execution_id.to_string()),
            Binding::ExecutionIndex => Ok(self.index.to_string()),
            Binding::Name => Ok(self.name.clone()),
            Binding::Output { stage, task, path } => {
                let mut v = self
                    .outputs
                    .get(&(stage.clone(), task.clone()))
                    .ok_or_else(|| {
                        format!("task {stage}.{task} has no outputs (it did not complete)")
                    })?;
                for p in path {
                    v = match v {
                        Value::Object(m) => m.get(p),
                        Value::Array(a) => p.parse::<usize>().ok().and_then(|i| a.get(i)),
                        _ => None,
                    }
                    .ok_or_else(|| {
                        format!("{stage}.{task} has no output at '{}'", path.join("."))
                    })?;
                }
                Ok(match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            }
        }
    }

    /// Runs `f` with one more task's outputs visible (a Poll task reading its own response).
    fn with_output<T>(
        &self,
        key: (String, String),
        value: Value,
        f: impl FnOnce(&Context) -> T,
    ) -> T {
        let mut outputs = self.outputs.clone();
        outputs.insert(key, value);
        let view = Context {
            execution_id: self.execution_id,
            project_id: self.project_id,
            index: self.index,
            name: self.name.clone(),
            inputs: self.inputs.clone(),
            vars: self.vars.clone(),
            outputs,
            masker: self.masker.clone(),
            restricted: self.restricted.clone(),
            released: self.released,
        };
        f(&view)
    }

    pub(crate) fn substitute(&self, s: &str) -> std::result::Result<String, String> {
        expr::substitute(s, &|b| self.resolve(b)).map_err(|u| u.to_string())
    }

    /// A parsed document with its bindings resolved scalar by scalar (keys too). A scalar that
    /// is one binding alone takes an integer or boolean value as that type (`replicas:
    /// ${input.N}`); everything else stays a string. No value can change the document's shape.
    pub(crate) fn bind_document(&self, v: &Value) -> std::result::Result<Value, String> {
        Ok(match v {
            Value::String(s) => {
                let bound = self.substitute(s)?;
                let whole = s.starts_with("${") && s.ends_with('}') && s.matches("${").count() == 1;
                match (whole, bound.as_str()) {
                    (true, "true") => Value::Bool(true),
                    (true, "false") => Value::Bool(false),
                    (true, n)
                        if !n.is_empty()
                            && n.len() <= 18
                            && n.trim_start_matches('-')
                                .chars()
                                .all(|c| c.is_ascii_digit())
                            && n != "-" =>
                    {
                        n.parse::<i64>()
                            .map_or(Value::String(bound.clone()), Value::from)
                    }
                    _ => Value::String(bound),
                }
            }
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.bind_document(x))
                    .collect::<std::result::Result<_, _>>()?,
            ),
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, x) in o {
                    out.insert(self.substitute(k)?, self.bind_document(x)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// `input` with every binding resolved and secrets masked, as the task panel shows it: a
    /// text whose binding cannot be resolved stays as written.
    pub(crate) fn bound(&self, input: &Value) -> Value {
        let resolved = match input {
            Value::String(s) => Value::String(self.substitute(s).unwrap_or_else(|_| s.clone())),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.bound(x)).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), self.bound(v))).collect())
            }
            other => other.clone(),
        };
        self.mask_value(&resolved)
    }

    pub(crate) fn mask(&self, s: &str) -> String {
        self.masker.mask(s)
    }

    fn mask_value(&self, v: &Value) -> Value {
        self.masker.mask_value(v)
    }
}

/// Whether running a task a second time cannot do harm (after a crash left it RUNNING).
fn safe_to_repeat(task: &Task) -> bool {
    let text = |k: &str| {
        task.input
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    match task.kind {
        TaskType::Condition | TaskType::Poll | TaskType::Registry | TaskType::UserOperation => true,
        TaskType::Kubernetes => matches!(text("action"), "GET" | "APPLY"),
        TaskType::Rest => matches!(
            task.input
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET"),
            "GET" | "HEAD" | "PUT"
        ),
    }
}

impl Engine {
    /// An engine whose workers call themselves `owner` and hold leases for `lease`.
    pub fn new(backend: Backend, owner: impl Into<String>, lease: Duration) -> Result<Self> {
        let policy = backend.outbound;
        let build = |b: reqwest::ClientBuilder| {
            // a task's own timeout bounds the whole call
            b.timeout(DEFAULT_TASK_TIMEOUT)
                .build()
                .map_err(|e| Error::Internal(format!("HTTP client: {e}")))
        };
        let http = Http {
            plain: build(policy.builder())?,
            follow: build(policy.builder_following_same_host())?,
            policy,
        };
        Ok(Self {
            backend,
            owner: owner.into(),
            lease,
            http,
        })
    }

    fn lease_chrono(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(60))
    }

    /// Claims an execution that has work to do, or `None`. Only the heads of the pipelines'
    /// queues can run (one active execution per pipeline, oldest first), and the database keeps
    /// them in `pipeline_heads`: the claim reads those (one a busy pipeline), never the queued
    /// runs behind them, and takes projects round-robin (the one whose work was claimed longest
    /// ago first).
    async fn claim(&self) -> Result<Option<exec_rows::Model>> {
        let db = &self.backend.db;
        let now = self.backend.clock.now();
        let free = Condition::any()
            .add(exec_rows::Column::LeaseUntil.is_null())
            .add(exec_rows::Column::LeaseUntil.lt(now));
        let heads: Vec<i64> = pipeline_heads::Entity::find()
            .select_only()
            .column(pipeline_heads::Column::HeadId)
            .into_tuple()
            .all(db)
            .await?;
        if heads.is_empty() {
            return Ok(None);
        }
        let mut candidates = Vec::new();
        for chunk in heads.chunks(crate::platform::db::MAX_BOUND_VALUES) {
            candidates.extend(
                exec_rows::Entity::find()
                    .filter(exec_rows::Column::Id.is_in(chunk.iter().copied()))
                    .filter(
                        Condition::any()
                            .add(exec_rows::Column::Status.eq(RunStatus::Queued.as_str()))
                            .add(
                                Condition::all()
                                    .add(exec_rows::Column::Status.eq(RunStatus::Running.as_str()))
                                    .add(free.clone()),
                            )
                            // a wait's deadline (lease_until) passed: see whether it expired
                            .add(
                                Condition::all()
                                    .add(exec_rows::Column::Status.eq(RunStatus::Waiting.as_str()))
                                    .add(exec_rows::Column::LeaseUntil.lt(now)),
                            ),
                    )
                    .all(db)
                    .await?,
            );
        }
        let last: HashMap<i64, i64> = project_claims::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.project_id, c.last_claim))
            .collect();
        candidates.sort_by_key(|c| (last.get(&c.project_id).copied().unwrap_or(0), c.id));
        let next_claim = last.values().max().copied().unwrap_or(0) + 1;
        for c in candidates {
            let claimed = exec_rows::Entity::update_many()
                .col_expr(
                    exec_rows::Column::LeaseOwner,
                    Expr::value(self.owner.clone()),
                )
                .col_expr(
                    exec_rows::Column::LeaseUntil,
                    Expr::value(now + self.lease_chrono()),
                )
                .col_expr(
                    exec_rows::Column::Status,
                    Expr::value(RunStatus::Running.as_str()),
                )
                .col_expr(
                    exec_rows::Column::StartedAt,
                    Expr::value(c.started_at.unwrap_or(now)),
                )
                .filter(exec_rows::Column::Id.eq(c.id))
                .filter(exec_rows::Column::Status.eq(c.status.clone()))
                .filter(free.clone())
                .exec(db)
                .await?;
            if claimed.rows_affected == 1 {
                self.took_from(c.project_id, next_claim).await?;
                if c.status != RunStatus::Running.as_str() {
                    publish(
                        &self.backend,
                        c.id,
                        c.project_id,
                        None,
                        None,
                        RunStatus::Running,
                    );
                }
                return Ok(exec_rows::Entity::find_by_id(c.id).one(db).await?);
            }
        }
        Ok(None)
    }

    /// Notes that work of `project` was claimed as the `n`th claim (round-robin order).
    async fn took_from(&self, project: i64, n: i64) -> Result<()> {
        use sea_orm::sea_query::OnConflict;
        project_claims::Entity::insert(project_claims::ActiveModel {
            project_id: Set(project),
            last_claim: Set(n),
        })
        .on_conflict(
            OnConflict::column(project_claims::Column::ProjectId)
                .update_column(project_claims::Column::LastClaim)
                .to_owned(),
        )
        .exec(&self.backend.db)
        .await?;
        Ok(())
    }

    async fn release(&self, id: i64) -> Result<()> {
        exec_rows::Entity::update_many()
            .col_expr(
                exec_rows::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                exec_rows::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(exec_rows::Column::Id.eq(id))
            .filter(exec_rows::Column::LeaseOwner.eq(self.owner.clone()))
            .exec(&self.backend.db)
            .await?;
        Ok(())
    }

    async fn end(
        &self,
        e: &exec_rows::Model,
        s: RunStatus,
        message: Option<String>,
        output: Option<String>,
    ) -> Result<()> {
        let now = self.backend.clock.now();
        finish_open_runs(&self.backend.db, e.id, RunStatus::Canceled, now).await?;
        let mut a: exec_rows::ActiveModel = e.clone().into();
        a.status = Set(s.as_str().to_owned());
        if message.is_some() {
            a.message = Set(message);
        }
        if output.is_some() {
            a.output = Set(output);
        }
        a.ended_at = Set(Some(now));
        a.lease_owner = Set(None);
        a.lease_until = Set(None);
        a.updated_at = Set(now);
        a.update(&self.backend.db).await?;
        publish(&self.backend, e.id, e.project_id, None, None, s);
        Ok(())
    }

    /// Claims one execution and advances it by one group of tasks. `Ok(false)`: nothing to do.
    pub async fn step(&self) -> Result<bool> {
        let Some(e) = self.claim().await? else {
            return Ok(false);
        };
        let outcome = self.advance(&e).await;
        if let Err(err) = &outcome {
            tracing::error!(execution_id = e.id, error = %err, "engine step failed");
            // the lease expires and the step is retried; a broken plan fails the execution
            if matches!(err, Error::Internal(_)) {
                self.end(
                    &e,
                    RunStatus::Failed,
                    Some(format!("Wharf could not run this execution: {err}")),
                    None,
                )
                .await?;
            }
        }
        Ok(true)
    }

    async fn advance(&self, e: &exec_rows::Model) -> Result<()> {
        let db = &self.backend.db;
        if e.cancel_requested {
            let msg = e.message.clone().or(Some("Canceled.".to_owned()));
            return self.end(e, RunStatus::Canceled, msg, None).await;
        }
        if e.pause_requested {
            let mut a: exec_rows::ActiveModel = e.clone().into();
            a.status = Set(RunStatus::Paused.as_str().to_owned());
            a.pause_requested = Set(false);
            a.lease_owner = Set(None);
            a.lease_until = Set(None);
            a.updated_at = Set(self.backend.clock.now());
            a.update(db).await?;
            publish(
                &self.backend,
                e.id,
                e.project_id,
                None,
                None,
                RunStatus::Paused,
            );
            return Ok(());
        }
        let plan: PipelineDef = serde_json::from_str(&e.plan).map_err(|err| {
            Error::Internal(format!("the execution's plan cannot be read: {err}"))
        })?;
        let runs = task_runs::Entity::find()
            .filter(task_runs::Column::ExecutionId.eq(e.id))
            .order_by_asc(task_runs::Column::StagePosition)
            .order_by_asc(task_runs::Column::GroupPosition)
            .order_by_asc(task_runs::Column::Id)
            .all(db)
            .await?;
        let mut open = Vec::new();
        for r in &runs {
            if !status(&r.status)?.is_final() {
                open.push(r);
            }
        }
        let Some(first) = open.first() else {
            let ctx = self.context(e, &runs).await?;
            let mut output = Vec::new();
            for (name, value) in &plan.output {
                match ctx.substitute(value) {
                    Ok(v) => output.push((name.clone(), ctx.mask(&v))),
                    Err(m) => {
                        return self
                            .end(
                                e,
                                RunStatus::Failed,
                                Some(format!("Output {name}: {m}")),
                                None,
                            )
                            .await
                    }
                }
            }
            let output = serde_json::to_string(&output).ok();
            return self.end(e, RunStatus::Completed, None, output).await;
        };
        let (stage_pos, group) = (first.stage_position, first.group_position);
        let stage = plan
            .stages
            .get(stage_pos as usize)
            .ok_or_else(|| Error::Internal(format!("stage {stage_pos} is not in the plan")))?;
        let now = self.backend.clock.now();
        let stage_row = stage_runs::Entity::find()
            .filter(stage_runs::Column::ExecutionId.eq(e.id))
            .filter(stage_runs::Column::Position.eq(stage_pos))
            .one(db)
            .await?
            .ok_or_else(|| Error::Internal("stage run missing".to_owned()))?;
        if stage_row.status == RunStatus::Queued.as_str() {
            let mut a: stage_runs::ActiveModel = stage_row.clone().into();
            a.status = Set(RunStatus::Running.as_str().to_owned());
            a.started_at = Set(Some(now));
            a.update(db).await?;
            publish(
                &self.backend,
                e.id,
                e.project_id,
                Some(&stage.name),
                None,
                RunStatus::Running,
            );
        }
        // the group: recover tasks a crash left RUNNING, start the queued ones
        let group_runs: Vec<&task_runs::Model> = open
            .iter()
            .copied()
            .filter(|r| r.stage_position == stage_pos && r.group_position == group)
            .collect();
        let ctx = Arc::new(self.context(e, &runs).await?);
        let mut to_run = Vec::new();
        for r in group_runs {
            let task = stage
                .task(&r.name)
                .ok_or_else(|| Error::Internal(format!("task {} is not in the plan", r.name)))?
                .clone();
            if task.kind == TaskType::UserOperation {
                self.user_operation(e, r, &stage.name, &task, &ctx).await?;
                continue;
            }
            if r.status == RunStatus::Running.as_str() && !safe_to_repeat(&task) {
                self.record(
                    e,
                    r,
                    Outcome::failed(
                        "Wharf stopped while this task was running. It was not run again because it may already have taken effect; check the target and rerun the pipeline.",
                    ),
                )
                .await?;
                continue;
            }
            let (task_ctx, approved_by) =
                match self.restricted_gate(e, r, &stage.name, &task, &ctx).await? {
                    restricted::Gate::Hold => continue,
                    restricted::Gate::Run {
                        released: false, ..
                    } => (ctx.clone(), None),
                    restricted::Gate::Run {
                        approved_by,
                        released: true,
                    } => {
                        let mut open = (*ctx).clone();
                        open.released = true;
                        (Arc::new(open), approved_by)
                    }
                };
            let mut a: task_runs::ActiveModel = r.clone().into();
            a.status = Set(RunStatus::Running.as_str().to_owned());
            a.input = Set(Some(
                task_ctx
                    .bound(&Value::Object(task.input.clone()))
                    .to_string(),
            ));
            a.attempts = Set(r.attempts + 1);
            a.started_at = Set(Some(r.started_at.unwrap_or(now)));
            let r = a.update(db).await?;
            publish(
                &self.backend,
                e.id,
                e.project_id,
                Some(&stage.name),
                Some(&r.name),
                RunStatus::Running,
            );
            to_run.push((r, task, task_ctx, approved_by));
        }
        if !to_run.is_empty() {
            let heartbeat = self.heartbeat(e.id);
            let mut handles = Vec::new();
            for (r, task, task_ctx, approved_by) in to_run {
                let log = LiveLog::start(&self.backend, r.id, task_ctx.clone()).await?;
                let tools = Tools {
                    http: self.http.clone(),
                    backend: self.backend.clone(),
                    log: log.clone(),
                };
                let stage_name = stage.name.clone();
                let t = task.clone();
                let handle = tokio::spawn(async move {
                    let limit = t
                        .timeout_seconds
                        .map_or(DEFAULT_TASK_TIMEOUT, Duration::from_secs);
                    let run = run_task(&task_ctx, &tools, &stage_name, &t);
                    match tokio::time::timeout(limit, run).await {
                        Ok(o) => o,
                        Err(_) => {
                            Outcome::failed(format!("Timed out after {} seconds.", limit.as_secs()))
                        }
                    }
                });
                heartbeat.guard(handle.abort_handle());
                handles.push((r, handle, log, approved_by));
            }
            for (r, handle, log, approved_by) in handles {
                let outcome = handle.await;
                if heartbeat.lost() {
                    // another worker holds the execution now: what this one found is not
                    // written (that worker decides about the task, once)
                    tracing::warn!(
                        execution_id = e.id,
                        task = %r.name,
                        "the lease was lost while the task ran; its outcome is not recorded"
                    );
                    return Ok(());
                }
                let mut outcome = match outcome {
                    Ok(o) => o,
                    Err(join) if join.is_panic() => Outcome::failed(
                        "The task failed unexpectedly (it panicked); the rest of Wharf carried on.",
                    ),
                    Err(_) => Outcome::failed("The task was stopped."),
                };
                outcome.message = outcome.message.map(|m| ctx.mask(&m));
                outcome.output = ctx.mask_value(&outcome.output);
                // the lines the task stored as it ran are already there
                outcome.logs = outcome
                    .logs
                    .iter()
                    .skip(log.written())
                    .map(|l| ctx.mask(l))
                    .collect();
                if let Some(by) = approved_by {
                    outcome.logs.push(format!(
                        "Restricted values were released: approved by {by}."
                    ));
                }
                self.record(e, &r, outcome).await?;
            }
            drop(heartbeat);
        }
        if self.wait_if_waiting(e, stage_pos, group).await? {
            return Ok(());
        }
        self.settle(e, stage_pos, group, &plan).await
    }

    /// Keeps the lease of `id` alive until the guard is dropped. Each beat checks and extends
    /// the lease in one statement (this worker's, not expired). The worker fences itself: when
    /// a beat finds the lease gone, or no beat has succeeded by the time the last extension
    /// runs out (a stalled database, a frozen process), it aborts the tasks it guards before
    /// another worker can take the execution over, and [`Heartbeat::lost`] says so.
    fn heartbeat(&self, id: i64) -> Heartbeat {
        let engine = self.clone();
        let lost: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        let guarded: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (flag, tasks) = (lost.clone(), guarded.clone());
        let task = AbortOnDrop(tokio::spawn(async move {
            let every = engine.lease / 3;
            // the lease this worker last set lasts `lease` from a moment no earlier than the
            // beat's start, so stopping a little before start + lease stops before it expires
            let margin = engine.lease / 10;
            let mut holds_until = tokio::time::Instant::now() + engine.lease;
            loop {
                tokio::time::sleep(every).await;
                let started = tokio::time::Instant::now();
                let now = engine.backend.clock.now();
                let beat = exec_rows::Entity::update_many()
                    .col_expr(
                        exec_rows::Column::LeaseUntil,
                        Expr::value(now + engine.lease_chrono()),
                    )
                    .filter(exec_rows::Column::Id.eq(id))
                    .filter(exec_rows::Column::LeaseOwner.eq(engine.owner.clone()))
                    .filter(exec_rows::Column::LeaseUntil.gte(now))
                    .exec(&engine.backend.db);
                let fence = holds_until.checked_sub(margin).unwrap_or(holds_until);
                match tokio::time::timeout_at(fence, beat).await {
                    Ok(Ok(r)) if r.rows_affected > 0 => holds_until = started + engine.lease,
                    // a failed beat is retried while the lease lasts
                    Ok(Err(e)) if tokio::time::Instant::now() < fence => {
                        tracing::warn!(execution_id = id, error = %e, "heartbeat failed");
                    }
                    _ => {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                        if let Ok(tasks) = tasks.lock() {
                            tasks.iter().for_each(tokio::task::AbortHandle::abort);
                        }
                        tracing::warn!(
                            execution_id = id,
                            "the lease could not be kept; this worker stopped its tasks"
                        );
                        return;
                    }
                }
            }
        }));
        Heartbeat {
            _task: task,
            lost,
            guarded,
        }
    }

    pub(crate) async fn record(
        &self,
        e: &exec_rows::Model,
        r: &task_runs::Model,
        o: Outcome,
    ) -> Result<()> {
        let now = self.backend.clock.now();
        let db = &self.backend.db;
        let mut a: task_runs::ActiveModel = r.clone().into();
        a.status = Set(o.status.as_str().to_owned());
        a.message = Set(o.message.clone());
        a.output = Set(bounded_output(&o.output));
        a.ended_at = Set(Some(now));
        a.update(db).await?;
        let first_line = stored_lines(db, r.id).await?;
        let mut bytes = stored_bytes(db, r.id).await?;
        let mut lines = Vec::new();
        for text in &o.logs {
            if bytes + text.len() > MAX_LOG_BYTES {
                lines.push(LOG_TRUNCATED.to_owned());
                break;
            }
            bytes += text.len();
            lines.push(text.clone());
        }
        for (i, text) in lines.into_iter().enumerate() {
            task_logs::ActiveModel {
                task_run_id: Set(r.id),
                line: Set(first_line + i as i32 + 1),
                at: Set(now),
                text: Set(text),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
        publish(
            &self.backend,
            e.id,
            e.project_id,
            Some(&r.stage_name),
            Some(&r.name),
            o.status,
        );
        Ok(())
    }

    /// After a group: fail the execution on a failed task (unless it ignores failure), close
    /// the stage when its last group is done, release the lease.
    async fn settle(
        &self,
        e: &exec_rows::Model,
        stage_pos: i32,
        group: i32,
        plan: &PipelineDef,
    ) -> Result<()> {
        let db = &self.backend.db;
        let stage = &plan.stages[stage_pos as usize];
        let runs = task_runs::Entity::find()
            .filter(task_runs::Column::ExecutionId.eq(e.id))
            .filter(task_runs::Column::StagePosition.eq(stage_pos))
            .all(db)
            .await?;
        let failed = runs.iter().find(|r| {
            r.group_position == group
                && r.status == RunStatus::Failed.as_str()
                && !stage.task(&r.name).is_some_and(|t| t.ignore_failure)
        });
        let now = self.backend.clock.now();
        let stage_row = stage_runs::Entity::find()
            .filter(stage_runs::Column::ExecutionId.eq(e.id))
            .filter(stage_runs::Column::Position.eq(stage_pos))
            .one(db)
            .await?
            .ok_or_else(|| Error::Internal("stage run missing".to_owned()))?;
        if let Some(f) = failed {
            let mut a: stage_runs::ActiveModel = stage_row.into();
            a.status = Set(RunStatus::Failed.as_str().to_owned());
            a.ended_at = Set(Some(now));
            a.update(db).await?;
            publish(
                &self.backend,
                e.id,
                e.project_id,
                Some(&stage.name),
                None,
                RunStatus::Failed,
            );
            let message = format!(
                "Task {}.{} failed: {}",
                stage.name,
                f.name,
                f.message.clone().unwrap_or_default()
            );
            let current = exec_rows::Entity::find_by_id(e.id)
                .one(db)
                .await?
                .unwrap_or_else(|| e.clone());
            return self
                .end(&current, RunStatus::Failed, Some(message), None)
                .await;
        }
        if runs
            .iter()
            .all(|r| RunStatus::parse(&r.status).is_some_and(RunStatus::is_final))
        {
            let mut a: stage_runs::ActiveModel = stage_row.into();
            a.status = Set(RunStatus::Completed.as_str().to_owned());
            a.ended_at = Set(Some(now));
            a.update(db).await?;
            publish(
                &self.backend,
                e.id,
                e.project_id,
                Some(&stage.name),
                None,
                RunStatus::Completed,
            );
        }
        self.release(e.id).await
    }

    async fn context(&self, e: &exec_rows::Model, runs: &[task_runs::Model]) -> Result<Context> {
        let inputs: Vec<(String, String)> = serde_json::from_str(&e.input).unwrap_or_default();
        let mut vars = HashMap::new();
        let mut secrets = Vec::new();
        let mut restricted = std::collections::HashSet::new();
        for v in crate::project::variables::all_for_engine(&self.backend, e.project_id).await? {
            if v.hidden {
                secrets.push(v.value.expose().to_owned());
            }
            if v.restricted {
                restricted.insert(v.name.clone());
            }
            vars.insert(v.name, v.value.expose().to_owned());
        }
        let mut outputs = HashMap::new();
        for r in runs {
            if r.status == RunStatus::Completed.as_str() {
                if let Some(o) = r
                    .output
                    .as_deref()
                    .and_then(|o| serde_json::from_str(o).ok())
                {
                    outputs.insert((r.stage_name.clone(), r.name.clone()), o);
                }
            }
        }
        Ok(Context {
            execution_id: e.id,
            project_id: e.project_id,
            index: e.run_index,
            name: e.pipeline_name.clone(),
            inputs: inputs.into_iter().collect(),
            vars,
            outputs,
            masker: Arc::new(Masker::new(secrets.iter().map(String::as_str))),
            restricted: Arc::new(restricted),
            released: false,
        })
    }

    /// Runs `workers` workers until `shutdown` resolves; each polls every `idle` when there is
    /// nothing to do.
    pub async fn run(
        self,
        workers: usize,
        idle: Duration,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let stop = tokio::sync::watch::channel(false);
        let mut handles = Vec::new();
        for i in 0..workers.max(1) {
            // each worker holds leases under its own name, so one worker's heartbeat or
            // release never touches another worker's execution
            let mut engine = self.clone();
            engine.owner = format!("{}/worker-{i}", self.owner);
            let mut rx = stop.1.clone();
            // a new or resumed execution wakes idle workers at once (no polling delay)
            let mut events = self.backend.events.subscribe();
            handles.push(tokio::spawn(async move {
                loop {
                    if *rx.borrow() {
                        break;
                    }
                    let worked = match engine.step().await {
                        Ok(w) => w,
                        Err(err) => {
                            tracing::warn!(error = %err, "engine worker");
                            false
                        }
                    };
                    if !worked {
                        let wake = async {
                            loop {
                                match events.recv().await {
                                    Ok(e)
                                        if e.stage.is_none()
                                            && matches!(
                                                e.status,
                                                RunStatus::Queued | RunStatus::Running
                                            ) =>
                                    {
                                        return
                                    }
                                    Ok(_) => {}
                                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                                        return
                                    }
                                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                                        std::future::pending::<()>().await
                                    }
                                }
                            }
                        };
                        tokio::select! {
                            _ = tokio::time::sleep(idle) => {}
                            _ = rx.changed() => {}
                            _ = wake => {}
                        }
                    }
                }
            }));
        }
        shutdown.await;
        let _ = stop.0.send(true);
        for h in handles {
            let _ = h.await;
        }
    }
}

/// A running heartbeat: stops when dropped; [`Heartbeat::lost`] says whether it found the
/// lease taken or expired.
struct Heartbeat {
    _task: AbortOnDrop,
    lost: Arc<std::sync::atomic::AtomicBool>,
    guarded: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Heartbeat {
    fn lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops `task` when the lease is lost (at once if it already is).
    fn guard(&self, task: tokio::task::AbortHandle) {
        // checked under the lock the heartbeat takes after setting the flag, so a task is
        // either aborted here or in the heartbeat's list when it aborts
        match self.guarded.lock() {
            Ok(mut tasks) if !self.lost() => tasks.push(task),
            _ => task.abort(),
        }
    }
}

/// Aborts a background task when dropped (a step cut short stops its heartbeat).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run_task(ctx: &Context, tools: &Tools, stage: &str, task: &Task) -> Outcome {
    if let Some(pre) = &task.pre_condition {
        match expr::evaluate(pre, &|b| ctx.resolve(b)) {
            Ok(true) => {}
            Ok(false) => {
                return Outcome {
                    status: RunStatus::Skipped,
                    message: Some(format!("Skipped: the precondition {pre} is false.")),
                    output: Value::Null,
                    logs: Vec::new(),
                }
            }
            Err(m) => return Outcome::failed(format!("The precondition cannot be evaluated: {m}")),
        }
    }
    match task.kind {
        TaskType::Condition => condition(ctx, task),
        TaskType::Rest => rest(ctx, &tools.http, task).await,
        TaskType::Poll => poll(ctx, tools, stage, task).await,
        TaskType::Kubernetes => kube::run(ctx, &tools.backend, &tools.log, task).await,
        TaskType::Registry => registry::run(ctx, &tools.backend, task).await,
        // waits are handled by the engine itself (they need no worker while they wait)
        TaskType::UserOperation => Outcome::failed("A User Operation cannot run as a plain task."),
    }
}

/// What task runners may use.
struct Tools {
    http: Http,
    backend: Backend,
    log: LiveLog,
}

/// POLL: the REST call, repeated every `interval` seconds until `exitCriteria` holds (it reads
/// this task's latest response as `${Stage.Task.output…}`) or `attempts` calls were made.
async fn poll(ctx: &Context, tools: &Tools, stage: &str, task: &Task) -> Outcome {
    let http = &tools.http;
    let number =
        |k: &str, default: u64| task.input.get(k).and_then(Value::as_u64).unwrap_or(default);
    let interval = Duration::from_secs(number("interval", 60));
    let attempts = number("attempts", 10);
    let criteria = task
        .input
        .get("exitCriteria")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut logs = Vec::new();
    let mut last = Outcome::failed("The poll made no call.");
    for attempt in 1..=attempts {
        let mut o = rest(ctx, http, task).await;
        logs.append(&mut o.logs);
        if o.output.is_null() {
            // no response at all (refused, DNS …): report it, keep trying
            logs.push(format!(
                "attempt {attempt}/{attempts}: {}",
                o.message.clone().unwrap_or_default()
            ));
        } else {
            let key = (stage.to_owned(), task.name.clone());
            let verdict = ctx.with_output(key, o.output.clone(), |c| {
                expr::evaluate(criteria, &|b| c.resolve(b))
            });
            match verdict {
                Ok(true) => {
                    logs.push(format!("attempt {attempt}/{attempts}: {criteria} → true"));
                    return Outcome {
                        status: RunStatus::Completed,
                        message: Some(format!("The exit criteria held after {attempt} call(s).")),
                        output: o.output,
                        logs,
                    };
                }
                Ok(false) => logs.push(format!("attempt {attempt}/{attempts}: {criteria} → false")),
                Err(m) => {
                    logs.push(format!("attempt {attempt}/{attempts}: {m}"));
                    return Outcome {
                        status: RunStatus::Failed,
                        message: Some(format!("The exit criteria cannot be evaluated: {m}")),
                        output: o.output,
                        logs,
                    };
                }
            }
        }
        last = o;
        if attempt < attempts {
            // the attempts so far show while the poll waits for the next
            for l in logs.iter().skip(tools.log.written()) {
                tools.log.line(l).await;
            }
            tokio::time::sleep(interval).await;
        }
    }
    Outcome {
        status: RunStatus::Failed,
        message: Some(format!(
            "The exit criteria did not hold after {attempts} call(s): {criteria}"
        )),
        output: last.output,
        logs,
    }
}

fn condition(ctx: &Context, task: &Task) -> Outcome {
    let src = task
        .input
        .get("condition")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match expr::evaluate(src, &|b| ctx.resolve(b)) {
        Ok(true) => Outcome {
            status: RunStatus::Completed,
            message: Some("The condition holds.".to_owned()),
            output: json!({"result": true}),
            logs: vec![format!("{src} → true")],
        },
        Ok(false) => Outcome {
            status: RunStatus::Failed,
            message: Some(format!("The condition is false: {src}")),
            output: json!({"result": false}),
            logs: vec![format!("{src} → false")],
        },
        Err(m) => Outcome::failed(m),
    }
}

/// Reads at most `limit` bytes of a response body, chunk by chunk; whatever follows is never
/// read (the connection is dropped). Returns the bytes and whether the body was longer.
async fn read_bounded(
    mut res: reqwest::Response,
    limit: usize,
) -> reqwest::Result<(Vec<u8>, bool)> {
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

async fn rest(ctx: &Context, http: &Http, task: &Task) -> Outcome {
    let text = |k: &str| task.input.get(k).and_then(Value::as_str);
    let bind = |s: &str| ctx.substitute(s);
    let url = match bind(text("url").unwrap_or_default()) {
        Ok(u) => u,
        Err(m) => return Outcome::failed(m),
    };
    let checked = reqwest::Url::parse(&url)
        .map_err(|_| format!("{url} is not a URL."))
        .and_then(|u| http.policy.check_url(&u).map(|()| u));
    let url = match checked {
        Ok(u) => u,
        Err(m) => return Outcome::failed(m),
    };
    let follow = task
        .input
        .get("followRedirects")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let client = if follow { &http.follow } else { &http.plain };
    let method = text("method").unwrap_or("GET");
    let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
        return Outcome::failed(format!("{method} is not an HTTP method"));
    };
    let mut req = client.request(method.clone(), url.clone());
    if let Some(headers) = task.input.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            match bind(v.as_str().unwrap_or_default()) {
                Ok(v) => req = req.header(k.as_str(), v),
                Err(m) => return Outcome::failed(m),
            }
        }
    }
    if let Some(body) = text("body") {
        match bind(body) {
            Ok(b) => req = req.body(b),
            Err(m) => return Outcome::failed(m),
        }
    }
    let mut logs = vec![format!("{method} {url}")];
    let res = match req.send().await {
        Ok(r) => r,
        Err(err) => {
            return Outcome::failed(format!(
                "{method} {url} failed: {}",
                crate::error::error_chain(&err)
            ))
        }
    };
    let status = res.status();
    let headers: Map<String, Value> = res
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(v.to_str().unwrap_or("").to_owned()),
            )
        })
        .collect();
    let (body, truncated) = match read_bounded(res, MAX_RESPONSE_BYTES).await {
        Ok(b) => b,
        Err(err) => {
            return Outcome::failed(format!(
                "reading the response failed: {}",
                crate::error::error_chain(&err)
            ))
        }
    };
    let body_value = if truncated {
        Value::String(String::from_utf8_lossy(&body).into_owned())
    } else {
        serde_json::from_slice::<Value>(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    logs.push(format!("HTTP {} ({} bytes)", status.as_u16(), body.len()));
    let mut output = json!({"status": status.as_u16(), "headers": headers, "body": body_value});
    if truncated {
        let note = format!(
            "The response was longer than {} KiB: its first {} KiB are kept, the rest was discarded.",
            MAX_RESPONSE_BYTES / 1024,
            MAX_RESPONSE_BYTES / 1024
        );
        logs.push(note.clone());
        output["truncated"] = Value::Bool(true);
        output["note"] = Value::String(note);
    }
    if status.is_client_error() || status.is_server_error() {
        Outcome {
            status: RunStatus::Failed,
            message: Some(format!("{method} {url} answered HTTP {}.", status.as_u16())),
            output,
            logs,
        }
    } else {
        Outcome {
            status: RunStatus::Completed,
            message: Some(format!("HTTP {}", status.as_u16())),
            output,
            logs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_over_the_cap_keeps_a_note_and_its_start() {
        assert_eq!(bounded_output(&Value::Null), None);
        let small = json!({"a": 1});
        assert_eq!(bounded_output(&small).as_deref(), Some(r#"{"a":1}"#));
        let big = json!({"body": "é".repeat(MAX_OUTPUT_BYTES)});
        let kept: Value = serde_json::from_str(&bounded_output(&big).unwrap()).unwrap();
        assert_eq!(kept["truncated"], true);
        assert!(kept["note"]
            .as_str()
            .unwrap()
            .contains("more than the 1 MiB kept"));
        assert!(kept["start"].as_str().unwrap().len() <= 64 * 1024);
    }
}
