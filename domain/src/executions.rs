//! Executions as the Pipelines and Executions pages show them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod filter;
pub use filter::{ExecutionFilter, ExecutionsPage};

/// The status of an execution, a stage or a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "Text",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
pub enum RunStatus {
    /// Waiting for a worker (or, for stages and tasks, for earlier ones).
    Queued,
    /// Running now.
    Running,
    /// Waiting for something outside Wharf (an approval).
    Waiting,
    /// Paused by a person; resumes where it stopped.
    Paused,
    /// Finished well.
    Completed,
    /// Finished badly; the message says why.
    Failed,
    /// Stopped by a person or by a newer execution.
    Canceled,
    /// (Tasks) not run: its precondition did not hold.
    Skipped,
}

impl RunStatus {
    /// Every status.
    pub const ALL: [RunStatus; 8] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Waiting,
        RunStatus::Paused,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Canceled,
        RunStatus::Skipped,
    ];

    /// The stored and shown form.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "QUEUED",
            RunStatus::Running => "RUNNING",
            RunStatus::Waiting => "WAITING",
            RunStatus::Paused => "PAUSED",
            RunStatus::Completed => "COMPLETED",
            RunStatus::Failed => "FAILED",
            RunStatus::Canceled => "CANCELED",
            RunStatus::Skipped => "SKIPPED",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Canceled | RunStatus::Skipped
        )
    }
}

/// A pipeline in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineRow {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Whether it may run.
    pub enabled: bool,
    /// queue, cancel-previous or skip-if-running.
    pub concurrency: String,
    /// Whether a Docker webhook may trigger it (its inputs include the Docker ones).
    pub docker_inputs: bool,
    /// How many stages it has.
    pub stage_count: i32,
    /// Its inputs with their defaults, for the Run dialog.
    pub input: Vec<(String, String)>,
    /// What `_inputMeta` says of its inputs (description, mandatory), for the Run dialog.
    #[serde(default)]
    pub input_meta: Vec<(String, crate::pipeline::InputMeta)>,
    /// What must change before it may be enabled (tasks Wharf does not run, endpoints or
    /// pipelines the project lacks), a line each.
    #[serde(default)]
    pub attention: Vec<String>,
    /// Its last execution: index, status, when it was queued.
    pub last_execution: Option<(i64, RunStatus, DateTime<Utc>)>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An execution in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionRow {
    /// Its id.
    pub id: i64,
    /// The pipeline's id.
    pub pipeline_id: i64,
    /// The pipeline's name when it was queued.
    pub pipeline_name: String,
    /// Its number within the pipeline (`${executionIndex}`).
    pub index: i64,
    /// Its status.
    pub status: RunStatus,
    /// Why it failed or was canceled, in words.
    pub message: Option<String>,
    /// manual, api or docker.
    pub trigger: String,
    /// The comments given when it was started.
    pub comments: String,
    /// Queued at.
    pub created_at: DateTime<Utc>,
    /// Started at.
    pub started_at: Option<DateTime<Utc>>,
    /// Ended at.
    pub ended_at: Option<DateTime<Utc>>,
}

/// A task of an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRunView {
    /// Its name.
    pub name: String,
    /// Its type (K8S, REST …).
    pub kind: String,
    /// Which taskOrder entry it belongs to.
    pub group: i32,
    /// Its status.
    pub status: RunStatus,
    /// What happened, in words.
    pub message: Option<String>,
    /// Its outputs, as JSON text (secrets masked).
    pub output: Option<String>,
    /// Its input as it ran: every binding resolved, secrets masked (JSON text).
    #[serde(default)]
    pub input: Option<String>,
    /// Started at.
    pub started_at: Option<DateTime<Utc>>,
    /// Ended at.
    pub ended_at: Option<DateTime<Utc>>,
}

/// A stage of an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageRunView {
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: RunStatus,
    /// Started at.
    pub started_at: Option<DateTime<Utc>>,
    /// Ended at.
    pub ended_at: Option<DateTime<Utc>>,
    /// Its tasks in order.
    pub tasks: Vec<TaskRunView>,
}

/// One execution in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionDetail {
    /// The summary.
    pub row: ExecutionRow,
    /// The inputs it ran with (values of secret variables are never here).
    pub input: Vec<(String, String)>,
    /// The pipeline's outputs once known.
    pub output: Vec<(String, String)>,
    /// Its stages.
    pub stages: Vec<StageRunView>,
}

/// What a User Operation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "Text",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
pub enum OperationKind {
    /// A User Operation task: its listed approvers answer.
    Approval,
    /// Releasing restricted variables or endpoints to one task: the project's administrators
    /// answer.
    Restricted,
}

/// Where a User Operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "Text",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
pub enum OperationStatus {
    /// Waiting for an answer.
    Pending,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
    /// Nobody answered in time.
    Expired,
    /// The execution ended (canceled) before anyone answered.
    Canceled,
}

impl OperationStatus {
    /// The stored and shown form.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Pending => "PENDING",
            OperationStatus::Approved => "APPROVED",
            OperationStatus::Rejected => "REJECTED",
            OperationStatus::Expired => "EXPIRED",
            OperationStatus::Canceled => "CANCELED",
        }
    }
}

/// A User Operation: an approval an execution waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserOperationRow {
    /// Its id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The execution that waits.
    pub execution_id: i64,
    /// The pipeline's name.
    pub pipeline_name: String,
    /// The execution's index.
    pub run_index: i64,
    /// The stage.
    pub stage: String,
    /// The task.
    pub task: String,
    /// What to decide.
    pub summary: String,
    /// More detail.
    pub description: String,
    /// Who may answer (e-mail addresses).
    pub approvers: Vec<String>,
    /// PENDING, APPROVED, REJECTED or EXPIRED.
    pub status: OperationStatus,
    /// Who answered.
    pub responded_by: Option<String>,
    /// What they said.
    pub comment: Option<String>,
    /// When they answered.
    pub responded_at: Option<DateTime<Utc>>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
}

/// What a person can do to an execution, spelled as the pages and the API send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionAction {
    /// Stop it.
    Cancel,
    /// Stop after the running tasks.
    Pause,
    /// Continue a paused one.
    Resume,
    /// Start it again with the same inputs.
    Rerun,
    /// Remove it and its logs.
    Delete,
}

impl ExecutionAction {
    /// Every action.
    pub const ALL: [ExecutionAction; 5] = [
        ExecutionAction::Cancel,
        ExecutionAction::Pause,
        ExecutionAction::Resume,
        ExecutionAction::Rerun,
        ExecutionAction::Delete,
    ];

    /// The action spelled `s` (`cancel`, `pause`, `resume`, `rerun`, `delete`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Its spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionAction::Cancel => "cancel",
            ExecutionAction::Pause => "pause",
            ExecutionAction::Resume => "resume",
            ExecutionAction::Rerun => "rerun",
            ExecutionAction::Delete => "delete",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_actions_are_read_as_they_are_spelled_and_nothing_else() {
        for a in ExecutionAction::ALL {
            assert_eq!(ExecutionAction::parse(a.as_str()), Some(a));
        }
        for wrong in ["", "Cancel", "cancel ", "stop", "delete\n"] {
            assert_eq!(ExecutionAction::parse(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn statuses_round_trip_and_know_when_they_are_final() {
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(s));
        }
        assert!(RunStatus::Canceled.is_final() && !RunStatus::Waiting.is_final());
    }
    #[test]
    fn a_queued_run_says_what_it_waits_for() {
        use super::{QueueWait, RunStatus};
        let behind = QueueWait::Behind {
            id: 1,
            pipeline: "gated".into(),
            index: 1,
            status: RunStatus::Waiting,
            at_once: 1,
        };
        assert_eq!(
            behind.describe(),
            "Waiting for gated #1 (WAITING for approval): this pipeline runs one at a time"
        );
        assert_eq!(
            QueueWait::Workers { busy: 4, total: 4 }.describe(),
            "Waiting for a free worker (4 of 4 busy)"
        );
    }
}

/// An execution as the live views show it: its row, what started it, one icon per stage (with
/// its tasks, for the in-place task list) and its place in the change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionSummary {
    /// The execution.
    pub row: ExecutionRow,
    /// Its project.
    pub project_id: i64,
    /// The project's name.
    pub project_name: String,
    /// What started it, in words: a webhook with `image:tag`, a person, or a rerun.
    pub started_by: String,
    /// Its stages with their tasks (outputs left out).
    pub stages: Vec<StageRunView>,
    /// Its change-feed version: the live stream's event id.
    pub version: i64,
    /// Why it has not started, while it is QUEUED.
    #[serde(default)]
    pub queue: Option<QueueWait>,
}

fn one() -> u32 {
    1
}

/// Why a QUEUED execution has not started yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum QueueWait {
    /// Its pipeline runs `at_once` executions at a time and they are taken: it waits for the
    /// oldest of them.
    Behind {
        /// The execution it waits for.
        id: i64,
        /// Its pipeline's name.
        pipeline: String,
        /// Its number.
        index: i64,
        /// Its status.
        status: RunStatus,
        /// How many of its pipeline's executions run at once.
        #[serde(default = "one")]
        at_once: u32,
    },
    /// It is next; the engine's workers are busy with other executions.
    Workers {
        /// Workers holding an execution.
        busy: u32,
        /// Workers in all.
        total: u32,
    },
}

impl QueueWait {
    /// In words, for the list, the detail page and Home.
    pub fn describe(&self) -> String {
        match self {
            QueueWait::Behind {
                pipeline,
                index,
                status,
                at_once,
                ..
            } => format!(
                "Waiting for {pipeline} #{index} ({}{}): this pipeline runs {}",
                status.as_str(),
                match status {
                    RunStatus::Waiting => " for approval",
                    _ => "",
                },
                match at_once {
                    0 | 1 => "one at a time".to_owned(),
                    n => format!("{n} at a time"),
                }
            ),
            QueueWait::Workers { busy, total } if busy >= total => {
                format!("Waiting for a free worker ({busy} of {total} busy)")
            }
            QueueWait::Workers { .. } => "Starting: a worker is free".to_owned(),
        }
    }
}

/// Duration in words, `1h 02m`, `3m 05s`, `12s`.
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Whether an input's name says it holds a secret (its value is masked on pages).
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "credential",
        "private",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// How many executions ended up (or are) in each status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    /// Each status with its count, in `RunStatus::ALL` order, zeros included.
    pub by_status: Vec<(RunStatus, u64)>,
}

impl StatusCounts {
    /// Counts from (status, count) pairs; statuses not named count zero.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (RunStatus, u64)>) -> Self {
        let mut by_status: Vec<(RunStatus, u64)> = RunStatus::ALL
            .into_iter()
            .filter(|s| *s != RunStatus::Skipped)
            .map(|s| (s, 0))
            .collect();
        for (s, n) in pairs {
            if let Some(slot) = by_status.iter_mut().find(|(x, _)| *x == s) {
                slot.1 += n;
            }
        }
        StatusCounts { by_status }
    }

    /// Every execution counted.
    pub fn total(&self) -> u64 {
        self.by_status.iter().map(|(_, n)| n).sum()
    }

    /// The count of one status.
    pub fn of(&self, s: RunStatus) -> u64 {
        self.by_status
            .iter()
            .find(|(x, _)| *x == s)
            .map_or(0, |(_, n)| *n)
    }
}

/// A Docker webhook whose latest event failed, with that event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailingWebhook {
    /// The webhook's name.
    pub name: String,
    /// Its latest Activity row.
    pub last: crate::webhooks::ActivityRow,
    /// Why it counts as failed, in words.
    pub reason: String,
}

/// A project's home dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    /// The project.
    pub project_id: i64,
    /// Its name.
    pub project_name: String,
    /// Executions created in the last 24 hours, by status.
    pub day: StatusCounts,
    /// Executions created in the last 7 days, by status.
    pub week: StatusCounts,
    /// The latest executions (the live stream resumes after the page's version).
    pub latest: ExecutionsPage,
    /// The latest Activity rows of the project's Docker webhooks.
    pub activity: Vec<crate::webhooks::ActivityRow>,
    /// The project's Docker webhooks whose latest event failed.
    pub failing: Vec<FailingWebhook>,
}
