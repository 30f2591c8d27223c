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

#[tokio::test]
async fn a_socket_is_closed_when_its_token_expires() {
    let app = spawn_app().await;
    // `exp` is in whole seconds: this leaves at least 3 s for a connect and a command
    // on a loaded machine, and the close comes within `WAIT` of the command.
    let exp = in_seconds(4);
    let short = token(json!({ "sub": "brief", "role": "staff", "exp": exp }));
    let socket = app
        .socket_with(json!({ "token": short }), TransportType::Websocket)
        .await;
    let watcher = app.socket(VIEWER_KEY, "watcher").await;
    // Within the token's life the socket works...
    socket.ok("get_unread_count", json!({})).await;
    // ...and at its expiry the server closes it, which others see as the user leaving.
    socket.event("close").await;
    assert!(
        Utc::now().timestamp() >= exp,
        "closed before its token expired"
    );
    assert_eq!(watcher.event("user_disconnected").await["user_id"], "brief");
    watcher.disconnect().await;
    app.stop().await;
}
