//! JWT identity: tokens at connect (auth payload or query) and on REST (Bearer), every
//! kind of bad token refused with a reason, and sockets closed when their token expires.

use chrono::Utc;
use pulso::{auth::jwt::JwtSecret, config::DEV_JWT_SECRET};
use reqwest::Method;
use rust_socketio::TransportType;
use serde_json::{Value, json};

use crate::helpers::*;

fn token(claims: Value) -> String {
    JwtSecret::new(DEV_JWT_SECRET).sign(&claims)
}

fn in_seconds(seconds: i64) -> i64 {
    Utc::now().timestamp() + seconds
}

fn valid(sub: &str, role: &str) -> String {
    token(json!({ "sub": sub, "role": role, "exp": in_seconds(3600) }))
}

#[tokio::test]
async fn a_token_names_the_user_and_role() {
    let app = spawn_app().await;
    let socket = app
        .socket_with(
            json!({ "token": valid("tok-1", "viewer") }),
            TransportType::Any,
        )
        .await;
    let hello = socket.event("connection_established").await;
    assert_eq!(
        (hello["user_id"].clone(), hello["role"].clone()),
        (json!("tok-1"), json!("viewer"))
    );
    socket
        .err("client:create", json!({ "name": "x" }), "forbidden")
        .await;
    socket.disconnect().await;

    let query = format!("&token={}", valid("tok-2", "staff"));
    let answer = raw_connect(&app, &query, json!({})).await;
    assert!(answer.starts_with("40"), "{answer}");

    let (status, body) = send(
        app.raw(Method::GET, "/api/notifications/unread-count")
            .bearer_auth(valid("tok-3", "staff")),
    )
    .await;
    assert_eq!((status, body), (200, json!({ "unread_count": 0 })));
    app.stop().await;
}

/// With both a token and an API key, the token decides who calls: at connect and on
/// REST, a valid token names its user (not the key's), and a bad one is refused even
/// beside a valid admin key.
#[tokio::test]
async fn a_token_wins_over_an_api_key() {
    let app = spawn_app().await;
    let both = json!({ "token": valid("tok-user", "viewer"), "api_key": ADMIN_KEY, "user_id": "key-user" });
    let socket = app.socket_with(both, TransportType::Any).await;
    let hello = socket.event("connection_established").await;
    assert_eq!(
        (hello["user_id"].clone(), hello["role"].clone()),
        (json!("tok-user"), json!("viewer"))
    );
    socket.disconnect().await;
    let expired = token(json!({ "sub": "tok-user", "role": "admin", "exp": in_seconds(-10) }));
    let answer = raw_connect(
        &app,
        "",
        json!({ "token": expired, "api_key": ADMIN_KEY, "user_id": "key-user" }),
    )
    .await;
    assert!(
        answer.starts_with("44") && answer.contains("token expired"),
        "{answer}"
    );

    let rest = |token: String| {
        app.raw(Method::POST, "/api/clients")
            .bearer_auth(token)
            .header("X-API-Key", ADMIN_KEY)
            .header("X-User-Id", "key-user")
            .json(&json!({ "name": "Written by whom?" }))
    };
    let (status, body) = send(rest(valid("tok-user", "viewer"))).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("forbidden")),
        "{body}"
    );
    let (status, body) = send(rest(expired)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("unauthorized")),
        "{body}"
    );
    let (_, clients) = app.api(Method::GET, "/api/clients", None).await;
    assert_eq!(clients["total"], 0, "the key's admin role was never used");
    app.stop().await;
}

#[tokio::test]
async fn bad_tokens_are_refused_saying_why() {
    let app = spawn_app().await;
    let forged_alg = |alg: &str| {
        let good = valid("u1", "admin");
        let (_, rest) = good.split_once('.').unwrap();
        let header = base64_url(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        format!("{header}.{rest}")
    };
    let cases = [
        (
            token(json!({ "sub": "u1", "role": "admin", "exp": in_seconds(-10) })),
            "token expired",
        ),
        (
            token(
                json!({ "sub": "u1", "role": "admin", "exp": in_seconds(3600), "nbf": in_seconds(600) }),
            ),
            "token not yet valid",
        ),
        (
            JwtSecret::new("some-other-secret-of-32-bytes-or-more")
                .sign(&json!({ "sub": "u1", "role": "admin", "exp": in_seconds(3600) })),
            "invalid token signature",
        ),
        (forged_alg("none"), "token algorithm `none` is not accepted"),
        (
            forged_alg("HS512"),
            "token algorithm `HS512` is not accepted",
        ),
        (
            token(json!({ "sub": "u1", "role": "admin" })),
            "no valid `exp` claim",
        ),
        (
            token(json!({ "role": "admin", "exp": in_seconds(3600) })),
            "no valid `sub` claim",
        ),
        (
            token(json!({ "sub": "u1", "exp": in_seconds(3600) })),
            "no valid `role` claim",
        ),
        (
            token(json!({ "sub": "u1", "role": "root", "exp": in_seconds(3600) })),
            "unknown role `root`",
        ),
        ("not-a-token".to_owned(), "malformed token"),
    ];
    for (bad, reason) in cases {
        let answer = raw_connect(&app, "", json!({ "token": bad })).await;
        assert!(answer.starts_with("44"), "{reason}: {answer}");
        let refusal: Value = serde_json::from_str(&answer[2..]).unwrap();
        let message = refusal["message"].as_str().unwrap();
        assert!(
            message.starts_with("unauthorized: ") && message.contains(reason),
            "{message}"
        );

        let (status, body) =
            send(app.raw(Method::GET, "/api/notifications").bearer_auth(&bad)).await;
        assert_eq!(status, 401, "{reason}");
        assert!(body["error"]["message"].as_str().unwrap().contains(reason));
    }
    app.stop().await;
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// At its token's `exp` the server closes the socket with a namespace DISCONNECT
/// packet (`41`): what Socket.IO clients report as `io server disconnect`, the one
/// reason they do not reconnect from by themselves. Others see the user leave.
#[tokio::test]
async fn a_socket_is_closed_by_the_server_when_its_token_expires() {
    let app = spawn_app().await;
    let watcher = app.socket(VIEWER_KEY, "watcher").await;
    // `exp` is in whole seconds: this leaves at least 3 s for a connect and a command
    // on a loaded machine; the close must come within `WAIT` of the last frame.
    let exp = in_seconds(4);
    let short = token(json!({ "sub": "brief", "role": "staff", "exp": exp }));
    let mut socket = RawSocket::open(&app).await;
    socket
        .send(&format!("40{}", json!({ "token": short })))
        .await;
    let answer = socket.next_text().await.expect("namespace answer");
    assert!(answer.starts_with("40{"), "{answer}");
    // Within the token's life the socket works...
    socket.ok(1, "get_unread_count", json!({})).await;
    // ...and at its expiry the server disconnects it from the namespace.
    let closing = socket.until("41").await;
    assert_eq!(closing.as_deref(), Some("41"), "no DISCONNECT packet");
    assert!(
        Utc::now().timestamp() >= exp,
        "closed before its token expired"
    );
    assert_eq!(watcher.event("user_disconnected").await["user_id"], "brief");
    watcher.disconnect().await;
    app.stop().await;
}
