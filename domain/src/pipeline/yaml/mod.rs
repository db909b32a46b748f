//! Reading pipeline YAML with positions (saphyr's marked tree) and writing it back.

use super::aria;
use super::expr::{self, Binding};
use super::{
    valid_identifier, valid_name, Concurrency, DefinitionError, InputMeta, PipelineDef, Stage,
    Task, TaskType, HTTP_METHODS, KUBERNETES_ACTIONS, MAX_DEFINITION_BYTES,
};
use crate::names::parse_label;
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

mod bindings;
mod meta;
mod tasks;
mod write;

use bindings::{check_bindings, check_expression};
use meta::flag;
use tasks::parse_stage;
pub use write::to_yaml;

type Node<'a> = MarkedYaml<'a>;
type Mapping<'a> = saphyr::AnnotatedMapping<'a, MarkedYaml<'a>>;

fn line(n: &Node<'_>) -> usize {
    n.span.start.line()
}

/// Collects problems as it goes, so that one parse reports them all.
#[derive(Default)]
struct Check {
    errors: Vec<DefinitionError>,
    /// Output bindings to check once every stage is known: (binding, line, path, stage index,
    /// task group index within the stage).
    outputs: Vec<(Binding, usize, String, usize, usize)>,
    /// What must change before the pipeline may be enabled (it still parses).
    attention: Vec<DefinitionError>,
}

impl Check {
    fn err(&mut self, at: usize, path: &str, message: impl Into<String>) {
        self.errors.push(DefinitionError {
            line: Some(at),
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn attend(&mut self, at: usize, path: &str, message: impl Into<String>) {
        self.attention.push(DefinitionError {
            line: Some(at),
            path: path.to_owned(),
            message: message.into(),
        });
    }
}

fn scalar_text(n: &Node<'_>) -> Option<String> {
    match &n.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        YamlData::Value(Scalar::Null) => Some(String::new()),
        YamlData::Representation(s, ..) => Some(s.to_string()),
        _ => None,
    }
}

fn string(n: &Node<'_>) -> Option<String> {
    match &n.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Representation(s, ..) => Some(s.to_string()),
        _ => None,
    }
}

fn mapping<'a, 'b>(n: &'b Node<'a>) -> Option<&'b Mapping<'a>> {
    match &n.data {
        YamlData::Mapping(m) => Some(m),
        _ => None,
    }
}

fn sequence<'a, 'b>(n: &'b Node<'a>) -> Option<&'b Vec<Node<'a>>> {
    match &n.data {
        YamlData::Sequence(s) => Some(s),
        _ => None,
    }
}

fn is_null(n: &Node<'_>) -> bool {
    matches!(n.data, YamlData::Value(Scalar::Null))
}

/// The entries of a mapping with their keys as strings; a non-string key is reported.
fn entries<'a, 'b>(
    c: &mut Check,
    m: &'b Mapping<'a>,
    path: &str,
) -> Vec<(String, &'b Node<'a>, usize)> {
    let mut out = Vec::new();
    for (k, v) in m {
        match scalar_text(k) {
            Some(key) if !key.is_empty() => out.push((key, v, line(k))),
            _ => c.err(line(k), path, "a key here must be a plain name"),
        }
    }
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn to_json(c: &mut Check, n: &Node<'_>, path: &str) -> Value {
    match &n.data {
        YamlData::Value(Scalar::Null) => Value::Null,
        YamlData::Value(Scalar::Boolean(b)) => Value::Bool(*b),
        YamlData::Value(Scalar::Integer(i)) => Value::Number((*i).into()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| {
                c.err(line(n), path, "not a finite number");
                Value::Null
            }),
        YamlData::Value(Scalar::String(s)) => Value::String(s.to_string()),
        YamlData::Representation(s, ..) => Value::String(s.to_string()),
        YamlData::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(c, item, &join(path, &i.to_string())))
                .collect(),
        ),
        YamlData::Mapping(m) => {
            let mut object = Map::new();
            for (key, value, _) in entries(c, m, path) {
                let v = to_json(c, value, &join(path, &key));
                object.insert(key, v);
            }
            Value::Object(object)
        }
        _ => {
            c.err(
                line(n),
                path,
                "tags, anchors and aliases are not supported here",
            );
            Value::Null
        }
    }
}

/// The root keys Wharf acts on; any other is kept as written (Aria's `icon`, `options`,
/// `workspace`, `notifications`, `rollbacks`, `starred`, `tags`, …).
const ROOT_KEYS: [&str; 11] = [
    "kind",
    "name",
    "project",
    "description",
    "enabled",
    "concurrency",
    "input",
    "_inputMeta",
    "output",
    "stageOrder",
    "stages",
];

/// The most executions a numeric `concurrency` may let run at once.
const MAX_RUNNING: u64 = 100;

/// The documents of a multi-document YAML text (Kubernetes manifests) as JSON values; empty
/// documents are skipped. The error names the line.
pub fn documents(source: &str) -> Result<Vec<Value>, String> {
    let docs = MarkedYaml::load_from_str(source).map_err(|e| {
        format!(
            "line {}: this is not valid YAML: {}",
            e.marker().line(),
            e.info()
        )
    })?;
    let mut c = Check::default();
    let values: Vec<Value> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| to_json(&mut c, d, &format!("document {}", i + 1)))
        .filter(|v| !v.is_null())
        .collect();
    match c.errors.first() {
        Some(e) => Err(e.to_string()),
        None => Ok(values),
    }
}

/// Reads a pipeline definition, reporting every problem with its line:
///
/// 1. one YAML document, within the size limit, that is a mapping ([`root_of`]);
/// 2. the root's fields: `kind: PIPELINE`, a `name`; the keys Wharf does not act on are kept;
/// 3. the plain fields: `project`, `description`, `enabled`, `concurrency`;
/// 4. `input` (defaults without bindings), `_inputMeta` and `output`;
/// 5. `stageOrder` and `stages`, each stage with its tasks ([`parse_stage`]);
/// 6. every binding to a task's output names a task that has run by then
///    ([`check_output_bindings`]).
pub fn parse(source: &str) -> Result<PipelineDef, Vec<DefinitionError>> {
    // 1.
    let root = root_of(source)?;
    let mut c = Check::default();
    let Some(m) = mapping(&root[0]) else {
        return Err(vec![DefinitionError {
            line: Some(line(&root[0])),
            path: String::new(),
            message: "a pipeline is a mapping that starts with kind: PIPELINE".to_owned(),
        }]);
    };
    let r = Root {
        fields: entries(&mut c, m, ""),
        line: line(&root[0]),
    };
    // 2.
    let kept = r.check_keys(&mut c);
    let name = r.name(&mut c);
    // 3.
    let project = r.text(&mut c, "project", 64);
    let description = r.text(&mut c, "description", 2000);
    let enabled = r.enabled(&mut c);
    let (concurrency, max_running) = r.concurrency(&mut c);
    // 4.
    let input = r.named_values(&mut c, "input", false);
    for (name, default) in &input {
        if default.contains("${") {
            let path = join("input", name);
            c.err(r.line, &path, "an input's default cannot use bindings");
        }
    }
    let input_meta = meta::input_meta(&mut c, &r, &input);
    let output = r.named_values(&mut c, "output", true);
    // 5.
    let stages = r.stages(&mut c, &input);
    // 6.
    check_output_bindings(&mut c, &r, &output, &input, &stages);
    if !c.errors.is_empty() {
        c.errors.sort_by_key(|e| e.line);
        return Err(c.errors);
    }
    Ok(PipelineDef {
        name,
        project,
        description,
        enabled,
        concurrency,
        max_running,
        input,
        input_meta,
        output,
        stages,
        kept,
        attention: c.attention,
    })
}

/// Step 1: the source as exactly one YAML document within the size limit.
fn root_of(source: &str) -> Result<Vec<Node<'_>>, Vec<DefinitionError>> {
    let whole = |message: String| {
        vec![DefinitionError {
            line: None,
            path: String::new(),
            message,
        }]
    };
    if source.len() > MAX_DEFINITION_BYTES {
        return Err(whole(format!(
            "a pipeline definition has at most {} KiB",
            MAX_DEFINITION_BYTES / 1024
        )));
    }
    let docs = MarkedYaml::load_from_str(source).map_err(|e| {
        vec![DefinitionError {
            line: Some(e.marker().line()),
            path: String::new(),
            message: format!("this is not valid YAML: {}", e.info()),
        }]
    })?;
    match docs.len() {
        0 => Err(whole("the definition is empty".to_owned())),
        1 => Ok(docs),
        _ => Err(vec![DefinitionError {
            line: Some(line(&docs[1])),
            path: String::new(),
            message: "one pipeline per definition: remove the second YAML document".to_owned(),
        }]),
    }
}

/// The root mapping's fields, with their lines.
struct Root<'a, 'b> {
    fields: Vec<(String, &'b Node<'a>, usize)>,
    line: usize,
}

impl<'a, 'b> Root<'a, 'b> {
    fn get(&self, key: &str) -> Option<&'b Node<'a>> {
        self.fields
            .iter()
            .find(|(k, ..)| k == key)
            .map(|(_, v, _)| *v)
    }

    /// `kind` is PIPELINE; the keys Wharf does not act on, kept in order.
    fn check_keys(&self, c: &mut Check) -> Vec<(String, Value)> {
        let kept = self
            .fields
            .iter()
            .filter(|(key, ..)| !ROOT_KEYS.contains(&key.as_str()))
            .map(|(key, v, _)| (key.clone(), to_json(c, v, key)))
            .collect();
        match self.get("kind") {
            Some(v) if string(v).as_deref() == Some("PIPELINE") => {}
            Some(v) => c.err(line(v), "kind", "must be PIPELINE"),
            None => c.err(self.line, "kind", "missing: add kind: PIPELINE"),
        }
        kept
    }

    fn name(&self, c: &mut Check) -> String {
        let Some(v) = self.get("name") else {
            c.err(self.line, "name", "missing: every pipeline has a name");
            return String::new();
        };
        match string(v).map(|s| parse_label(&s, "name", 64)) {
            Some(Ok(n)) => n,
            Some(Err(e)) => {
                c.err(line(v), "name", e.message);
                String::new()
            }
            None => {
                c.err(line(v), "name", "must be text");
                String::new()
            }
        }
    }

    /// An optional text field of at most `max` characters.
    fn text(&self, c: &mut Check, key: &str, max: usize) -> String {
        let Some(v) = self.get(key).filter(|v| !is_null(v)) else {
            return String::new();
        };
        match string(v) {
            Some(s) if s.chars().count() <= max => s,
            Some(_) => {
                c.err(line(v), key, format!("at most {max} characters"));
                String::new()
            }
            None => {
                c.err(line(v), key, "must be text");
                String::new()
            }
        }
    }

    fn enabled(&self, c: &mut Check) -> bool {
        match self.get("enabled") {
            None => true,
            Some(v) => flag(c, v, "enabled").unwrap_or(true),
        }
    }

    /// A policy word, or Aria's number: queue, at most that many running at once.
    fn concurrency(&self, c: &mut Check) -> (Concurrency, Option<u32>) {
        let Some(v) = self.get("concurrency") else {
            return (Concurrency::Queue, None);
        };
        let text = scalar_text(v).unwrap_or_default();
        if let Some(policy) = Concurrency::parse(&text) {
            return (policy, None);
        }
        match text.trim().parse::<u64>() {
            Ok(n) if (1..=MAX_RUNNING).contains(&n) => (Concurrency::Queue, u32::try_from(n).ok()),
            _ => {
                let why = format!("must be queue, cancel-previous, skip-if-running, or the most executions that run at once (1 to {MAX_RUNNING})");
                c.err(line(v), "concurrency", why);
                (Concurrency::Queue, None)
            }
        }
    }

    /// A mapping of names to single values (`input`, `output`); `expressions` lets a value be
    /// any string (an output's bindings).
    fn named_values(&self, c: &mut Check, key: &str, expressions: bool) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let Some(v) = self.get(key).filter(|v| !is_null(v)) else {
            return out;
        };
        let Some(m) = mapping(v) else {
            c.err(line(v), key, "must be a mapping of names to values");
            return out;
        };
        for (name, value, at) in entries(c, m, key) {
            if key == "input" && name == "_inputMeta" {
                continue;
            }
            let path = join(key, &name);
            if !valid_identifier(&name) {
                c.err(
                    at,
                    &path,
                    "a name has letters, digits, '_' and '-', and starts with a letter or '_'",
                );
            }
            let text = if expressions {
                string(value).or_else(|| scalar_text(value))
            } else {
                scalar_text(value)
            };
            match text {
                Some(t) => out.push((name, t)),
                None => {
                    let why = "must be a single value, not a list or mapping";
                    c.err(line(value), &path, why);
                }
            }
        }
        out
    }

    /// `stageOrder`: the stage names with their lines.
    fn stage_order(&self, c: &mut Check) -> Vec<(String, usize)> {
        let Some(v) = self.get("stageOrder") else {
            let why = "missing: list the stages in the order they run";
            c.err(self.line, "stageOrder", why);
            return Vec::new();
        };
        let Some(items) = sequence(v) else {
            c.err(line(v), "stageOrder", "must be a list of stage names");
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| match string(item) {
                Some(s) => Some((s, line(item))),
                None => {
                    c.err(line(item), "stageOrder", "each entry is a stage's name");
                    None
                }
            })
            .collect()
    }

    /// `stages`: each stage's name, node and line.
    fn stage_nodes(&self, c: &mut Check) -> Vec<(String, &'b Node<'a>, usize)> {
        let Some(v) = self.get("stages") else {
            c.err(
                self.line,
                "stages",
                "missing: a pipeline has at least one stage",
            );
            return Vec::new();
        };
        let Some(m) = mapping(v) else {
            let why = "must be a mapping of stage names to stages";
            c.err(line(v), "stages", why);
            return Vec::new();
        };
        let nodes = entries(c, m, "stages");
        if nodes.is_empty() && c.errors.is_empty() {
            c.err(self.line, "stages", "a pipeline has at least one stage");
        }
        nodes
    }

    /// Step 5: the stages in `stageOrder`'s order, each read with its tasks.
    fn stages(&self, c: &mut Check, input: &[(String, String)]) -> Vec<Stage> {
        let order = self.stage_order(c);
        let nodes = self.stage_nodes(c);
        for (i, (name, at)) in order.iter().enumerate() {
            if !nodes.iter().any(|(n, ..)| n == name) {
                c.err(
                    *at,
                    "stageOrder",
                    format!("no stage named '{name}' under stages"),
                );
            }
            if order[..i].iter().any(|(n, _)| n == name) {
                c.err(*at, "stageOrder", format!("'{name}' is listed twice"));
            }
        }
        let mut stages = Vec::new();
        for (name, node, at) in &nodes {
            let path = join("stages", name);
            if !valid_name(name) {
                c.err(*at, &path, NAME_RULE);
            }
            let Some(index) = order.iter().position(|(n, _)| n == name) else {
                c.err(*at, &path, "this stage is not in stageOrder");
                continue;
            };
            if let Some(stage) = parse_stage(c, name, node, &path, input, index) {
                stages.push((index, stage));
            }
        }
        stages.sort_by_key(|(i, _)| *i);
        stages.into_iter().map(|(_, s)| s).collect()
    }
}

/// What a stage's or task's name may hold.
const NAME_RULE: &str =
    "a name has 1 to 64 characters, without '.', ',', '$', '{', '}' or spaces at either end";

/// Step 6: the pipeline's outputs may read any task; a task's bindings only tasks of earlier
/// groups (a Poll task's exit criteria also its own latest response).
fn check_output_bindings(
    c: &mut Check,
    r: &Root<'_, '_>,
    output: &[(String, String)],
    input: &[(String, String)],
    stages: &[Stage],
) {
    for (name, value) in output {
        let at = r.get("output").map_or(r.line, line);
        let value = Value::String(value.clone());
        let everything = (usize::MAX, usize::MAX);
        check_bindings(c, &value, at, &join("output", name), input, everything);
    }
    let pending = std::mem::take(&mut c.outputs);
    for (b, at, path, stage_index, group) in pending {
        let Binding::Output { stage, task, .. } = &b else {
            continue;
        };
        let Some(si) = stages.iter().position(|s| &s.name == stage) else {
            c.err(
                at,
                &path,
                format!("{b} names a stage the pipeline does not have"),
            );
            continue;
        };
        let Some(g) = stages[si]
            .task_order
            .iter()
            .position(|grp| grp.iter().any(|t| t == task))
        else {
            c.err(
                at,
                &path,
                format!("{b} names a task stage {stage} does not have"),
            );
            continue;
        };
        let own_response =
            path.starts_with(&format!("stages.{stage}.tasks.{task}.input.exitCriteria"));
        if (si, g) >= (stage_index, group) && !own_response {
            c.err(
                at,
                &path,
                format!("{b} names a task that has not run yet at this point"),
            );
        }
    }
}
