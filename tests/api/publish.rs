//! A producer's backend publishing its own events (`POST /api/publish`, `publish`):
//! checked like pulso's own, delivered to the same rooms in the same envelope, once per
//! idempotency key, and never mixed with pulso's own writes of the same data.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

fn order(id: i64) -> Value {
    json!({
        "id": id, "client_id": 3, "status": "pending", "total": "25.00", "notes": null,
        "items": [{ "sku": "A-1", "quantity": 2, "unit_price": "12.50", "line_total": "25.00" }],
        "created_at": "2026-12-03T10:00:00Z", "updated_at": "2026-12-03T10:00:00Z",
    })
}

pub fn stock_low(sku: &str) -> Value {
    json!({
        "sku": sku, "name": "Beans", "quantity": 2, "threshold": 5, "item_id": 9,
        "source": "threshold",
    })
}

async fn relay_app() -> TestApp {
    spawn_app_with(|config| config.relay = true).await
}

pub async fn publish(app: &TestApp, body: Value) -> (u16, Value) {
    app.api_as(
        SERVICE_KEY,
        "backend",
        Method::POST,
        "/api/publish",
        Some(body),
    )
    .await
}

/// Every event in the log that `u1` may read, oldest first.
async fn logged(app: &TestApp) -> Vec<Value> {
    logged_for(app, "u1").await
}

async fn logged_for(app: &TestApp, user: &str) -> Vec<Value> {
    let (status, page) = app
        .api_as(ADMIN_KEY, user, Method::GET, "/api/events?limit=1000", None)
        .await;
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().expect("events").clone()
}

#[tokio::test]
async fn published_events_reach_the_rooms_pulsos_own_would_in_the_same_envelope() {
    let app = relay_app().await;
    let dashboard = app.socket(VIEWER_KEY, "v1").await;
    let follower = only_in(&app, "f1", &["order:7".to_owned()]).await;
    let shelf = only_in(&app, "f2", &["sku:A-1".to_owned()]).await;

    let (status, answer) =
        publish(&app, json!({ "type": "order_created", "data": order(7) })).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["replayed"], false);
    let sent = &answer["events"][0];
    for socket in [&dashboard, &follower] {
        let received = socket.event("order_created").await;
        assert_eq!(&received, sent);
    }
    assert_eq!(sent["data"], order(7));
    assert_eq!(sent["room"], "orders");
    assert_eq!(sent["user_id"], "backend", "the user the service names");

    let (status, answer) = publish(
        &app,
        json!({ "type": "stock_low", "data": stock_low("A-1") }),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    for socket in [&dashboard, &shelf] {
        let received = socket.event("stock_low").await;
        assert_eq!(received["room"], "alerts");
        assert_eq!(received["data"], stock_low("A-1"));
    }
    assert!(follower.received("stock_low").await.is_empty());

    // A notification goes to its user's inbox and tabs, with the unread count.
    let inbox = app.socket(VIEWER_KEY, "v9").await;
    inbox.event("unread_count").await;
    let (status, answer) = publish(
        &app,
        json!({ "type": "notification", "data": { "user_id": "v9", "subject": "Stock", "message": "Beans are low", "severity": "warning" } }),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        inbox.event("notification").await["data"]["message"],
        "Beans are low"
    );
    assert_eq!(inbox.event("unread_count").await["unread_count"], 1);
    let (_, list) = app
        .api_as(VIEWER_KEY, "v9", Method::GET, "/api/notifications", None)
        .await;
    assert_eq!(list["total"], 1, "{list}");

    // The log has them as pulso's own (the notification for its user only).
    let types: Vec<Value> = logged_for(&app, "v9")
        .await
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(
        types,
        [
            json!("order_created"),
            json!("stock_low"),
            json!("notification")
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_batch_is_published_whole_or_refused_whole_with_every_field_named() {
    let app = relay_app().await;
    let bad = json!({ "events": [
        { "type": "order_created", "data": order(1) },
        { "type": "order_updated", "data": { "id": -1, "client_id": 3, "status": "lost", "total": "1.005", "notes": null, "items": [], "created_at": "2026-12-03T10:00:00Z", "updated_at": "2026-12-03T10:00:00Z" } },
        { "type": "client_created", "data": { "id": 4, "name": " ", "email": null, "phone": null } },
    ] });
    let (status, answer) = publish(&app, bad).await;
    assert_eq!(status, 422, "{answer}");
    let fields = &answer["error"]["fields"];
    for (field, words) in [
        ("events[1].data.id", "must be an order id"),
        (
            "events[1].data.status",
            "must be one of pending, confirmed, shipped, delivered, cancelled",
        ),
        ("events[1].data.total", "must have at most 2 decimal places"),
        ("events[1].data.items", "must have 1-100 lines"),
        (
            "events[2].data.name",
            "must be 1-200 characters, not only blanks",
        ),
        ("events[2].data.created_at", "is required"),
    ] {
        assert_eq!(fields[field], words, "{field}: {answer}");
    }
    assert!(
        logged(&app).await.is_empty(),
        "nothing of a refused batch is logged"
    );

    // One event is named without `events[0].`.
    let (status, answer) =
        publish(&app, json!({ "type": "stock_low", "data": { "sku": "a b", "name": "Beans", "quantity": 1, "threshold": 2, "item_id": 1, "source": "threshold" } })).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["error"]["fields"]["data.sku"],
        "must be 1-64 letters, digits, - or _"
    );
    let (status, answer) = publish(&app, json!({ "type": "order_deleted", "data": {} })).await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"]["fields"]["type"]
            .as_str()
            .unwrap()
            .starts_with("must be one of")
    );

    let events: Vec<Value> = (1..=3)
        .map(|id| json!({ "type": "order_created", "data": order(id) }))
        .collect();
    let (status, answer) = publish(&app, json!({ "events": events })).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(logged(&app).await.len(), 3);
    let too_many: Vec<Value> = (1..=101)
        .map(|id| json!({ "type": "order_created", "data": order(id) }))
        .collect();
    let (status, answer) = publish(&app, json!({ "events": too_many })).await;
    assert_eq!(
        (status, &answer["error"]["fields"]["events"]),
        (422, &json!("must have 1-100 events"))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_retry_with_the_same_key_answers_the_first_result_and_sends_nothing() {
    let app = spawn_durable_app_with(|config| config.relay = true).await;
    let dashboard = app.socket(VIEWER_KEY, "v1").await;
    let body =
        json!({ "type": "order_created", "data": order(7), "idempotency_key": "order-7-created" });
    let (status, first) = publish(&app, body.clone()).await;
    assert_eq!(status, 201, "{first}");
    dashboard.event("order_created").await;

    let (status, again) = publish(&app, body.clone()).await;
    assert_eq!((status, &again["replayed"]), (200, &json!(true)), "{again}");
    assert_eq!(again["events"][0]["id"], first["events"][0]["id"]);
    assert_eq!(again["events"][0]["data"], first["events"][0]["data"]);

    // Another key is another publication; a marker after it shows nothing else came.
    let (status, _) = publish(
        &app,
        json!({ "type": "order_created", "data": order(8), "idempotency_key": "order-8" }),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(dashboard.event("order_created").await["data"]["id"], 8);
    assert!(dashboard.received("order_created").await.is_empty());

    // After a restart, and on another node sharing the database.
    let app = app.restart().await;
    let (status, after_restart) = publish(&app, body.clone()).await;
    assert_eq!(
        (status, &after_restart["events"][0]["id"]),
        (200, &first["events"][0]["id"])
    );
    let other_node = app.sibling().await;
    let (status, elsewhere) = publish(&other_node, body).await;
    assert_eq!(
        (status, &elsewhere["events"][0]["id"]),
        (200, &first["events"][0]["id"])
    );
    assert_eq!(
        logged(&app).await.len(),
        2,
        "two publications, each logged once"
    );
    other_node.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn catalogue_events_need_relay_mode_and_relay_mode_refuses_pulsos_own_writes() {
    let app = spawn_app().await;
    let (status, answer) =
        publish(&app, json!({ "type": "order_created", "data": order(7) })).await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PULSO_RELAY=true")
    );
    // Notifications are pulso's own in either mode.
    let (status, answer) = publish(
        &app,
        json!({ "type": "notification", "data": { "subject": "Hi", "message": "to all" } }),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    app.stop().await;

    let app = relay_app().await;
    let (status, answer) = app
        .api(Method::POST, "/api/clients", Some(json!({ "name": "Ana" })))
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{answer}"
    );
    let staff = app.socket(STAFF_KEY, "s1").await;
    staff
        .err(
            "order:create",
            json!({ "client_id": 1, "items": [] }),
            "conflict",
        )
        .await;
    let (status, page) = app.api(Method::GET, "/api/orders", None).await;
    assert_eq!(
        (status, &page["total"]),
        (200, &json!(0)),
        "reads answer, empty"
    );
    app.stop().await;
}

#[tokio::test]
async fn only_a_service_credential_publishes_over_rest_or_a_socket() {
    let app = relay_app().await;
    let body = json!({ "type": "order_created", "data": order(7) });
    for key in [ADMIN_KEY, STAFF_KEY, VIEWER_KEY] {
        let (status, answer) = app
            .api_as(key, "u1", Method::POST, "/api/publish", Some(body.clone()))
            .await;
        assert_eq!(status, 403, "{key}: {answer}");
    }
    let (status, _) = send(app.raw(Method::POST, "/api/publish").json(&body)).await;
    assert_eq!(status, 401);
    let staff = app.socket(STAFF_KEY, "s1").await;
    staff.err("publish", body.clone(), "forbidden").await;
    assert!(logged(&app).await.is_empty());

    let service = app.socket(SERVICE_KEY, "backend").await;
    let published = service.ok("publish", body).await;
    assert_eq!(published["replayed"], false);
    assert_eq!(published["events"][0]["user_id"], "backend");
    let err = service
        .err(
            "publish",
            json!({ "type": "stock_low", "data": {} }),
            "invalid",
        )
        .await;
    assert_eq!(err["fields"]["data.sku"], "is required");
    app.stop().await;
}

#[tokio::test]
async fn published_events_are_counted_by_type_and_outcome() {
    let app = spawn_binary_app(&[("PULSO_RELAY", "true")]).await;
    let body = json!({ "type": "order_created", "data": order(7), "idempotency_key": "k" });
    for _ in 0..2 {
        publish(&app, body.clone()).await;
    }
    publish(&app, json!({ "type": "stock_low", "data": {} })).await;
    let text = metrics(&app).await;
    for (labels, count) in [
        (r#"{type="order_created",outcome="published"}"#, 1.0),
        (r#"{type="order_created",outcome="replayed"}"#, 1.0),
        (r#"{type="stock_low",outcome="invalid"}"#, 1.0),
    ] {
        assert_eq!(
            series(&text, &format!("pulso_published_events_total{labels}")),
            count,
            "{labels}\n{text}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_key_reused_for_other_events_is_refused() {
    let app = relay_app().await;
    let first = json!({ "type": "order_created", "data": order(7), "idempotency_key": "k" });
    assert_eq!(publish(&app, first).await.0, 201);
    let other = json!({ "type": "order_created", "data": order(8), "idempotency_key": "k" });
    let (status, answer) = publish(&app, other).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        answer["error"]["fields"]["idempotency_key"],
        "was already used for other events"
    );
    assert_eq!(logged(&app).await.len(), 1);
    app.stop().await;
}

/// Two a second per credential: a third at once is refused (a token comes back only
/// after half a second), with when to retry.
#[tokio::test]
async fn a_producer_past_its_rate_is_told_when_to_retry() {
    let app = spawn_app_with(|config| {
        config.relay = true;
        config.publish_rate_limit = 2;
    })
    .await;
    let mut answers = Vec::new();
    for id in 1..=3 {
        answers.push(publish(&app, json!({ "type": "order_created", "data": order(id) })).await);
    }
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, [201, 201, 429], "{answers:?}");
    let refused = &answers[2].1["error"];
    assert_eq!(refused["code"], "rate_limited");
    assert!(
        refused["retry_after_ms"]
            .as_u64()
            .is_some_and(|ms| ms <= 500),
        "{refused}"
    );
    assert_eq!(logged(&app).await.len(), 2);
    app.stop().await;
}

/// Every type a producer may publish, each to its topic room, in one batch.
#[tokio::test]
async fn every_publishable_type_goes_to_its_topic() {
    let app = relay_app().await;
    let dashboard = app.socket(VIEWER_KEY, "v1").await;
    let client = json!({ "id": 4, "name": "Ana", "email": null, "phone": null, "created_at": "2026-12-03T10:00:00Z", "updated_at": "2026-12-03T10:00:00Z" });
    let item = json!({ "id": 9, "sku": "A-1", "name": "Beans", "quantity": 2, "low_stock_threshold": 5, "low_stock": true, "created_at": "2026-12-03T10:00:00Z", "updated_at": "2026-12-03T10:00:00Z" });
    let change = json!({ "order_id": 7, "from": "pending", "to": "confirmed", "order": order(7) });
    let cases = [
        ("order_created", order(7), "orders"),
        ("order_updated", order(7), "orders"),
        ("order_status_changed", change, "orders"),
        ("client_created", client.clone(), "clients"),
        ("client_updated", client, "clients"),
        ("inventory_updated", item, "inventory"),
        ("stock_low", stock_low("A-1"), "alerts"),
        (
            "notification",
            json!({ "subject": "Hi", "message": "All of you" }),
            "everyone",
        ),
    ];
    let events: Vec<Value> = cases
        .iter()
        .map(|(kind, data, _)| json!({ "type": kind, "data": data }))
        .collect();
    let (status, answer) = publish(&app, json!({ "events": events })).await;
    assert_eq!(status, 201, "{answer}");
    for (kind, data, room) in cases {
        let received = dashboard.event(kind).await;
        assert_eq!(received["room"], room, "{kind}");
        if kind != "notification" {
            assert_eq!(received["data"], data, "{kind}");
        }
    }
    app.stop().await;
}

/// Retries racing each other (a producer's timeouts firing together, on two nodes):
/// one publication, and every answer names its events.
#[tokio::test]
async fn concurrent_retries_with_one_key_publish_once() {
    let app = spawn_durable_app_with(|config| config.relay = true).await;
    let other_node = app.sibling().await;
    let body = json!({ "type": "order_created", "data": order(7), "idempotency_key": "race" });
    let answers = futures_util::future::join_all((0..6).map(|i| {
        let node = if i % 2 == 0 { &app } else { &other_node };
        publish(node, body.clone())
    }))
    .await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    for (status, answer) in &answers {
        assert!([200, 201].contains(status), "{answer}");
        assert_eq!(answer["events"][0]["id"], answers[0].1["events"][0]["id"]);
    }
    assert_eq!(logged(&app).await.len(), 1);
    other_node.stop().await;
    app.stop().await;
}
