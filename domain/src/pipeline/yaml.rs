//! Reading pipeline YAML with positions (saphyr's marked tree) and writing it back.

use super::expr::{self, Binding};
use super::{
    valid_identifier, Concurrency, DefinitionError, PipelineDef, Stage, Task, TaskType,
    HTTP_METHODS, KUBERNETES_ACTIONS, MAX_DEFINITION_BYTES,
};
use crate::names::parse_label;
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

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
}

impl Check {
    fn err(&mut self, at: usize, path: &str, message: impl Into<String>) {
        self.errors.push(DefinitionError {
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

/// Checks the bindings of every string inside `v`.
fn check_bindings(
    c: &mut Check,
    v: &Value,
    at: usize,
    path: &str,
    inputs: &[(String, String)],
    position: (usize, usize),
) {
    match v {
        Value::String(s) => match expr::bindings_in(s) {
            Err(e) => c.err(at, path, e),
            Ok(bs) => {
                for b in bs {
                    note_binding(c, b, at, path, inputs, position);
                }
            }
        },
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_bindings(c, item, at, &join(path, &i.to_string()), inputs, position);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                check_bindings(c, item, at, &join(path, k), inputs, position);
            }
        }
        _ => {}
    }
}

fn note_binding(
    c: &mut Check,
    b: Binding,
    at: usize,
    path: &str,
    inputs: &[(String, String)],
    position: (usize, usize),
) {
    match &b {
        Binding::Input(n) if !inputs.iter().any(|(i, _)| i == n) => c.err(
            at,
            path,
            format!("{b} names an input the pipeline does not declare; add it under input"),
        ),
        Binding::Output { .. } => c
            .outputs
            .push((b, at, path.to_owned(), position.0, position.1)),
        _ => {}
    }
}

fn check_expression(
    c: &mut Check,
    src: &str,
    at: usize,
    path: &str,
    inputs: &[(String, String)],
    position: (usize, usize),
) {
    match expr::parse_expr(src) {
        Err(e) => c.err(at, path, format!("not a valid expression: {e}")),
        Ok(e) => {
            for b in e.bindings() {
                note_binding(c, b, at, path, inputs, position);
            }
        }
    }
}

const ROOT_KEYS: [&str; 10] = [
    "kind",
    "name",
    "project",
    "description",
    "enabled",
    "concurrency",
    "input",
    "output",
    "stageOrder",
    "stages",
];

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

/// Parses and checks a definition.
pub fn parse(source: &str) -> Result<PipelineDef, Vec<DefinitionError>> {
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
    let root = match docs.as_slice() {
        [] => return Err(whole("the definition is empty".to_owned())),
        [one] => one,
        [_, second, ..] => {
            return Err(vec![DefinitionError {
                line: Some(line(second)),
                path: String::new(),
                message: "one pipeline per definition: remove the second YAML document".to_owned(),
            }])
        }
    };
    let mut c = Check::default();
    let Some(m) = mapping(root) else {
        return Err(vec![DefinitionError {
            line: Some(line(root)),
            path: String::new(),
            message: "a pipeline is a mapping that starts with kind: PIPELINE".to_owned(),
        }]);
    };
    let fields = entries(&mut c, m, "");
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, ..)| k == key)
            .map(|(_, v, l)| (*v, *l))
    };
    for (key, _, at) in &fields {
        if !ROOT_KEYS.contains(&key.as_str()) {
            c.err(
                *at,
                key,
                format!("unknown field; a pipeline has {}", ROOT_KEYS.join(", ")),
            );
        }
    }
    let root_line = line(root);
    match get("kind") {
        Some((v, _)) if string(v).as_deref() == Some("PIPELINE") => {}
        Some((v, _)) => c.err(line(v), "kind", "must be PIPELINE"),
        None => c.err(root_line, "kind", "missing: add kind: PIPELINE"),
    }
    let name = match get("name") {
        Some((v, _)) => match string(v).map(|s| parse_label(&s, "name", 64)) {
            Some(Ok(n)) => n,
            Some(Err(e)) => {
                c.err(line(v), "name", e.message);
                String::new()
            }
            None => {
                c.err(line(v), "name", "must be text");
                String::new()
            }
        },
        None => {
            c.err(root_line, "name", "missing: every pipeline has a name");
            String::new()
        }
    };
    let text_field = |c: &mut Check, key: &str, max: usize| -> String {
        match get(key) {
            None => String::new(),
            Some((v, _)) if is_null(v) => String::new(),
            Some((v, _)) => match string(v) {
                Some(s) if s.chars().count() <= max => s,
                Some(_) => {
                    c.err(line(v), key, format!("at most {max} characters"));
                    String::new()
                }
                None => {
                    c.err(line(v), key, "must be text");
                    String::new()
                }
            },
        }
    };
    let project = text_field(&mut c, "project", 64);
    let description = text_field(&mut c, "description", 2000);
    let enabled = match get("enabled") {
        None => true,
        Some((v, _)) => match &v.data {
            YamlData::Value(Scalar::Boolean(b)) => *b,
            _ => {
                c.err(line(v), "enabled", "must be true or false");
                true
            }
        },
    };
    let concurrency = match get("concurrency") {
        None => Concurrency::Queue,
        Some((v, _)) => match string(v).as_deref().and_then(Concurrency::parse) {
            Some(p) => p,
            None => {
                c.err(
                    line(v),
                    "concurrency",
                    "must be queue, cancel-previous or skip-if-running",
                );
                Concurrency::Queue
            }
        },
    };
    let named_values = |c: &mut Check, key: &str, expressions: bool| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let Some((v, _)) = get(key) else {
            return out;
        };
        if is_null(v) {
            return out;
        }
        let Some(m) = mapping(v) else {
            c.err(line(v), key, "must be a mapping of names to values");
            return out;
        };
        for (name, value, at) in entries(c, m, key) {
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
                None => c.err(
                    line(value),
                    &path,
                    "must be a single value, not a list or mapping",
                ),
            }
        }
        out
    };
    let input = named_values(&mut c, "input", false);
    for (name, default) in &input {
        if default.contains("${") {
            c.err(
                root_line,
                &join("input", name),
                "an input's default cannot use bindings",
            );
        }
    }
    let output = named_values(&mut c, "output", true);

    // stages
    let stage_order: Vec<(String, usize)> = match get("stageOrder") {
        None => {
            c.err(
                root_line,
                "stageOrder",
                "missing: list the stages in the order they run",
            );
            Vec::new()
        }
        Some((v, _)) => match sequence(v) {
            Some(items) => items
                .iter()
                .filter_map(|item| match string(item) {
                    Some(s) => Some((s, line(item))),
                    None => {
                        c.err(line(item), "stageOrder", "each entry is a stage's name");
                        None
                    }
                })
                .collect(),
            None => {
                c.err(line(v), "stageOrder", "must be a list of stage names");
                Vec::new()
            }
        },
    };
    let stage_nodes: Vec<(String, &Node<'_>, usize)> = match get("stages") {
        None => {
            c.err(
                root_line,
                "stages",
                "missing: a pipeline has at least one stage",
            );
            Vec::new()
        }
        Some((v, _)) => match mapping(v) {
            Some(m) => entries(&mut c, m, "stages"),
            None => {
                c.err(
                    line(v),
                    "stages",
                    "must be a mapping of stage names to stages",
                );
                Vec::new()
            }
        },
    };
    if get("stages").is_some() && stage_nodes.is_empty() && c.errors.is_empty() {
        c.err(root_line, "stages", "a pipeline has at least one stage");
    }
    for (i, (name, at)) in stage_order.iter().enumerate() {
        if !stage_nodes.iter().any(|(n, ..)| n == name) {
            c.err(
                *at,
                "stageOrder",
                format!("no stage named '{name}' under stages"),
            );
        }
        if stage_order[..i].iter().any(|(n, _)| n == name) {
            c.err(*at, "stageOrder", format!("'{name}' is listed twice"));
        }
    }
    let mut stages = Vec::new();
    for (name, node, at) in &stage_nodes {
        let path = join("stages", name);
        if !valid_identifier(name) {
            c.err(
                *at,
                &path,
                "a stage's name has letters, digits, '_' and '-', and starts with a letter or '_'",
            );
        }
        let Some(index) = stage_order.iter().position(|(n, _)| n == name) else {
            c.err(*at, &path, "this stage is not in stageOrder");
            continue;
        };
        if let Some(stage) = parse_stage(&mut c, name, node, &path, &input, index) {
            stages.push((index, stage));
        }
    }
    stages.sort_by_key(|(i, _)| *i);
    let stages: Vec<Stage> = stages.into_iter().map(|(_, s)| s).collect();

    // outputs of the pipeline may use any task; tasks only those before them
    for (name, value) in &output {
        let at = get("output").map_or(root_line, |(v, _)| line(v));
        check_bindings(
            &mut c,
            &Value::String(value.clone()),
            at,
            &join("output", name),
            &input,
            (usize::MAX, usize::MAX),
        );
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
        // a Poll task's exit criteria read its own latest response
        let own_response = path == format!("stages.{stage}.tasks.{task}.input.exitCriteria");
        if (si, g) >= (stage_index, group) && !own_response {
            c.err(
                at,
                &path,
                format!("{b} names a task that has not run yet at this point"),
            );
        }
    }

    if c.errors.is_empty() {
        Ok(PipelineDef {
            name,
            project,
            description,
            enabled,
            concurrency,
            input,
            output,
            stages,
        })
    } else {
        c.errors.sort_by_key(|e| e.line);
        Err(c.errors)
    }
}

fn parse_stage(
    c: &mut Check,
    name: &str,
    node: &Node<'_>,
    path: &str,
    inputs: &[(String, String)],
    index: usize,
) -> Option<Stage> {
    let Some(m) = mapping(node) else {
        c.err(
            line(node),
            path,
            "a stage is a mapping with taskOrder and tasks",
        );
        return None;
    };
    let fields = entries(c, m, path);
    for (key, _, at) in &fields {
        if key != "taskOrder" && key != "tasks" {
            c.err(
                *at,
                &join(path, key),
                "unknown field; a stage has taskOrder and tasks",
            );
        }
    }
    let get = |key: &str| fields.iter().find(|(k, ..)| k == key).map(|(_, v, _)| *v);
    let order_path = join(path, "taskOrder");
    let mut task_order: Vec<Vec<String>> = Vec::new();
    let mut order_lines = Vec::new();
    match get("taskOrder").map(|v| (v, sequence(v))) {
        None => c.err(
            line(node),
            &order_path,
            "missing: list the tasks in the order they run",
        ),
        Some((v, None)) => c.err(
            line(v),
            &order_path,
            "must be a list; an entry \"A,B\" runs A and B in parallel",
        ),
        Some((_, Some(items))) => {
            for item in items {
                match string(item) {
                    Some(s) => {
                        task_order.push(s.split(',').map(|t| t.trim().to_owned()).collect());
                        order_lines.push(line(item));
                    }
                    None => c.err(
                        line(item),
                        &order_path,
                        "each entry names a task, or several joined by ','",
                    ),
                }
            }
        }
    }
    let tasks_path = join(path, "tasks");
    let task_nodes = match get("tasks").map(|v| (v, mapping(v))) {
        None => {
            c.err(
                line(node),
                &tasks_path,
                "missing: a stage has at least one task",
            );
            Vec::new()
        }
        Some((v, None)) => {
            c.err(
                line(v),
                &tasks_path,
                "must be a mapping of task names to tasks",
            );
            Vec::new()
        }
        Some((_, Some(m))) => entries(c, m, &tasks_path),
    };
    let mut seen: Vec<&str> = Vec::new();
    for (group, at) in task_order.iter().zip(&order_lines) {
        for t in group {
            if !task_nodes.iter().any(|(n, ..)| n == t) {
                c.err(
                    *at,
                    &order_path,
                    format!("no task named '{t}' in this stage"),
                );
            }
            if seen.contains(&t.as_str()) {
                c.err(*at, &order_path, format!("'{t}' is listed twice"));
            }
            seen.push(t);
        }
    }
    let mut tasks = Vec::new();
    for (task_name, task_node, at) in &task_nodes {
        let tpath = join(&tasks_path, task_name);
        if !valid_identifier(task_name) {
            c.err(
                *at,
                &tpath,
                "a task's name has letters, digits, '_' and '-', and starts with a letter or '_'",
            );
        }
        let Some(group) = task_order.iter().position(|g| g.contains(task_name)) else {
            c.err(*at, &tpath, "this task is not in the stage's taskOrder");
            continue;
        };
        if let Some(t) = parse_task(c, task_name, task_node, &tpath, inputs, (index, group)) {
            tasks.push(t);
        }
    }
    Some(Stage {
        name: name.to_owned(),
        task_order,
        tasks,
    })
}

const TASK_KEYS: [&str; 5] = ["type", "input", "preCondition", "ignoreFailure", "timeout"];

fn parse_task(
    c: &mut Check,
    name: &str,
    node: &Node<'_>,
    path: &str,
    inputs: &[(String, String)],
    position: (usize, usize),
) -> Option<Task> {
    let Some(m) = mapping(node) else {
        c.err(line(node), path, "a task is a mapping with type and input");
        return None;
    };
    let fields = entries(c, m, path);
    for (key, _, at) in &fields {
        if !TASK_KEYS.contains(&key.as_str()) {
            c.err(
                *at,
                &join(path, key),
                format!("unknown field; a task has {}", TASK_KEYS.join(", ")),
            );
        }
    }
    let get = |key: &str| fields.iter().find(|(k, ..)| k == key).map(|(_, v, _)| *v);
    let type_path = join(path, "type");
    let kind = match get("type") {
        None => {
            c.err(
                line(node),
                &type_path,
                "missing: K8S, REST, POLL, Condition, UserOperation or Registry",
            );
            return None;
        }
        Some(v) => match string(v).as_deref().and_then(TaskType::parse) {
            Some(k) => k,
            None => {
                c.err(line(v), &type_path, format!(
                    "unknown task type '{}': use K8S, REST, POLL, Condition, UserOperation or Registry",
                    scalar_text(v).unwrap_or_default()
                ));
                return None;
            }
        },
    };
    let pre_condition = match get("preCondition") {
        None => None,
        Some(v) if is_null(v) => None,
        Some(v) => match string(v) {
            Some(s) => {
                check_expression(
                    c,
                    &s,
                    line(v),
                    &join(path, "preCondition"),
                    inputs,
                    position,
                );
                Some(s)
            }
            None => {
                c.err(
                    line(v),
                    &join(path, "preCondition"),
                    "must be an expression in text",
                );
                None
            }
        },
    };
    let ignore_failure = match get("ignoreFailure") {
        None => false,
        Some(v) => match &v.data {
            YamlData::Value(Scalar::Boolean(b)) => *b,
            _ => {
                c.err(
                    line(v),
                    &join(path, "ignoreFailure"),
                    "must be true or false",
                );
                false
            }
        },
    };
    let timeout_seconds = match get("timeout") {
        None => None,
        Some(v) => match &v.data {
            YamlData::Value(Scalar::Integer(i)) if (1..=7 * 24 * 3600).contains(i) => {
                Some(*i as u64)
            }
            _ => {
                c.err(
                    line(v),
                    &join(path, "timeout"),
                    "must be a number of seconds from 1 to 604800 (a week)",
                );
                None
            }
        },
    };
    let input_path = join(path, "input");
    let (input, input_line) = match get("input") {
        None => (Map::new(), line(node)),
        Some(v) => match to_json(c, v, &input_path) {
            Value::Object(o) => (o, line(v)),
            Value::Null => (Map::new(), line(v)),
            _ => {
                c.err(line(v), &input_path, "must be a mapping");
                (Map::new(), line(v))
            }
        },
    };
    check_task_input(c, kind, &input, input_line, &input_path, inputs, position);
    Some(Task {
        name: name.to_owned(),
        kind,
        input,
        pre_condition,
        ignore_failure,
        timeout_seconds,
    })
}

fn check_task_input(
    c: &mut Check,
    kind: TaskType,
    input: &Map<String, Value>,
    at: usize,
    path: &str,
    inputs: &[(String, String)],
    position: (usize, usize),
) {
    let fields = kind.fields();
    for key in input.keys() {
        if !fields.iter().any(|(f, _)| f == key) {
            let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
            c.err(
                at,
                &join(path, key),
                format!(
                    "unknown input for a {} task; it takes {}",
                    kind.as_str(),
                    names.join(", ")
                ),
            );
        }
    }
    for (field, required) in fields {
        if *required
            && input
                .get(*field)
                .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
        {
            c.err(
                at,
                &join(path, field),
                format!("missing: a {} task needs {field}", kind.as_str()),
            );
        }
    }
    let text = |key: &str| input.get(key).and_then(Value::as_str);
    let must_be_text = |c: &mut Check, key: &str| {
        if let Some(v) = input.get(key) {
            if !v.is_string() {
                c.err(at, &join(path, key), "must be text");
            }
        }
    };
    let positive = |c: &mut Check, key: &str, max: u64| {
        if let Some(v) = input.get(key) {
            if !v.as_u64().is_some_and(|n| (1..=max).contains(&n)) {
                c.err(
                    at,
                    &join(path, key),
                    format!("must be a whole number from 1 to {max}"),
                );
            }
        }
    };
    let no_binding = |s: &str| !s.contains("${");
    match kind {
        TaskType::Kubernetes => {
            for key in [
                "endpoint",
                "action",
                "namespace",
                "yaml",
                "kind",
                "name",
                "apiVersion",
            ] {
                must_be_text(c, key);
            }
            let action = text("action").unwrap_or_default();
            if !action.is_empty() && !KUBERNETES_ACTIONS.contains(&action) {
                c.err(
                    at,
                    &join(path, "action"),
                    format!("must be one of {}", KUBERNETES_ACTIONS.join(", ")),
                );
            }
            let has_yaml = text("yaml").is_some_and(|y| !y.trim().is_empty());
            let has_ref = text("kind").is_some() && text("name").is_some();
            match action {
                "CREATE" | "APPLY" if !has_yaml => c.err(
                    at,
                    &join(path, "yaml"),
                    format!("missing: {action} needs the objects' YAML definition"),
                ),
                "GET" | "DELETE" | "ROLLBACK" if !has_yaml && !has_ref => c.err(
                    at,
                    &join(path, "yaml"),
                    format!("missing: {action} needs a YAML definition, or kind and name"),
                ),
                _ => {}
            }
            if action == "ROLLBACK" && text("kind").is_some_and(|k| k != "Deployment") {
                c.err(at, &join(path, "kind"), "ROLLBACK works on a Deployment");
            }
            if let Some(v) = input.get("waitForRollout") {
                if !v.is_boolean() {
                    c.err(at, &join(path, "waitForRollout"), "must be true or false");
                }
            }
            positive(c, "rolloutTimeout", 3600);
        }
        TaskType::Rest | TaskType::Poll => {
            for key in ["method", "url", "body"] {
                must_be_text(c, key);
            }
            if let Some(m) = text("method") {
                if !HTTP_METHODS.contains(&m) {
                    c.err(
                        at,
                        &join(path, "method"),
                        format!("must be one of {}", HTTP_METHODS.join(", ")),
                    );
                }
            }
            if let Some(u) = text("url") {
                if no_binding(u) && !(u.starts_with("http://") || u.starts_with("https://")) {
                    c.err(
                        at,
                        &join(path, "url"),
                        "must start with http:// or https://",
                    );
                }
            }
            if let Some(h) = input.get("headers") {
                if !h
                    .as_object()
                    .is_some_and(|o| o.values().all(Value::is_string))
                {
                    c.err(at, &join(path, "headers"), "must map header names to text");
                }
            }
            if input
                .get("followRedirects")
                .is_some_and(|v| !v.is_boolean())
            {
                c.err(at, &join(path, "followRedirects"), "must be true or false");
            }
            if kind == TaskType::Poll {
                must_be_text(c, "exitCriteria");
                if let Some(e) = text("exitCriteria") {
                    check_expression(c, e, at, &join(path, "exitCriteria"), inputs, position);
                }
                positive(c, "interval", 3600);
                positive(c, "attempts", 10_000);
            }
        }
        TaskType::Condition => {
            must_be_text(c, "condition");
            if let Some(e) = text("condition") {
                check_expression(c, e, at, &join(path, "condition"), inputs, position);
            }
        }
        TaskType::UserOperation => {
            match input.get("approvers") {
                Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => {}
                Some(_) => c.err(
                    at,
                    &join(path, "approvers"),
                    "must be a list of approvers' e-mail addresses",
                ),
                None => {}
            }
            must_be_text(c, "summary");
            must_be_text(c, "description");
            positive(c, "expiry", 24 * 90);
        }
        TaskType::Registry => {
            for key in ["endpoint", "repository", "reference", "tag"] {
                must_be_text(c, key);
            }
            if let Some(t) = text("tag") {
                if no_binding(t) && !super::valid_tag(t) {
                    c.err(at, &join(path, "tag"), "a tag has letters, digits, '_', '.' and '-' (at most 128), and does not start with '.' or '-'");
                }
            }
        }
    }
    for (key, value) in input {
        if ["condition", "exitCriteria"].contains(&key.as_str()) {
            continue;
        }
        check_bindings(c, value, at, &join(path, key), inputs, position);
    }
}

// ---- writing ----

fn plain_key(k: &str) -> bool {
    valid_identifier(k)
        && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"]
            .contains(&k.to_lowercase().as_str())
}

fn key(k: &str) -> String {
    if plain_key(k) {
        k.to_owned()
    } else {
        quote(k)
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A string as a YAML scalar at `indent`: a literal block for multi-line text, else quoted.
fn scalar(s: &str, indent: usize) -> String {
    let block_safe = s.contains('\n')
        && !s.ends_with("\n\n")
        && !s.starts_with([' ', '\n'])
        && s.chars().all(|c| c == '\n' || !c.is_control())
        && s.lines().all(|l| !l.ends_with(' '));
    if !block_safe {
        return quote(s);
    }
    let pad = " ".repeat(indent + 2);
    let header = if s.ends_with('\n') { "|" } else { "|-" };
    let body: Vec<String> = s
        .trim_end_matches('\n')
        .split('\n')
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect();
    format!("{header}\n{}", body.join("\n"))
}

fn write_value(out: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if m.is_empty() => out.push_str(" {}\n"),
        Value::Object(m) => {
            out.push('\n');
            for (k, item) in m {
                out.push_str(&format!("{pad}{}:", key(k)));
                write_value(out, item, indent + 2);
            }
        }
        Value::Array(a) if a.is_empty() => out.push_str(" []\n"),
        Value::Array(a) => {
            out.push('\n');
            for item in a {
                match item {
                    Value::String(s) => out.push_str(&format!("{pad}- {}\n", quote(s))),
                    other => out.push_str(&format!("{pad}- {other}\n")),
                }
            }
        }
        Value::String(s) => out.push_str(&format!(" {}\n", scalar(s, indent.saturating_sub(2)))),
        other => out.push_str(&format!(" {other}\n")),
    }
}

/// Writes a definition as YAML that [`parse`] reads back to the same definition.
pub fn to_yaml(def: &PipelineDef) -> String {
    let mut out = String::new();
    out.push_str("kind: PIPELINE\n");
    out.push_str(&format!("name: {}\n", quote(&def.name)));
    out.push_str(&format!("project: {}\n", quote(&def.project)));
    out.push_str(&format!("description: {}\n", scalar(&def.description, 0)));
    out.push_str(&format!("enabled: {}\n", def.enabled));
    out.push_str(&format!("concurrency: {}\n", def.concurrency.as_str()));
    for (label, values) in [("input", &def.input), ("output", &def.output)] {
        if values.is_empty() {
            out.push_str(&format!("{label}: {{}}\n"));
        } else {
            out.push_str(&format!("{label}:\n"));
            for (k, v) in values {
                out.push_str(&format!("  {}: {}\n", key(k), quote(v)));
            }
        }
    }
    out.push_str("stageOrder:\n");
    for s in &def.stages {
        out.push_str(&format!("  - {}\n", quote(&s.name)));
    }
    out.push_str("stages:\n");
    for s in &def.stages {
        out.push_str(&format!("  {}:\n    taskOrder:\n", key(&s.name)));
        for group in &s.task_order {
            out.push_str(&format!("      - {}\n", quote(&group.join(","))));
        }
        out.push_str("    tasks:\n");
        for t in &s.tasks {
            out.push_str(&format!("      {}:\n", key(&t.name)));
            out.push_str(&format!("        type: {}\n", t.kind.as_str()));
            if let Some(p) = &t.pre_condition {
                out.push_str(&format!("        preCondition: {}\n", quote(p)));
            }
            if t.ignore_failure {
                out.push_str("        ignoreFailure: true\n");
            }
            if let Some(s) = t.timeout_seconds {
                out.push_str(&format!("        timeout: {s}\n"));
            }
            out.push_str("        input:");
            write_value(&mut out, &Value::Object(t.input.clone()), 10);
        }
    }
    out
}
