//! The Socket.IO Admin UI's protocol on `/admin`: its login, what it is sent on
//! connect, and the dashboards' sockets coming, going, changing rooms and upgrading to
//! WebSocket, live.

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use rust_socketio::TransportType;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

const USERNAME: &str = "ops";
const PASSWORD: &str = "correct horse battery staple";

/// A server with the Admin UI on, behind a login (a cheap bcrypt cost, for speed).
async fn admin_app() -> TestApp {
    admin_app_with(false).await
}

async fn admin_app_with(readonly: bool) -> TestApp {
    admin_app_signed_in_by(readonly, password_hash(PASSWORD)).await
}

async fn admin_app_signed_in_by(readonly: bool, hash: String) -> TestApp {
    spawn_app_with(|config| {
        config.admin_ui = true;
        config.admin_readonly = readonly;
        config.admin_username = Some(USERNAME.into());
        config.admin_password_hash = Some(hash);
    })
    .await
}

/// One hash per password for the whole run, as every node of a cluster is configured.
fn password_hash(password: &str) -> String {
    static HASHES: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    let mut hashes = HASHES.lock().unwrap_or_else(PoisonError::into_inner);
    hashes
        .entry(password.to_owned())
        .or_insert_with(|| bcrypt::hash(password, 4).expect("hashed"))
        .clone()
}

const FEATURES: [&str; 6] = [
    "JOIN",
    "LEAVE",
    "DISCONNECT",
    "MJOIN",
    "MLEAVE",
    "MDISCONNECT",
];

/// An Admin UI socket; each event's arguments are kept as an array.
async fn admin(app: &TestApp, auth: Value) -> TestSocket {
    TestSocket::connect_to(
        &app.url,
        "/admin",
        auth,
        TransportType::Any,
        "config",
        every_arg,
    )
    .await
}

fn login() -> Value {
    json!({ "username": USERNAME, "password": PASSWORD })
}

#[tokio::test]
async fn a_wrong_password_or_session_is_refused_in_the_words_the_ui_expects() {
    let app = admin_app().await;
    for auth in [
        json!({ "username": USERNAME, "password": "guess" }),
        json!({ "username": "root", "password": PASSWORD }),
        json!({ "sessionId": "made-up" }),
        json!({}),
    ] {
        let answer = raw_connect_to(&app, "/admin", "", auth.clone()).await;
        assert_eq!(
            answer, r#"44/admin,{"message":"invalid credentials"}"#,
            "{auth}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_session_begun_on_one_node_signs_in_on_another_until_the_password_changes() {
    let (first, second) = (admin_app().await, admin_app().await);
    let ui = admin(&first, login()).await;
    let session = ui.event("session").await[0].clone();
    let elsewhere = admin(&second, json!({ "sessionId": session })).await;
    assert!(
        elsewhere.received("session").await.is_empty(),
        "no new session"
    );

    let changed = admin_app_signed_in_by(false, password_hash("a new password")).await;
    let answer = raw_connect_to(&changed, "/admin", "", json!({ "sessionId": session })).await;
    assert_eq!(answer, r#"44/admin,{"message":"invalid credentials"}"#);
    let forged = session.as_str().unwrap().replacen('.', "9.", 1);
    let answer = raw_connect_to(&second, "/admin", "", json!({ "sessionId": forged })).await;
    assert_eq!(
        answer, r#"44/admin,{"message":"invalid credentials"}"#,
        "a later expiry"
    );

    elsewhere.disconnect().await;
    ui.disconnect().await;
    for app in [first, second, changed] {
        app.stop().await;
    }
}

#[tokio::test]
async fn the_ui_sees_every_dashboard_socket_and_follows_them_live() {
    let app = admin_app().await;
    let ana = app.socket(STAFF_KEY, "ana").await;
    let ana_id = ana.event("connection_established").await["socket_id"].clone();

    let ui = admin(&app, login()).await;
    let session = ui.event("session").await[0].clone();
    assert!(session.as_str().is_some_and(|s| s.len() >= 16), "{session}");
    assert_eq!(
        ui.event("config").await,
        json!([{ "supportedFeatures": FEATURES }])
    );
    let stats = ui.event("server_stats").await[0].clone();
    assert_eq!(
        stats["clientsCount"], 1,
        "admin sockets are not counted: {stats}"
    );
    assert_eq!(stats["pid"], std::process::id());
    assert!(
        stats["serverId"].is_string() && stats["uptime"].is_number(),
        "{stats}"
    );
    let all = ui.event("all_sockets").await[0].clone();
    let sockets = all.as_array().expect("a list");
    assert_eq!(sockets.len(), 1, "{all}");
    let socket = &sockets[0];
    assert_eq!(socket["id"], ana_id);
    assert_eq!(socket["nsp"], "/");
    assert_eq!(socket["data"], json!({ "user_id": "ana", "role": "staff" }));
    let rooms = socket["rooms"].as_array().expect("rooms");
    assert!(
        rooms.contains(&json!("user:ana")) && rooms.contains(&json!("orders")),
        "{socket}"
    );
    let issued = socket["handshake"]["issued"]
        .as_i64()
        .expect("when it connected");
    let age = chrono::Utc::now().timestamp_millis() - issued;
    assert!((0..60_000).contains(&age), "{socket}");
    let shown = socket["handshake"].to_string().to_lowercase();
    assert!(
        !shown.contains(STAFF_KEY) && !shown.contains("x-api-key"),
        "no credential is shown: {shown}"
    );

    // Live: a room left and joined, a socket coming and going.
    ana.ok("leave_room", json!("orders")).await;
    assert_eq!(ui.event("room_left").await, json!(["/", "orders", ana_id]));
    ana.ok("join_room", json!("orders")).await;
    assert_eq!(
        ui.event("room_joined").await,
        json!(["/", "orders", ana_id])
    );
    let bob = app.socket(VIEWER_KEY, "bob").await;
    let bob_id = bob.event("connection_established").await["socket_id"].clone();
    let came = ui.event("socket_connected").await[0].clone();
    assert_eq!(
        (&came["id"], &came["data"]["user_id"]),
        (&bob_id, &json!("bob"))
    );
    bob.disconnect().await;
    assert_eq!(
        ui.event("socket_disconnected").await,
        json!(["/", bob_id, "client namespace disconnect"])
    );

    // The dashboards' own stats leave the admin socket out.
    let (_, stats) = app.api(Method::GET, "/ws/stats", None).await;
    assert_eq!(stats["stats"]["total_connections"], 1, "{stats}");

    // The session id lets the UI back in without the password.
    let again = admin(&app, json!({ "sessionId": session })).await;
    assert!(again.received("session").await.is_empty(), "no new session");
    again.disconnect().await;
    ui.disconnect().await;
    ana.disconnect().await;
    app.stop().await;
}

/// A client that starts on long-polling and upgrades (as socket.io-client does) shows as
/// polling, then the UI is told it is on WebSocket.
#[tokio::test]
async fn the_ui_is_told_when_a_socket_upgrades_to_websocket() {
    let app = admin_app().await;
    let ui = admin(&app, login()).await;

    let (_, open) = send(app.raw(Method::GET, "/socket.io/?EIO=4&transport=polling")).await;
    let open: Value = serde_json::from_str(&open.as_str().expect("open packet")[1..]).unwrap();
    let sid = open["sid"].as_str().expect("sid").to_owned();
    let auth = json!({ "api_key": STAFF_KEY, "user_id": "pat" });
    let polling = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let (status, _) = send(app.raw(Method::POST, &polling).body(format!("40{auth}"))).await;
    assert_eq!(status, 200);
    let came = ui.event("socket_connected").await[0].clone();
    assert_eq!(
        (&came["id"], &came["transport"]),
        (&json!(sid), &json!("polling"))
    );

    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket&sid={sid}",
        app.url.replacen("http", "ws", 1)
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket opens");
    ws.send(Message::Text("2probe".into())).await.unwrap();
    let probe = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("probe answered");
    assert_eq!(probe.unwrap().unwrap(), Message::Text("3probe".into()));
    ws.send(Message::Text("5".into())).await.unwrap();

    assert_eq!(
        ui.event("socket_updated").await,
        json!([{ "id": sid, "nsp": "/", "transport": "websocket" }])
    );
    ws.close(None).await.ok();
    ui.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn without_the_setting_there_is_no_admin_namespace() {
    let app = spawn_app().await;
    let answer = raw_connect_to(&app, "/admin", "", login()).await;
    assert!(answer.starts_with("44/admin,"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn hash_password_prints_a_hash_that_signs_in() {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
        .arg("hash-password")
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("pulso runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"s3cret words\n").await.expect("written");
    drop(stdin);
    let output = child.wait_with_output().await.expect("pulso ends");
    assert!(output.status.success());
    let hash = String::from_utf8(output.stdout).expect("utf-8");
    assert!(bcrypt::verify("s3cret words", hash.trim()).expect("a bcrypt hash"));
}

/// How many sockets `/ws/stats` counts in `room`.
async fn in_room(app: &TestApp, room: &str) -> u64 {
    let (_, stats) = app.api(Method::GET, "/ws/stats", None).await;
    stats["stats"]["rooms"][room].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn the_ui_moves_sockets_only_into_rooms_their_user_may_join_and_disconnects_them() {
    let app = admin_app().await;
    let vic = app.socket(VIEWER_KEY, "vic").await;
    let vic_id = vic.event("connection_established").await["socket_id"].clone();
    let ana = app.socket(STAFF_KEY, "ana").await;
    let ana_id = ana.event("connection_established").await["socket_id"].clone();
    let ui = admin(&app, login()).await;
    ui.event("all_sockets").await;

    // One socket, by its id: refused where its user may not go, then let in.
    ui.emit(
        "join",
        vec![json!("/"), json!("role:admin"), vic_id.clone()],
    )
    .await;
    ui.emit("leave", vec![json!("/"), json!("user:vic"), vic_id.clone()])
        .await;
    ui.emit("join", vec![json!("/"), json!("order:7"), vic_id.clone()])
        .await;
    assert_eq!(
        ui.event("room_joined").await,
        json!(["/", "order:7", vic_id])
    );
    ui.emit("leave", vec![json!("/"), json!("order:7"), vic_id.clone()])
        .await;
    assert_eq!(ui.event("room_left").await, json!(["/", "order:7", vic_id]));
    assert!(
        ui.received("room_joined").await.is_empty() && ui.received("room_left").await.is_empty()
    );
    assert_eq!(
        in_room(&app, "role:admin").await,
        0,
        "vic was not made an admin"
    );
    assert_eq!(in_room(&app, "user:vic").await, 1, "vic kept its own room");

    // Every socket in a room: both dashboards are in `orders`.
    ui.emit("join", vec![json!("/"), json!("sku:A-1"), json!("orders")])
        .await;
    let mut joined = vec![
        ui.event("room_joined").await[2].clone(),
        ui.event("room_joined").await[2].clone(),
    ];
    joined.sort_by_key(Value::to_string);
    let mut expected = vec![vic_id.clone(), ana_id.clone()];
    expected.sort_by_key(Value::to_string);
    assert_eq!(joined, expected);
    assert_eq!(in_room(&app, "sku:A-1").await, 2);

    // One socket disconnected, by its id: the other stays.
    ui.emit(
        "_disconnect",
        vec![json!("/"), json!(false), vic_id.clone()],
    )
    .await;
    assert_eq!(
        ui.event("socket_disconnected").await,
        json!(["/", vic_id, "server namespace disconnect"])
    );
    ana.ok("get_unread_count", json!({})).await;
    assert_eq!(in_room(&app, "user:ana").await, 1);
    ui.disconnect().await;
    ana.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn a_read_only_ui_is_told_so_and_changes_nothing() {
    let app = admin_app_with(true).await;
    let vic = app.socket(VIEWER_KEY, "vic").await;
    let vic_id = vic.event("connection_established").await["socket_id"].clone();
    let ui = admin(&app, login()).await;
    assert_eq!(
        ui.event("config").await,
        json!([{ "supportedFeatures": [] }])
    );
    ui.emit("join", vec![json!("/"), json!("order:7"), vic_id.clone()])
        .await;
    ui.emit(
        "_disconnect",
        vec![json!("/"), json!(false), vic_id.clone()],
    )
    .await;
    // The dashboard's own join comes after: the UI hears of it, and of nothing before.
    vic.ok("join_room", json!("order:8")).await;
    assert_eq!(
        ui.event("room_joined").await,
        json!(["/", "order:8", vic_id])
    );
    assert_eq!(in_room(&app, "order:7").await, 0);
    assert!(ui.received("socket_disconnected").await.is_empty());
    vic.ok("get_unread_count", json!({})).await;
    ui.disconnect().await;
    vic.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn pulso_serves_the_ui_page_at_admin_from_its_folder_and_nothing_beside_it() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let dist = folder.path().join("dist");
    std::fs::create_dir_all(dist.join("js")).unwrap();
    std::fs::write(dist.join("index.html"), "<title>Socket.IO Admin UI</title>").unwrap();
    std::fs::write(dist.join("js/app.js"), "console.log('ui')").unwrap();
    std::fs::write(folder.path().join("secret.txt"), "not for the web").unwrap();
    let app = spawn_app_with(|config| {
        config.admin_ui = true;
        config.admin_ui_dir = Some(dist.clone());
    })
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| http.get(format!("{}{path}", app.url)).send();

    // Its files are named relative to the page, so the page is read from `/admin/`.
    let moved = get("/admin").await.unwrap();
    assert_eq!(moved.status(), 308);
    assert_eq!(moved.headers()["location"], "/admin/");
    let page = get("/admin/").await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(
        page.text().await.unwrap(),
        "<title>Socket.IO Admin UI</title>"
    );
    let script = get("/admin/js/app.js").await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(script.text().await.unwrap(), "console.log('ui')");

    for outside in [
        "/admin/%2e%2e/secret.txt",
        "/admin/..%2fsecret.txt",
        "/admin/missing.js",
    ] {
        let answer = get(outside).await.unwrap();
        assert_eq!(answer.status(), 404, "{outside}");
        assert!(!answer.text().await.unwrap().contains("not for the web"));
    }
    // Socket.IO is still served beside the page, over long-polling and WebSocket.
    let ui = admin(&app, json!({})).await;
    assert_eq!(
        ui.event("config").await[0]["supportedFeatures"],
        json!(FEATURES)
    );
    let vic = app.socket(VIEWER_KEY, "vic").await;
    vic.event("connection_established").await;
    ui.disconnect().await;
    vic.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn without_a_folder_there_is_no_page_at_admin() {
    let app = admin_app().await;
    let (status, body) = send(app.raw(Method::GET, "/admin/")).await;
    assert_eq!(status, 404, "{body}");
    app.stop().await;
}
