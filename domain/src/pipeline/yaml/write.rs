//! Writing a definition back as YAML (export): keys in a stable order, text quoted only
//! where YAML needs it.

use super::*;

pub(super) fn plain_key(k: &str) -> bool {
    valid_identifier(k)
        && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"]
            .contains(&k.to_lowercase().as_str())
}

pub(super) fn key(k: &str) -> String {
    if plain_key(k) {
        k.to_owned()
    } else {
        quote(k)
    }
}

pub(super) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A string as a YAML scalar at `indent`: a literal block for multi-line text, else quoted.
pub(super) fn scalar(s: &str, indent: usize) -> String {
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

pub(super) fn write_value(out: &mut String, v: &Value, indent: usize) {
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

/// Writes a definition as YAML that [`parse`] reads back to the same definition. Aria's keys
/// that Wharf keeps come back where Aria writes them, so an Aria export round-trips.
pub fn to_yaml(def: &PipelineDef) -> String {
    let mut out = String::new();
    out.push_str("kind: PIPELINE\n");
    out.push_str(&format!("name: {}\n", quote(&def.name)));
    out.push_str(&format!("project: {}\n", quote(&def.project)));
    out.push_str(&format!("description: {}\n", scalar(&def.description, 0)));
    out.push_str(&format!("enabled: {}\n", def.enabled));
    match def.max_running {
        Some(n) => out.push_str(&format!("concurrency: {n}\n")),
        None => out.push_str(&format!("concurrency: {}\n", def.concurrency.as_str())),
    }
    for (label, values) in [("input", &def.input), ("output", &def.output)] {
        if values.is_empty() {
            out.push_str(&format!("{label}: {{}}\n"));
        } else {
            out.push_str(&format!("{label}:\n"));
            for (k, v) in values {
                out.push_str(&format!("  {}: {}\n", key(k), quote(v)));
            }
        }
        if label == "input" && !def.input_meta.is_empty() {
            out.push_str("_inputMeta:\n");
            for (name, m) in &def.input_meta {
                out.push_str(&format!("  {}:\n", key(name)));
                out.push_str(&format!("    description: {}\n", quote(&m.description)));
                out.push_str(&format!("    mandatory: {}\n", m.mandatory));
            }
        }
    }
    out.push_str("stageOrder:\n");
    for s in &def.stages {
        out.push_str(&format!("  - {}\n", quote(&s.name)));
    }
    out.push_str("stages:\n");
    for s in &def.stages {
        write_stage(&mut out, s);
    }
    for (k, v) in &def.kept {
        out.push_str(&format!("{}:", key(k)));
        write_value(&mut out, v, 2);
    }
    out
}

fn write_stage(out: &mut String, s: &Stage) {
    out.push_str(&format!("  {}:\n", key(&s.name)));
    if s.task_order.is_empty() {
        out.push_str("    taskOrder: []\n");
    } else {
        out.push_str("    taskOrder:\n");
    }
    for group in &s.task_order {
        out.push_str(&format!("      - {}\n", quote(&group.join(","))));
    }
    if s.tasks.is_empty() {
        out.push_str("    tasks: {}\n");
    } else {
        out.push_str("    tasks:\n");
    }
    for t in &s.tasks {
        write_task(out, t);
    }
    for (k, v) in &s.kept {
        out.push_str(&format!("    {}:", key(k)));
        write_value(out, v, 6);
    }
}

fn write_task(out: &mut String, t: &Task) {
    out.push_str(&format!("      {}:\n", key(&t.name)));
    out.push_str(&format!("        type: {}\n", key(t.type_name())));
    if !t.endpoints.is_empty() {
        out.push_str("        endpoints:");
        write_value(out, &Value::Object(t.endpoints.clone()), 10);
    }
    // both always, as Aria writes them
    let pre = t.pre_condition.as_deref().unwrap_or_default();
    out.push_str(&format!("        preCondition: {}\n", quote(pre)));
    out.push_str(&format!("        ignoreFailure: {}\n", t.ignore_failure));
    if let Some(s) = t.timeout_seconds {
        out.push_str(&format!("        timeout: {s}\n"));
    }
    for (k, v) in &t.kept {
        out.push_str(&format!("        {}:", key(k)));
        write_value(out, v, 10);
    }
    out.push_str("        input:");
    write_value(out, &Value::Object(t.input.clone()), 10);
}
