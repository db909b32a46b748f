//! Pipeline YAML the tests use, kept as files in `testkit/fixtures/pipelines/` so that a
//! pipeline reads as a pipeline (and is the same file for the Rust tests and Playwright).
//!
//! A fixture may name values only known when the test runs (a stand-in's address, a port) as
//! `@NAME@`; [`pipeline!`] (through [`pipeline_with`]) fills them in and refuses a fixture left with one unfilled.

use std::path::PathBuf;

/// Where the fixtures live.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/pipelines")
}

/// The fixture `name` with each `@KEY@` replaced by its value.
pub fn pipeline_with(name: &str, values: &[(&str, &str)]) -> String {
    let path = dir().join(format!("{name}.yaml"));
    let mut text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    for (key, value) in values {
        let mark = format!("@{key}@");
        assert!(text.contains(&mark), "fixture {name} has no {mark}");
        text = text.replace(&mark, value);
    }
    let unfilled = text
        .split('@')
        .skip(1)
        .find(|key| !key.is_empty() && key.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
    assert!(
        unfilled.is_none(),
        "fixture {name}: @{}@ was not given a value",
        unfilled.unwrap_or_default()
    );
    text
}

/// `pipeline!("fixture", KEY = value, …)`: the fixture with each `@KEY@` replaced by `value`
/// (anything `Display`).
#[macro_export]
macro_rules! pipeline {
    ($name:expr $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::fixtures::pipeline_with($name, &[$((stringify!($key), &$value.to_string())),*])
    };
}
