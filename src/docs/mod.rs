//! The published contract: the AsyncAPI document of the Socket.IO side and the OpenAPI
//! document of REST, built from the types and tables the server itself runs on
//! (`socket::contract`, `http::routes`), and a page for people to read each.

mod asyncapi;
mod openapi;
mod schemas;

use std::sync::LazyLock;

use axum::{Json, response::Html};
use serde_json::Value;

use crate::http::{
    self,
    routes::{Routes, doc},
};

// Built once, on first request: the documents cannot change while the server runs.
static ASYNCAPI: LazyLock<Value> = LazyLock::new(asyncapi::document);
static OPENAPI: LazyLock<Value> = LazyLock::new(|| {
    let (_, routes) = http::routes().merge(routes()).into_parts();
    openapi::document(&routes)
});

/// The documents, and the pages that show them.
pub fn routes() -> Routes {
    Routes::default()
        .get(
            "/api/asyncapi.json",
            || async { Json(&*ASYNCAPI) },
            doc("The Socket.IO contract (AsyncAPI 3.0)")
                .public()
                .returns_with(document),
        )
        .get(
            "/api/openapi.json",
            || async { Json(&*OPENAPI) },
            doc("The REST API (OpenAPI 3.1)")
                .public()
                .returns_with(document),
        )
        .get(
            "/api/docs",
            || async { Html(PAGE) },
            doc("The Socket.IO contract and the REST API, for people to read")
                .public()
                .text("text/html"),
        )
}

fn document(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "object" })
}

/// One page for both documents: it fetches them and lays them out (no network beyond
/// this server: everything it needs is inline).
const PAGE: &str = include_str!("page.html");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;
    use crate::{channels::EventName, socket::contract};

    /// Every `$ref` in `value`, as a JSON pointer into the document.
    fn references<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target.trim_start_matches('#'));
                }
                map.values().for_each(|v| references(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_points_into_its_document() {
        for document in [&*ASYNCAPI, &*OPENAPI] {
            let mut found = Vec::new();
            references(document, &mut found);
            assert!(found.len() > 50, "{} references", found.len());
            for target in found {
                assert!(document.pointer(target).is_some(), "nothing at {target}");
            }
        }
    }

    /// One operation per command and per event: none lost to a key shared by two (the
    /// command `stock_low` and the event `stock_low`, say).
    #[test]
    fn the_socket_document_has_every_command_and_event_once() {
        let titles = |action: &str| -> Vec<String> {
            ASYNCAPI["operations"]
                .as_object()
                .expect("operations")
                .values()
                .filter(|operation| operation["action"] == action)
                .map(|operation| operation["title"].as_str().expect("a title").to_owned())
                .collect()
        };
        let commands: BTreeSet<String> = contract::commands()
            .iter()
            .map(|c| c.name.to_owned())
            .collect();
        let events: BTreeSet<String> = EventName::ALL
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect();
        for (listed, expected) in [(titles("receive"), commands), (titles("send"), events)] {
            assert_eq!(listed.len(), expected.len(), "{listed:?}");
            assert_eq!(listed.into_iter().collect::<BTreeSet<_>>(), expected);
        }
    }
}
