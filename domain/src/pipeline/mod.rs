//! Pipeline definitions in YAML, close to Aria Automation Pipelines' exported pipelines:
//!
//! ```yaml
//! kind: PIPELINE
//! name: deploy-web
//! project: web
//! description: Deploys each pushed image
//! enabled: true
//! concurrency: queue            # queue | cancel-previous | skip-if-running
//! input:
//!   DOCKER_TAG: latest
//! output:
//!   digest: ${Promote.Tag.output.digest}
//! stageOrder: [Check, Deploy]
//! stages:
//!   Check:
//!     taskOrder: [Gate]
//!     tasks:
//!       Gate: { type: Condition, input: { condition: '"${input.DOCKER_TAG}" != "latest"' } }
//!   Deploy:
//!     taskOrder: ["Apply,Notify"]   # one entry naming several tasks: they run in parallel
//!     tasks: { … }
//! ```
//!
//! [`parse`] checks everything it can before anything runs and reports every problem with the
//! line and the field it found it at. [`to_yaml`] writes a definition back; parsing that gives
//! the same definition (export and import round-trip).

mod aria;
mod edit;
pub mod expr;
mod yaml;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

pub use aria::{output_alias, KUBERNETES_ENDPOINT_KEY, UNSUPPORTED_TYPES};
pub use yaml::{documents, to_yaml};

/// The inputs "Inject parameters: Docker" adds, in Aria's order (Wharf adds the digest).
pub const DOCKER_INPUTS: [&str; 6] = [
    "DOCKER_EVENT_OWNER_NAME",
    "DOCKER_IMAGE",
    "DOCKER_REPO_NAME",
    "DOCKER_REPO_NAMESPACE",
    "DOCKER_TAG",
    "DOCKER_DIGEST",
];

/// What happens when a pipeline is triggered while an execution of it is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Concurrency {
    /// Executions wait their turn, one at a time.
    #[default]
    Queue,
    /// A new execution cancels those still queued or running.
    CancelPrevious,
    /// A trigger while one is queued or running starts nothing.
    SkipIfRunning,
}

impl Concurrency {
    /// Every policy.
    pub const ALL: [Concurrency; 3] = [
        Concurrency::Queue,
        Concurrency::CancelPrevious,
        Concurrency::SkipIfRunning,
    ];

    /// The YAML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Concurrency::Queue => "queue",
            Concurrency::CancelPrevious => "cancel-previous",
            Concurrency::SkipIfRunning => "skip-if-running",
        }
    }

    /// Parses the YAML spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A task's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskType {
    /// Kubernetes objects through a Kubernetes endpoint (Aria's `K8S`).
    Kubernetes,
    /// One HTTP request.
    Rest,
    /// An HTTP request repeated until an exit expression holds.
    Poll,
    /// An expression that passes or fails the task.
    Condition,
    /// Waits for an approver.
    UserOperation,
    /// Gives an image in a Docker Registry endpoint a new tag.
    Registry,
    /// Runs another pipeline of the project and waits for it (Aria's `Pipeline`).
    Pipeline,
    /// A type Wharf does not run (Aria's SSH, CI, Jenkins, …): kept as written so the pipeline
    /// round-trips, listed as needing attention, and the pipeline cannot be enabled.
    Unsupported,
}

impl TaskType {
    /// Every type Wharf runs.
    pub const ALL: [TaskType; 7] = [
        TaskType::Kubernetes,
        TaskType::Rest,
        TaskType::Poll,
        TaskType::Condition,
        TaskType::UserOperation,
        TaskType::Registry,
        TaskType::Pipeline,
    ];

    /// The YAML spelling (Aria's where Aria has one).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskType::Kubernetes => "K8S",
            TaskType::Rest => "REST",
            TaskType::Poll => "POLL",
            TaskType::Condition => "Condition",
            TaskType::UserOperation => "UserOperation",
            TaskType::Registry => "Registry",
            TaskType::Pipeline => "Pipeline",
            TaskType::Unsupported => "Unsupported",
        }
    }

    /// What a person calls it.
    pub fn label(self) -> &'static str {
        match self {
            TaskType::Kubernetes => "Kubernetes",
            TaskType::Rest => "REST",
            TaskType::Poll => "Poll",
            TaskType::Condition => "Condition",
            TaskType::UserOperation => "User Operation",
            TaskType::Registry => "Registry",
            TaskType::Pipeline => "Pipeline",
            TaskType::Unsupported => "Not supported by Wharf",
        }
    }

    /// Parses the YAML spelling (`Kubernetes` is accepted for `K8S`).
    pub fn parse(s: &str) -> Option<Self> {
        if s == "Kubernetes" {
            return Some(TaskType::Kubernetes);
        }
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The input fields this type's runner reads (Wharf's names): (name, required).
    fn fields(self) -> &'static [(&'static str, bool)] {
        match self {
            TaskType::Kubernetes => &[
                ("endpoint", true),
                ("action", true),
                ("namespace", false),
                ("yaml", false),
                ("kind", false),
                ("name", false),
                ("apiVersion", false),
                ("waitForRollout", false),
                ("rolloutTimeout", false),
                ("continueOnConflict", false),
            ],
            TaskType::Rest => &[
                ("method", false),
                ("url", true),
                ("headers", false),
                ("body", false),
                ("followRedirects", false),
            ],
            TaskType::Poll => &[
                ("method", false),
                ("url", true),
                ("headers", false),
                ("body", false),
                ("followRedirects", false),
                ("exitCriteria", true),
                ("interval", false),
                ("attempts", false),
                ("ignoreFailure", false),
            ],
            TaskType::Condition => &[("condition", true)],
            TaskType::UserOperation => &[
                ("approvers", true),
                ("summary", true),
                ("description", false),
                ("expiry", false),
            ],
            TaskType::Registry => &[
                ("endpoint", true),
                ("repository", true),
                ("reference", true),
                ("tag", true),
            ],
            TaskType::Pipeline => &[("pipeline", true), ("inputProperties", false)],
            TaskType::Unsupported => &[],
        }
    }
}

/// The Kubernetes task's actions.
pub const KUBERNETES_ACTIONS: [&str; 5] = ["GET", "CREATE", "APPLY", "DELETE", "ROLLBACK"];
/// The HTTP methods REST and POLL tasks use.
pub const HTTP_METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/// One task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Its name, unique in its stage.
    pub name: String,
    /// Its type.
    pub kind: TaskType,
    /// For a type Wharf does not run, the type as written (`SSH`, `Jenkins`, …).
    pub foreign_type: Option<String>,
    /// Its inputs as written (Wharf's or Aria's names); strings may hold `${…}` bindings.
    /// [`Task::settings`] gives them as the runners read them.
    pub input: Map<String, Value>,
    /// Aria's task-level endpoints by role (`kubernetesServer: dev-cluster`, `scm: …`).
    pub endpoints: Map<String, Value>,
    /// An expression that must hold for the task to run; otherwise it is skipped.
    pub pre_condition: Option<String>,
    /// A failure does not fail the stage.
    pub ignore_failure: bool,
    /// Seconds it may run before it fails.
    pub timeout_seconds: Option<u64>,
    /// Keys Wharf does not act on, kept as written and written back on export.
    pub kept: Map<String, Value>,
}

impl Task {
    /// A task of `kind` with nothing set: what the designer adds.
    pub fn new(name: &str, kind: TaskType) -> Self {
        Task {
            name: name.to_owned(),
            kind,
            foreign_type: None,
            input: Map::new(),
            endpoints: Map::new(),
            pre_condition: None,
            ignore_failure: false,
            timeout_seconds: None,
            kept: Map::new(),
        }
    }

    /// Its type as written in YAML (a foreign type's own name).
    pub fn type_name(&self) -> &str {
        self.foreign_type
            .as_deref()
            .unwrap_or_else(|| self.kind.as_str())
    }

    /// Its input as its runner reads it: Aria's names turned into Wharf's (REST `action` →
    /// `method`, `payload` → `body`, POLL `pollCount` → `attempts`, …), numbers and booleans
    /// written as text turned into values, the endpoint a task-level `endpoints:` names filled
    /// in, and the inputs Wharf keeps without using left out.
    pub fn settings(&self) -> Map<String, Value> {
        aria::settings(self)
    }

    /// The task as its runner reads it: its input is [`Task::settings`], its timeout
    /// [`Task::time_limit`].
    pub fn effective(&self) -> Task {
        let mut t = self.clone();
        t.input = self.settings();
        t.timeout_seconds = self.time_limit();
        t
    }

    /// The seconds it may run: its own `timeout`, else a Kubernetes task's Aria `timeout`
    /// input (minutes).
    pub fn time_limit(&self) -> Option<u64> {
        self.timeout_seconds.or_else(|| aria::minutes_limit(self))
    }
}

/// One stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Its name, unique in the pipeline.
    pub name: String,
    /// The order its tasks run in: each group's tasks run in parallel, groups one after another.
    pub task_order: Vec<Vec<String>>,
    /// Its tasks, as declared.
    pub tasks: Vec<Task>,
    /// Keys Wharf does not act on, kept as written.
    pub kept: Map<String, Value>,
}

impl Stage {
    /// The task called `name`.
    pub fn task(&self, name: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.name == name)
    }
}

/// A parsed, checked pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineDef {
    /// Its name, unique in its project.
    pub name: String,
    /// The project it belongs to, by name (as Aria exports it).
    pub project: String,
    /// What it does.
    pub description: String,
    /// Whether it may run.
    pub enabled: bool,
    /// What a trigger does while an execution is running.
    pub concurrency: Concurrency,
    /// Aria's numeric `concurrency`: executions queue and at most this many run at once.
    pub max_running: Option<u32>,
    /// Its inputs with their defaults, in order.
    pub input: Vec<(String, String)>,
    /// Aria's `_inputMeta`: an input's description and whether a run must give it.
    pub input_meta: Vec<(String, InputMeta)>,
    /// Its outputs (name → expression with bindings), in order.
    pub output: Vec<(String, String)>,
    /// Its stages in `stageOrder`.
    pub stages: Vec<Stage>,
    /// Keys Wharf does not act on (Aria's `icon`, `options`, `workspace`, `notifications`,
    /// `rollbacks`, `starred`, `tags`, …), kept as written and written back on export.
    pub kept: Vec<(String, Value)>,
    /// What must change before it may be enabled: tasks of types Wharf does not run, YAML
    /// Wharf cannot fetch. The backend adds endpoints the project lacks.
    pub attention: Vec<DefinitionError>,
}

/// What Aria's `_inputMeta` says of one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputMeta {
    /// What to give, shown in the Run dialog.
    pub description: String,
    /// A run must give a value.
    pub mandatory: bool,
}

impl PipelineDef {
    /// Whether "Inject parameters: Docker" was applied: every Docker input is declared, so a
    /// Docker webhook may trigger it.
    pub fn takes_docker_inputs(&self) -> bool {
        DOCKER_INPUTS
            .iter()
            .all(|d| self.input.iter().any(|(n, _)| n == d))
    }

    /// Adds the Docker inputs that are missing (with empty defaults), keeping the others.
    pub fn inject_docker_inputs(&mut self) {
        for d in DOCKER_INPUTS {
            if !self.input.iter().any(|(n, _)| n == d) {
                self.input.push((d.to_owned(), String::new()));
            }
        }
    }

    /// How many tasks it has.
    pub fn task_count(&self) -> usize {
        self.stages.iter().map(|s| s.tasks.len()).sum()
    }

    /// What `_inputMeta` says of input `name`.
    pub fn meta(&self, name: &str) -> Option<&InputMeta> {
        self.input_meta
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m)
    }

    /// An empty pipeline of `project` called `name`: one stage with no tasks yet.
    pub fn new(name: &str, project: &str) -> Self {
        PipelineDef {
            name: name.to_owned(),
            project: project.to_owned(),
            description: String::new(),
            enabled: true,
            concurrency: Concurrency::Queue,
            max_running: None,
            input: Vec::new(),
            input_meta: Vec::new(),
            output: Vec::new(),
            stages: Vec::new(),
            kept: Vec::new(),
            attention: Vec::new(),
        }
    }
}

/// One problem with a definition: where, which field, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinitionError {
    /// The line (from 1) it was found at, when known.
    pub line: Option<usize>,
    /// The field, as a path (`stages.Deploy.tasks.Apply.type`); empty for the whole document.
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.path.is_empty()) {
            (Some(l), false) => write!(f, "line {l}, {}: {}", self.path, self.message),
            (Some(l), true) => write!(f, "line {l}: {}", self.message),
            (None, false) => write!(f, "{}: {}", self.path, self.message),
            (None, true) => f.write_str(&self.message),
        }
    }
}

/// The longest definition accepted, in bytes.
pub const MAX_DEFINITION_BYTES: usize = 256 * 1024;

/// Parses and checks a pipeline definition. On failure, every problem found, in source order.
pub fn parse(source: &str) -> Result<PipelineDef, Vec<DefinitionError>> {
    yaml::parse(source)
}

/// Whether `name` is a valid stage or task name: 1 to 64 characters, spaces allowed inside
/// (Aria's `Prepare Environment`), but no `.`, `,`, `$`, `{`, `}` or control characters, which
/// would make `${Stage.Task.output…}` bindings or a `taskOrder` entry ambiguous.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 64
        && name.trim() == name
        && !name.chars().any(|c| c.is_control() || ".,${}".contains(c))
}

/// Whether `name` is a valid input or output name: letters, digits, `_` and `-`, starting with
/// a letter or `_`, at most 64 characters.
pub fn valid_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= 64
}

/// Whether `tag` is a valid image tag: letters, digits, `_`, `.` and `-`, at most 128, not
/// starting with `.` or `-` (the distribution spec's rule).
pub fn valid_tag(tag: &str) -> bool {
    tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_aria;
