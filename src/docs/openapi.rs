//! The REST API as OpenAPI 3.1, from the routes' own descriptions (`http::routes`).

use axum::http::Method;
use serde_json::{Map, Value, json};

use super::schemas::Schemas;
use crate::{
    domain::{inventory::SKU_PATTERN, schema::reference},
    error::ErrorBody,
    http::routes::{Answer, RouteDoc},
};

pub fn document(routes: &[RouteDoc]) -> Value {
    let mut schemas = Schemas::new();
    let error = schemas.written(reference::<ErrorBody<'static>>);
    let mut paths: Map<String, Value> = Map::new();
    for route in routes {
        let operation = operation(&mut schemas, route, &error);
        let path = paths.entry(route.path.clone()).or_insert_with(|| json!({}));
        path[route.method.as_str().to_ascii_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "pulso: REST",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "pulso's REST API. A write here is the same service call as the socket command of the same meaning and emits the same events. Errors answer `{ error: { code, message, fields? } }`; `fields` names every bad field in words.",
        },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "components": {
            "schemas": schemas.components(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-API-Key", "description": "Goes with X-User-Id (both may be given as the query parameters api_key and user_id)" },
                "userId": { "type": "apiKey", "in": "header", "name": "X-User-Id" },
            },
        },
    })
}

fn operation(schemas: &mut Schemas, route: &RouteDoc, error: &Value) -> Value {
    let mut parameters: Vec<Value> = path_parameters(&route.path);
    for query in &route.query {
        parameters.extend(query_parameters(schemas.read(*query)));
    }
    let success = match route.answer {
        Answer::Json(schema) => json!({
            "description": "Done",
            "content": { "application/json": { "schema": schemas.written(schema) } },
        }),
        Answer::Text(content_type) => json!({
            "description": "Done",
            "content": { content_type.split(';').next().unwrap_or(content_type): { "schema": { "type": "string" } } },
        }),
    };
    let mut responses = Map::new();
    if let Some((status, when)) = route.also {
        let mut also = success.clone();
        also["description"] = json!(when);
        responses.insert(status.as_u16().to_string(), also);
    }
    responses.insert(route.status.as_u16().to_string(), success);
    let refusal = |why: &str| json!({ "description": why, "content": { "application/json": { "schema": error } } });
    let reads_input = route.body.is_some() || !route.query.is_empty();
    if route.body.is_some() {
        responses.insert(
            "400".into(),
            refusal("The body is not JSON, or not an object"),
        );
    }
    if reads_input {
        responses.insert(
            "422".into(),
            refusal("Bad fields: `error.fields` names each"),
        );
    }
    if route.action.is_some() {
        responses.insert("401".into(), refusal("No valid credentials"));
        responses.insert("403".into(), refusal("The caller's role may not do this"));
    }
    if route.path.contains('{') {
        responses.insert("404".into(), refusal("No such resource"));
    }
    if route.method != Method::GET {
        responses.insert(
            "409".into(),
            refusal("Conflicts with the current state (stock, status, uniqueness)"),
        );
    }
    if let Some((status, when)) = route.refusal {
        responses.insert(status.as_u16().to_string(), refusal(when));
    }
    if route.action.is_some() {
        responses.insert(
            "500".into(),
            refusal("Internal error (details only in the server's log)"),
        );
    }
    let mut operation = json!({
        "operationId": operation_id(&route.method, &route.path),
        "summary": route.summary,
        "parameters": parameters,
        "responses": responses,
    });
    match route.action {
        Some(action) => {
            operation["security"] = json!([{ "bearer": [] }, { "apiKey": [], "userId": [] }]);
            operation["x-pulso-roles"] = json!(action.allowed_roles());
        }
        None => operation["security"] = json!([]),
    }
    if let Some(body) = route.body {
        operation["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": schemas.read(body) } },
        });
    }
    operation
}

/// `get /api/orders/{id}/status` → `getApiOrdersIdStatus`.
fn operation_id(method: &Method, path: &str) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    for word in path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.push_str(chars.as_str());
        }
    }
    id
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split('}').next())
        .map(|name| {
            let schema = match name {
                "sku" => json!({ "type": "string", "pattern": SKU_PATTERN }),
                _ => json!({ "type": "integer", "format": "int64" }),
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

/// Each property of a query struct's schema as a parameter.
fn query_parameters(schema: Value) -> Vec<Value> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema["properties"]
        .as_object()
        .map(|properties| {
            properties
                .iter()
                .map(|(name, property)| {
                    json!({
                        "name": name,
                        "in": "query",
                        "required": required.contains(&name.as_str()),
                        "schema": property,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}
