use super::expr::{evaluate, substitute, Binding};
use super::*;

const GOOD: &str = r#"kind: PIPELINE
name: deploy-web
project: web
description: Deploys each pushed image
enabled: true
concurrency: skip-if-running
input:
  DOCKER_TAG: latest
  REPLICAS: 2
output:
  digest: ${Promote.Tag.output.digest}
stageOrder:
  - Check
  - Deploy
  - Promote
stages:
  Check:
    taskOrder:
      - Gate
    tasks:
      Gate:
        type: Condition
        input:
          condition: '"${input.DOCKER_TAG}" != "latest" && ${input.REPLICAS} > 1'
  Deploy:
    taskOrder:
      - Apply,Ping
      - Approve
    tasks:
      Apply:
        type: K8S
        timeout: 600
        input:
          endpoint: dev-cluster
          action: APPLY
          namespace: web
          waitForRollout: true
          yaml: |
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                    - name: web
                      image: registry.local/web:${input.DOCKER_TAG}
      Ping:
        type: REST
        ignoreFailure: true
        input:
          method: POST
          url: https://hooks.example.com/deploy
          headers:
            Content-Type: application/json
          body: '{"tag": "${input.DOCKER_TAG}", "run": ${executionIndex}}'
      Approve:
        type: UserOperation
        preCondition: ${Deploy.Apply.output.status} == "COMPLETED"
        input:
          approvers: [ops@example.com]
          summary: Promote ${input.DOCKER_TAG}?
          expiry: 24
  Promote:
    taskOrder: [Tag]
    tasks:
      Tag:
        type: Registry
        input:
          endpoint: local-registry
          repository: web
          reference: ${input.DOCKER_TAG}
          tag: production
"#;

#[test]
fn a_full_pipeline_parses_with_stages_in_order_and_parallel_groups() {
    let def = parse(GOOD).unwrap();
    assert_eq!(def.name, "deploy-web");
    assert_eq!(def.concurrency, Concurrency::SkipIfRunning);
    assert_eq!(def.input[1], ("REPLICAS".to_owned(), "2".to_owned()));
    let names: Vec<&str> = def.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Check", "Deploy", "Promote"]);
    assert_eq!(
        def.stages[1].task_order,
        vec![
            vec!["Apply".to_owned(), "Ping".to_owned()],
            vec!["Approve".to_owned()]
        ]
    );
    let apply = def.stages[1].task("Apply").unwrap();
    assert_eq!(apply.kind, TaskType::Kubernetes);
    assert_eq!(apply.timeout_seconds, Some(600));
    assert!(apply.input["yaml"]
        .as_str()
        .unwrap()
        .contains("image: registry.local/web:${input.DOCKER_TAG}"));
    assert!(def.stages[1].task("Ping").unwrap().ignore_failure);
    assert_eq!(def.task_count(), 5);
    assert!(!def.takes_docker_inputs());
}

#[test]
fn export_and_import_round_trip() {
    let mut def = parse(GOOD).unwrap();
    let yaml = to_yaml(&def);
    assert_eq!(parse(&yaml).unwrap(), def, "{yaml}");
    def.description = "two\nlines: with ${braces} and \"quotes\"\n".to_owned();
    def.inject_docker_inputs();
    let again = to_yaml(&def);
    assert_eq!(parse(&again).unwrap(), def, "{again}");
    assert!(def.takes_docker_inputs());
    assert_eq!(
        def.input.len(),
        2 + 5,
        "DOCKER_TAG was kept, five were added"
    );
}

fn errors(src: &str) -> Vec<String> {
    parse(src)
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn errors_name_the_line_and_the_field() {
    let bad = GOOD
        .replace("type: K8S", "type: K8")
        .replace("concurrency: skip-if-running", "concurrency: parallel")
        .replace("      - Apply,Ping", "      - Apply,Pong");
    let e = errors(&bad);
    assert!(
        e.iter().any(|m| m
            .starts_with("line 6, concurrency: must be queue, cancel-previous, skip-if-running, or the most executions that run at once")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("line 27, stages.Deploy.taskOrder: no task named 'Pong'")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m
                .starts_with("line 31, stages.Deploy.tasks.Apply.type: unknown task type 'K8'")),
        "{e:#?}"
    );
    assert!(
        e.iter().any(|m| m.contains(
            "line 49, stages.Deploy.tasks.Ping: this task is not in the stage's taskOrder"
        )),
        "{e:#?}"
    );
}

#[test]
fn bindings_are_checked_against_inputs_and_earlier_tasks() {
    let e = errors(&GOOD.replace("${input.DOCKER_TAG}\" !=", "${input.TAG}\" !="));
    assert!(e.iter().any(|m| m.contains("stages.Check.tasks.Gate.input.condition: ${input.TAG} names an input the pipeline does not declare")), "{e:#?}");
    let e = errors(&GOOD.replace(
        "preCondition: ${Deploy.Apply.output.status}",
        "preCondition: ${Deploy.Approve.output.status}",
    ));
    assert!(e.iter().any(|m| m.contains("has not run yet")), "{e:#?}");
    let e = errors(&GOOD.replace(
        "reference: ${input.DOCKER_TAG}",
        "reference: ${input.DOCKER_TAG",
    ));
    assert!(
        e.iter()
            .any(|m| m.contains("Promote.tasks.Tag.input.reference: a binding is not closed")),
        "{e:#?}"
    );
}

#[test]
fn malformed_and_hostile_documents_get_clear_errors() {
    assert_eq!(errors(""), ["the definition is empty"]);
    assert!(
        errors("kind: PIPELINE\nname: [unclosed")[0].starts_with("line "),
        "{:?}",
        errors("kind: PIPELINE\nname: [unclosed")
    );
    assert!(errors("- a\n- b")[0].contains("a pipeline is a mapping"));
    assert!(
        errors("kind: PIPELINE\n---\nkind: PIPELINE\n")[0].contains("one pipeline per definition")
    );
    let e = errors("kind: PIPELINE\nname: x\nname: y\nstageOrder: []\nstages: {}\n");
    assert!(!e.is_empty());
    let e = errors("kind: PIPELINE\nname: '<script>alert(1)</script>'\nsurprise: 1\nstageOrder: []\nstages: {}\n");
    assert!(
        e.iter().all(|m| !m.contains("surprise")),
        "a key Wharf does not know is kept, not refused: {e:#?}"
    );
    let e = errors(&"x".repeat(MAX_DEFINITION_BYTES + 1));
    assert!(e[0].contains("at most"));
    let e = errors("kind: PIPELINE\nname: a\nstageOrder: [S]\nstages:\n  S:\n    taskOrder: [T]\n    tasks:\n      T:\n        type: K8S\n        input:\n          action: APPLY\n          bogus: 1\n");
    assert!(
        e.iter()
            .any(|m| m.contains("S.tasks.T.input.endpoint: missing")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m.contains("S.tasks.T.input.yaml: missing: APPLY needs")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m.contains("S.tasks.T.input.bogus: unknown input")),
        "{e:#?}"
    );
}

#[test]
fn expressions_evaluate_with_bindings_as_single_operands() {
    let vals = |b: &Binding| -> Result<String, String> {
        match b {
            Binding::Input(n) if n == "TAG" => Ok("v1.2.3".to_owned()),
            Binding::Input(n) if n == "EVIL" => Ok("\" || true || \"".to_owned()),
            Binding::Input(n) if n == "N" => Ok("10".to_owned()),
            Binding::Output { .. } => Ok("COMPLETED".to_owned()),
            other => Err(format!("no value for {other}")),
        }
    };
    assert!(evaluate(r#"${input.TAG} matches "^v[0-9]+\.""#, &vals).unwrap());
    assert!(evaluate(
        r#"${input.N} > 9 && ${input.N} < 11 && !(${input.N} == 3)"#,
        &vals
    )
    .unwrap());
    assert!(
        evaluate(r#"${input.N} == "10.0""#, &vals).unwrap(),
        "numbers compare as numbers"
    );
    assert!(
        !evaluate(r#"${input.EVIL} == "x""#, &vals).unwrap(),
        "a value cannot inject operators"
    );
    assert!(evaluate(r#"${S.T.output.status} == "COMPLETED" || false"#, &vals).unwrap());
    assert!(evaluate(r#""release-${input.TAG}" == "release-v1.2.3""#, &vals).unwrap());
    let e = evaluate(r#"${var.MISSING} == "x""#, &vals).unwrap_err();
    assert_eq!(
        e,
        "${var.MISSING} cannot be resolved: no value for ${var.MISSING}"
    );
    assert!(evaluate("${input.TAG} > 3", &vals)
        .unwrap_err()
        .contains("not both numbers"));
    assert!(evaluate("tag == 1", &vals).is_err());
    assert!(evaluate("(1 == 1", &vals).is_err());
    assert!(evaluate("1 == 1 2", &vals).is_err());
}

#[test]
fn substitution_replaces_bindings_and_names_the_missing_one() {
    let vals = |b: &Binding| match b {
        Binding::ExecutionIndex => Ok("7".to_owned()),
        Binding::Name => Ok("deploy-web".to_owned()),
        other => Err(format!("{other} has no value yet")),
    };
    assert_eq!(
        substitute("${name} #${executionIndex} costs $${x}", &vals).unwrap(),
        "deploy-web #7 costs ${x}"
    );
    let e = substitute("tag ${input.TAG}", &vals).unwrap_err();
    assert_eq!(
        e.to_string(),
        "${input.TAG} cannot be resolved: ${input.TAG} has no value yet"
    );
}

#[test]
fn a_poll_may_read_its_own_response_but_no_other_task_may_read_ahead() {
    let poll = |criteria: &str| {
        format!(
            "kind: PIPELINE\nname: p\nstageOrder: [S]\nstages:\n  S:\n    taskOrder: [Wait, Next]\n    tasks:\n      Wait:\n        type: POLL\n        input:\n          url: http://127.0.0.1/x\n          exitCriteria: '{criteria}'\n      Next:\n        type: Condition\n        input:\n          condition: '${{S.Wait.output.status}} == 200'\n"
        )
    };
    assert!(parse(&poll("${S.Wait.output.body.ready} == true")).is_ok());
    let errors = parse(&poll("${S.Next.output.result} == true")).unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .contains("names a task that has not run yet"),
        "{errors:?}"
    );
}

#[test]
fn manifests_split_into_documents_and_bad_yaml_names_its_line() {
    let docs = documents("a: 1\n---\nb: [x, y]\n---\n").unwrap();
    assert_eq!(
        docs,
        vec![
            serde_json::json!({"a": 1}),
            serde_json::json!({"b": ["x", "y"]})
        ]
    );
    let e = documents("a: 1\nb: [unclosed\n").unwrap_err();
    assert!(e.starts_with("line "), "{e}");
}
