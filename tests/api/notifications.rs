//! The notification inbox: delivery to every tab of one user (or everyone), per-user
//! read state and unread counts, and isolation between users on every route.

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::helpers::*;

fn to(user: Option<&str>, subject: &str) -> Value {
    json!({ "user_id": user, "subject": subject, "message": "body", "severity": "warning" })
}

/// Sends `user` one notification per subject, in order; returns their ids.
async fn send_each(admin: &TestSocket, user: &str, subjects: &[&str]) -> Vec<Value> {
    let mut ids = Vec::new();
    for subject in subjects {
        let sent = admin.ok("notification:send", to(Some(user), subject)).await;
        ids.push(sent["id"].clone());
    }
    ids
}

/// Takes the next `unread_count` a socket received and returns the number.
async fn next_count(socket: &TestSocket) -> u64 {
    socket.event("unread_count").await["unread_count"]
        .as_u64()
        .expect("unread_count is a number")
}

/// The user's unread count as `GET /api/notifications/unread-count` reports it.
async fn rest_count(app: &TestApp, user: &str) -> u64 {
    let (status, body) = app
        .api_as(
            STAFF_KEY,
            user,
            Method::GET,
            "/api/notifications/unread-count",
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["unread_count"]
        .as_u64()
        .expect("unread_count is a number")
}

#[tokio::test]
async fn a_socket_learns_its_unread_count_right_after_the_greeting() {
    let app = spawn_app().await;
    let tab = app.socket(STAFF_KEY, "ana").await;
    assert_eq!(next_count(&tab).await, 0);

    let admin = app.socket(ADMIN_KEY, "boss").await;
    admin.ok("notification:send", to(Some("ana"), "one")).await;
    admin.ok("notification:send", to(Some("ana"), "two")).await;
    assert_eq!(next_count(&tab).await, 1);
    assert_eq!(next_count(&tab).await, 2);

    let later = app.socket(STAFF_KEY, "ana").await;
    assert_eq!(next_count(&later).await, 2);
    for socket in [tab, later, admin] {
        socket.disconnect().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn notifications_reach_every_tab_of_their_user_and_nobody_else() {
    let app = spawn_app().await;
    let ana = [
        app.socket(STAFF_KEY, "ana").await,
        app.socket(STAFF_KEY, "ana").await,
    ];
    let ben = [
        app.socket(STAFF_KEY, "ben").await,
        app.socket(VIEWER_KEY, "ben").await,
    ];
    let admin = app.socket(ADMIN_KEY, "boss").await;

    let sent = admin
        .ok(
            "notification:send",
            json!({ "user_id": "ana", "type": "order_alert", "subject": "Hi ana", "message": "private", "priority": "urgent" }),
        )
        .await;
    assert_eq!(
        sent["severity"], "critical",
        "older priority names map onto severities"
    );
    for tab in &ana {
        let envelope = tab.event("notification").await;
        assert_eq!(envelope["type"], "notification");
        assert_eq!(envelope["room"], "user:ana");
        assert_eq!(envelope["user_id"], "boss");
        let data = &envelope["data"];
        assert_eq!(data["id"], sent["id"]);
        assert_eq!(data["type"], "order_alert");
        assert_eq!(data["subject"], "Hi ana");
        assert_eq!(data["message"], "private");
        assert_eq!(data["severity"], "critical");
        assert_eq!(data["read"], false);
        assert!(data["created_at"].as_str().is_some());
        assert_eq!(next_count(tab).await, 0, "count on connect");
        assert_eq!(next_count(tab).await, 1, "count after the notification");
    }

    // Ben's own notification comes after ana's would have: if ana's had leaked to
    // ben, it would be in his inbox first.
    admin
        .ok("notification:send", to(Some("ben"), "Hi ben"))
        .await;
    for tab in &ben {
        let envelope = tab.event("notification").await;
        assert_eq!(envelope["data"]["subject"], "Hi ben");
        assert!(tab.received("notification").await.is_empty());
        assert_eq!(next_count(tab).await, 0);
        assert_eq!(next_count(tab).await, 1);
    }
    assert!(
        admin.received("notification").await.is_empty(),
        "the sender is not a recipient"
    );
    for socket in ana.into_iter().chain(ben).chain([admin]) {
        socket.disconnect().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn marking_read_is_for_the_owner_and_syncs_every_tab() {
    let app = spawn_app().await;
    let admin = app.socket(ADMIN_KEY, "boss").await;
    let id = admin
        .ok("notification:send", to(Some("ana"), "read me"))
        .await["id"]
        .clone();
    let ana = [
        app.socket(STAFF_KEY, "ana").await,
        app.socket(STAFF_KEY, "ana").await,
    ];
    let ben = app.socket(STAFF_KEY, "ben").await;
    for tab in &ana {
        assert_eq!(next_count(tab).await, 1);
    }

    // Someone else's notification looks exactly like one that does not exist.
    let foreign = ben
        .err("mark_read", json!({ "notification_id": id }), "not_found")
        .await;
    let missing = ben
        .err(
            "mark_read",
            json!({ "notification_id": 999_999 }),
            "not_found",
        )
        .await;
    assert_eq!(
        foreign["message"]
            .as_str()
            .unwrap()
            .replace(&id.to_string(), "N"),
        missing["message"].as_str().unwrap().replace("999999", "N")
    );

    let confirmation = ana[0]
        .ok("mark_read", json!({ "notification_id": id }))
        .await;
    assert_eq!(confirmation["notification_id"], id);
    assert_eq!(confirmation["read"], true);
    for tab in &ana {
        let envelope = tab.event("notification_read_confirmation").await;
        assert_eq!(envelope["data"]["notification_id"], id);
        assert_eq!(envelope["data"]["read"], true);
        assert_eq!(next_count(tab).await, 0);
    }

    // Twice is harmless: same answer, no new confirmation or count.
    ana[1]
        .ok("mark_read", json!({ "notification_id": id }))
        .await;
    assert_eq!(
        ana[1].ok("get_unread_count", json!({})).await,
        json!({ "unread_count": 0 })
    );
    assert_eq!(next_count(&ana[1]).await, 0, "get_unread_count also emits");
    assert!(
        ana[1]
            .received("notification_read_confirmation")
            .await
            .is_empty()
    );
    assert!(ana[1].received("unread_count").await.is_empty());

    // Ben's unrelated attempt changed nothing for him or for ana.
    assert!(
        ben.received("notification_read_confirmation")
            .await
            .is_empty()
    );
    ben.err("mark_read", json!({ "notification_id": "x" }), "invalid")
        .await;
    ben.err("mark_read", json!({}), "invalid").await;
    for socket in ana.into_iter().chain([ben, admin]) {
        socket.disconnect().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_notification_for_everyone_is_read_separately_by_each_user() {
    let app = spawn_app().await;
    let ana = app.socket(STAFF_KEY, "ana").await;
    let ben = app.socket(VIEWER_KEY, "ben").await;
    let admin = app.socket(ADMIN_KEY, "boss").await;
    for socket in [&ana, &ben, &admin] {
        assert_eq!(next_count(socket).await, 0);
    }
    let sent = admin.ok("notification:send", to(None, "All hands")).await;
    assert_eq!(sent["user_id"], Value::Null);
    for socket in [&ana, &ben, &admin] {
        let envelope = socket.event("notification").await;
        assert_eq!(envelope["data"]["subject"], "All hands");
        assert_eq!(envelope["room"], "everyone");
        assert_eq!(next_count(socket).await, 1);
    }

    ana.ok("mark_read", json!({ "notification_id": sent["id"] }))
        .await;
    assert_eq!(next_count(&ana).await, 0);
    assert_eq!(
        ben.ok("get_unread_count", json!(null)).await["unread_count"],
        1,
        "ana reading it does not read it for ben"
    );
    assert!(
        ben.received("notification_read_confirmation")
            .await
            .is_empty()
    );
    for socket in [ana, ben, admin] {
        socket.disconnect().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn mark_all_read_clears_only_the_callers_inbox() {
    let app = spawn_app().await;
    let admin = app.socket(ADMIN_KEY, "boss").await;
    let mut ids = send_each(&admin, "ana", &["a", "b"]).await;
    ids.push(admin.ok("notification:send", to(None, "all")).await["id"].clone());
    admin
        .ok("notification:send", to(Some("ben"), "ben's"))
        .await;

    let ana = app.socket(STAFF_KEY, "ana").await;
    assert_eq!(next_count(&ana).await, 3);
    let confirmation = ana.ok("mark_all_read", json!({})).await;
    assert_eq!(confirmation["notification_ids"], json!(ids));
    assert_eq!(confirmation["read"], true);
    let envelope = ana.event("notification_read_confirmation").await;
    assert_eq!(envelope["data"]["notification_ids"], json!(ids));
    assert_eq!(next_count(&ana).await, 0);

    assert_eq!(rest_count(&app, "ben").await, 2);
    ana.disconnect().await;
    admin.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn only_admins_send_and_bad_notifications_write_nothing() {
    let app = spawn_app().await;
    let staff = app.socket(STAFF_KEY, "ana").await;
    let viewer = app.socket(VIEWER_KEY, "vic").await;
    staff
        .err("notification:send", to(None, "no"), "forbidden")
        .await;
    viewer
        .err("notification:send", to(None, "no"), "forbidden")
        .await;
    let admin = app.socket(ADMIN_KEY, "boss").await;
    let error = admin
        .err(
            "notification:send",
            json!({ "user_id": "ana", "subject": "  ", "message": "", "severity": "loud" }),
            "invalid",
        )
        .await;
    assert!(error["fields"]["severity"].is_string(), "{error}");
    let error = admin
        .err(
            "notification:send",
            json!({ "user_id": "ana", "subject": " ", "message": "" }),
            "invalid",
        )
        .await;
    assert!(error["fields"]["subject"].is_string(), "{error}");
    assert!(error["fields"]["message"].is_string(), "{error}");
    admin
        .err("notification:send", json!("text"), "invalid")
        .await;

    let (status, page) = app.api(Method::GET, "/api/notifications", None).await;
    assert_eq!((status, page["total"].clone()), (200, json!(0)));
    for socket in [staff, viewer, admin] {
        socket.disconnect().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn rest_routes_serve_the_callers_inbox_only() {
    let app = spawn_app().await;
    let ana = app.socket(STAFF_KEY, "ana").await;
    assert_eq!(next_count(&ana).await, 0);
    let mut ids = Vec::new();
    for (user, subject) in [
        (Some("ana"), "first"),
        (Some("ben"), "ben"),
        (None, "all"),
        (Some("ana"), "last"),
    ] {
        let (status, sent) = app
            .api(Method::POST, "/api/notifications", Some(to(user, subject)))
            .await;
        assert_eq!(status, 201, "{sent}");
        ids.push(sent["id"].as_i64().unwrap());
    }
    // The socket saw the REST sends like any other.
    assert_eq!(ana.event("notification").await["data"]["subject"], "first");

    let list = |query: &'static str| {
        let app = &app;
        async move {
            let (status, page) = app
                .api_as(
                    STAFF_KEY,
                    "ana",
                    Method::GET,
                    &format!("/api/notifications{query}"),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{page}");
            page
        }
    };
    let page = list("").await;
    let subjects: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["last", "all", "first"],
        "newest first, ben's hidden"
    );
    assert_eq!(page["total"], 3);
    assert_eq!(
        list("?limit=1&offset=1").await["items"][0]["subject"],
        "all"
    );

    let (status, _) = app
        .api_as(
            STAFF_KEY,
            "ana",
            Method::POST,
            &format!("/api/notifications/{}/read", ids[1]),
            None,
        )
        .await;
    assert_eq!(status, 404, "ben's notification is not ana's to read");
    let (status, confirmation) = app
        .api_as(
            STAFF_KEY,
            "ana",
            Method::POST,
            &format!("/api/notifications/{}/read", ids[0]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(confirmation["notification_id"], ids[0]);
    assert_eq!(
        ana.event("notification_read_confirmation").await["data"]["notification_id"],
        ids[0]
    );

    let unread = list("?unread=true").await;
    assert_eq!(unread["total"], 2);
    assert!(
        unread["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["read"] == false)
    );
    assert_eq!(list("").await["items"][2]["read"], true);

    assert_eq!(rest_count(&app, "ana").await, 2);
    let (status, _) = app
        .api_as(
            STAFF_KEY,
            "ana",
            Method::POST,
            "/api/notifications/read-all",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rest_count(&app, "ana").await, 0);
    assert_eq!(rest_count(&app, "ben").await, 2);

    let (status, body) = app
        .api_as(
            STAFF_KEY,
            "ana",
            Method::POST,
            "/api/notifications",
            Some(to(None, "x")),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("forbidden"))
    );
    let (status, _) = app
        .api_as(
            STAFF_KEY,
            "ana",
            Method::POST,
            "/api/notifications/abc/read",
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = send(app.raw(Method::GET, "/api/notifications")).await;
    assert_eq!(status, 401);
    ana.disconnect().await;
    app.stop().await;
}

/// Sockets that connect at the same moment have their counts looked up together: each
/// still learns its own user's count, and never another's.
#[tokio::test]
async fn tabs_connecting_at_once_each_learn_their_own_users_count() {
    let app = spawn_app().await;
    let admin = app.socket(ADMIN_KEY, "boss").await;
    let to_ana = send_each(&admin, "ana", &["a", "b"]).await;
    admin
        .ok("notification:send", to(Some("ben"), "ben's"))
        .await;
    admin.ok("notification:send", to(None, "all")).await;
    let reader = app.socket(STAFF_KEY, "ana").await;
    reader
        .ok("mark_read", json!({ "notification_id": to_ana[0] }))
        .await;
    reader.disconnect().await;

    // ana: two of her own (one read) and the broadcast; ben: his and the broadcast;
    // cid: only the broadcast; dee reads the broadcast, so nothing.
    let dee = app.socket(STAFF_KEY, "dee").await;
    dee.ok("mark_all_read", json!({})).await;
    dee.disconnect().await;
    let expected = [("ana", 2), ("ben", 2), ("cid", 1), ("dee", 0)];
    let tabs = expected
        .iter()
        .flat_map(|&(user, count)| (0..3).map(move |_| (user, count)))
        .map(|(user, count)| {
            let app = &app;
            async move { (user, count, app.socket(STAFF_KEY, user).await) }
        });
    let tabs = futures_util::future::join_all(tabs).await;
    for (user, count, tab) in &tabs {
        assert_eq!(next_count(tab).await, *count, "{user}'s count");
    }
    for (user, count) in expected {
        assert_eq!(
            rest_count(&app, user).await,
            count,
            "{user}'s count over REST"
        );
    }
    for (_, _, tab) in tabs {
        tab.disconnect().await;
    }
    admin.disconnect().await;
    app.stop().await;
}

/// A long-lived deployment piles up broadcasts: marking them all read must work for any
/// count (one statement per id list once exceeded SQLite's variable limit).
#[tokio::test]
async fn mark_all_read_works_for_eleven_thousand_unread() {
    const UNREAD: usize = 11_000;
    let app = spawn_durable_app().await;
    let admin = app.socket(ADMIN_KEY, "boss").await;
    admin.ok("notification:send", to(None, "all")).await;
    // The other 10 999 copied in the database itself: sending them would take minutes.
    let db = Database::connect(app.database_url())
        .await
        .expect("database opens");
    db.execute_unprepared(&format!(
        "INSERT INTO notifications (user_id, \"type\", subject, message, severity, created_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
         SELECT user_id, \"type\", subject, message, severity, created_at FROM notifications, n",
        UNREAD - 1
    ))
    .await
    .expect("notifications copied");
    db.close().await.expect("database closes");

    let ana = app.socket(STAFF_KEY, "ana").await;
    assert_eq!(next_count(&ana).await, UNREAD as u64);
    let confirmation = ana.ok("mark_all_read", json!({})).await;
    let marked = confirmation["notification_ids"].as_array().expect("ids");
    assert_eq!(marked.len(), UNREAD);
    assert_eq!(next_count(&ana).await, 0);
    assert_eq!(rest_count(&app, "ana").await, 0);
    assert_eq!(
        rest_count(&app, "ben").await,
        UNREAD as u64,
        "ben's are unread"
    );
    ana.disconnect().await;
    admin.disconnect().await;
    app.stop().await;
}
