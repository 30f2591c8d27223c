//! Limits: a command rate per socket (refusals with a retry hint, then a disconnect for
//! flooding), and caps on sockets per user and per node.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn commands_past_the_rate_are_refused_and_a_flood_is_disconnected() {
    let (rate, burst) = (1, 4);
    let app = spawn_app_with(|config| {
        config.rate_limit = rate;
        config.rate_burst = burst;
    })
    .await;
    let bystander = app.socket(STAFF_KEY, "calm").await;
    let started = tokio::time::Instant::now();
    let flooder = app.socket(STAFF_KEY, "flood").await;
    // Creates until the socket is closed. However slowly they run, the burst runs first,
    // then at most the rate, and `burst` refusals in a row close the socket.
    let (mut ran, mut refused_in_a_row) = (0, 0);
    for n in 0..100 {
        let reply = flooder
            .ack("client:create", json!({ "name": format!("flood {n}") }))
            .await;
        if reply["ok"] == true {
            ran += 1;
            refused_in_a_row = 0;
            continue;
        }
        let error = &reply["error"];
        assert_eq!(error["code"], "rate_limited", "{reply}");
        let message = error["message"].as_str().unwrap();
        refused_in_a_row += 1;
        if refused_in_a_row == burst {
            assert!(message.contains("disconnecting"), "{error}");
            break;
        }
        assert!(message.contains("retry in"), "{error}");
        assert!(
            error["retry_after_ms"]
                .as_u64()
                .is_some_and(|ms| ms > 0 && ms <= 1000),
            "{error}"
        );
    }
    assert_eq!(refused_in_a_row, burst, "{ran} ran, none refused enough");
    flooder.event("close").await;
    let allowed = burst + (f64::from(rate) * started.elapsed().as_secs_f64()) as u32;
    assert!(
        (burst..=allowed).contains(&ran),
        "{ran} ran, from {burst} to {allowed} allowed"
    );

    bystander.ok("get_unread_count", json!({})).await;
    let (_, clients) = app.api(reqwest::Method::GET, "/api/clients", None).await;
    assert_eq!(clients["total"], ran, "the refused creates wrote nothing");
    bystander.disconnect().await;
    app.stop().await;
}

/// The server's answer to a namespace connect as `user`: `40…` or `44{message}`.
async fn try_connect(app: &TestApp, user: &str) -> String {
    raw_connect(app, "", json!({ "api_key": STAFF_KEY, "user_id": user })).await
}

fn refusal(answer: &str) -> String {
    assert!(answer.starts_with("44"), "expected a refusal, got {answer}");
    let body: Value = serde_json::from_str(&answer[2..]).unwrap();
    body["message"].as_str().unwrap().to_owned()
}

/// Retries a connect until it is accepted (a closed socket's slot is freed shortly
/// after its disconnect is processed).
async fn connect_eventually(app: &TestApp, user: &str) {
    eventually("freed slot", WAIT, || async {
        try_connect(app, user).await.starts_with("40").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_user_may_hold_only_so_many_sockets() {
    let app = spawn_app_with(|config| config.max_connections_per_user = 2).await;
    let first = app.socket(STAFF_KEY, "ana").await;
    let _second = app.socket(STAFF_KEY, "ana").await;
    let message = refusal(&try_connect(&app, "ana").await);
    assert!(
        message.contains("too many connections")
            && message.contains("PULSO_MAX_CONNECTIONS_PER_USER"),
        "{message}"
    );
    assert!(
        try_connect(&app, "ben").await.starts_with("40"),
        "other users are not affected"
    );
    first.disconnect().await;
    connect_eventually(&app, "ana").await;
    app.stop().await;
}

#[tokio::test]
async fn a_node_accepts_only_so_many_sockets() {
    let app = spawn_app_with(|config| config.max_connections = 2).await;
    let first = app.socket(STAFF_KEY, "a").await;
    let _second = app.socket(STAFF_KEY, "b").await;
    let message = refusal(&try_connect(&app, "c").await);
    assert!(
        message.contains("server full") && message.contains("PULSO_MAX_CONNECTIONS"),
        "{message}"
    );
    first.disconnect().await;
    connect_eventually(&app, "c").await;
    app.stop().await;
}
