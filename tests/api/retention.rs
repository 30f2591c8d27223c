//! Retention: events past `PULSO_EVENT_RETENTION_HOURS`, read notifications past
//! `PULSO_NOTIFICATION_RETENTION_HOURS` and idempotency keys past their window leave
//! the database in the background; a reader whose cursor points into what was removed
//! is told so; SQLite gives the space back; `pulso backup` copies a running database.

use std::{
    path::Path,
    process::Output,
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Method;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, Statement, sea_query::Expr,
};
use serde_json::{Value, json};
use tokio::process::Command;

use entity::{event, notification, notification_read, publication};

use crate::{
    database::TestDatabase,
    helpers::*,
    publish::{publish, stock_low},
};

/// Events dated `days_ago`, written straight into the log (as if they had aged).
async fn old_events(database_url: &str, count: usize, days_ago: i64) {
    let db = Database::connect(database_url).await.expect("database");
    let at = Utc::now() - TimeDelta::days(days_ago);
    write_events(&db, count, at, "").await;
}

/// `count` events dated `at`, each carrying `notes`, written straight into the log.
async fn write_events(db: &DatabaseConnection, count: usize, at: DateTime<Utc>, notes: &str) {
    let rows: Vec<event::ActiveModel> = (0..count)
        .map(|i| event::ActiveModel {
            event_type: Set("client_updated".into()),
            room: Set("clients".into()),
            entity: Set(Some(format!("client:{i}"))),
            data: Set(json!({ "id": i, "notes": notes })),
            user_id: Set(Some("u1".into())),
            created_at: Set(at),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        event::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .expect("events written");
    }
}

#[tokio::test]
async fn events_past_retention_are_pruned_and_an_older_cursor_is_told_so() {
    let app = spawn_binary_app(&[
        ("PULSO_EVENT_RETENTION_HOURS", "720"),
        ("PULSO_PRUNE_INTERVAL_SECS", "1"),
        // All of the writer: thirteen batches at once, not paced for commands.
        ("PULSO_PRUNE_WRITER_SHARE_PERCENT", "100"),
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

/// A node whose clock is behind logs events dated before others with smaller ids:
/// pruning goes by date, never by id alone.
#[tokio::test]
async fn only_expired_events_go_when_their_dates_are_out_of_id_order() {
    let app = spawn_binary_app(&[
        ("PULSO_EVENT_RETENTION_HOURS", "720"),
        ("PULSO_PRUNE_INTERVAL_SECS", "1"),
    ])
    .await;
    let db = Database::connect(app.database_url())
        .await
        .expect("database");
    let days_ago = |days| Utc::now() - TimeDelta::days(days);
    write_events(&db, 10, days_ago(40), "expired").await;
    write_events(&db, 5, Utc::now(), "kept").await;
    write_events(&db, 10, days_ago(39), "expired").await;

    let notes = || async {
        let rows = event::Entity::find().all(&db).await.expect("events read");
        rows.into_iter()
            .map(|row| {
                (
                    row.id,
                    row.data["notes"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let kept = eventually(
        "the expired events pruned",
        Duration::from_secs(30),
        || async {
            let kept = notes().await;
            (kept.len() <= 5).then_some(kept)
        },
    )
    .await;
    assert_eq!(
        kept,
        (11..=15)
            .map(|id| (id, "kept".to_owned()))
            .collect::<Vec<_>>()
    );
    app.stop().await;
}

/// Two days ago: past a retention of 24 hours.
fn two_days_ago() -> DateTime<Utc> {
    Utc::now() - TimeDelta::days(2)
}

async fn send_notification(app: &TestApp, user_id: Value, subject: &str) -> i64 {
    let body = json!({ "user_id": user_id, "subject": subject, "message": "m" });
    let (status, sent) = app
        .api(Method::POST, "/api/notifications", Some(body))
        .await;
    assert_eq!(status, 201, "{sent}");
    sent["id"].as_i64().expect("notification id")
}

#[tokio::test]
async fn read_notifications_and_old_broadcasts_leave_the_inbox_and_unread_ones_stay() {
    let app = spawn_binary_app(&[
        ("PULSO_NOTIFICATION_RETENTION_HOURS", "24"),
        ("PULSO_PRUNE_INTERVAL_SECS", "1"),
    ])
    .await;
    let read_long_ago = send_notification(&app, json!("ana"), "read long ago").await;
    let read_today = send_notification(&app, json!("ana"), "read today").await;
    let never_read = send_notification(&app, json!("ana"), "never read").await;
    let broadcast = send_notification(&app, Value::Null, "old broadcast").await;
    for id in [read_long_ago, read_today] {
        let path = format!("/api/notifications/{id}/read");
        let (status, body) = app
            .api_as(STAFF_KEY, "ana", Method::POST, &path, None)
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let ana = app.socket(STAFF_KEY, "ana").await;
    assert_eq!(ana.event("unread_count").await["unread_count"], 2);

    // Aged in the database: a read two days ago, an unread one and a broadcast sent
    // two days ago.
    let db = Database::connect(app.database_url())
        .await
        .expect("database");
    notification_read::Entity::update_many()
        .col_expr(
            notification_read::Column::ReadAt,
            Expr::value(two_days_ago()),
        )
        .filter(notification_read::Column::NotificationId.eq(read_long_ago))
        .exec(&db)
        .await
        .expect("read backdated");
    notification::Entity::update_many()
        .col_expr(notification::Column::CreatedAt, Expr::value(two_days_ago()))
        .filter(notification::Column::Id.is_in([never_read, broadcast]))
        .exec(&db)
        .await
        .expect("notifications backdated");

    // The unread broadcast went: every connected user's count is told.
    assert_eq!(ana.event("unread_count").await["unread_count"], 1);
    let (status, inbox) = app
        .api_as(STAFF_KEY, "ana", Method::GET, "/api/notifications", None)
        .await;
    assert_eq!(status, 200, "{inbox}");
    let mut subjects: Vec<&str> = inbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["subject"].as_str().expect("subject"))
        .collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["never read", "read today"]);
    assert_eq!(
        notification_read::Entity::find().count(&db).await.unwrap(),
        1,
        "the read mark of the removed notification went with it"
    );
    let text = metrics(&app).await;
    assert_eq!(series(&text, "pulso_notifications_pruned_total"), 2.0);
    ana.disconnect().await;
    db.close().await.expect("database closes");
    app.stop().await;
}

#[tokio::test]
async fn idempotency_keys_past_their_window_are_removed() {
    let app =
        spawn_binary_app(&[("PULSO_PRUNE_INTERVAL_SECS", "1"), ("PULSO_RELAY", "true")]).await;
    for key in ["old", "recent"] {
        let body = json!({ "type": "stock_low", "data": stock_low("A-1"), "idempotency_key": key });
        let (status, answer) = publish(&app, body).await;
        assert_eq!(status, 201, "{answer}");
    }
    let db = Database::connect(app.database_url())
        .await
        .expect("database");
    publication::Entity::update_many()
        .col_expr(publication::Column::CreatedAt, Expr::value(two_days_ago()))
        .filter(publication::Column::IdempotencyKey.eq("old"))
        .exec(&db)
        .await
        .expect("key backdated");
    let kept = eventually("the old key removed", WAIT, || async {
        let keys: Vec<String> = publication::Entity::find()
            .all(&db)
            .await
            .expect("keys read")
            .into_iter()
            .map(|row| row.idempotency_key)
            .collect();
        (keys.len() == 1).then_some(keys)
    })
    .await;
    assert_eq!(kept, ["recent"]);
    db.close().await.expect("database closes");
    app.stop().await;
}

/// The one integer a query answers.
async fn integer(db: &DatabaseConnection, sql: &str) -> i64 {
    let statement = Statement::from_string(DbBackend::Sqlite, sql);
    let row = db.query_one_raw(statement).await.expect("pragma read");
    row.expect("a value")
        .try_get_by_index(0)
        .expect("an integer")
}

#[tokio::test]
async fn pruning_gives_sqlite_pages_back_to_the_file_system() {
    if !sqlite_pass("the SQLite space test") {
        return;
    }
    let app = spawn_binary_app(&[
        ("PULSO_EVENT_RETENTION_HOURS", "24"),
        ("PULSO_PRUNE_INTERVAL_SECS", "1"),
        ("PULSO_PRUNE_WRITER_SHARE_PERCENT", "100"),
    ])
    .await;
    let db = Database::connect(app.database_url())
        .await
        .expect("database");
    assert_eq!(integer(&db, "PRAGMA auto_vacuum").await, 2, "incremental");
    // About 12 MB of events, logged today, so that pruning leaves them be.
    write_events(&db, 6000, Utc::now(), &"x".repeat(2000)).await;
    let full = integer(&db, "PRAGMA page_count").await;
    assert!(full > 2500, "{full} pages");

    // They age: pruning removes them, then gives their pages back.
    event::Entity::update_many()
        .col_expr(event::Column::CreatedAt, Expr::value(two_days_ago()))
        .exec(&db)
        .await
        .expect("events backdated");
    let left = eventually("the pages given back", Duration::from_secs(30), || async {
        let pages = integer(&db, "PRAGMA page_count").await;
        let free = integer(&db, "PRAGMA freelist_count").await;
        (free == 0 && pages < full / 10).then_some(pages)
    })
    .await;
    assert_eq!(event::Entity::find().count(&db).await.unwrap(), 0);
    println!("{full} pages before pruning, {left} after");
    db.close().await.expect("database closes");
    app.stop().await;
}

#[tokio::test]
async fn an_older_sqlite_file_is_rebuilt_once_so_pruning_can_give_space_back() {
    if !sqlite_pass("the SQLite rebuild test") {
        return;
    }
    let database = TestDatabase::sqlite_file(tempfile::tempdir().expect("dir"), "pulso.db");
    // A file made without incremental auto-vacuum, with a row of its own.
    let db = Database::connect(&database.url).await.expect("database");
    db.execute_unprepared(
        "PRAGMA auto_vacuum = NONE; CREATE TABLE kept_by_the_rebuild (x); \
         INSERT INTO kept_by_the_rebuild VALUES (42)",
    )
    .await
    .expect("older file made");
    assert_eq!(integer(&db, "PRAGMA auto_vacuum").await, 0);
    db.close().await.expect("database closes");

    let app = spawn_app_on(database).await;
    let db = Database::connect(app.database_url())
        .await
        .expect("database");
    assert_eq!(integer(&db, "PRAGMA auto_vacuum").await, 2, "incremental");
    let kept = integer(&db, "SELECT x FROM kept_by_the_rebuild").await;
    assert_eq!(kept, 42);
    let (status, _) = app
        .api(Method::POST, "/api/clients", Some(json!({ "name": "Ana" })))
        .await;
    assert_eq!(status, 201);
    db.close().await.expect("database closes");
    app.stop().await;
}

async fn backup(database_url: &str, file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pulso"))
        .arg("backup")
        .arg(file)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("pulso runs")
}

#[tokio::test]
async fn a_backup_taken_during_writes_starts_a_server_with_every_acknowledged_write() {
    if !sqlite_pass("the SQLite backup test") {
        return;
    }
    let app = spawn_durable_app().await;
    let copy_dir = tempfile::tempdir().expect("dir");
    let copy = copy_dir.path().join("copy.db");
    let acked = Mutex::new(Vec::new());
    let backed_up = AtomicBool::new(false);
    let writes = async {
        for i in 0.. {
            if backed_up.load(Ordering::SeqCst) && i >= 40 {
                break;
            }
            let body = json!({ "name": format!("client {i}") });
            let (status, client) = app.api(Method::POST, "/api/clients", Some(body)).await;
            assert_eq!(status, 201, "{client}");
            acked
                .lock()
                .unwrap()
                .push(client["id"].as_i64().expect("id"));
        }
    };
    let copying = async {
        eventually("some writes acknowledged", WAIT, || async {
            (acked.lock().unwrap().len() >= 20).then_some(())
        })
        .await;
        let before: Vec<i64> = acked.lock().unwrap().clone();
        let output = backup(app.database_url(), &copy).await;
        backed_up.store(true, Ordering::SeqCst);
        (before, output)
    };
    let ((), (before, output)) = tokio::join!(writes, copying);
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        said.starts_with(&format!("backed up to {}", copy.display())),
        "{said}"
    );
    app.stop().await;

    // Restored: a server starts on the copy, which holds every write acknowledged
    // before the backup began, and takes new ones.
    let restored = spawn_app_on(TestDatabase::sqlite_file(copy_dir, "copy.db")).await;
    let db = Database::connect(restored.database_url())
        .await
        .expect("database");
    let integrity = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .expect("checked")
        .expect("an answer");
    assert_eq!(integrity.try_get_by_index::<String>(0).unwrap(), "ok");
    for id in &before {
        let (status, client) = restored
            .api(Method::GET, &format!("/api/clients/{id}"), None)
            .await;
        assert_eq!(status, 200, "client {id}: {client}");
    }
    let (status, _) = restored
        .api(
            Method::POST,
            "/api/clients",
            Some(json!({ "name": "after the restore" })),
        )
        .await;
    assert_eq!(status, 201);
    db.close().await.expect("database closes");
    restored.stop().await;
}

#[tokio::test]
async fn a_backup_refuses_what_it_cannot_do_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let existing = dir.path().join("existing.db");
    std::fs::write(&existing, "keep me").expect("file written");
    let source = TestDatabase::sqlite_file(tempfile::tempdir().expect("dir"), "pulso.db");
    let server = spawn_app_on(source).await;
    let cases = [
        (
            server.database_url().to_owned(),
            existing.clone(),
            "exists already",
        ),
        (
            "postgres://postgres@127.0.0.1:5432/test".into(),
            dir.path().join("pg.db"),
            "pg_dump",
        ),
        (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("absent.db").display()
            ),
            dir.path().join("copy.db"),
            "there is no database at",
        ),
    ];
    for (url, file, why) in cases {
        let output = backup(&url, &file).await;
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{url}: {said}");
        assert!(
            said.starts_with("pulso backup: ") && said.contains(why),
            "{said}"
        );
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "nothing else written: {files:?}");
    server.stop().await;
}
