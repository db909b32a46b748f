//! Step 5's detail: a stage (its taskOrder and tasks) and a task (its type, precondition,
//! timeout and the input its type takes).

use super::*;

pub(super) fn parse_stage(
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
    // 1. taskOrder and tasks; other keys are kept
    let fields = entries(c, m, path);
    let mut kept = Map::new();
    for (key, v, _) in &fields {
        if key != "taskOrder" && key != "tasks" {
            let value = to_json(c, v, &join(path, key));
            kept.insert(key.clone(), value);
        }
    }
    let get = |key: &str| fields.iter().find(|(k, ..)| k == key).map(|(_, v, _)| *v);
    // 2. the order, 3. the tasks by name, 4. the order names each task once
    let order_path = join(path, "taskOrder");
    let (task_order, order_lines) = parse_task_order(c, get("taskOrder"), node, &order_path);
    let tasks_path = join(path, "tasks");
    let task_nodes = task_entries(c, get("tasks"), node, &tasks_path);
    check_order_names(c, &task_order, &order_lines, &task_nodes, &order_path);
    // 5. each task, in the group the order puts it
    let mut tasks = Vec::new();
    for (task_name, task_node, at) in &task_nodes {
        let tpath = join(&tasks_path, task_name);
        if !valid_name(task_name) {
            c.err(*at, &tpath, NAME_RULE);
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
        kept,
    })
}

/// A stage's taskOrder: its groups (an entry "A,B" runs A and B in parallel) and the line of
/// each.
fn parse_task_order(
    c: &mut Check,
    value: Option<&Node<'_>>,
    stage: &Node<'_>,
    path: &str,
) -> (Vec<Vec<String>>, Vec<usize>) {
    let mut task_order: Vec<Vec<String>> = Vec::new();
    let mut order_lines = Vec::new();
    match value.map(|v| (v, sequence(v))) {
        None => c.err(
            line(stage),
            path,
            "missing: list the tasks in the order they run",
        ),
        Some((v, None)) => c.err(
            line(v),
            path,
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
                        path,
                        "each entry names a task, or several joined by ','",
                    ),
                }
            }
        }
    }
    (task_order, order_lines)
}

/// A stage's tasks: its `tasks` mapping's entries.
fn task_entries<'a, 'b>(
    c: &mut Check,
    value: Option<&'b Node<'a>>,
    stage: &Node<'_>,
    path: &str,
) -> Vec<(String, &'b Node<'a>, usize)> {
    match value.map(|v| (v, mapping(v))) {
        None => {
            c.err(line(stage), path, "missing: a stage has at least one task");
            Vec::new()
        }
        Some((v, None)) => {
            c.err(line(v), path, "must be a mapping of task names to tasks");
            Vec::new()
        }
        Some((_, Some(m))) => entries(c, m, path),
    }
}

/// Every task the order names exists, and none is named twice.
fn check_order_names(
    c: &mut Check,
    task_order: &[Vec<String>],
    order_lines: &[usize],
    task_nodes: &[(String, &Node<'_>, usize)],
    path: &str,
) {
    let mut seen: Vec<&str> = Vec::new();
    for (group, at) in task_order.iter().zip(order_lines) {
        for t in group {
            if !task_nodes.iter().any(|(n, ..)| n == t) {
                c.err(*at, path, format!("no task named '{t}' in this stage"));
            }
            if seen.contains(&t.as_str()) {
                c.err(*at, path, format!("'{t}' is listed twice"));
            }
            seen.push(t);
        }
    }
}

/// The task keys Wharf acts on; any other is kept as written.
pub(super) const TASK_KEYS: [&str; 6] = [
    "type",
    "input",
    "preCondition",
    "ignoreFailure",
    "timeout",
    "endpoints",
];

pub(super) fn parse_task(
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
    // 1. the keys Wharf acts on; others are kept
    let fields = entries(c, m, path);
    let mut kept = Map::new();
    for (key, v, _) in &fields {
        if !TASK_KEYS.contains(&key.as_str()) {
            let value = to_json(c, v, &join(path, key));
            kept.insert(key.clone(), value);
        }
    }
    let get = |key: &str| fields.iter().find(|(k, ..)| k == key).map(|(_, v, _)| *v);
    // 2. its type, 3. its settings, 4. its input, checked against what its type takes
    let (kind, foreign_type) = parse_task_type(c, get("type"), node, &join(path, "type"))?;
    let pre_condition = get("preCondition")
        .and_then(|v| parse_pre_condition(c, v, &join(path, "preCondition"), inputs, position));
    let ignore_failure = get("ignoreFailure")
        .and_then(|v| flag(c, v, &join(path, "ignoreFailure")))
        .unwrap_or(false);
    let timeout_seconds = get("timeout").and_then(|v| parse_timeout(c, v, &join(path, "timeout")));
    let endpoints = parse_endpoints(c, get("endpoints"), &join(path, "endpoints"));
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
    let task = Task {
        name: name.to_owned(),
        kind,
        foreign_type,
        input,
        endpoints,
        pre_condition,
        ignore_failure,
        timeout_seconds,
        kept,
    };
    if let Some(t) = &task.foreign_type {
        let why = format!("{t} tasks are not supported by Wharf: replace or remove this task");
        c.attend(line(node), path, why);
        return Some(task);
    }
    let settings = task.settings();
    let spot = InputSpot {
        input: &settings,
        raw: &task.input,
        at: input_line,
        path: &input_path,
        inputs,
        position,
    };
    check_task_input(c, kind, &spot);
    Some(task)
}

const TASK_TYPES: &str = "K8S, REST, POLL, Condition, UserOperation, Registry or Pipeline";

/// The task's type; a type of Aria's that Wharf does not run is `Unsupported`, with its name.
fn parse_task_type(
    c: &mut Check,
    value: Option<&Node<'_>>,
    task: &Node<'_>,
    path: &str,
) -> Option<(TaskType, Option<String>)> {
    let Some(v) = value else {
        c.err(line(task), path, format!("missing: {TASK_TYPES}"));
        return None;
    };
    let written = string(v).unwrap_or_default();
    if let Some(kind) = TaskType::parse(&written).filter(|k| *k != TaskType::Unsupported) {
        return Some((kind, None));
    }
    if aria::UNSUPPORTED_TYPES.contains(&written.as_str()) {
        return Some((TaskType::Unsupported, Some(written)));
    }
    c.err(
        line(v),
        path,
        format!(
            "unknown task type '{}': use {TASK_TYPES}",
            scalar_text(v).unwrap_or_default()
        ),
    );
    None
}

/// Aria's task-level `endpoints:`: a mapping of roles to endpoint names.
fn parse_endpoints(c: &mut Check, value: Option<&Node<'_>>, path: &str) -> Map<String, Value> {
    let Some(v) = value.filter(|v| !is_null(v)) else {
        return Map::new();
    };
    match to_json(c, v, path) {
        Value::Object(m) if m.values().all(|e| e.is_string() || e.is_null()) => m,
        _ => {
            let why = "must map roles (kubernetesServer, scm, …) to endpoint names";
            c.err(line(v), path, why);
            Map::new()
        }
    }
}

fn parse_pre_condition(
    c: &mut Check,
    v: &Node<'_>,
    path: &str,
    inputs: &[(String, String)],
    position: (usize, usize),
) -> Option<String> {
    if is_null(v) {
        return None;
    }
    let Some(s) = string(v) else {
        c.err(line(v), path, "must be an expression in text");
        return None;
    };
    if s.trim().is_empty() {
        return None;
    }
    check_expression(c, &s, line(v), path, inputs, position);
    Some(s)
}

fn parse_timeout(c: &mut Check, v: &Node<'_>, path: &str) -> Option<u64> {
    match &v.data {
        YamlData::Value(Scalar::Integer(i)) if (1..=7 * 24 * 3600).contains(i) => {
            u64::try_from(*i).ok()
        }
        _ => {
            c.err(
                line(v),
                path,
                "must be a number of seconds from 1 to 604800 (a week)",
            );
            None
        }
    }
}

/// A task's input and where it stands: what each check of it needs.
pub(super) struct InputSpot<'a> {
    /// The input in Wharf's names ([`Task::settings`]).
    pub(super) input: &'a Map<String, Value>,
    /// The input as written.
    pub(super) raw: &'a Map<String, Value>,
    /// The line problems are reported at.
    pub(super) at: usize,
    pub(super) path: &'a str,
    pub(super) inputs: &'a [(String, String)],
    pub(super) position: (usize, usize),
}

impl InputSpot<'_> {
    fn text(&self, key: &str) -> Option<&str> {
        self.input.get(key).and_then(Value::as_str)
    }

    fn err(&self, c: &mut Check, key: &str, message: impl Into<String>) {
        c.err(self.at, &join(self.path, key), message);
    }

    fn must_be_text(&self, c: &mut Check, keys: &[&str]) {
        for key in keys {
            if self.input.get(*key).is_some_and(|v| !v.is_string()) {
                self.err(c, key, "must be text");
            }
        }
    }

    fn must_be_flag(&self, c: &mut Check, key: &str) {
        if self.input.get(key).is_some_and(|v| !v.is_boolean()) {
            self.err(c, key, "must be true or false");
        }
    }

    fn positive(&self, c: &mut Check, key: &str, max: u64) {
        if let Some(v) = self.input.get(key) {
            if !v.as_u64().is_some_and(|n| (1..=max).contains(&n)) {
                self.err(c, key, format!("must be a whole number from 1 to {max}"));
            }
        }
    }

    fn expression(&self, c: &mut Check, key: &str) {
        if let Some(e) = self.text(key) {
            check_expression(
                c,
                e,
                self.at,
                &join(self.path, key),
                self.inputs,
                self.position,
            );
        }
    }
}

fn no_binding(s: &str) -> bool {
    !s.contains("${")
}

pub(super) fn check_task_input(c: &mut Check, kind: TaskType, spot: &InputSpot<'_>) {
    // 1. only the fields the type takes (under Wharf's or Aria's names), and those it needs
    let fields = kind.fields();
    for key in spot.input.keys() {
        if !fields.iter().any(|(f, _)| f == key) {
            let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
            spot.err(
                c,
                key,
                format!(
                    "unknown input for a {} task; it takes {}",
                    kind.as_str(),
                    names.join(", ")
                ),
            );
        }
    }
    let from_git = kind == TaskType::Kubernetes
        && spot
            .raw
            .get("filePath")
            .and_then(Value::as_str)
            .is_some_and(|f| !f.trim().is_empty());
    for (field, required) in fields {
        let absent = spot
            .input
            .get(*field)
            .is_none_or(|v| v.is_null() || v.as_str() == Some(""));
        if *required && absent {
            spot.err(
                c,
                field,
                format!("missing: a {} task needs {field}", kind.as_str()),
            );
        }
    }
    // 2. each field's form, by type
    match kind {
        TaskType::Kubernetes => check_kubernetes(c, spot, from_git),
        TaskType::Rest | TaskType::Poll => check_http(c, spot, kind == TaskType::Poll),
        TaskType::Condition => {
            spot.must_be_text(c, &["condition"]);
            spot.expression(c, "condition");
        }
        TaskType::UserOperation => check_user_operation(c, spot),
        TaskType::Registry => check_registry(c, spot),
        TaskType::Pipeline => check_pipeline(c, spot),
        TaskType::Unsupported => {}
    }
    // 3. the bindings of every other field
    for (key, value) in spot.input {
        if ["condition", "exitCriteria"].contains(&key.as_str()) {
            continue;
        }
        check_bindings(
            c,
            value,
            spot.at,
            &join(spot.path, key),
            spot.inputs,
            spot.position,
        );
    }
}

/// A Pipeline task: the pipeline to run (by name, no bindings) and its inputs.
fn check_pipeline(c: &mut Check, spot: &InputSpot<'_>) {
    spot.must_be_text(c, &["pipeline"]);
    if spot.text("pipeline").is_some_and(|p| !no_binding(p)) {
        spot.err(
            c,
            "pipeline",
            "names a pipeline of this project, without bindings",
        );
    }
    if let Some(p) = spot.input.get("inputProperties") {
        let ok = p.is_null()
            || p.as_object()
                .is_some_and(|o| o.values().all(|v| !v.is_object() && !v.is_array()));
        if !ok {
            spot.err(
                c,
                "inputProperties",
                "must map the pipeline's inputs to values",
            );
        }
    }
}

fn check_kubernetes(c: &mut Check, spot: &InputSpot<'_>, from_git: bool) {
    spot.must_be_text(
        c,
        &[
            "endpoint",
            "action",
            "namespace",
            "yaml",
            "kind",
            "name",
            "apiVersion",
        ],
    );
    let action = spot.text("action").unwrap_or_default();
    if !action.is_empty() && !KUBERNETES_ACTIONS.contains(&action) {
        spot.err(
            c,
            "action",
            format!("must be one of {}", KUBERNETES_ACTIONS.join(", ")),
        );
    }
    let has_yaml = spot.text("yaml").is_some_and(|y| !y.trim().is_empty());
    let has_ref = spot.text("kind").is_some() && spot.text("name").is_some();
    if from_git && !has_yaml {
        let why = "reads its YAML from a Git endpoint (filePath), which Wharf does not do: paste the YAML or upload the file";
        c.attend(spot.at, &join(spot.path, "yaml"), why);
        return;
    }
    match action {
        "CREATE" | "APPLY" if !has_yaml => spot.err(
            c,
            "yaml",
            format!("missing: {action} needs the objects' YAML definition"),
        ),
        "GET" | "DELETE" | "ROLLBACK" if !has_yaml && !has_ref => spot.err(
            c,
            "yaml",
            format!("missing: {action} needs a YAML definition, or kind and name"),
        ),
        _ => {}
    }
    if action == "ROLLBACK" && spot.text("kind").is_some_and(|k| k != "Deployment") {
        spot.err(c, "kind", "ROLLBACK works on a Deployment");
    }
    spot.must_be_flag(c, "waitForRollout");
    spot.positive(c, "rolloutTimeout", 3600);
}

fn check_http(c: &mut Check, spot: &InputSpot<'_>, poll: bool) {
    spot.must_be_text(c, &["method", "url", "body"]);
    if let Some(m) = spot.text("method") {
        if !HTTP_METHODS.contains(&m) {
            spot.err(
                c,
                "method",
                format!("must be one of {}", HTTP_METHODS.join(", ")),
            );
        }
    }
    if let Some(u) = spot.text("url") {
        if no_binding(u) && !(u.starts_with("http://") || u.starts_with("https://")) {
            spot.err(c, "url", "must start with http:// or https://");
        }
    }
    if let Some(h) = spot.input.get("headers") {
        if !h
            .as_object()
            .is_some_and(|o| o.values().all(Value::is_string))
        {
            spot.err(c, "headers", "must map header names to text");
        }
    }
    spot.must_be_flag(c, "followRedirects");
    if poll {
        check_exit_criteria(c, spot);
        spot.must_be_flag(c, "ignoreFailure");
        spot.positive(c, "interval", 3600);
        spot.positive(c, "attempts", 10_000);
    }
}

/// A Poll task's exit criteria: one expression (success when it holds), or Aria's `success`
/// and `failure` expressions.
fn check_exit_criteria(c: &mut Check, spot: &InputSpot<'_>) {
    let path = join(spot.path, "exitCriteria");
    match spot.input.get("exitCriteria") {
        None | Some(Value::String(_)) => spot.expression(c, "exitCriteria"),
        Some(Value::Object(o)) => {
            let mut any = false;
            for (k, v) in o {
                let p = join(&path, k);
                match (k.as_str(), v) {
                    ("success" | "failure", Value::String(e)) if e.trim().is_empty() => {}
                    ("success" | "failure", Value::String(e)) => {
                        any = true;
                        check_expression(c, e, spot.at, &p, spot.inputs, spot.position);
                    }
                    ("success" | "failure", _) => c.err(spot.at, &p, "must be an expression"),
                    _ => c.err(
                        spot.at,
                        &p,
                        "unknown field; exit criteria have success and failure",
                    ),
                }
            }
            if !any {
                c.err(spot.at, &path, "missing: a success or failure expression");
            }
        }
        Some(_) => c.err(
            spot.at,
            &path,
            "must be an expression, or success and failure expressions",
        ),
    }
}

fn check_user_operation(c: &mut Check, spot: &InputSpot<'_>) {
    match spot.input.get("approvers") {
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => {}
        Some(_) => spot.err(
            c,
            "approvers",
            "must be a list of approvers' e-mail addresses",
        ),
        None => {}
    }
    spot.must_be_text(c, &["summary", "description"]);
    spot.positive(c, "expiry", 24 * 90);
}

fn check_registry(c: &mut Check, spot: &InputSpot<'_>) {
    spot.must_be_text(c, &["endpoint", "repository", "reference", "tag"]);
    if let Some(t) = spot.text("tag") {
        if no_binding(t) && !crate::pipeline::valid_tag(t) {
            spot.err(c, "tag", "a tag has letters, digits, '_', '.' and '-' (at most 128), and does not start with '.' or '-'");
        }
    }
}

// ---- writing ----
