//! Operating the socket layer: live stats, test broadcasts (refused in production),
//! Prometheus metrics and request ids.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn stats_show_connections_rooms_and_counters_that_move() {
    let app = spawn_app().await;
    let vic = app.socket(VIEWER_KEY, "vic").await;
    let ana = [
        app.socket(STAFF_KEY, "ana").await,
        app.socket(STAFF_KEY, "ana").await,
    ];
    assert_eq!(vic.event("user_connected").await["user_id"], "ana");
    // The last thing each socket is sent on connect: after it, nothing is in flight.
    for socket in ana.iter().chain([&vic]) {
        socket.event("unread_count").await;
    }

    let (status, body) = app.api(Method::GET, "/ws/stats", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert!(body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    let stats = &body["stats"];
    assert_eq!(stats["total_connections"], 3);
    assert_eq!(stats["unique_users"], 2);
    assert_eq!(
        stats["connections_by_role"],
        json!({ "staff": 2, "viewer": 1 })
    );
    assert_eq!(stats["rooms"]["user:ana"], 2);
    assert_eq!(stats["rooms"]["orders"], 3);
    assert_eq!(stats["rooms"]["role:viewer"], 1);
    assert_eq!(stats["heartbeat_interval"], 30_000);
    let before = stats["metrics"].clone();

    let (status, _) = app
        .api(
            Method::POST,
            "/api/clients",
            Some(json!({ "name": "Counted" })),
        )
        .await;
    assert_eq!(status, 201);
    for socket in ana.iter().chain([&vic]) {
        socket.event("client_created").await;
    }
    let (_, body) = app.api(Method::GET, "/ws/stats", None).await;
    let after = &body["stats"]["metrics"];
    let moved = |name: &str| after[name].as_u64().unwrap() - before[name].as_u64().unwrap();
    assert_eq!(moved("total_broadcasts"), 1, "{before} → {after}");
    assert_eq!(moved("total_messages_sent"), 3, "{before} → {after}");
    assert_eq!(moved("total_send_errors"), 0);
    assert!(
        after["last_broadcast_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let (status, body) = app
        .api_as(STAFF_KEY, "ana", Method::GET, "/ws/stats", None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("forbidden"))
    );
    for socket in ana.into_iter().chain([vic]) {
        socket.disconnect().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn test_broadcasts_reach_everyone_outside_production() {
    let app = spawn_app().await;
    let ana = app.socket(STAFF_KEY, "ana").await;
    let vic = app.socket(VIEWER_KEY, "vic").await;

    let (status, report) = app
        .api(
            Method::POST,
            "/ws/_test/broadcast",
            Some(json!({ "title": "Hello", "content": "World", "level": "warning" })),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["status"], "ok");
    assert_eq!(report["sent"], 2);
    assert!(report["metrics"]["total_broadcasts"].as_u64().unwrap() >= 1);
    for socket in [&ana, &vic] {
        let data = socket.event("notification").await["data"].clone();
        assert_eq!(data["type"], "test_broadcast");
        assert_eq!(data["subject"], "Hello");
        assert_eq!(data["message"], "World");
        assert_eq!(data["severity"], "warning");
        assert_eq!(data["read"], false);
    }

    let admin = app.socket(ADMIN_KEY, "boss").await;
    let report = admin.ok("admin:test_broadcast", json!({})).await;
    assert_eq!(report["sent"], 3);
    assert_eq!(
        ana.event("notification").await["data"]["subject"],
        "Test broadcast",
        "title defaults"
    );

    ana.err("admin:test_broadcast", json!({}), "forbidden")
        .await;
    let (status, body) = app
        .api_as(
            STAFF_KEY,
            "ana",
            Method::POST,
            "/ws/_test/broadcast",
            Some(json!({})),
        )
        .await;
    assert_eq!((status, body["status"].clone()), (403, json!("forbidden")));
    let (status, body) = app
        .api(
            Method::POST,
            "/ws/_test/broadcast",
            Some(json!({ "level": "loud" })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["level"].is_string());
    for socket in [ana, vic, admin] {
        socket.disconnect().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn production_refuses_test_broadcasts_and_sends_nothing() {
    let app = spawn_production_app().await;
    let admin = app.socket(PRODUCTION_ADMIN_KEY, "boss").await;

    let (status, body) = app
        .api_as(
            PRODUCTION_ADMIN_KEY,
            "boss",
            Method::POST,
            "/ws/_test/broadcast",
            Some(json!({ "title": "t", "content": "c", "level": "info" })),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["status"], "forbidden");
    let error = admin
        .err("admin:test_broadcast", json!({}), "forbidden")
        .await;
    assert!(error["message"].as_str().unwrap().contains("production"));

    let (_, inbox) = app
        .api_as(
            PRODUCTION_ADMIN_KEY,
            "boss",
            Method::GET,
            "/api/notifications",
            None,
        )
        .await;
    assert_eq!(inbox["total"], 0, "nothing persisted");
    // A real notification arrives first: no test broadcast went out before it.
    admin
        .ok(
            "notification:send",
            json!({ "user_id": null, "subject": "real", "message": "m" }),
        )
        .await;
    assert_eq!(admin.event("notification").await["data"]["subject"], "real");
    assert!(admin.received("notification").await.is_empty());
    admin.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn metrics_move_with_connections_commands_and_emits() {
    // Metrics are process-wide and tests run in parallel: assert growth, not values.
    const CONNECTS: &str = "pulso_connects_total";
    const DISCONNECTS: &str = "pulso_disconnects_total";
    const FORBIDDEN: &str = r#"pulso_commands_total{command="order:create",outcome="forbidden"}"#;
    const UNKNOWN: &str = r#"pulso_commands_total{command="unknown",outcome="invalid"}"#;
    const GREETINGS: &str = r#"pulso_events_emitted_total{type="connection_established"}"#;
    let app = spawn_app().await;
    let before = metrics(&app).await;

    let viewer = app.socket(VIEWER_KEY, "vic").await;
    let order =
        json!({ "client_id": 1, "items": [{ "sku": "A-1", "quantity": 1, "unit_price": "1.00" }] });
    viewer.err("order:create", order, "forbidden").await;
    viewer.err("no-such-command", json!({}), "invalid").await;
    let after = metrics(&app).await;
    for name in [CONNECTS, FORBIDDEN, UNKNOWN, GREETINGS] {
        assert!(
            series(&after, name) >= series(&before, name) + 1.0,
            "{name} did not move:\n{after}"
        );
    }
    assert!(after.contains("# TYPE pulso_connections gauge"), "{after}");
    assert!(after.contains("# TYPE pulso_command_duration_seconds histogram"));
    assert!(
        after.contains(
            r#"pulso_command_duration_seconds_bucket{command="order:create",le="0.001"}"#
        )
    );
    assert!(
        !after.contains("no-such-command"),
        "client text never becomes a label"
    );

    viewer.disconnect().await;
    eventually("counted disconnect", WAIT, || async {
        let now = series(&metrics(&app).await, DISCONNECTS);
        (now >= series(&before, DISCONNECTS) + 1.0).then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn every_http_response_carries_a_request_id() {
    let app = spawn_app().await;
    let response = app
        .raw(Method::GET, "/health")
        .header("x-request-id", "req-from-caller")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-from-caller");
    let response = app.raw(Method::GET, "/api/nope").send().await.unwrap();
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    app.stop().await;
}
