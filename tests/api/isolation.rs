//! One user never reaches another's notifications or private room, by any route:
//! socket events, the event log, counts, marking, joining, or connecting into it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_user_cannot_reach_another_users_inbox_by_any_route() {
    let app = spawn_app().await;
    let (status, private) = app
        .api(
            Method::POST,
            "/api/notifications",
            Some(json!({ "user_id": "bea", "subject": "for bea only", "message": "secret" })),
        )
        .await;
    assert_eq!(status, 201);
    let id = private["id"].as_i64().unwrap();
    let bea = app.socket(STAFF_KEY, "bea").await;
    bea.ok("mark_read", json!({ "notification_id": id })).await;
    let ann = app.socket(STAFF_KEY, "ann").await;

    // Counting and listing.
    assert_eq!(
        ann.ok("get_unread_count", json!({})).await["unread_count"],
        0
    );
    let (_, list) = app
        .api_as(STAFF_KEY, "ann", Method::GET, "/api/notifications", None)
        .await;
    assert_eq!(list["total"], 0);
    // The event log holds bea's notification and read confirmation, but not for ann.
    let (_, log) = app
        .api_as(STAFF_KEY, "ann", Method::GET, "/api/events?after=0", None)
        .await;
    let rooms = event_strings(&log, "/room");
    assert!(!rooms.contains(&"user:bea"), "{rooms:?}");
    let (_, bea_log) = app
        .api_as(STAFF_KEY, "bea", Method::GET, "/api/events?after=0", None)
        .await;
    let bea_types = event_strings(&bea_log, "/type");
    assert_eq!(
        bea_types,
        ["notification", "notification_read_confirmation"]
    );

    // Marking, by socket and by REST: indistinguishable from a missing notification.
    ann.err("mark_read", json!({ "notification_id": id }), "not_found")
        .await;
    let (status, _) = app
        .api_as(
            STAFF_KEY,
            "ann",
            Method::POST,
            &format!("/api/notifications/{id}/read"),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Joining bea's room, now or at connect.
    ann.err("join_room", json!("user:bea"), "forbidden").await;
    let answer = raw_connect(
        &app,
        "",
        json!({ "api_key": STAFF_KEY, "user_id": "ann", "rooms": ["user:bea"] }),
    )
    .await;
    assert!(answer.starts_with("44"), "{answer}");

    // A later notification to bea reaches bea; ann's inbox shows nothing of it.
    app.api(
        Method::POST,
        "/api/notifications",
        Some(json!({ "user_id": "bea", "subject": "again", "message": "secret" })),
    )
    .await;
    assert_eq!(bea.event("notification").await["data"]["subject"], "again");
    let marker = json!({ "user_id": "ann", "subject": "yours", "message": "m" });
    app.api(Method::POST, "/api/notifications", Some(marker))
        .await;
    assert_eq!(ann.event("notification").await["data"]["subject"], "yours");
    assert!(
        ann.received("notification").await.is_empty(),
        "nothing of bea's arrived first"
    );
    let counts: Vec<Value> = ann.received("unread_count").await;
    assert!(
        counts.iter().all(|c| c["unread_count"].as_u64() <= Some(1)),
        "{counts:?}"
    );
    ann.disconnect().await;
    bea.disconnect().await;
    app.stop().await;
}
