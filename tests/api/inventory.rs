//! Inventory over sockets: create, set, move by delta, thresholds, stock-low alerts.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn inventory_update_creates_sets_and_moves_stock_for_every_dashboard() {
    let app = spawn_app().await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let viewer = app.socket(VIEWER_KEY, "v1").await;
    viewer.event("connection_established").await;

    let created = staff
        .ok(
            "inventory:update",
            json!({ "sku": "INV-1", "name": "Pears", "quantity": 20, "threshold": 5 }),
        )
        .await;
    assert_eq!(created["quantity"], 20);
    assert_eq!(created["low_stock_threshold"], 5);
    let seen = viewer.event("inventory_updated").await;
    assert_eq!(seen["type"], "inventory_updated");
    assert_eq!(seen["room"], "inventory");
    assert_eq!(seen["user_id"], "s1");
    assert_eq!(seen["data"]["sku"], "INV-1");

    let set = staff
        .ok(
            "inventory:update",
            json!({ "sku": "INV-1", "quantity": 12 }),
        )
        .await;
    assert_eq!(set["quantity"], 12);
    let moved = staff
        .ok("inventory:update", json!({ "sku": "INV-1", "delta": -2 }))
        .await;
    assert_eq!(moved["quantity"], 10);
    let renamed = staff
        .ok(
            "inventory:update",
            json!({ "sku": "INV-1", "name": "Green pears", "low_stock_threshold": 3 }),
        )
        .await;
    assert_eq!(renamed["name"], "Green pears");
    assert_eq!(renamed["quantity"], 10);
    assert_eq!(renamed["low_stock_threshold"], 3);

    let seen = viewer.event("inventory_updated").await;
    assert_eq!(seen["data"]["quantity"], 12);
    let (_, item) = app.api(Method::GET, "/api/inventory/INV-1", None).await;
    assert_eq!(item["quantity"], 10);
    staff.disconnect().await;
    viewer.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn stock_low_fires_once_on_the_way_down_and_again_after_recovery() {
    let app = spawn_app().await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let alerts = app.socket(VIEWER_KEY, "v1").await;
    alerts.event("connection_established").await;
    staff
        .ok(
            "inventory:update",
            json!({ "sku": "LOW-1", "name": "Milk", "quantity": 10, "threshold": 4 }),
        )
        .await;

    staff
        .ok("inventory:update", json!({ "sku": "LOW-1", "delta": -6 }))
        .await; // 4: crosses
    let alert = alerts.event("stock_low").await;
    assert_eq!(alert["room"], "alerts");
    assert_eq!(
        alert["data"],
        json!({ "sku": "LOW-1", "name": "Milk", "quantity": 4, "threshold": 4, "item_id": alert["data"]["item_id"], "source": "threshold" })
    );
    assert!(alert["data"]["item_id"].as_i64().is_some_and(|id| id > 0));

    staff
        .ok("inventory:update", json!({ "sku": "LOW-1", "delta": -1 }))
        .await; // 3: still low
    staff
        .ok("inventory:update", json!({ "sku": "LOW-1", "quantity": 9 }))
        .await; // recovers
    staff
        .ok("inventory:update", json!({ "sku": "LOW-1", "quantity": 2 }))
        .await; // crosses again
    let again = alerts.event("stock_low").await;
    assert_eq!(
        again["data"]["quantity"], 2,
        "the second alert is the re-crossing, not the 3"
    );
    assert!(alerts.received("stock_low").await.is_empty());
    staff.disconnect().await;
    alerts.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn a_reported_stock_low_is_recorded_and_sent_to_alerts() {
    let app = spawn_app().await;
    app.seed("REP-1", 50, 5).await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let alerts = app.socket(VIEWER_KEY, "v1").await;
    alerts.event("connection_established").await;

    let report = staff
        .ok(
            "stock_low",
            json!({ "sku": "REP-1", "quantity": 3, "note": "shelf nearly empty" }),
        )
        .await;
    assert_eq!(report["source"], "report");
    let alert = alerts.event("stock_low").await;
    assert_eq!(alert["data"]["quantity"], 3);
    assert_eq!(alert["data"]["threshold"], 5);
    assert_eq!(alert["data"]["note"], "shelf nearly empty");

    let (_, log) = app
        .api(
            Method::GET,
            &format!("/api/events?after={}", alert["id"].as_i64().unwrap() - 1),
            None,
        )
        .await;
    assert_eq!(log["events"][0]["type"], "stock_low");
    staff
        .err("stock_low", json!({ "sku": "NOPE" }), "not_found")
        .await;
    staff.disconnect().await;
    alerts.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn inventory_input_errors_are_answered_and_change_nothing() {
    let app = spawn_app().await;
    app.seed("ERR-1", 5, 1).await;
    let staff = app.socket(STAFF_KEY, "s1").await;

    let error = staff
        .err(
            "inventory:update",
            json!({ "sku": "ERR-1", "quantity": -1 }),
            "invalid",
        )
        .await;
    assert!(error["fields"]["quantity"].is_string(), "{error}");
    let error = staff
        .err(
            "inventory:update",
            json!({ "sku": "ERR-1", "quantity": 1, "delta": 1 }),
            "invalid",
        )
        .await;
    assert!(error["fields"]["quantity"].is_string(), "{error}");
    let error = staff
        .err(
            "inventory:update",
            json!({ "sku": "bad sku!", "quantity": 1 }),
            "invalid",
        )
        .await;
    assert!(error["fields"]["sku"].is_string(), "{error}");
    let error = staff
        .err(
            "inventory:update",
            json!({ "sku": "ERR-1", "quantity": "lots" }),
            "invalid",
        )
        .await;
    assert!(error["fields"]["quantity"].is_string(), "{error}");
    staff
        .err(
            "inventory:update",
            json!({ "sku": "ERR-1", "delta": -6 }),
            "conflict",
        )
        .await;
    staff
        .err(
            "inventory:update",
            json!({ "sku": "NEW-1", "quantity": 3 }),
            "not_found",
        )
        .await;
    staff
        .err("inventory:update", json!("ERR-1"), "invalid")
        .await;

    let (_, item) = app.api(Method::GET, "/api/inventory/ERR-1", None).await;
    assert_eq!(item["quantity"], 5);
    let (status, _) = app.api(Method::GET, "/api/inventory/NEW-1", None).await;
    assert_eq!(status, 404);
    staff.disconnect().await;
    app.stop().await;
}

const MAX: i64 = 1_000_000_000;

/// What a change of stock should come to: the item's quantity, or a refusal naming
/// one field.
type Outcome = Result<i64, &'static str>;

/// The changes that probe the maximum (1 000 000 000) of a quantity, a threshold and a
/// delta, applied in order to an item created at exactly the maximum.
fn at_the_maximum() -> [(Value, Outcome); 8] {
    [
        (json!({ "quantity": MAX + 1 }), Err("quantity")),
        (
            json!({ "low_stock_threshold": MAX + 1 }),
            Err("low_stock_threshold"),
        ),
        (json!({ "delta": MAX + 1 }), Err("delta")),
        (json!({ "delta": -MAX - 1 }), Err("delta")),
        // Within its own range, but the item would pass the maximum.
        (json!({ "delta": 1 }), Err("delta")),
        (json!({ "delta": -MAX }), Ok(0)),
        (json!({ "delta": MAX }), Ok(MAX)),
        (
            json!({ "quantity": MAX, "low_stock_threshold": MAX }),
            Ok(MAX),
        ),
    ]
}

/// `inventory:update` accepts exactly the maximum and refuses one more, naming the field.
#[tokio::test]
async fn the_socket_takes_quantities_up_to_exactly_the_maximum() {
    let app = spawn_app().await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let created = staff
        .ok(
            "inventory:update",
            json!({ "sku": "MAX-1", "name": "Bulk", "quantity": MAX, "threshold": MAX }),
        )
        .await;
    assert_eq!(
        (
            created["quantity"].as_i64(),
            created["low_stock_threshold"].as_i64()
        ),
        (Some(MAX), Some(MAX))
    );
    for (change, outcome) in at_the_maximum() {
        let mut payload = change.clone();
        payload["sku"] = json!("MAX-1");
        let reply = staff.ack("inventory:update", payload).await;
        let got = if reply["ok"] == true {
            Ok(reply["data"]["quantity"].as_i64().unwrap())
        } else {
            Err(field_names(&reply["error"]).join(","))
        };
        assert_eq!(got, outcome.map_err(str::to_owned), "{change}: {reply}");
    }
    let (_, item) = app.api(Method::GET, "/api/inventory/MAX-1", None).await;
    assert_eq!(
        (
            item["quantity"].as_i64(),
            item["low_stock_threshold"].as_i64()
        ),
        (Some(MAX), Some(MAX))
    );
    staff.disconnect().await;
    app.stop().await;
}

/// REST takes the same maximum on create, `PATCH` and `adjust`.
#[tokio::test]
async fn rest_takes_quantities_up_to_exactly_the_maximum() {
    let app = spawn_app().await;
    for too_much in ["quantity", "low_stock_threshold"] {
        let mut item = json!({ "sku": "MAX-2", "name": "Bulk" });
        item[too_much] = json!(MAX + 1);
        let (status, body) = app.api(Method::POST, "/api/inventory", Some(item)).await;
        assert_eq!(
            (status, field_names(&body["error"])),
            (422, vec![too_much]),
            "{body}"
        );
    }
    let (status, _) = app.api(Method::GET, "/api/inventory/MAX-2", None).await;
    assert_eq!(status, 404, "a refused create wrote nothing");
    let item =
        json!({ "sku": "MAX-2", "name": "Bulk", "quantity": MAX, "low_stock_threshold": MAX });
    let (status, created) = app.api(Method::POST, "/api/inventory", Some(item)).await;
    assert_eq!(
        (status, created["quantity"].as_i64()),
        (201, Some(MAX)),
        "{created}"
    );
    assert_eq!(created["low_stock_threshold"].as_i64(), Some(MAX));
    for (change, outcome) in at_the_maximum() {
        // A delta goes to `adjust`; a quantity or threshold is a `PATCH`.
        let (method, path) = match change.get("delta") {
            Some(_) => (Method::POST, "/api/inventory/MAX-2/adjust"),
            None => (Method::PATCH, "/api/inventory/MAX-2"),
        };
        let (status, body) = app.api(method.clone(), path, Some(change.clone())).await;
        let got = match status {
            200 => Ok(body["quantity"].as_i64().unwrap()),
            422 => Err(field_names(&body["error"]).join(",")),
            _ => panic!("{method} {path} {change}: {status} {body}"),
        };
        assert_eq!(
            got,
            outcome.map_err(str::to_owned),
            "{method} {path} {change}: {body}"
        );
    }
    app.stop().await;
}
