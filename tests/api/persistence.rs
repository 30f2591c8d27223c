//! Everything survives a restart on the same database, event log included.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn data_and_event_log_survive_a_restart() {
    let app = spawn_durable_app().await;
    let client_id = app.seed("KEEP-1", 5, 1).await;
    let (status, order) = app
        .api(
            Method::POST,
            "/api/orders",
            Some(json!({ "client_id": client_id, "items": [{ "sku": "KEEP-1", "quantity": 4, "unit_price": "3.30" }] })),
        )
        .await;
    assert_eq!(status, 201, "{order}");
    let (_, log_before) = app.api(Method::GET, "/api/events?after=0", None).await;
    let app = app.restart().await;
    let (status, again) = app
        .api(Method::GET, &format!("/api/orders/{}", order["id"]), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(again, order);
    let (_, item) = app.api(Method::GET, "/api/inventory/KEEP-1", None).await;
    assert_eq!(item["quantity"], 1);
    let (_, log_after) = app.api(Method::GET, "/api/events?after=0", None).await;
    assert_eq!(log_after, log_before);
    let types = event_strings(&log_after, "/type");
    assert_eq!(
        types,
        [
            "client_created",
            "inventory_updated",
            "order_created",
            "inventory_updated",
            "stock_low"
        ]
    );

    // New events continue the sequence after the restart.
    let last = log_after["next_after"].as_i64().unwrap();
    app.api(
        Method::POST,
        "/api/clients",
        Some(json!({ "name": "After restart" })),
    )
    .await;
    let (_, newer) = app
        .api(Method::GET, &format!("/api/events?after={last}"), None)
        .await;
    assert_eq!(newer["events"].as_array().unwrap().len(), 1);
    assert!(newer["events"][0]["id"].as_i64().unwrap() > last);
    app.stop().await;
}
