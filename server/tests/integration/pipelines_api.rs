//! Pipelines, executions and user operations over the REST API, with the server's own worker
//! pool running the executions.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

fn gated() -> String {
    testkit::pipeline!("pipelines-api-gated")
}

#[tokio::test]
async fn pipelines_run_wait_for_approval_and_round_trip_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let api = Api::new(&server).await;
    let (_, project) = api
        .send("POST", "/projects", Some(json!({"name": "web"})))
        .await;
    let project = project["id"].as_i64().unwrap();

    // a definition with a mistake: 422 naming the line and the field; nothing is created
    let broken = gated().replace("type: Condition", "type: Conditon");
    let (status, err) = api
        .send(
            "POST",
            &format!("/projects/{project}/pipelines"),
            Some(json!({"yaml": broken})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["field"], "definition");
    assert!(
        err["message"].as_str().unwrap().contains("line 11")
            && err["message"]
                .as_str()
                .unwrap()
                .contains("unknown task type 'Conditon'"),
        "{err}"
    );
    let (status, body) = api
        .send(
            "POST",
            &format!("/projects/{project}/pipelines"),
            Some(json!({"yaml": &gated(), "extra": 1})),
        )
        .await;
    assert!(status.is_client_error(), "{status} {body}");

    let (status, p) = api
        .send(
            "POST",
            &format!("/projects/{project}/pipelines"),
            Some(json!({"yaml": &gated()})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_i64().unwrap();
    assert_eq!(
        (p["stageCount"].as_i64(), p["enabled"].as_bool()),
        (Some(2), Some(true))
    );

    // export, then import it under another name: the same definition
    let exported = api
        .c
        .get(format!("{}/pipelines/{pid}/export", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert!(exported.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/yaml"));
    let yaml = exported.text().await.unwrap();
    assert_eq!(yaml, gated());
    let imported = api
        .c
        .post(format!("{}/projects/{project}/pipelines/import", api.base))
        .bearer_auth(&api.token)
        .header("content-type", "application/yaml")
        .body(yaml.replace("name: gated", "name: gated-copy"))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), StatusCode::CREATED);
    let again = api
        .c
        .post(format!("{}/projects/{project}/pipelines/import", api.base))
        .bearer_auth(&api.token)
        .header("content-type", "application/yaml")
        .body(yaml.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT, "same name twice");
    let (_, list) = api
        .send("GET", &format!("/projects/{project}/pipelines"), None)
        .await;
    assert_eq!(list["total"], 2);

    // disabled pipelines do not run
    let (_, p) = api
        .send(
            "PATCH",
            &format!("/pipelines/{pid}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(p["enabled"], false);
    let (status, _) = api
        .send(
            "POST",
            &format!("/pipelines/{pid}/executions"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    api.send(
        "PATCH",
        &format!("/pipelines/{pid}"),
        Some(json!({"enabled": true})),
    )
    .await;

    // an input the pipeline does not declare is refused
    let (status, err) = api
        .send(
            "POST",
            &format!("/pipelines/{pid}/executions"),
            Some(json!({"input": {"NOPE": "1"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");

    // run: the Condition passes, then the execution waits for root's approval
    let (status, run) = api
        .send(
            "POST",
            &format!("/pipelines/{pid}/executions"),
            Some(json!({"input": {"TAG": "v2"}, "comments": "from CI"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    let eid = run["execution"]["id"].as_i64().unwrap();
    assert_eq!(run["execution"]["comments"], "from CI");
    let waiting = api.wait_for(eid, "WAITING").await;
    assert_eq!(waiting["input"]["TAG"], "v2");
    assert_eq!(waiting["stages"][0]["status"], "COMPLETED");
    let (_, ops) = api.send("GET", "/user-operations", None).await;
    assert_eq!(ops.as_array().unwrap().len(), 1, "{ops}");
    assert_eq!(ops[0]["summary"], "Ship v2?");
    let op = ops[0]["id"].as_i64().unwrap();
    let (status, answered) = api
        .send(
            "POST",
            &format!("/user-operations/{op}/approve"),
            Some(json!({"comment": "go"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(answered["status"], "APPROVED");
    let (status, _) = api
        .send(
            "POST",
            &format!("/user-operations/{op}/reject"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "answered once");
    let done = api.wait_for(eid, "COMPLETED").await;
    assert_eq!(
        done["stages"][1]["tasks"][0]["output"]["respondedBy"],
        "root@example.com"
    );
    let (_, log) = api
        .send(
            "GET",
            &format!("/executions/{eid}/stages/Check/tasks/Tag/log"),
            None,
        )
        .await;
    assert_eq!(log["lines"][0], "${input.TAG} matches \"^v\" → true");

    // rerun, then cancel it while it waits; delete what has ended
    let (_, rerun) = api
        .send(
            "POST",
            &format!("/executions/{eid}/actions"),
            Some(json!({"action": "rerun"})),
        )
        .await;
    let second = rerun["execution"]["id"].as_i64().unwrap();
    assert_eq!(rerun["execution"]["index"], 2);
    api.wait_for(second, "WAITING").await;
    let (status, canceled) = api
        .send(
            "POST",
            &format!("/executions/{second}/actions"),
            Some(json!({"action": "cancel"})),
        )
        .await;
    assert_eq!(
        (status, canceled["execution"]["status"].as_str()),
        (StatusCode::OK, Some("CANCELED"))
    );
    let (status, _) = api
        .send(
            "POST",
            &format!("/executions/{second}/actions"),
            Some(json!({"action": "explode"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, executions) = api
        .send(
            "GET",
            &format!("/projects/{project}/executions?pipelineId={pid}"),
            None,
        )
        .await;
    assert_eq!(executions["total"], 2);
    let (status, _) = api
        .send("DELETE", &format!("/executions/{second}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Inject parameters: Docker
    let (_, p) = api
        .send(
            "POST",
            &format!("/pipelines/{pid}/inject-docker-inputs"),
            None,
        )
        .await;
    assert_eq!(p["dockerInputs"], true);
    assert!(p["input"]["DOCKER_DIGEST"].is_string(), "{p}");
    assert!(p["yaml"].as_str().unwrap().contains("DOCKER_IMAGE"));
    let (status, _) = api.send("DELETE", &format!("/pipelines/{pid}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.send("GET", &format!("/pipelines/{pid}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}
