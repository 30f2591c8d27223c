//! Raw protocol: a WebSocket client that writes Engine.IO v4 / Socket.IO v5 frames by
//! hand sends what no library would: malformed packets, unknown namespaces, binary
//! where JSON is expected, oversized and deeply nested messages, floods, and a client
//! that never reads. The server stays up and every other socket is unaffected.

use std::time::Duration;

use futures_util::SinkExt;
use pulso::config::Config;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::{MaybeTlsStream, tungstenite::Message};

use crate::helpers::*;

const MAX_PAYLOAD: u64 = 64 * 1024;

async fn spawn_strict(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(|config| {
        config.max_payload_bytes = MAX_PAYLOAD;
        adjust(config);
    })
    .await
}

/// The server is up and a well-behaved client is served.
async fn still_serving(app: &TestApp, witness: &TestSocket) {
    witness.ok("get_unread_count", json!({})).await;
    let (status, _) = send(app.raw(Method::GET, "/health")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn malformed_packets_close_only_their_own_connection() {
    let app = spawn_strict(|_| {}).await;
    let witness = app.socket(STAFF_KEY, "witness").await;
    for frame in [
        "42[",
        "42not json",
        "42{\"not\":\"an array\"}",
        "42[42]",
        "4",
        "4x",
        "49",
        "hello",
        "",
        "43",
        "7",
        "42[\"join_room\"",
    ] {
        let mut raw = RawSocket::connected(&app).await;
        raw.send(frame).await;
        // A valid command after it reaches nothing: the connection is closed.
        raw.send("420[\"get_unread_count\",{}]").await;
        assert_eq!(raw.until("430").await, None, "{frame:?} left it open");
        still_serving(&app, &witness).await;
    }
    witness.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn unknown_namespaces_are_refused() {
    let app = spawn_strict(|_| {}).await;
    let mut raw = RawSocket::open(&app).await;
    raw.send(&format!(
        "40/admin,{}",
        json!({ "api_key": STAFF_KEY, "user_id": "x" })
    ))
    .await;
    let answer = raw
        .until("44/admin,")
        .await
        .expect("a connect_error for /admin");
    assert!(answer.contains("message"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn binary_where_json_is_expected_gets_an_error_ack() {
    let app = spawn_strict(|_| {}).await;
    let witness = app.socket(STAFF_KEY, "witness").await;
    let mut raw = RawSocket::connected(&app).await;
    raw.send(r#"451-7["client:create",{"_placeholder":true,"num":0}]"#)
        .await;
    let _ = raw
        .ws
        .send(Message::Binary(vec![0xde, 0xad, 0xbe, 0xef]))
        .await;
    let ack = raw
        .until("437")
        .await
        .expect("an ack for the binary command");
    let reply: Value = serde_json::from_str(&ack[3..]).unwrap();
    assert_eq!(reply[0]["ok"], false, "{ack}");
    assert_eq!(reply[0]["error"]["code"], "invalid", "{ack}");
    raw.ok(0, "get_unread_count", json!({})).await;
    let (_, clients) = app.api(Method::GET, "/api/clients", None).await;
    assert_eq!(clients["total"], 0);
    still_serving(&app, &witness).await;
    witness.disconnect().await;
    app.stop().await;
}

/// `socket.emit("mark_all_read", ack)` sends no argument at all: the commands that
/// need none run.
#[tokio::test]
async fn commands_without_an_argument_run() {
    let app = spawn_strict(|_| {}).await;
    let mut raw = RawSocket::connected(&app).await;
    for (id, command) in [(1, "get_unread_count"), (2, "mark_all_read")] {
        raw.send(&format!("42{id}[\"{command}\"]")).await;
        let ack = raw.until(&format!("43{id}[")).await.expect("an ack");
        let reply: Value = serde_json::from_str(&ack[3..]).unwrap();
        assert_eq!(reply[0]["ok"], true, "{command}: {ack}");
    }
    app.stop().await;
}

#[tokio::test]
async fn oversized_and_overly_nested_messages_are_refused() {
    let app = spawn_strict(|_| {}).await;
    let witness = app.socket(STAFF_KEY, "witness").await;

    let huge = format!(
        "420[\"client:create\",{{\"name\":\"{}\"}}]",
        "x".repeat(MAX_PAYLOAD as usize + 1)
    );
    let mut raw = RawSocket::connected(&app).await;
    raw.send(&huge).await;
    assert_eq!(
        raw.until("430").await,
        None,
        "an oversized message closes its connection"
    );

    // Nesting past the JSON parser's depth limit is refused, not recursed into.
    let half = MAX_PAYLOAD as usize / 2 - 64;
    let deep = format!(
        "420[\"client:create\",{}{}]",
        "[".repeat(half),
        "]".repeat(half)
    );
    let mut raw = RawSocket::connected(&app).await;
    raw.send(&deep).await;
    let ack = raw
        .until("430")
        .await
        .expect("an answer to the nested payload");
    assert!(ack.contains("\"code\":\"invalid\""), "{ack}");
    raw.ok(1, "get_unread_count", json!({})).await;

    // Long-polling has its own limit.
    let (status, open) = send(app.raw(Method::GET, "/socket.io/?EIO=4&transport=polling")).await;
    assert_eq!(status, 200);
    let handshake: Value = serde_json::from_str(&open.as_str().unwrap()[1..]).unwrap();
    let sid = handshake["sid"].as_str().unwrap();
    let (status, _) = send(
        app.raw(
            Method::POST,
            &format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
        )
        .body(huge),
    )
    .await;
    assert!(
        status >= 400,
        "an oversized polling body is refused, got {status}"
    );

    let (_, clients) = app.api(Method::GET, "/api/clients", None).await;
    assert_eq!(clients["total"], 0, "nothing of them was written");
    still_serving(&app, &witness).await;
    witness.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn a_flood_is_cut_off_while_others_are_served() {
    let app = spawn_strict(|config| {
        config.rate_limit = 50;
        config.rate_burst = 100;
    })
    .await;
    let witness = app.socket(STAFF_KEY, "witness").await;
    let mut raw = RawSocket::connected(&app).await;
    let flood = "42[\"client:create\",{\"name\":\"flood\"}]";
    let started = tokio::time::Instant::now();
    for _ in 0..3000 {
        if raw.ws.feed(Message::Text(flood.to_owned())).await.is_err() {
            break;
        }
    }
    let _ = raw.ws.flush().await;
    let cut = raw.until("41").await;
    assert!(
        cut.is_some(),
        "the flooding socket is disconnected from the namespace"
    );
    // Frames after the cut reach nothing, and the connection is closed.
    for _ in 0..10 {
        raw.send(flood).await;
    }
    assert_eq!(raw.until("never").await, None, "the connection is closed");
    still_serving(&app, &witness).await;
    // What ran is the burst plus what the rate refilled while the flood lasted (commands
    // accepted before the cut may still be finishing; none after it run).
    let allowed = 100 + (50.0 * started.elapsed().as_secs_f64()).ceil() as u64;
    let (_, clients) = app.api(Method::GET, "/api/clients", None).await;
    let written = clients["total"].as_u64().unwrap();
    assert!(
        written <= allowed,
        "{written} commands ran, at most {allowed} were allowed"
    );
    witness.disconnect().await;
    app.stop().await;
}

/// Sends big notifications (5 000 characters) to the user `raw` until `done` says so
/// (checked after each few sends against `/ws/stats`), at most `limit` of them; returns
/// the last stats.
async fn flood_user_raw(app: &TestApp, limit: usize, done: impl Fn(&Value) -> bool) -> Value {
    let body = json!({ "user_id": "raw", "subject": "big", "message": "m".repeat(5000) });
    let mut sent = 0;
    loop {
        // A few at a time, so a slower database fills the buffers just as fast.
        let batch = (0..4).map(|_| app.api(Method::POST, "/api/notifications", Some(body.clone())));
        for (status, _) in futures_util::future::join_all(batch).await {
            assert_eq!(status, 201);
        }
        sent += 4;
        let (_, stats) = app.api(Method::GET, "/ws/stats", None).await;
        if done(&stats["stats"]) || sent >= limit {
            return stats["stats"].clone();
        }
    }
}

fn send_errors(stats: &Value) -> u64 {
    stats["metrics"]["total_send_errors"]
        .as_u64()
        .expect("a send error count")
}

#[tokio::test]
async fn a_client_that_stops_reading_gets_a_bounded_queue_and_counted_drops() {
    // The binary, so that its memory is the server's alone.
    let app = spawn_binary_app(&[
        ("PULSO_MAX_PAYLOAD_BYTES", "65536"),
        ("PULSO_MAX_BUFFER_PACKETS", "8"),
        // Long enough that the heartbeat does not end the stalled client first.
        ("PULSO_PING_INTERVAL_MS", "60000"),
        ("PULSO_PING_TIMEOUT_MS", "60000"),
    ])
    .await;
    let witness = app.socket(STAFF_KEY, "witness").await;
    // Joins, then never reads again: its TCP buffers fill, then its packet queue, and
    // what cannot be queued is dropped and counted.
    let stalled = RawSocket::connected(&app).await;
    let full = flood_user_raw(&app, 3000, |stats| send_errors(stats) > 0).await;
    // Once its queue is full, 2 000 more (10 MB) leave the server's memory where it
    // was, give or take its own churn: they are dropped, and counted.
    let before = resident_kib(app.pid());
    let flooded = flood_user_raw(&app, 2000, |_| false).await;
    let grown = resident_kib(app.pid()).saturating_sub(before);
    assert!(grown < 4096, "the server grew by {grown} KiB");
    assert!(send_errors(&full) > 0, "nothing was dropped: {full}");
    assert!(
        send_errors(&flooded) >= send_errors(&full) + 2000,
        "{full} then {flooded}"
    );
    still_serving(&app, &witness).await;
    drop(stalled);
    witness.disconnect().await;
    app.stop().await;
}

/// The socket the server holds for a client's TCP connection from `client_port`, as
/// its inode and the bytes it has sent that the client has not acknowledged.
fn server_side(app: &TestApp, client_port: u16) -> Option<(u64, u64)> {
    let server_port: u16 = app.url.rsplit(':').next()?.parse().ok()?;
    let table = std::fs::read_to_string("/proc/net/tcp").expect("the TCP table");
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let port = |address: &str| u16::from_str_radix(address.rsplit(':').next()?, 16).ok();
        if port(fields[1])? != server_port || port(fields[2])? != client_port {
            return None;
        }
        let unacknowledged = u64::from_str_radix(fields[4].split(':').next()?, 16).ok()?;
        Some((fields[9].parse().ok()?, unacknowledged))
    })
}

/// Whether the server (in this process) still holds the socket `inode` open.
fn server_holds(inode: u64) -> bool {
    let wanted = format!("socket:[{inode}]");
    std::fs::read_dir("/proc/self/fd")
        .expect("this process's files")
        .flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|link| link.to_str() == Some(&wanted)))
}

/// Waits until the server has closed its socket `inode`.
async fn until_closed_by_server(inode: u64, limit: Duration) {
    eventually("the server's close of the connection", limit, || async {
        (!server_holds(inode)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped() {
    let app = spawn_strict(|config| {
        config.max_buffer_packets = 8;
        config.ping_interval_ms = 1_000;
        // Time enough for the witness to answer its pings on a loaded machine.
        config.ping_timeout_ms = 4_000;
    })
    .await;
    let budget = Duration::from_millis(5_000);
    let witness = app.socket(STAFF_KEY, "witness").await;
    let stalled = RawSocket::connected(&app).await;
    let MaybeTlsStream::Plain(tcp) = stalled.ws.get_ref() else {
        unreachable!("a plain connection")
    };
    let (inode, _) = server_side(&app, tcp.local_addr().unwrap().port()).expect("its socket");
    // Its pings go unanswered: the heartbeat ends its session, then the server closes
    // the connection (what was queued gets `ping_timeout` more to go out).
    let started = tokio::time::Instant::now();
    let stats = flood_user_raw(&app, 100_000, |stats| {
        stats["rooms"]["user:raw"].is_null() || started.elapsed() > budget + WAIT
    })
    .await;
    assert!(
        stats["rooms"]["user:raw"].is_null(),
        "the stalled socket is still there"
    );
    until_closed_by_server(inode, budget + WAIT).await;
    still_serving(&app, &witness).await;
    drop(stalled);
    witness.disconnect().await;
    app.stop().await;
}

/// An HTTP response has no heartbeat: a client that stops reading one leaves the
/// server's writes unacknowledged, and the kernel drops the connection after the stall
/// budget (`TCP_USER_TIMEOUT`, ping interval + ping timeout), which closes it.
#[tokio::test]
async fn an_http_client_that_stops_reading_a_response_is_cut_off() {
    let app = spawn_app_with(|config| {
        config.ping_interval_ms = 1_000;
        config.ping_timeout_ms = 1_000;
    })
    .await;
    let big = json!({ "user_id": "u1", "subject": "big", "message": "m".repeat(5000) });
    for _ in 0..20 {
        let (status, _) = app
            .api(Method::POST, "/api/notifications", Some(big.clone()))
            .await;
        assert_eq!(status, 201);
    }
    // A 100 KB answer to a client whose receive buffer is 4 KiB and that never reads.
    let mut stalled = RawSocket::tcp(&app).await;
    let port = stalled.local_addr().unwrap().port();
    let request = format!(
        "GET /api/notifications HTTP/1.1\r\nhost: pulso\r\nx-api-key: {ADMIN_KEY}\r\nx-user-id: u1\r\n\r\n"
    );
    stalled.write_all(request.as_bytes()).await.unwrap();
    let (inode, _) = eventually("a stalled response", WAIT, || async {
        server_side(&app, port).filter(|(_, unacknowledged)| *unacknowledged > 0)
    })
    .await;
    until_closed_by_server(inode, Duration::from_secs(2) + WAIT).await;
    drop(stalled);
    app.stop().await;
}
