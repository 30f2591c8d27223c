//! Connection state recovery, piece by piece, with frames written and read by hand: what
//! a pid is worth (nothing without the session it names, for its own user), what a
//! recovery replays (its rooms' events after the offset, in log order, before the
//! CONNECT), and the seam between replayed and live events under a steady producer.
//! `tests/node/recovery.test.mjs` checks the same with the unchanged socket.io-client.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::*;

/// What joining `/` answered: the events sent before the CONNECT, and its data.
struct Joined {
    socket: RawSocket,
    before: Vec<Value>,
    connect: Value,
}

impl Joined {
    fn pid(&self) -> &str {
        self.connect["pid"]
            .as_str()
            .expect("the CONNECT carries a pid")
    }

    /// Ids of the logged events among `frames`, each checked to carry its offset.
    fn ids(frames: &[Value]) -> Vec<i64> {
        frames
            .iter()
            .filter_map(|frame| {
                let id = frame[1]["id"].as_i64()?;
                assert_eq!(frame[2], json!(id.to_string()), "offset of {frame}");
                Some(id)
            })
            .collect()
    }
}

/// Opens a WebSocket session and joins `/` with `auth`.
async fn join(app: &TestApp, auth: Value) -> Joined {
    let mut socket = RawSocket::open(app).await;
    socket.send(&format!("40{auth}")).await;
    let mut before = Vec::new();
    loop {
        let frame = socket.next_text().await.expect("the server answers");
        if let Some(event) = frame.strip_prefix("42") {
            before.push(serde_json::from_str(event).expect("event JSON"));
        } else if let Some(connect) = frame.strip_prefix("40") {
            let connect = serde_json::from_str(connect).expect("CONNECT JSON");
            return Joined {
                socket,
                before,
                connect,
            };
        } else {
            panic!("unexpected frame before the CONNECT: {frame}");
        }
    }
}

/// The next logged event this socket receives after its CONNECT.
async fn next_logged(socket: &mut RawSocket) -> Value {
    loop {
        let frame = socket.until("42").await.expect("an event");
        let event: Value = serde_json::from_str(&frame[2..]).expect("event JSON");
        if event[1]["id"].is_i64() {
            return event;
        }
    }
}

fn auth(user: &str) -> Value {
    json!({ "api_key": ADMIN_KEY, "user_id": user })
}

fn resuming(user: &str, pid: &str, offset: Option<i64>) -> Value {
    let mut auth = auth(user);
    auth["pid"] = json!(pid);
    if let Some(offset) = offset {
        auth["offset"] = json!(offset.to_string());
    }
    auth
}

async fn create_client(app: &TestApp, name: &str) -> i64 {
    let (status, client) = app
        .api(Method::POST, "/api/clients", Some(json!({ "name": name })))
        .await;
    assert_eq!(status, 201, "{client}");
    client["id"].as_i64().expect("id")
}

/// Ids of every logged event `user` may read.
async fn logged(app: &TestApp, user: &str) -> Vec<i64> {
    let (status, page) = app
        .api_as(
            ADMIN_KEY,
            user,
            Method::GET,
            "/api/events?after=0&limit=1000",
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["id"].as_i64().expect("id"))
        .collect()
}

/// A `pulso_recoveries_total` counter. Metrics are the test process's, shared by the
/// tests running at once: tests compare before and after, and expect at least theirs.
async fn recoveries(app: &TestApp, outcome: &str) -> f64 {
    let name = format!(r#"pulso_recoveries_total{{outcome="{outcome}"}}"#);
    series(&metrics(app).await, &name)
}

#[tokio::test]
async fn a_pid_is_worth_nothing_without_its_session_for_its_own_user() {
    let app = spawn_app().await;
    let (invalid_before, recovered_before) = (
        recoveries(&app, "invalid_pid").await,
        recoveries(&app, "recovered").await,
    );
    let first = join(&app, auth("ana")).await;
    let pid = first.pid().to_owned();
    drop(first.socket);
    create_client(&app, "missed").await;

    let refused = [
        // Another user presenting a captured pid.
        resuming("bob", &pid, Some(0)),
        // A pid never issued, and pids and offsets that are not strings.
        resuming("ana", "0123456789abcdef0123456789abcdef", None),
        json!({ "api_key": ADMIN_KEY, "user_id": "ana", "pid": 42 }),
        json!({ "api_key": ADMIN_KEY, "user_id": "ana", "pid": pid, "offset": 3 }),
        json!({ "api_key": ADMIN_KEY, "user_id": "ana", "pid": pid, "offset": "not a number" }),
    ];
    for auth in &refused {
        let joined = join(&app, auth.clone()).await;
        assert_ne!(joined.pid(), pid, "{auth}: a new session");
        assert!(joined.before.is_empty(), "{auth}: nothing replayed");
    }
    let invalid = recoveries(&app, "invalid_pid").await - invalid_before;
    assert!(invalid >= refused.len() as f64, "{invalid} counted");

    // The owner still gets its session back, with what it missed.
    let back = join(&app, resuming("ana", &pid, None)).await;
    assert_eq!(back.pid(), pid);
    assert_eq!(Joined::ids(&back.before), logged(&app, "ana").await);
    assert!(recoveries(&app, "recovered").await > recovered_before);
    app.stop().await;
}

#[tokio::test]
async fn a_recovery_replays_its_rooms_events_after_the_offset_in_order() {
    let app = spawn_app().await;
    // Alerts only, plus one item's room joined by hand.
    let mut narrow = auth("nina");
    narrow["rooms"] = json!(["alerts"]);
    let mut first = join(&app, narrow.clone()).await;
    first
        .socket
        .ok(1, "join_room", json!({ "room": "sku:R-1" }))
        .await;
    app.api(
        Method::POST,
        "/api/inventory",
        Some(json!({ "sku": "R-1", "name": "Rope", "quantity": 10, "low_stock_threshold": 2 })),
    )
    .await;
    let seen = next_logged(&mut first.socket).await;
    assert_eq!(seen[0], "inventory_updated");
    let offset = seen[1]["id"].as_i64().expect("id");
    let pid = first.pid().to_owned();
    drop(first.socket);

    // While away: its item changes and drops low (inventory_updated to sku:R-1,
    // stock_low to alerts), a client is created (clients: not its room) and another
    // item changes (inventory: not its room).
    create_client(&app, "not for nina").await;
    app.api(
        Method::POST,
        "/api/inventory/R-1/adjust",
        Some(json!({ "delta": -9 })),
    )
    .await;
    app.api(
        Method::POST,
        "/api/inventory",
        Some(json!({ "sku": "OTHER-1", "name": "Other", "quantity": 5 })),
    )
    .await;

    let mut back = join(&app, resuming("nina", &pid, Some(offset))).await;
    assert_eq!(back.pid(), pid, "recovered");
    let names: Vec<&str> = back.before.iter().filter_map(|f| f[0].as_str()).collect();
    assert_eq!(names, ["inventory_updated", "stock_low"]);
    let ids = Joined::ids(&back.before);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]) && ids[0] > offset,
        "{ids:?}"
    );
    // Its rooms came back, the one joined by hand included.
    let hello = back.socket.until("42[\"connection_established\"").await;
    let hello: Value = serde_json::from_str(&hello.expect("greeting")[2..]).expect("JSON");
    let rooms = hello[1]["rooms"].as_array().expect("rooms");
    assert!(rooms.contains(&json!("sku:R-1")), "{rooms:?}");
    assert!(!rooms.contains(&json!("clients")), "{rooms:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_ended_session_is_not_recovered() {
    let app = spawn_durable_app().await;
    let db = Database::connect(app.database_url())
        .await
        .expect("database");
    let sessions = || async {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM socket_sessions",
            ))
            .await
            .expect("count");
        row.expect("a row").try_get::<i64>("", "n").expect("n")
    };
    let mut first = join(&app, auth("eve")).await;
    let pid = first.pid().to_owned();
    assert_eq!(sessions().await, 1);
    // A namespace DISCONNECT: the client left on purpose.
    first.socket.send("41").await;
    eventually("the session ended", WAIT, || async {
        (sessions().await == 0).then_some(())
    })
    .await;
    let again = join(&app, resuming("eve", &pid, None)).await;
    assert_ne!(again.pid(), pid, "a new session");
    db.close().await.expect("closed");
    app.stop().await;
}

#[tokio::test]
async fn replayed_and_live_events_meet_without_a_gap_or_a_double() {
    let app = spawn_app().await;
    // Joined before the producer starts: every event it writes is one the socket gets.
    let mut joined = join(&app, auth("seam")).await;
    // Four writers at once, so events commit while recoveries read the log.
    let producing = Arc::new(AtomicBool::new(true));
    let producers: Vec<_> = (0..4)
        .map(|writer| {
            let (url, producing) = (app.url.clone(), producing.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut made = 0;
                while producing.load(Ordering::Relaxed) {
                    let response = http
                        .post(format!("{url}/api/clients"))
                        .header("X-API-Key", ADMIN_KEY)
                        .header("X-User-Id", "producer")
                        .json(&json!({ "name": format!("writer {writer}: {made}") }))
                        .send()
                        .await
                        .expect("the server answers");
                    assert_eq!(response.status(), 201);
                    made += 1;
                }
                made
            })
        })
        .collect();

    let pid = joined.pid().to_owned();
    let mut received = Joined::ids(&joined.before);
    for _ in 0..20 {
        // A few live events, then the connection drops and comes back.
        for _ in 0..3 {
            let event = next_logged(&mut joined.socket).await;
            received.extend(Joined::ids(&[event]));
        }
        drop(joined.socket);
        joined = join(&app, resuming("seam", &pid, received.last().copied())).await;
        assert_eq!(joined.pid(), pid, "recovered");
        received.extend(Joined::ids(&joined.before));
    }
    producing.store(false, Ordering::Relaxed);
    let mut made = 0;
    for producer in producers {
        made += producer.await.expect("producer");
    }
    let expected = logged(&app, "seam").await;
    assert_eq!(expected.len(), made);
    while received.len() < expected.len() {
        let event = next_logged(&mut joined.socket).await;
        received.extend(Joined::ids(&[event]));
    }
    assert_eq!(
        received, expected,
        "exactly the log: nothing missed, nothing twice"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_missed_more_than_the_cap_gets_a_new_session() {
    let app = spawn_app_with(|config| config.recovery_max_events = 3).await;
    let too_many_before = recoveries(&app, "too_many_missed").await;
    let first = join(&app, auth("max")).await;
    let pid = first.pid().to_owned();
    drop(first.socket);
    for n in 0..3 {
        create_client(&app, &format!("within the cap {n}")).await;
    }
    let within = join(&app, resuming("max", &pid, None)).await;
    assert_eq!(within.pid(), pid, "three missed events are recovered");
    assert_eq!(Joined::ids(&within.before).len(), 3);
    let last = Joined::ids(&within.before).last().copied();
    drop(within.socket);

    for n in 0..4 {
        create_client(&app, &format!("past the cap {n}")).await;
    }
    let past = join(&app, resuming("max", &pid, last)).await;
    assert_ne!(past.pid(), pid, "four are one too many: a new session");
    assert!(past.before.is_empty(), "nothing replayed");
    assert!(recoveries(&app, "too_many_missed").await > too_many_before);
    app.stop().await;
}

/// A database restored from a backup lacks events its clients got: a client whose
/// offset is past the newest logged event cannot be brought up to date, and reloads.
#[tokio::test]
async fn a_client_ahead_of_the_log_gets_a_new_session() {
    let app = spawn_app().await;
    let ahead_before = recoveries(&app, "ahead_of_log").await;
    let first = join(&app, auth("rita")).await;
    let pid = first.pid().to_owned();
    drop(first.socket);
    create_client(&app, "the last one the log keeps").await;
    let newest = *logged(&app, "rita").await.last().expect("an event");

    let back = join(&app, resuming("rita", &pid, Some(newest + 100))).await;
    assert_ne!(back.pid(), pid, "a new session");
    assert!(back.before.is_empty(), "nothing replayed");
    assert!(recoveries(&app, "ahead_of_log").await > ahead_before);
    app.stop().await;
}

#[tokio::test]
async fn with_recovery_off_events_carry_no_offset_and_connects_no_pid() {
    let app = spawn_app_with(|config| config.recovery = false).await;
    let mut joined = join(&app, auth("plain")).await;
    assert_eq!(joined.connect.get("pid"), None, "{}", joined.connect);
    create_client(&app, "no offset").await;
    let event = next_logged(&mut joined.socket).await;
    assert_eq!(event.as_array().map(Vec::len), Some(2), "{event}");
    app.stop().await;
}
