//! The published contract: the documents the server serves are the committed ones, and
//! they describe what the server does (every command known, every route served with
//! the auth it documents). The Node suite validates real acks and events against them.

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, VIEWER_KEY, send, spawn_app};

/// Set to rewrite `docs/*.json` from what the server serves, after a deliberate change.
const UPDATE: &str = "PULSO_UPDATE_CONTRACT";

#[tokio::test]
async fn the_committed_documents_are_what_the_server_serves() {
    let app = spawn_app().await;
    for name in ["asyncapi.json", "openapi.json"] {
        let (status, served) = send(app.raw(Method::GET, &format!("/api/{name}"))).await;
        assert_eq!(status, 200, "{name}: {served}");
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(name);
        if std::env::var_os(UPDATE).is_some() {
            let text = serde_json::to_string_pretty(&served).expect("JSON") + "\n";
            std::fs::write(&path, text).expect("docs/ writable");
            continue;
        }
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("docs/ readable"))
                .expect("committed JSON");
        assert!(
            committed == served,
            "docs/{name} differs from what the server serves: if the change is meant, run \
             `{UPDATE}=1 cargo test --test api contract` and commit docs/ (client-demo's \
             types follow with `npm run types` in client-demo)"
        );
    }
}

/// Every command the document lists reaches its handler (anything but "unknown
/// command"), and a name it does not list is refused as unknown.
#[tokio::test]
async fn every_documented_command_is_one_the_server_knows() {
    let app = spawn_app().await;
    let (_, document) = send(app.raw(Method::GET, "/api/asyncapi.json")).await;
    let socket = app.socket(ADMIN_KEY, "u1").await;
    let commands = names(&document, "receive");
    assert!(commands.len() >= 13, "{commands:?}");
    for command in &commands {
        let reply = socket.ack(command, json!({})).await;
        let message = reply["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.starts_with("unknown command"),
            "`{command}`: {reply}"
        );
    }
    let reply = socket.ack("order:delete", json!({})).await;
    assert_eq!(reply["error"]["message"], "unknown command `order:delete`");
}

/// The Socket.IO names of the operations with `action`.
fn names(document: &Value, action: &str) -> Vec<String> {
    document["operations"]
        .as_object()
        .expect("operations")
        .values()
        .filter(|operation| operation["action"] == action)
        .map(|operation| operation["title"].as_str().expect("title").to_owned())
        .collect()
}

/// Every documented route is served (not the fallback's "no such endpoint", not 405),
/// asks for credentials exactly when the document says so, and refuses a viewer exactly
/// when the document's roles leave viewers out.
#[tokio::test]
async fn every_documented_route_is_served_with_the_auth_it_documents() {
    let app = spawn_app().await;
    let (_, document) = send(app.raw(Method::GET, "/api/openapi.json")).await;
    let paths = document["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, operations) in paths {
        let concrete = path.replace("{id}", "1").replace("{sku}", "SKU-1");
        for (method, operation) in operations.as_object().expect("operations") {
            let method: Method = method.to_uppercase().parse().expect("a method");
            let what = format!("{method} {path}");
            let (status, body) = send(app.raw(method.clone(), &concrete).json(&json!({}))).await;
            assert_ne!(status, 405, "{what} is not routed");
            assert_ne!(
                body["error"]["message"], "no such endpoint",
                "{what} is not routed"
            );
            let roles = operation["x-pulso-roles"].as_array();
            assert_eq!(
                status == 401,
                roles.is_some(),
                "{what} without credentials: {status} {body}"
            );
            if let Some(roles) = roles {
                let viewer_may = roles.contains(&json!("viewer"));
                let (status, body) = send(
                    app.raw(method.clone(), &concrete)
                        .header("X-API-Key", VIEWER_KEY)
                        .header("X-User-Id", "v1")
                        .json(&json!({})),
                )
                .await;
                assert_eq!(
                    status == 403,
                    !viewer_may,
                    "{what} as a viewer: {status} {body}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} routes documented");
    let (status, page) = send(app.raw(Method::GET, "/api/docs")).await;
    assert_eq!(status, 200, "{page}");
}
