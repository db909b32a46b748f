//! The authorisation matrix: every REST operation of the OpenAPI document and every server
//! function of Leptos's registry, called as anonymous, as a member of another project, as the
//! project's viewer, member and administrator, and as a system administrator, compared with one
//! table of expected outcomes. An operation without a row fails the test, so a new route cannot
//! be forgotten.
//!
//! Outcomes: `1` = 401, `3` = 403, `4` = 404, `A` = allowed (the call got past authorisation:
//! 2xx, 3xx, or a 400/409/422 about the request itself). Rows marked `once` change or delete
//! what they name: the first role allowed does it, and the roles after it may find it gone.

use crate::support::*;
use leptos::server_fn::ServerFn;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The roles, in the order every row is called (least privileged first).
const ROLES: [&str; 6] = [
    "anonymous",
    "outsider",
    "viewer",
    "member",
    "administrator",
    "system administrator",
];

struct Caller {
    bearer: Option<String>,
    browser: Client,
}

fn outcome(status: StatusCode) -> char {
    match status.as_u16() {
        401 => '1',
        403 => '3',
        404 => '4',
        s if s >= 500 => 'E',
        _ => 'A',
    }
}

/// One REST row: method, path template (as the OpenAPI document writes it), the concrete path,
/// a body, and the expected outcomes.
struct Rest {
    method: &'static str,
    template: &'static str,
    path: String,
    body: Option<Body>,
    expect: &'static str,
    once: bool,
}

enum Body {
    Json(Value),
    Yaml(String),
}

fn rest(
    method: &'static str,
    template: &'static str,
    path: String,
    body: Option<Value>,
    expect: &'static str,
) -> Rest {
    Rest {
        method,
        template,
        path,
        body: body.map(Body::Json),
        expect,
        once: false,
    }
}

fn once(mut r: Rest) -> Rest {
    r.once = true;
    r
}

/// One server-function row: its path, its arguments encoded as Leptos's client encodes them,
/// and the expected outcomes.
struct Sf {
    path: &'static str,
    form: String,
    expect: &'static str,
    once: bool,
    json: bool,
}

fn sf<F: ServerFn + serde::Serialize>(args: F, expect: &'static str) -> Sf {
    Sf {
        path: F::PATH,
        form: serde_qs::to_string(&args).expect("encode the arguments"),
        expect,
        once: false,
        json: false,
    }
}

/// A server function whose arguments travel as JSON (`input = Json`).
fn sf_json<F: ServerFn + serde::Serialize>(args: F, expect: &'static str) -> Sf {
    Sf {
        path: F::PATH,
        form: serde_json::to_string(&args).expect("encode the arguments"),
        expect,
        once: false,
        json: true,
    }
}

fn sf_once<F: ServerFn + serde::Serialize>(args: F, expect: &'static str) -> Sf {
    Sf {
        once: true,
        ..sf(args, expect)
    }
}

/// Compares what each role got with the row's expectation; returns the differences.
fn judge(name: &str, expect: &str, got: &[char], once: bool) -> Option<String> {
    let want: Vec<char> = expect.chars().collect();
    let mut done = false;
    let mut wrong = Vec::new();
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        let fine = w == g || (once && done && *w == 'A' && *g == '4');
        if *g == 'A' {
            done = true;
        }
        if !fine {
            wrong.push(format!("{} expected {w} got {g}", ROLES[i]));
        }
    }
    (!wrong.is_empty()).then(|| format!("{name}: {}", wrong.join(", ")))
}

async fn user(api: &Api, email: &str) -> i64 {
    let (status, u) = api
        .send(
            "POST",
            "/users",
            Some(json!({"email": email, "displayName": email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{u}");
    u["id"].as_i64().unwrap()
}

async fn project(api: &Api, name: &str, members: &[(&str, &str)]) -> i64 {
    let (status, p) = api
        .send("POST", "/projects", Some(json!({ "name": name })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let id = p["id"].as_i64().unwrap();
    for (email, role) in members {
        let (status, m) = api
            .send(
                "POST",
                &format!("/projects/{id}/members"),
                Some(json!({"email": email, "role": role})),
            )
            .await;
        assert!(status.is_success(), "{m}");
    }
    id
}

async fn created(api: &Api, path: &str, body: Value) -> Value {
    let (status, v) = api.send("POST", path, Some(body)).await;
    assert!(status.is_success(), "POST {path}: {status} {v}");
    v
}

async fn bearer_for(server: &TestServer, email: &str) -> (String, i64) {
    let (_, access, id) = tokens_for(server, email, PASSWORD).await;
    (access, id)
}

fn gate(name: &str) -> String {
    testkit::pipeline!("authz-approval-gate", NAME = name)
}

/// Who and what the authorisation tables name: people in every role, a project of each
/// kind of object (one more of each for deleting), a waiting approval, a card and its event.
struct World {
    dir: tempfile::TempDir,
    server: TestServer,
    root: Api,
    c: Client,
    w: i64,
    nora: i64,
    var: i64,
    var_del: i64,
    reg: Value,
    endpoint: i64,
    endpoint_del: i64,
    pipeline: i64,
    pipeline_del: i64,
    execution: i64,
    execution_del: i64,
    op_ids: Vec<i64>,
    refresh: Value,
    card: i64,
    card_del: i64,
    activity: i64,
    root_token: i64,
    callers: Vec<Caller>,
    doomed: i64,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = with_admin(dir.path()).await;
    let root = Api::new(&server).await;

    // people and projects: ada administers web, mia is a member, vic a viewer; otto is only
    // in ops; nora is the person members are added and removed as
    for email in [
        "ada@example.com",
        "mia@example.com",
        "vic@example.com",
        "otto@example.com",
    ] {
        user(&root, email).await;
    }
    let nora = user(&root, "nora@example.com").await;
    let team = [
        ("ada@example.com", "administrator"),
        ("mia@example.com", "member"),
        ("vic@example.com", "viewer"),
    ];
    let w = project(&root, "web", &team).await;
    project(&root, "ops", &[("otto@example.com", "member")]).await;
    let doomed = project(&root, "doomed", &team).await;
    created(
        &root,
        &format!("/projects/{w}/members"),
        json!({"email": "nora@example.com", "role": "viewer"}),
    )
    .await;

    // what the rows name, all in web
    let var = created(
        &root,
        &format!("/projects/{w}/variables"),
        json!({"name": "V", "kind": "REGULAR", "value": "v"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let var_del = created(
        &root,
        &format!("/projects/{w}/variables"),
        json!({"name": "GONE", "kind": "REGULAR", "value": "v"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let reg = json!({"name": "reg", "kind": "docker_registry", "serverType": "docker_registry", "url": "http://127.0.0.1:1"});
    let endpoint = created(&root, &format!("/projects/{w}/endpoints"), reg.clone()).await["id"]
        .as_i64()
        .unwrap();
    let mut gone = reg.clone();
    gone["name"] = json!("gone");
    let endpoint_del = created(&root, &format!("/projects/{w}/endpoints"), gone).await["id"]
        .as_i64()
        .unwrap();
    let pipeline = created(
        &root,
        &format!("/projects/{w}/pipelines"),
        json!({"yaml": testkit::pipeline!("authz-docker-inputs", NAME = "deploy")}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let pipeline_del = created(
        &root,
        &format!("/projects/{w}/pipelines"),
        json!({"yaml": testkit::pipeline!("authz-docker-inputs", NAME = "gone")}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let run = |p: i64| {
        let root = &root;
        async move {
            created(
                root,
                &format!("/pipelines/{p}/executions"),
                json!({"input": {}}),
            )
            .await["execution"]["id"]
                .as_i64()
                .unwrap()
        }
    };
    let execution = run(pipeline).await;
    root.wait_for(execution, "COMPLETED").await;
    let execution_del = run(pipeline).await;
    root.wait_for(execution_del, "COMPLETED").await;
    for name in ["gate-a", "gate-b", "gate-c"] {
        let g = created(
            &root,
            &format!("/projects/{w}/pipelines"),
            json!({"yaml": gate(name)}),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let x = run(g).await;
        root.wait_for(x, "WAITING").await;
    }
    let c = Client::new();
    let (ada_bearer, _) = bearer_for(&server, "ada@example.com").await;
    let ada = Api {
        c: c.clone(),
        base: root.base.clone(),
        token: ada_bearer.clone(),
    };
    let (_, waiting) = ada.send("GET", "/user-operations", None).await;
    let op_ids: Vec<i64> = waiting
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(op_ids.len(), 3, "{waiting}");
    let refresh = created(
        &root,
        "/tokens",
        json!({"email": "root@example.com", "password": PASSWORD, "name": "card"}),
    )
    .await;
    let card_form = |name: &str| json!({"name": name, "endpointId": endpoint, "pipelineId": pipeline, "apiToken": refresh["refreshToken"], "image": "acme/web", "tag": ""});
    let card = created(
        &root,
        &format!("/projects/{w}/docker-webhooks"),
        card_form("web"),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let card_del = created(
        &root,
        &format!("/projects/{w}/docker-webhooks"),
        card_form("gone"),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let (_, url) = root
        .send(
            "GET",
            &format!("/docker-webhooks/{card}/listener-url"),
            None,
        )
        .await;
    let listener = url["url"].as_str().unwrap_or_default().to_owned();
    let envelope = json!({"events": [{"id": "e1", "action": "push", "actor": {"name": "ci"}, "request": {"host": "127.0.0.1:5000"},
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "acme/web", "tag": "1.0",
                   "digest": format!("sha256:{}", "ab".repeat(32))}}]});
    let res = c.post(&listener).json(&envelope).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{listener}");
    let activity = loop {
        let (_, a) = root
            .send("GET", &format!("/projects/{w}/docker-activity"), None)
            .await;
        let ours = a["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["webhookId"].as_i64() == Some(card));
        if let Some(id) = ours.and_then(|r| r["id"].as_i64()) {
            break id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let (_, root_token) = bearer_for(&server, "root@example.com").await;

    // the callers
    let mut callers = vec![Caller {
        bearer: None,
        browser: browser(),
    }];
    for email in [
        "otto@example.com",
        "vic@example.com",
        "mia@example.com",
        "ada@example.com",
        "root@example.com",
    ] {
        let (bearer, _) = bearer_for(&server, email).await;
        let b = browser();
        crate::support::sign_in(&b, &server, email, PASSWORD).await;
        callers.push(Caller {
            bearer: Some(bearer),
            browser: b,
        });
    }
    World {
        dir,
        server,
        root,
        c,
        w,
        nora,
        var,
        var_del,
        reg,
        endpoint,
        endpoint_del,
        pipeline,
        pipeline_del,
        execution,
        execution_del,
        op_ids,
        refresh,
        card,
        card_del,
        activity,
        root_token,
        callers,
        doomed,
    }
}

/// The REST table: each documented operation with the outcome it gives each caller.
fn rest_table(x: &World) -> Vec<Rest> {
    let (
        w,
        nora,
        var,
        var_del,
        endpoint,
        endpoint_del,
        pipeline,
        pipeline_del,
        execution,
        execution_del,
        card,
        card_del,
        activity,
        root_token,
        doomed,
    ) = (
        x.w,
        x.nora,
        x.var,
        x.var_del,
        x.endpoint,
        x.endpoint_del,
        x.pipeline,
        x.pipeline_del,
        x.execution,
        x.execution_del,
        x.card,
        x.card_del,
        x.activity,
        x.root_token,
        x.doomed,
    );
    let reg = &x.reg;
    let op_ids = &x.op_ids;
    let refresh = &x.refresh;
    let view = "14AAAA";
    let use_ = "143AAA";
    let manage = "1433AA";
    let system = "13333A";
    let signed_in = "1AAAAA";
    let p = |s: &str| s.to_owned();
    let card_form = |name: &str| json!({"name": name, "endpointId": endpoint, "pipelineId": pipeline, "apiToken": refresh["refreshToken"], "image": "acme/web", "tag": ""});
    vec![
        rest(
            "GET",
            "/pipelines/api/projects",
            p("/projects"),
            None,
            signed_in,
        ),
        rest(
            "POST",
            "/pipelines/api/projects",
            p("/projects"),
            Some(json!({"name": "new"})),
            system,
        ),
        rest(
            "GET",
            "/pipelines/api/projects/{id}",
            format!("/projects/{w}"),
            None,
            view,
        ),
        rest(
            "PATCH",
            "/pipelines/api/projects/{id}",
            format!("/projects/{w}"),
            Some(json!({"description": "d"})),
            manage,
        ),
        rest(
            "POST",
            "/pipelines/api/projects/{id}/members",
            format!("/projects/{w}/members"),
            Some(json!({"email": "nora@example.com", "role": "viewer"})),
            manage,
        ),
        rest(
            "PATCH",
            "/pipelines/api/projects/{id}/members/{userId}",
            format!("/projects/{w}/members/{nora}"),
            Some(json!({"role": "viewer"})),
            manage,
        ),
        rest(
            "GET",
            "/pipelines/api/projects/{id}/variables",
            format!("/projects/{w}/variables"),
            None,
            view,
        ),
        rest(
            "POST",
            "/pipelines/api/projects/{id}/variables",
            format!("/projects/{w}/variables"),
            Some(json!({"name": "V", "kind": "REGULAR", "value": "x"})),
            use_,
        ),
        rest(
            "PATCH",
            "/pipelines/api/projects/{id}/variables/{variableId}",
            format!("/projects/{w}/variables/{var}"),
            Some(json!({"value": "y"})),
            use_,
        ),
        rest(
            "GET",
            "/pipelines/api/projects/{id}/endpoints",
            format!("/projects/{w}/endpoints"),
            None,
            view,
        ),
        rest(
            "POST",
            "/pipelines/api/projects/{id}/endpoints",
            format!("/projects/{w}/endpoints"),
            Some(reg.clone()),
            use_,
        ),
        rest(
            "GET",
            "/pipelines/api/projects/{id}/endpoints/{endpointId}",
            format!("/projects/{w}/endpoints/{endpoint}"),
            None,
            view,
        ),
        rest(
            "PATCH",
            "/pipelines/api/projects/{id}/endpoints/{endpointId}",
            format!("/projects/{w}/endpoints/{endpoint}"),
            Some(json!({"name": "reg"})),
            use_,
        ),
        rest(
            "POST",
            "/pipelines/api/projects/{id}/endpoints/{endpointId}/validate",
            format!("/projects/{w}/endpoints/{endpoint}/validate"),
            None,
            use_,
        ),
        rest(
            "POST",
            "/pipelines/api/projects/{id}/endpoints/certificate",
            format!("/projects/{w}/endpoints/certificate"),
            Some(json!({"url": "https://127.0.0.1:1"})),
            use_,
        ),
        rest(
            "GET",
            "/pipelines/api/projects/{id}/pipelines",
            format!("/projects/{w}/pipelines"),
            None,
            view,
        ),
        rest(
            "POST",
            "/pipelines/api/projects/{id}/pipelines",
            format!("/projects/{w}/pipelines"),
            Some(json!({"yaml": testkit::pipeline!("authz-docker-inputs", NAME = "deploy")})),
            use_,
        ),
        Rest {
            body: Some(Body::Yaml(testkit::pipeline!(
                "authz-docker-inputs",
                NAME = "deploy"
            ))),
            ..rest(
                "POST",
                "/pipelines/api/projects/{id}/pipelines/import",
                format!("/projects/{w}/pipelines/import"),
                None,
                use_,
            )
        },
        rest(
            "GET",
            "/pipelines/api/pipelines/{id}",
            format!("/pipelines/{pipeline}"),
            None,
            view,
        ),
        rest(
            "PATCH",
            "/pipelines/api/pipelines/{id}",
            format!("/pipelines/{pipeline}"),
            Some(json!({"enabled": true})),
            use_,
        ),
        rest(
            "GET",
            "/pipelines/api/pipelines/{id}/export",
            format!("/pipelines/{pipeline}/export"),
            None,
            view,
        ),
        rest(
            "POST",
            "/pipelines/api/pipelines/{id}/inject-docker-inputs",
            format!("/pipelines/{pipeline}/inject-docker-inputs"),
            None,
            use_,
        ),
        rest(
            "POST",
            "/pipelines/api/pipelines/{id}/executions",
            format!("/pipelines/{pipeline}/executions"),
            Some(json!({"input": {}})),
            use_,
        ),
        rest(
            "GET",
            "/pipelines/api/projects/{id}/executions",
            format!("/projects/{w}/executions"),
            None,
            view,
        ),
        rest(
            "GET",
            "/pipelines/api/executions/{id}",
            format!("/executions/{execution}"),
            None,
            view,
        ),
        rest(
            "POST",
            "/pipelines/api/executions/{id}/actions",
            format!("/executions/{execution}/actions"),
            Some(json!({"action": "rerun"})),
            use_,
        ),
        rest(
            "GET",
            "/pipelines/api/executions/{id}/stages/{stage}/tasks/{task}/log",
            format!("/executions/{execution}/stages/S/tasks/C/log"),
            None,
            view,
        ),
        rest(
            "GET",
            "/pipelines/api/user-operations",
            p("/user-operations"),
            None,
            signed_in,
        ),
        rest(
            "GET",
            "/pipelines/api/user-operations/{id}",
            format!("/user-operations/{}", op_ids[0]),
            None,
            view,
        ),
        // only the approver the operation names (ada) answers it
        once(rest(
            "POST",
            "/pipelines/api/user-operations/{id}/approve",
            format!("/user-operations/{}/approve", op_ids[0]),
            Some(json!({})),
            "1433A3",
        )),
        once(rest(
            "POST",
            "/pipelines/api/user-operations/{id}/reject",
            format!("/user-operations/{}/reject", op_ids[1]),
            Some(json!({"comment": "no"})),
            "1433A3",
        )),
        rest(
            "GET",
            "/pipelines/api/projects/{id}/docker-webhooks",
            format!("/projects/{w}/docker-webhooks"),
            None,
            view,
        ),
        rest(
            "POST",
            "/pipelines/api/projects/{id}/docker-webhooks",
            format!("/projects/{w}/docker-webhooks"),
            Some(card_form("web")),
            use_,
        ),
        rest(
            "GET",
            "/pipelines/api/docker-webhooks/{id}",
            format!("/docker-webhooks/{card}"),
            None,
            view,
        ),
        rest(
            "PUT",
            "/pipelines/api/docker-webhooks/{id}",
            format!("/docker-webhooks/{card}"),
            Some(card_form("web")),
            use_,
        ),
        // the listener URL carries the card's secure token: members and up
        rest(
            "GET",
            "/pipelines/api/docker-webhooks/{id}/listener-url",
            format!("/docker-webhooks/{card}/listener-url"),
            None,
            use_,
        ),
        rest(
            "POST",
            "/pipelines/api/docker-webhooks/{id}/{action}",
            format!("/docker-webhooks/{card}/enable"),
            None,
            use_,
        ),
        rest(
            "GET",
            "/pipelines/api/projects/{id}/docker-activity",
            format!("/projects/{w}/docker-activity"),
            None,
            view,
        ),
        rest(
            "GET",
            "/pipelines/api/docker-activity/{id}",
            format!("/docker-activity/{activity}"),
            None,
            view,
        ),
        rest(
            "POST",
            "/pipelines/api/docker-activity/{id}/resubmit",
            format!("/docker-activity/{activity}/resubmit"),
            None,
            use_,
        ),
        // listeners take the card's secure token, not a bearer: without it, nobody
        rest(
            "POST",
            "/pipelines/api/docker-hub-webhooks",
            p("/docker-hub-webhooks"),
            Some(json!({})),
            "111111",
        ),
        rest(
            "POST",
            "/pipelines/api/registry-webhooks",
            p("/registry-webhooks"),
            Some(json!({})),
            "111111",
        ),
        rest(
            "POST",
            "/pipelines/api/tokens",
            p("/tokens"),
            Some(json!({"email": "nora@example.com", "password": "wrong password!", "name": "x"})),
            "111111",
        ),
        rest(
            "POST",
            "/pipelines/api/login",
            p("/login"),
            Some(json!({"refreshToken": "wharf_rt_unknown"})),
            "111111",
        ),
        rest(
            "GET",
            "/pipelines/api/tokens",
            p("/tokens"),
            None,
            signed_in,
        ),
        rest("GET", "/pipelines/api/users", p("/users"), None, system),
        rest(
            "POST",
            "/pipelines/api/users",
            p("/users"),
            Some(json!({"email": "new@example.com", "displayName": "New", "password": PASSWORD})),
            system,
        ),
        rest(
            "PATCH",
            "/pipelines/api/users/{id}",
            format!("/users/{nora}"),
            Some(json!({"disabled": false})),
            system,
        ),
        rest(
            "POST",
            "/pipelines/api/users/{id}/password",
            format!("/users/{nora}/password"),
            Some(json!({"password": PASSWORD})),
            system,
        ),
        // what deletes comes last
        once(rest(
            "DELETE",
            "/pipelines/api/tokens/{id}",
            format!("/tokens/{root_token}"),
            None,
            "14444A",
        )),
        once(rest(
            "DELETE",
            "/pipelines/api/executions/{id}",
            format!("/executions/{execution_del}"),
            None,
            use_,
        )),
        once(rest(
            "DELETE",
            "/pipelines/api/docker-webhooks/{id}",
            format!("/docker-webhooks/{card_del}"),
            None,
            use_,
        )),
        once(rest(
            "DELETE",
            "/pipelines/api/pipelines/{id}",
            format!("/pipelines/{pipeline_del}"),
            None,
            use_,
        )),
        once(rest(
            "DELETE",
            "/pipelines/api/projects/{id}/endpoints/{endpointId}",
            format!("/projects/{w}/endpoints/{endpoint_del}"),
            None,
            use_,
        )),
        once(rest(
            "DELETE",
            "/pipelines/api/projects/{id}/variables/{variableId}",
            format!("/projects/{w}/variables/{var_del}"),
            None,
            use_,
        )),
        once(rest(
            "DELETE",
            "/pipelines/api/projects/{id}/members/{userId}",
            format!("/projects/{w}/members/{nora}"),
            None,
            manage,
        )),
        once(rest(
            "DELETE",
            "/pipelines/api/projects/{id}",
            format!("/projects/{doomed}"),
            None,
            manage,
        )),
    ]
}

/// The server functions' table: each with the outcome it gives each caller.
fn server_fn_table(x: &World) -> Vec<Sf> {
    let (w, nora, var, endpoint, pipeline, execution, card, activity) = (
        x.w,
        x.nora,
        x.var,
        x.endpoint,
        x.pipeline,
        x.execution,
        x.card,
        x.activity,
    );
    let op_ids = &x.op_ids;
    let refresh = &x.refresh;
    let view = "14AAAA";
    let use_ = "143AAA";
    let manage = "1433AA";
    let system = "13333A";
    let signed_in = "1AAAAA";
    use app::api::*;
    use domain::endpoints::EndpointForm;
    use domain::executions::ExecutionFilter;
    use domain::webhooks::{ActivityFilter, WebhookForm};
    let endpoint_form = EndpointForm {
        kind: "docker_registry".into(),
        name: "reg".into(),
        server_type: "docker_registry".into(),
        url: "http://127.0.0.1:1".into(),
        ..Default::default()
    };
    let webhook_form = WebhookForm {
        name: "web".into(),
        endpoint_id: endpoint,
        pipeline_id: pipeline,
        api_token: refresh["refreshToken"].as_str().unwrap().to_owned(),
        image: "acme/web".into(),
        enabled: true,
        ..Default::default()
    };
    let others = "AAAAAA";
    vec![
        sf(GetSessionInfo {}, signed_in),
        // set-up is over: creating another first administrator is refused to everyone
        sf(
            CreateAdmin {
                email: "x@example.com".into(),
                display_name: "X".into(),
                password: PASSWORD.into(),
                password_confirm: PASSWORD.into(),
            },
            "AAAAAA",
        ),
        sf(
            SignIn {
                email: "nobody@example.com".into(),
                password: "wrong password!".into(),
                next: None,
            },
            "111111",
        ),
        sf(SelectProject { project_id: w }, view),
        sf(ListProjects {}, signed_in),
        sf(
            CreateProject {
                name: "new".into(),
                description: String::new(),
            },
            system,
        ),
        sf(GetProject { project_id: w }, view),
        sf(
            UpdateProject {
                project_id: w,
                name: "web".into(),
                description: "d".into(),
            },
            manage,
        ),
        sf(
            AddMember {
                project_id: w,
                email: "nora@example.com".into(),
                role: "viewer".into(),
            },
            manage,
        ),
        sf(
            ChangeMemberRole {
                project_id: w,
                user_id: nora,
                role: "viewer".into(),
            },
            manage,
        ),
        sf(ListUsers {}, system),
        sf(
            CreateUser {
                email: "new2@example.com".into(),
                display_name: "N".into(),
                password: PASSWORD.into(),
                is_admin: None,
            },
            system,
        ),
        sf(
            ResetUserPassword {
                user_id: nora,
                password: PASSWORD.into(),
            },
            system,
        ),
        sf(
            SetUserDisabled {
                user_id: nora,
                disabled: false,
            },
            system,
        ),
        sf(ListVariables { project_id: w }, view),
        sf(
            CreateVariable {
                project_id: w,
                name: "V".into(),
                kind: "REGULAR".into(),
                value: "x".into(),
                description: String::new(),
            },
            use_,
        ),
        sf(
            UpdateVariable {
                project_id: w,
                variable_id: var,
                name: "V".into(),
                kind: "REGULAR".into(),
                value: "z".into(),
                description: String::new(),
            },
            use_,
        ),
        sf(
            GenerateToken {
                name: "x".into(),
                email: "nora@example.com".into(),
                password: "wrong password!".into(),
            },
            "1AAAAA",
        ),
        sf(ListMyTokens {}, signed_in),
        sf(
            ListEndpoints {
                project_id: w,
                page: 1,
            },
            view,
        ),
        sf_json(
            SaveEndpoint {
                project_id: w,
                endpoint_id: Some(endpoint),
                form: endpoint_form.clone(),
            },
            use_,
        ),
        sf(
            ValidateEndpoint {
                project_id: w,
                endpoint_id: endpoint,
            },
            use_,
        ),
        sf(
            FetchEndpointCertificate {
                project_id: w,
                url: "https://127.0.0.1:1".into(),
            },
            use_,
        ),
        sf(ListPipelines { project_id: w }, view),
        sf(DesignerPicks { project_id: w }, view),
        sf(
            GetPipeline {
                project_id: w,
                pipeline_id: pipeline,
            },
            view,
        ),
        sf_json(
            SavePipeline {
                project_id: w,
                pipeline_id: Some(pipeline),
                yaml: testkit::pipeline!("authz-docker-inputs", NAME = "deploy"),
            },
            use_,
        ),
        sf(
            SetPipelineEnabled {
                project_id: w,
                pipeline_id: pipeline,
                enabled: true,
            },
            use_,
        ),
        sf_json(
            RunPipeline {
                project_id: w,
                pipeline_id: pipeline,
                input: Vec::new(),
                comments: String::new(),
            },
            use_,
        ),
        sf(ListUserOperations {}, signed_in),
        sf_once(
            AnswerUserOperation {
                operation_id: op_ids[2],
                approve: true,
                comment: String::new(),
            },
            "1433A3",
        ),
        sf(ListWebhooks { project_id: w }, view),
        sf_json(
            SaveWebhook {
                project_id: w,
                webhook_id: Some(card),
                form: webhook_form,
            },
            use_,
        ),
        sf(
            WebhookAction {
                project_id: w,
                webhook_id: card,
                action: "enable".into(),
            },
            use_,
        ),
        sf(
            WebhookListenerUrl {
                project_id: w,
                webhook_id: card,
            },
            use_,
        ),
        sf_json(
            ListActivity {
                project_id: w,
                filter: ActivityFilter::default(),
            },
            view,
        ),
        sf(
            GetActivity {
                project_id: w,
                activity_id: activity,
            },
            view,
        ),
        sf(
            ResubmitActivity {
                project_id: w,
                activity_id: activity,
            },
            use_,
        ),
        sf_json(
            ListExecutions {
                filter: ExecutionFilter {
                    project: Some(w),
                    ..Default::default()
                },
            },
            signed_in,
        ),
        sf(GetExecutionView { id: execution }, view),
        sf(
            ExecutionAction {
                id: execution,
                action: "rerun".into(),
            },
            use_,
        ),
        sf(GetHome { project_id: w }, view),
        sf_once(RevokeToken { token_id: 1 }, "14444A"),
        sf_once(
            DeleteWebhook {
                project_id: w,
                webhook_id: card,
                force: true,
            },
            use_,
        ),
        sf_once(
            DeletePipeline {
                project_id: w,
                pipeline_id: pipeline,
            },
            use_,
        ),
        sf_once(
            DeleteEndpoint {
                project_id: w,
                endpoint_id: endpoint,
            },
            use_,
        ),
        sf_once(
            DeleteVariable {
                project_id: w,
                variable_id: var,
            },
            use_,
        ),
        sf_once(
            RemoveMember {
                project_id: w,
                user_id: nora,
            },
            manage,
        ),
        sf_once(DeleteProject { project_id: w }, manage),
        sf(SignOut {}, others),
    ]
}

#[tokio::test]
async fn every_rest_operation_answers_each_role_as_the_table_says() {
    let x = world().await;
    let rows = rest_table(&x);
    let World {
        server, c, callers, ..
    } = &x;
    let mut calls = 0;
    // every documented operation has a row, and every row is documented
    let doc: Value = c
        .get(server.url("/pipelines/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} /pipelines/api{path}", m.to_uppercase()))
        })
        .map(|s| s.replace("/pipelines/api/pipelines/api", "/pipelines/api"))
        .collect();
    let tabled: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.method, r.template))
        .collect();
    assert_eq!(
        documented.difference(&tabled).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "operations without a row in the matrix"
    );
    assert_eq!(
        tabled.difference(&documented).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "rows for operations the API does not document"
    );

    let mut wrong = Vec::new();
    for r in &rows {
        let mut got = Vec::new();
        for caller in callers.iter() {
            let mut req = c.request(
                r.method.parse().unwrap(),
                server.url(&format!("/pipelines/api{}", r.path)),
            );
            if let Some(b) = &caller.bearer {
                req = req.bearer_auth(b);
            }
            req = match &r.body {
                Some(Body::Json(v)) => req.json(v),
                Some(Body::Yaml(y)) => req
                    .header("content-type", "application/yaml")
                    .body(y.clone()),
                None => req,
            };
            let res = req.send().await.unwrap();
            let status = res.status();
            if std::env::var("AUTHZ_DEBUG").is_ok() {
                let body: String = res
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                println!("{} {} {status} {body}", r.method, r.path);
            }
            got.push(outcome(status));
            calls += 1;
        }
        if let Some(w) = judge(
            &format!("{} {}", r.method, r.template),
            r.expect,
            &got,
            r.once,
        ) {
            wrong.push(w);
        }
    }

    println!(
        "authorisation matrix: {} REST operations × {} roles = {calls} calls",
        rows.len(),
        ROLES.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    x.server.stop().await;
}

#[tokio::test]
async fn every_server_function_answers_each_role_as_the_table_says() {
    let x = world().await;
    let fns = server_fn_table(&x);
    let World {
        server, callers, ..
    } = &x;
    let mut wrong = Vec::new();
    let mut calls = 0;
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    let tabled: BTreeSet<String> = fns.iter().map(|f| f.path.to_owned()).collect();
    assert_eq!(
        registered.difference(&tabled).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "server functions without a row in the matrix"
    );
    for f in &fns {
        let mut got = Vec::new();
        for caller in callers.iter() {
            let res = caller
                .browser
                .post(server.url(f.path))
                .header("origin", format!("http://{}", server.addr))
                .header(
                    "content-type",
                    if f.json {
                        "application/json"
                    } else {
                        "application/x-www-form-urlencoded"
                    },
                )
                .body(f.form.clone())
                .send()
                .await
                .unwrap();
            let status = res.status();
            if std::env::var("AUTHZ_DEBUG").is_ok() {
                println!(
                    "{} {status} {}",
                    f.path,
                    res.text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect::<String>()
                );
            }
            got.push(outcome(status));
            calls += 1;
        }
        if let Some(w) = judge(f.path, f.expect, &got, f.once) {
            wrong.push(w);
        }
    }
    println!(
        "authorisation matrix: {} server functions × {} roles = {calls} calls",
        fns.len(),
        ROLES.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    x.server.stop().await;
}
