//! Retention: events past `PULSO_EVENT_RETENTION_HOURS` leave the log in the
//! background, and a reader whose cursor points into what was removed is told so.

use std::time::Duration;

use reqwest::Method;
use sea_orm::{ActiveValue::Set, Database, EntityTrait};
use serde_json::json;

use entity::event;

use crate::helpers::*;

/// Events dated `days_ago`, written straight into the log (as if they had aged).
async fn old_events(database_url: &str, count: usize, days_ago: i64) {
    let db = Database::connect(database_url).await.expect("database");
    let at = chrono::Utc::now() - chrono::TimeDelta::days(days_ago);
    let rows: Vec<event::ActiveModel> = (0..count)
        .map(|i| event::ActiveModel {
            event_type: Set("client_updated".into()),
            room: Set("clients".into()),
            entity: Set(Some(format!("client:{i}"))),
            data: Set(json!({ "id": i })),
            user_id: Set(Some("u1".into())),
            created_at: Set(at),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        event::Entity::insert_many(chunk.to_vec())
            .exec(&db)
            .await
            .expect("old events written");
    }
}

#[tokio::test]
async fn events_past_retention_are_pruned_and_an_older_cursor_is_told_so() {
    let app = spawn_binary_app(&[
        ("PULSO_EVENT_RETENTION_HOURS", "720"),
        ("PULSO_PRUNE_INTERVAL_SECS", "1"),
    ])
    .await;
    // 2 500 events 40 days old (three batches), 10 of 20 days (kept), then a new one.
    old_events(app.database_url(), 2500, 40).await;
    old_events(app.database_url(), 10, 20).await;
    let (status, _) = app
        .api(Method::POST, "/api/clients", Some(json!({ "name": "Ana" })))
        .await;
    assert_eq!(status, 201);

    let kept = eventually("the old events pruned", Duration::from_secs(30), || async {
        let (_, page) = app
            .api(Method::GET, "/api/events?after=0&limit=1000", None)
            .await;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        (events.len() == 11).then_some(events)
    })
    .await;
    assert_eq!(
        kept[0]["id"], 2501,
        "the oldest kept is the first of 20 days ago"
    );
    assert_eq!(kept[10]["type"], "client_created");

    // A cursor inside what was removed: 410, saying where to read on.
    let (status, answer) = app.api(Method::GET, "/api/events?after=100", None).await;
    assert_eq!(status, 410, "{answer}");
    assert_eq!(answer["error"]["code"], "cursor_expired");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after=2500"),
        "{answer}"
    );
    let (status, page) = app.api(Method::GET, "/api/events?after=2500", None).await;
    assert_eq!(
        (status, page["events"].as_array().map(Vec::len)),
        (200, Some(11))
    );

    let text = metrics(&app).await;
    assert_eq!(series(&text, "pulso_events_pruned_total"), 2500.0);
    assert_eq!(series(&text, "pulso_event_log_oldest_id"), 2501.0);
    assert_eq!(series(&text, "pulso_event_log_events"), 11.0);
    app.stop().await;
}
