//! Aria's `_inputMeta` (at the root or inside `input`) and the booleans Aria writes as text.

use super::*;

/// Aria's `_inputMeta`, at the root or inside `input`: per declared input, its
/// `description` and whether it is `mandatory`.
pub(super) fn input_meta(
    c: &mut Check,
    r: &Root<'_, '_>,
    input: &[(String, String)],
) -> Vec<(String, InputMeta)> {
    let nested = r
        .get("input")
        .and_then(mapping)
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| string(k).as_deref() == Some("_inputMeta"))
        })
        .map(|(_, v)| v);
    let mut out = Vec::new();
    for v in r.get("_inputMeta").into_iter().chain(nested) {
        if is_null(v) {
            continue;
        }
        let Some(m) = mapping(v) else {
            c.err(
                line(v),
                "_inputMeta",
                "must map input names to description and mandatory",
            );
            continue;
        };
        for (name, meta, at) in entries(c, m, "_inputMeta") {
            let path = join("_inputMeta", &name);
            if !input.iter().any(|(n, _)| *n == name) {
                c.err(at, &path, format!("the pipeline has no input '{name}'"));
                continue;
            }
            if let Some(parsed) = one_meta(c, meta, &path) {
                out.retain(|(n, _): &(String, InputMeta)| *n != name);
                out.push((name, parsed));
            }
        }
    }
    out
}

/// `true`, `false`, or the same written as text (`'false'`, as Aria writes them).
pub(super) fn flag(c: &mut Check, v: &Node<'_>, path: &str) -> Option<bool> {
    match &v.data {
        YamlData::Value(Scalar::Boolean(b)) => Some(*b),
        _ => match string(v).as_deref().map(str::trim) {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => {
                c.err(line(v), path, "must be true or false");
                None
            }
        },
    }
}

/// One input's `_inputMeta` entry.
fn one_meta(c: &mut Check, v: &Node<'_>, path: &str) -> Option<InputMeta> {
    let Some(m) = mapping(v) else {
        c.err(
            line(v),
            path,
            "must be a mapping with description and mandatory",
        );
        return None;
    };
    let mut meta = InputMeta::default();
    for (key, value, at) in entries(c, m, path) {
        let p = join(path, &key);
        match key.as_str() {
            "description" => meta.description = scalar_text(value).unwrap_or_default(),
            "mandatory" => meta.mandatory = flag(c, value, &p).unwrap_or(false),
            _ => c.err(
                at,
                &p,
                "unknown field; an input's meta has description and mandatory",
            ),
        }
    }
    Some(meta)
}
