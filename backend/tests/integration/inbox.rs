//! The durable inbox: a delivery accepted (committed) but not yet processed when Wharf stops
//! is processed after the restart, once; the processing transaction starts the execution and
//! records Activity together.

use crate::support::*;
use backend::access::tokens;
use backend::platform::db::{connect_and_migrate, DbConfig};
use backend::platform::secrets::Sealer;
use backend::project::endpoints::{self, EndpointInput};
use backend::project::pipelines;
use backend::runs::executions;
use backend::triggers::cards;
use backend::triggers::inbox::{self, Inbox, Source};
use backend::{live, Backend, SystemClock};
use chrono::Timelike;
use domain::endpoints::RegistryServerType;
use domain::executions::RunStatus;
use domain::webhooks::{ActivityFilter, ActivityStatus, WebhookForm};
use std::sync::Arc;

fn deploy() -> String {
    testkit::pipeline!("inbox-deploy")
}

async fn reopen(dir: &std::path::Path) -> Backend {
    let db = connect_and_migrate(&DbConfig {
        url: testkit::database::url(dir),
        max_connections: 4,
        instance: String::new(),
    })
    .await
    .unwrap();
    let key = backend::platform::keys::MasterKey::load_or_create(&dir.join("wharf.key")).unwrap();
    Backend::new(db, Arc::new(SystemClock), Arc::new(Sealer::new(&key)))
}

/// Pipeline `deploy` and Docker webhook `web` (image `acme/web`) that runs it.
async fn deploy_card(w: &World) -> (i64, domain::webhooks::WebhookCard) {
    let b = &w.backend;
    let p = pipelines::create(b, w.root, w.project, &deploy())
        .await
        .unwrap();
    let e = endpoints::create(
        b,
        w.root,
        w.project,
        EndpointInput::registry(
            "local",
            RegistryServerType::DockerRegistry,
            "http://127.0.0.1:1",
            "",
            None,
        ),
    )
    .await
    .unwrap();
    let t = tokens::issue(b, "root@example.com", PW, "webhook", "test")
        .await
        .unwrap();
    let card = cards::create(
        b,
        w.root,
        w.project,
        WebhookForm {
            name: "web".into(),
            endpoint_id: e.id,
            pipeline_id: p.id,
            api_token: t.token,
            image: "acme/web".into(),
            enabled: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (p.id, card)
}

/// A distribution notification of a push of `acme/web:{tag}`.
fn push(tag: &str) -> Vec<u8> {
    format!(
        r#"{{"events": [{{"id": "e-{tag}", "action": "push", "actor": {{"name": "ci"}},
        "request": {{"host": "127.0.0.1:5000"}},
        "target": {{"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "acme/web",
                   "tag": "{tag}", "digest": "sha256:{:0>64}"}}}}]}}"#,
        tag.replace('.', "")
    )
    .into_bytes()
}

#[tokio::test]
async fn the_dashboard_counts_executions_by_day_and_week_and_names_webhooks_whose_last_event_failed(
) {
    let clock = Arc::new(backend::ManualClock::new(chrono::Utc::now()));
    let w = world_with(clock.clone()).await;
    let b = &w.backend;
    let (pipeline, card) = deploy_card(&w).await;
    let inbox = Inbox::start(b.clone());
    let deliver = |tag: &'static str| {
        let inbox = inbox.clone();
        async move {
            let body = push(tag);
            let (source, events) = inbox::read_registry(&body).unwrap();
            inbox
                .accept(b, card.id, source, &body, &events)
                .await
                .unwrap();
            inbox::process_pending(b).await.unwrap();
        }
    };
    deliver("1.0").await;
    clock.advance(chrono::Duration::days(3));
    deliver("1.1").await;

    let d = live::dashboard(b, w.viewer, w.project).await.unwrap();
    assert_eq!(d.project_name, "web");
    assert_eq!((d.day.total(), d.week.total()), (1, 2));
    assert_eq!(d.week.of(RunStatus::Queued), 2);
    assert_eq!(d.day.of(RunStatus::Failed), 0);
    assert_eq!(d.latest.rows.len(), 2);
    assert_eq!(
        d.latest.rows[0].started_by,
        "Docker webhook web · 127.0.0.1:5000/acme/web:1.1"
    );
    assert_eq!(d.activity.len(), 2);
    assert!(d.failing.is_empty(), "both events started an execution");

    // the pipeline is disabled: the next push starts nothing, and the webhook shows as failing
    pipelines::set_enabled(b, w.root, w.project, pipeline, false)
        .await
        .unwrap();
    deliver("1.2").await;
    let d = live::dashboard(b, w.member, w.project).await.unwrap();
    assert_eq!(d.failing.len(), 1);
    assert_eq!(d.failing[0].name, "web");
    assert_eq!(d.failing[0].last.status, ActivityStatus::Failed);
    assert!(!d.failing[0].reason.is_empty());
    assert_eq!(d.activity[0].tag.as_deref(), Some("1.2"));

    // enabled again, the next push goes through: no longer failing
    pipelines::set_enabled(b, w.root, w.project, pipeline, true)
        .await
        .unwrap();
    deliver("1.3").await;
    assert!(live::dashboard(b, w.root, w.project)
        .await
        .unwrap()
        .failing
        .is_empty());

    // a week later the day is empty, the week holds the two newest; the counts follow statuses
    clock.advance(chrono::Duration::days(5));
    let d = live::dashboard(b, w.root, w.project).await.unwrap();
    assert_eq!((d.day.total(), d.week.total()), (0, 2));

    // someone outside the project sees no dashboard of it
    let other = backend::access::projects::create(b, w.root, "other", "")
        .await
        .unwrap();
    assert!(live::dashboard(b, w.viewer, other.id).await.is_err());
}

/// The inbox's writer (on SQLite a thread with its own connection, on PostgreSQL the pool)
/// stores a delivery exactly as the pool stores any row: the processor and Activity read it,
/// and its time compares with times the pool wrote.
#[tokio::test]
async fn a_stored_delivery_reads_back_as_a_row_the_pool_wrote() {
    use backend::platform::entities::webhook_deliveries as deliveries;
    use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, Statement};
    let at = chrono::Utc::now().with_nanosecond(123_456_000).unwrap();
    let w = world_with(Arc::new(backend::ManualClock::new(at))).await;
    let b = &w.backend;
    let (_, card) = deploy_card(&w).await;
    // a crafted member rides along: stored as sent, bound as a value, never read as SQL
    let mut body = push("2.0");
    body.truncate(body.iter().rposition(|c| *c == b'}').unwrap());
    body.extend_from_slice(
        br#", "note": "'); DROP TABLE webhook_deliveries; -- \u0000 <script>\"x\"</script> \u00e9t\u00e9"}"#,
    );
    let (source, events) = inbox::read_registry(&body).unwrap();
    Inbox::start(b.clone())
        .accept(b, card.id, source, &body, &events)
        .await
        .unwrap();
    let stored = deliveries::Entity::find().all(&b.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    let d = &stored[0];
    assert_eq!(
        (
            d.webhook_id,
            d.received_at,
            d.source.as_str(),
            d.payload.as_bytes()
        ),
        (card.id, at, "distribution", body.as_slice())
    );
    assert_eq!(
        serde_json::from_str::<Vec<domain::registry_events::PushEvent>>(&d.events).unwrap(),
        events
    );
    assert_eq!(
        (d.processed, d.attempts, d.next_attempt_at),
        (false, 0, None)
    );

    // the same instant written through the pool: the same stored text
    let mut twin: deliveries::ActiveModel = d.clone().into();
    twin.id = sea_orm::ActiveValue::NotSet;
    twin.processed = Set(true);
    let twin = twin.insert(&b.db).await.unwrap();
    let text = |id: i64| {
        let db = b.db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    db.get_database_backend(),
                    match db.get_database_backend() {
                        sea_orm::DbBackend::Postgres => "SELECT CAST(received_at AS TEXT) AS t FROM webhook_deliveries WHERE id = $1",
                        _ => "SELECT CAST(received_at AS TEXT) AS t FROM webhook_deliveries WHERE id = ?",
                    },
                    [id.into()],
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<String>("", "t").unwrap()
        }
    };
    assert_eq!(text(d.id).await, text(twin.id).await);
    assert_eq!(inbox::process_pending(b).await.unwrap(), 1);
    let page = inbox::list(b, w.root, w.project, &ActivityFilter::default())
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].status, ActivityStatus::Triggered);
}

#[tokio::test]
async fn an_event_accepted_before_a_restart_triggers_exactly_once_after_it() {
    let w = world().await;
    let b = &w.backend;
    let (_, card) = deploy_card(&w).await;
    let body = br#"{"events": [{"id": "e-1", "action": "push", "actor": {"name": "ci"},
        "request": {"host": "127.0.0.1:5000"},
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "acme/web",
                   "tag": "1.0", "digest": "sha256:00000000000000000000000000000000000000000000000000000000000000ab"}}]}"#;
    let (source, events) = inbox::read_registry(body).unwrap();
    assert_eq!(source, Source::Distribution);
    // accepted: committed before the answer; the processor never ran
    Inbox::start(b.clone())
        .accept(b, card.id, source, body, &events)
        .await
        .unwrap();
    b.db.clone().close().await.unwrap();
    drop(w.backend);

    // Wharf starts again on the same database
    let b = reopen(w.dir.path()).await;
    assert_eq!(inbox::process_pending(&b).await.unwrap(), 1);
    assert_eq!(
        inbox::process_pending(&b).await.unwrap(),
        0,
        "processed once"
    );
    let (runs, total) = executions::list(&b, w.root, w.project, None, 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(runs[0].trigger, "docker");
    let page = inbox::list(&b, w.root, w.project, &ActivityFilter::default())
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].status, ActivityStatus::Triggered);
    assert_eq!(page.rows[0].image, "127.0.0.1:5000/acme/web:1.0");
    assert_eq!(page.rows[0].execution_id, Some(runs[0].id));

    // the registry, not having seen the answer, sends it again: a duplicate
    Inbox::start(b.clone())
        .accept(&b, card.id, source, body, &events)
        .await
        .unwrap();
    assert_eq!(inbox::process_pending(&b).await.unwrap(), 1);
    let page = inbox::list(&b, w.root, w.project, &ActivityFilter::default())
        .await
        .unwrap();
    assert_eq!(page.rows[0].status, ActivityStatus::Duplicate);
    let (_, total) = executions::list(&b, w.root, w.project, None, 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 1);
    // a viewer sees Activity but cannot resubmit
    assert!(inbox::resubmit(&b, w.viewer, w.project, page.rows[1].id)
        .await
        .is_err());
}

#[test]
fn callbacks_go_over_https_to_allowed_hosts_only() {
    let allowed = vec!["registry.hub.docker.com".to_owned()];
    assert_eq!(
        inbox::callback_refusal("https://registry.hub.docker.com/u/a/b/hook/1/", &allowed),
        None
    );
    assert!(
        inbox::callback_refusal("http://registry.hub.docker.com/x", &allowed)
            .unwrap()
            .contains("https only")
    );
    assert!(
        inbox::callback_refusal("https://169.254.169.254/latest", &allowed)
            .unwrap()
            .contains("allow-list")
    );
    assert!(
        inbox::callback_refusal("https://registry.hub.docker.com.evil.test/", &allowed).is_some()
    );
    assert!(inbox::callback_refusal("not a url", &allowed).is_some());
}

#[tokio::test]
async fn a_hundred_callbacks_of_running_executions_do_not_hold_back_one_that_is_due() {
    use backend::platform::entities::{executions as runs, webhook_activity as activity};
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    let w = world().await;
    let b = &w.backend;
    let (_, card) = deploy_card(&w).await;
    let inbox = Inbox::start(b.clone());
    for tag in ["1.0", "1.1"] {
        let body = push(tag);
        let (source, events) = inbox::read_registry(&body).unwrap();
        inbox
            .accept(b, card.id, source, &body, &events)
            .await
            .unwrap();
    }
    inbox::process_pending(b).await.unwrap();
    let rows = activity::Entity::find().all(&b.db).await.unwrap();
    let (running, ended) = (rows[0].clone(), rows[1].clone());
    // the second push's execution has ended; the first one's is still queued
    let mut done: runs::ActiveModel = runs::Entity::find_by_id(ended.execution_id.unwrap())
        .one(&b.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    done.status = Set(domain::executions::RunStatus::Completed);
    done.update(&b.db).await.unwrap();
    // 100 callbacks wait for the running execution, older than the one that is due
    for _ in 0..100 {
        let mut copy: activity::ActiveModel = running.clone().into();
        copy.id = sea_orm::ActiveValue::NotSet;
        copy.callback_state = Set(Some(domain::webhooks::CallbackState::Pending));
        copy.callback_url = Set(Some(
            "https://registry.hub.docker.com/u/acme/web/hook/1/".to_owned(),
        ));
        copy.insert(&b.db).await.unwrap();
    }
    let mut due: activity::ActiveModel = ended.into();
    due.callback_state = Set(Some(domain::webhooks::CallbackState::Pending));
    due.callback_url = Set(Some("http://not-allowed.example/".to_owned()));
    let due = due.update(&b.db).await.unwrap();
    let client = reqwest::Client::new();
    assert_eq!(inbox::send_due_callbacks(b, &client).await.unwrap(), 1);
    let after = activity::Entity::find_by_id(due.id)
        .one(&b.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.callback_state,
        Some(domain::webhooks::CallbackState::Failed),
        "settled (refused: not https)"
    );
    let still = activity::Entity::find()
        .filter(activity::Column::CallbackState.eq(domain::webhooks::CallbackState::Pending))
        .all(&b.db)
        .await
        .unwrap();
    assert_eq!(still.len(), 100);
}

#[tokio::test]
async fn a_batch_of_a_thousand_events_is_looked_up_in_chunks_and_triggers_each_once() {
    use domain::webhooks::ActivityStatus;
    let w = world().await;
    let b = &w.backend;
    let (_, card) = deploy_card(&w).await;
    let inbox = Inbox::start(b.clone());
    // ten deliveries of the most events one may carry: 2,000 keys to look up in one batch
    let envelope = |round: usize| {
        let events: Vec<serde_json::Value> = (0..inbox::MAX_EVENTS_PER_DELIVERY)
            .map(|i| {
                serde_json::json!({"id": format!("e-{round}-{i}"), "action": "push", "actor": {"name": "ci"},
                    "request": {"host": "127.0.0.1:5000"},
                    "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "acme/web",
                               "tag": format!("v{round}.{i}"), "digest": format!("sha256:{:064x}", round * 1000 + i)}})
            })
            .collect();
        serde_json::json!({ "events": events })
            .to_string()
            .into_bytes()
    };
    for resend in [false, true] {
        for round in 0..10 {
            let body = envelope(round);
            let (source, events) = inbox::read_registry(&body).unwrap();
            assert_eq!(events.len(), 100);
            inbox
                .accept(b, card.id, source, &body, &events)
                .await
                .unwrap();
        }
        inbox::process_pending(b).await.unwrap();
        let want = if resend {
            ActivityStatus::Duplicate
        } else {
            ActivityStatus::Triggered
        };
        let n = {
            use backend::platform::entities::webhook_activity as activity;
            use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
            activity::Entity::find()
                .filter(activity::Column::Status.eq(want.as_str()))
                .count(&b.db)
                .await
                .unwrap()
        };
        assert_eq!(n, 1000, "{want:?}");
    }
}

#[tokio::test]
async fn a_poison_delivery_between_two_good_ones_is_set_aside_and_holds_nothing_back() {
    use backend::platform::entities::{
        webhook_activity as activity, webhook_deliveries as deliveries,
    };
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    let clock = Arc::new(backend::ManualClock::new(chrono::Utc::now()));
    let w = world_with(clock.clone()).await;
    let b = &w.backend;
    let (_, card) = deploy_card(&w).await;
    let inbox = Inbox::start(b.clone());
    let deliver = |tag: &'static str| {
        let inbox = inbox.clone();
        async move {
            let body = push(tag);
            let (source, events) = inbox::read_registry(&body).unwrap();
            inbox
                .accept(b, card.id, source, &body, &events)
                .await
                .unwrap();
        }
    };
    deliver("1.0").await;
    // a delivery whose stored events cannot be read (a damaged row)
    let poison = deliveries::ActiveModel {
        webhook_id: Set(card.id),
        received_at: Set(backend::Clock::now(clock.as_ref())),
        source: Set("distribution".to_owned()),
        payload: Set("{}".to_owned()),
        events: Set(r#"[{"not": an event"#.to_owned()),
        processed: Set(false),
        ..Default::default()
    }
    .insert(&b.db)
    .await
    .unwrap();
    deliver("1.1").await;

    inbox::process_pending(b).await.unwrap();
    let triggered = |tag: &'static str| {
        let db = b.db.clone();
        async move {
            activity::Entity::find()
                .filter(activity::Column::Tag.eq(tag))
                .filter(activity::Column::Status.eq("TRIGGERED"))
                .one(&db)
                .await
                .unwrap()
                .is_some()
        }
    };
    assert!(
        triggered("1.0").await && triggered("1.1").await,
        "both good ones triggered"
    );
    // the poison one is tried again later, backing off, then set aside
    for _ in 0..inbox::MAX_ATTEMPTS {
        clock.advance(chrono::Duration::seconds(10));
        inbox::process_pending(b).await.unwrap();
    }
    let d = deliveries::Entity::find_by_id(poison.id)
        .one(&b.db)
        .await
        .unwrap()
        .unwrap();
    assert!(d.processed);
    assert_eq!(d.attempts, inbox::MAX_ATTEMPTS);
    let row = activity::Entity::find()
        .filter(activity::Column::DeliveryId.eq(poison.id))
        .one(&b.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, domain::webhooks::ActivityStatus::Failed);
    assert!(
        row.message
            .starts_with("Failed to process after 3 attempts: the stored events of delivery"),
        "{}",
        row.message
    );
    assert_eq!(
        inbox::process_pending(b).await.unwrap(),
        0,
        "nothing left pending"
    );
    // Resubmit of what cannot be read says so (no 500)
    let e = inbox::resubmit(b, w.root, w.project, row.id)
        .await
        .unwrap_err();
    assert!(matches!(e, backend::Error::Conflict(_)), "{e:?}");
}

#[tokio::test]
async fn one_delivery_starts_at_most_a_hundred_executions_and_says_so_for_the_rest() {
    use backend::platform::entities::webhook_activity as activity;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let w = world().await;
    let b = &w.backend;
    let (pipeline, card) = deploy_card(&w).await;
    // a second card on the same endpoint and image: each push matches both
    let t = tokens::issue(b, "root@example.com", PW, "second", "test")
        .await
        .unwrap();
    cards::create(
        b,
        w.root,
        w.project,
        WebhookForm {
            name: "web-2".into(),
            endpoint_id: card.endpoint_id,
            pipeline_id: pipeline,
            api_token: t.token,
            image: "acme/web".into(),
            enabled: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let events: Vec<serde_json::Value> = (0..inbox::MAX_EVENTS_PER_DELIVERY)
        .map(|i| {
            serde_json::json!({"id": format!("e{i}"), "action": "push", "actor": {"name": "ci"},
                "request": {"host": "127.0.0.1:5000"},
                "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "acme/web",
                           "tag": format!("v{i}"), "digest": format!("sha256:{i:064x}")}})
        })
        .collect();
    let body = serde_json::json!({ "events": events })
        .to_string()
        .into_bytes();
    let (source, read) = inbox::read_registry(&body).unwrap();
    let inbox = Inbox::start(b.clone());
    inbox
        .accept(b, card.id, source, &body, &read)
        .await
        .unwrap();
    inbox::process_pending(b).await.unwrap();
    let count = |status: &'static str| {
        let db = b.db.clone();
        async move {
            activity::Entity::find()
                .filter(activity::Column::Status.eq(status))
                .count(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("TRIGGERED").await, 100);
    assert_eq!(count("SKIPPED").await, 100);
    let skipped = activity::Entity::find()
        .filter(activity::Column::Status.eq("SKIPPED"))
        .one(&b.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        skipped.message,
        "Not started: limit of 100 executions per delivery."
    );
}
