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

pub(super) const TASK_KEYS: [&str; 5] =
    ["type", "input", "preCondition", "ignoreFailure", "timeout"];

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

pub(super) fn check_task_input(
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
                if no_binding(t) && !crate::pipeline::valid_tag(t) {
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
