//! What a task's bindings can read: inputs, variables (restricted ones only when released),
//! earlier tasks' outputs; and the masking of secret values in what it shows.

use crate::platform::masking::Masker;
use domain::pipeline::expr::{self, Binding};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What tasks of one execution can read: inputs, variables, earlier outputs.
#[derive(Clone)]
pub(crate) struct Context {
    pub(super) execution_id: i64,
    pub(super) project_id: i64,
    pub(super) index: i64,
    pub(super) name: String,
    /// Who started the execution (`${requestBy}`).
    pub(super) request_by: String,
    pub(super) inputs: HashMap<String, String>,
    pub(super) vars: HashMap<String, String>,
    /// (stage, task) → outputs
    pub(super) outputs: HashMap<(String, String), Value>,
    /// Masks hidden values wherever they would be shown.
    pub(super) masker: Arc<Masker>,
    /// The names of the project's RESTRICTED variables.
    pub(super) restricted: Arc<std::collections::HashSet<String>>,
    /// Whether this task may read them (see `restricted.rs`).
    pub(super) released: bool,
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
            Binding::RequestBy => Ok(self.request_by.clone()),
            Binding::Output { stage, task, path } => {
                let mut v = self
                    .outputs
                    .get(&(stage.clone(), task.clone()))
                    .ok_or_else(|| {
                        format!("task {stage}.{task} has no outputs (it did not complete)")
                    })?;
                for (i, p) in path.iter().enumerate() {
                    v = match v {
                        // Aria's names for a REST or Poll response (`responseJson.status`)
                        Value::Object(m) if i == 0 && !m.contains_key(p) => {
                            domain::pipeline::output_alias(p).and_then(|a| m.get(a))
                        }
                        // header names are case-insensitive (`responseHeaders.Authorization`)
                        Value::Object(m) if !m.contains_key(p) => m
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(p))
                            .map(|(_, x)| x),
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
    pub(super) fn with_output<T>(
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
            request_by: self.request_by.clone(),
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

    pub(super) fn mask_value(&self, v: &Value) -> Value {
        self.masker.mask_value(v)
    }
}
