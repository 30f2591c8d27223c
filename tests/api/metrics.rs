//! What the server counts when it refuses or fails, read as exact numbers from a server
//! in its own process: metrics are process-wide, and the other api tests' servers share
//! this one.

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;

use crate::helpers::*;

/// One series of the server's `/metrics` (0 when absent).
async fn count(app: &TestApp, name: &str) -> f64 {
    series(&metrics(app).await, name)
}

/// Every refused command is counted in `pulso_rate_limited_total`, and the socket
/// closed for flooding in `pulso_flood_disconnects_total`.
#[tokio::test]
async fn rate_limit_refusals_and_flood_disconnects_are_counted() {
    let app = spawn_binary_app(&[("PULSO_RATE_LIMIT", "1"), ("PULSO_RATE_BURST", "3")]).await;
    let flooder = app.socket(STAFF_KEY, "flood").await;
    let mut refused = 0;
    for _ in 0..100 {
        let reply = flooder.ack("get_unread_count", json!({})).await;
        if reply["ok"] == true {
            continue;
        }
        assert_eq!(reply["error"]["code"], "rate_limited", "{reply}");
        refused += 1;
        if reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disconnecting")
        {
            break;
        }
    }
    flooder.event("close").await;
    assert!(refused >= 3, "{refused}");
    assert_eq!(
        count(&app, "pulso_rate_limited_total").await,
        f64::from(refused)
    );
    assert_eq!(count(&app, "pulso_flood_disconnects_total").await, 1.0);
    app.stop().await;
}

/// Each refused handshake is counted once, under its reason.
#[tokio::test]
async fn refused_connections_are_counted_by_reason() {
    let app = spawn_binary_app(&[
        ("PULSO_MAX_CONNECTIONS", "2"),
        ("PULSO_MAX_CONNECTIONS_PER_USER", "1"),
    ])
    .await;
    let refused = |auth: serde_json::Value| {
        let app = &app;
        async move {
            let answer = raw_connect(app, "", auth).await;
            assert!(answer.starts_with("44"), "{answer}");
        }
    };
    refused(json!({ "api_key": "no-such-key", "user_id": "ana" })).await;
    refused(json!({ "api_key": STAFF_KEY, "user_id": "ana", "rooms": ["everyone"] })).await;
    let ana = app.socket(STAFF_KEY, "ana").await;
    refused(json!({ "api_key": STAFF_KEY, "user_id": "ana" })).await;
    let bob = app.socket(STAFF_KEY, "bob").await;
    refused(json!({ "api_key": STAFF_KEY, "user_id": "cy" })).await;

    let text = metrics(&app).await;
    for reason in ["unauthorized", "invalid", "user_full", "node_full"] {
        let name = format!("pulso_connects_refused_total{{reason=\"{reason}\"}}");
        assert_eq!(series(&text, &name), 1.0, "{reason}:\n{text}");
    }
    assert_eq!(series(&text, "pulso_connects_refused_total"), 4.0);
    ana.disconnect().await;
    bob.disconnect().await;
    app.stop().await;
}

/// Sends a notification to `user`.
async fn notify(app: &TestApp, user: &str) {
    let body = json!({ "user_id": user, "subject": "big", "message": "m".repeat(5000) });
    let (status, _) = app
        .api(Method::POST, "/api/notifications", Some(body))
        .await;
    assert_eq!(status, 201);
}

/// Once a client that stopped reading has a full queue, every emit to it is dropped and
/// counted in `pulso_send_errors_total`, as `/ws/stats` counts it.
#[tokio::test]
async fn drops_to_a_client_that_stopped_reading_are_counted() {
    const SEND_ERRORS: &str = "pulso_send_errors_total";
    let app = spawn_binary_app(&[
        ("PULSO_MAX_BUFFER_PACKETS", "8"),
        // Long enough that the heartbeat does not end the stalled client first.
        ("PULSO_PING_INTERVAL_MS", "60000"),
        ("PULSO_PING_TIMEOUT_MS", "60000"),
    ])
    .await;
    // User `raw`, joined, then never read again.
    let stalled = RawSocket::connected(&app).await;
    let full = eventually(
        "a full queue",
        std::time::Duration::from_secs(60),
        || async {
            notify(&app, "raw").await;
            let dropped = count(&app, SEND_ERRORS).await;
            (dropped > 0.0).then_some(dropped)
        },
    )
    .await;
    for _ in 0..10 {
        notify(&app, "raw").await;
    }
    // Each notification sends `notification`, then the new `unread_count`: both dropped.
    assert_eq!(count(&app, SEND_ERRORS).await, full + 20.0);
    let (_, stats) = app.api(Method::GET, "/ws/stats", None).await;
    assert_eq!(stats["stats"]["metrics"]["total_send_errors"], full + 20.0);
    drop(stalled);
    app.stop().await;
}

/// A database error that fails a request is counted in `pulso_db_errors_total`, once per
/// request; refusals (a conflict) are not.
#[tokio::test]
async fn database_errors_are_counted() {
    const DB_ERRORS: &str = "pulso_db_errors_total";
    let app = spawn_binary_app(&[]).await;
    let create = |name: &str| app.api(Method::POST, "/api/clients", Some(json!({ "name": name })));
    assert_eq!(create("before").await.0, 201);
    // The same SKU twice: the second is a conflict, not a database error.
    let item = json!({ "sku": "A-1", "name": "a" });
    for expected in [201, 409] {
        let (status, _) = app
            .api(Method::POST, "/api/inventory", Some(item.clone()))
            .await;
        assert_eq!(status, expected);
    }
    assert_eq!(count(&app, DB_ERRORS).await, 0.0);

    // The fault: the clients table goes away under the running server.
    let db = Database::connect(app.database_url())
        .await
        .expect("database opens");
    let rename = |from: &str, to: &str| {
        let sql = format!("ALTER TABLE {from} RENAME TO {to}");
        let db = &db;
        async move { db.execute_unprepared(&sql).await.expect("table renamed") }
    };
    rename("clients", "clients_gone").await;
    for n in 0..3 {
        let (status, body) = create(&format!("lost {n}")).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (500, &json!("internal")),
            "{body}"
        );
    }
    assert_eq!(count(&app, DB_ERRORS).await, 3.0);
    rename("clients_gone", "clients").await;
    db.close().await.expect("database closes");
    assert_eq!(create("after").await.0, 201);
    assert_eq!(count(&app, DB_ERRORS).await, 3.0);
    app.stop().await;
}
