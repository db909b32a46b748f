//! Aria Automation Pipelines' export format: the corpus in `testkit/fixtures/aria/` imports,
//! and import → export keeps every key and value.

use super::*;
use serde_json::Value;

const CORPUS: [(&str, &str); 4] = [
    (
        "docker-kubernetes",
        include_str!("../../../testkit/fixtures/aria/docker-kubernetes.yaml"),
    ),
    (
        "rest-poll-condition",
        include_str!("../../../testkit/fixtures/aria/rest-poll-condition.yaml"),
    ),
    (
        "approval-nested",
        include_str!("../../../testkit/fixtures/aria/approval-nested.yaml"),
    ),
    (
        "unsupported-tasks",
        include_str!("../../../testkit/fixtures/aria/unsupported-tasks.yaml"),
    ),
];

fn corpus(name: &str) -> PipelineDef {
    let src = CORPUS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s);
    parse(src.unwrap_or_default()).unwrap_or_else(|e| panic!("{name}: {e:#?}"))
}

/// Every leaf of a document as (path, value), `_inputMeta` under `input` moved to the root
/// (where Wharf writes it back).
fn leaves(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    let path = path.replacen("input._inputMeta", "_inputMeta", 1);
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(x, &p, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, &format!("{path}.{i}"), out);
            }
        }
        other => out.push((path, other.clone())),
    }
}

/// The same value, also when one side writes a number or boolean as text (`'5'`, `'false'`),
/// or an empty object where the other has an empty list... only for empties written as `{}`.
fn same(a: &Value, b: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    a == b || text(a) == text(b)
}

#[test]
fn every_corpus_pipeline_imports_and_exports_every_key_it_had() {
    for (name, src) in CORPUS {
        let def = parse(src).unwrap_or_else(|e| panic!("{name} does not import: {e:#?}"));
        let exported = to_yaml(&def);
        let again =
            parse(&exported).unwrap_or_else(|e| panic!("{name}'s export: {e:#?}\n{exported}"));
        let unlined = |mut d: PipelineDef| {
            d.attention.iter_mut().for_each(|a| a.line = None);
            d
        };
        assert_eq!(
            unlined(again),
            unlined(def.clone()),
            "{name}: the export reads back the same"
        );
        let original = documents(src).expect("the corpus is YAML");
        let written = documents(&exported).expect("the export is YAML");
        let (mut before, mut after) = (Vec::new(), Vec::new());
        leaves(&original[0], "", &mut before);
        leaves(&written[0], "", &mut after);
        for (path, value) in &before {
            let found = after.iter().find(|(p, _)| p == path);
            assert!(
                found.is_some_and(|(_, v)| same(v, value)),
                "{name}: {path} = {value} is not in the export as it was: {found:?}\n{exported}"
            );
        }
    }
}

#[test]
fn aria_root_keys_are_read_or_kept() {
    let def = corpus("docker-kubernetes");
    assert_eq!(def.name, "Deploy Web App");
    assert_eq!(def.project, "Web Team");
    assert_eq!(
        (def.concurrency, def.max_running),
        (Concurrency::Queue, Some(10))
    );
    assert!(def.takes_docker_inputs() || def.input.len() == 5);
    let tag = def.meta("DOCKER_TAG").expect("_inputMeta is read");
    assert!(tag.mandatory);
    assert_eq!(tag.description, "The tag that was pushed");
    assert_eq!(
        def.meta("DOCKER_IMAGE").map(|m| m.mandatory),
        Some(false),
        "'false' as text"
    );
    let kept: Vec<&str> = def.kept.iter().map(|(k, _)| k.as_str()).collect();
    for key in [
        "icon",
        "options",
        "workspace",
        "notifications",
        "starred",
        "rollbacks",
        "tags",
    ] {
        assert!(kept.contains(&key), "{key} is kept: {kept:?}");
    }
    assert!(def.attention.is_empty(), "{:#?}", def.attention);
    let rest = corpus("rest-poll-condition");
    assert!(rest.enabled, "'true' as text");
    assert_eq!(rest.max_running, Some(2), "'2' as text");
    let nested = corpus("approval-nested");
    assert_eq!(
        nested.meta("TAG").map(|m| m.mandatory),
        Some(true),
        "_inputMeta inside input"
    );
    assert_eq!(nested.input, vec![("TAG".to_owned(), "latest".to_owned())]);
}

#[test]
fn aria_task_inputs_read_as_wharf_settings() {
    let def = corpus("docker-kubernetes");
    let stage = &def.stages[0];
    assert_eq!(
        stage.task_order[1],
        ["Deploy App", "Expose App"],
        "names with spaces, in parallel"
    );
    let create = stage.task("Create Namespace").expect("task");
    let s = create.settings();
    assert_eq!(
        s["endpoint"], "dev-cluster",
        "from endpoints.kubernetesServer"
    );
    assert_eq!(s["continueOnConflict"], true);
    assert!(
        !s.contains_key("filePath") && !s.contains_key("timeout"),
        "{s:?}"
    );
    assert_eq!(create.time_limit(), Some(300), "timeout '5' is minutes");
    let expose = stage.task("Expose App").expect("task");
    assert_eq!(
        expose.settings()["continueOnConflict"],
        true,
        "'true' as text"
    );
    assert!(!expose.ignore_failure, "'false' as text");

    let rest = corpus("rest-poll-condition");
    let token = rest.stages[0]
        .task("Get API Token")
        .expect("task")
        .settings();
    assert_eq!(token["method"], "POST", "action: post");
    assert!(token["body"]
        .as_str()
        .is_some_and(|b| b.contains("${requestBy}")));
    let poll = rest.stages[1]
        .task("Wait For Release")
        .expect("task")
        .settings();
    assert_eq!(
        (poll["attempts"].as_u64(), poll["interval"].as_u64()),
        (Some(15), Some(60))
    );
    assert_eq!(poll["ignoreFailure"], true);
    assert!(poll["exitCriteria"].get("failure").is_some());
    let check = rest.stages[0].task("Check Version").expect("task");
    assert!(check
        .pre_condition
        .as_deref()
        .is_some_and(|p| p.contains("Get API Token")));

    let nested = corpus("approval-nested");
    let approval = nested.stages[0].task("Approval").expect("task").settings();
    assert_eq!(approval["expiry"], 72, "3 days in hours");
    assert!(!approval.contains_key("sendemail") && !approval.contains_key("approverGroups"));
    let announce = nested.stages[0].task("Announce").expect("task").settings();
    assert_eq!(announce["expiry"], 2, "90 minutes, rounded up to hours");
    let run = nested.stages[1].task("Run Deployment").expect("task");
    assert_eq!(run.kind, TaskType::Pipeline);
    assert_eq!(run.settings()["pipeline"], "Deploy Web App");
}

#[test]
fn unsupported_tasks_import_and_are_listed_for_attention() {
    let def = corpus("unsupported-tasks");
    let foreign: Vec<&str> = def
        .stages
        .iter()
        .flat_map(|s| &s.tasks)
        .filter(|t| t.kind == TaskType::Unsupported)
        .map(Task::type_name)
        .collect();
    assert_eq!(foreign, ["Jenkins", "CI", "SSH", "vRO"]);
    let attention: Vec<String> = def.attention.iter().map(ToString::to_string).collect();
    assert_eq!(attention.len(), 5, "{attention:#?}");
    assert!(
        attention.iter().any(|a| a.contains(
            "stages.Build.tasks.Jenkins Build: Jenkins tasks are not supported by Wharf"
        )),
        "{attention:#?}"
    );
    assert!(
        attention
            .iter()
            .any(|a| a.contains("Apply From Git.input.yaml: reads its YAML from a Git endpoint")),
        "{attention:#?}"
    );
}

#[test]
fn bindings_name_stages_and_tasks_with_spaces() {
    use super::expr::{parse_binding, Binding};
    let b = parse_binding("Prepare Environment.Get API Token.output.responseHeaders.Authorization");
    assert_eq!(
        b,
        Ok(Binding::Output {
            stage: "Prepare Environment".to_owned(),
            task: "Get API Token".to_owned(),
            path: vec!["responseHeaders".to_owned(), "Authorization".to_owned()],
        })
    );
    assert_eq!(parse_binding("requestBy"), Ok(Binding::RequestBy));
    assert!(
        parse_binding("Stage .Task.output.x").is_err(),
        "a space at a name's end"
    );
    assert!(!valid_name("a.b") && !valid_name("a,b") && !valid_name(" a") && !valid_name("${x}"));
    assert!(valid_name("Prepare Environment"));
}

#[test]
fn hostile_aria_values_get_clear_errors() {
    let base = CORPUS[0].1;
    let cases = [
        ("concurrency: 10", "concurrency: 0", "concurrency: must be queue"),
        ("concurrency: 10", "concurrency: '1e9'", "concurrency: must be queue"),
        ("enabled: true", "enabled: 'yes please'", "enabled: must be true or false"),
        ("    mandatory: true", "    mandatory: maybe", "_inputMeta.DOCKER_TAG.mandatory: must be true or false"),
        ("  DOCKER_TAG:\n    mandatory", "  NOT_AN_INPUT:\n    mandatory", "_inputMeta.NOT_AN_INPUT: the pipeline has no input"),
        ("type: K8S\n        endpoints:\n          kubernetesServer: dev-cluster\n        input:\n          action: CREATE\n          timeout: '5'",
         "type: Bogus\n        endpoints:\n          kubernetesServer: dev-cluster\n        input:\n          action: CREATE\n          timeout: '5'",
         "unknown task type 'Bogus'"),
        ("- Create Namespace\n", "- Create.Namespace\n", "no task named 'Create.Namespace'"),
        ("kubernetesServer: dev-cluster\n        input:\n          action: APPLY", "kubernetesServer: [a, b]\n        input:\n          action: APPLY", "endpoints: must map roles"),
    ];
    for (from, to, expected) in cases {
        assert!(
            base.contains(from),
            "the case's text is in the fixture: {from}"
        );
        let bad = base.replacen(from, to, 1);
        let e: Vec<String> = parse(&bad)
            .expect_err(to)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(e.iter().any(|m| m.contains(expected)), "{to}: {e:#?}");
    }
}
