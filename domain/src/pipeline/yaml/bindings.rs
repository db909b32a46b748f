//! Bindings in values (`${input.TAG}`, `${Stage.Task.output.x}`, `${var.NAME}`): each one checked
//! against what exists, outputs noted for step 6, expressions parsed.

use super::*;

/// Checks the bindings of every string inside `v`.
pub(super) fn check_bindings(
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

pub(super) fn note_binding(
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

pub(super) fn check_expression(
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
