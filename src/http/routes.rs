//! REST routes that describe themselves: each route is added together with what it
//! takes and answers, so the published OpenAPI document (`docs`) lists exactly the
//! routes the router serves.

use std::sync::Arc;

use axum::{
    Router,
    handler::Handler,
    http::{Method, StatusCode},
    routing::{MethodRouter, get, patch, post},
};
use schemars::{JsonSchema, Schema};

use crate::{
    auth::Action,
    domain::schema::{SchemaFn, reference},
    state::AppState,
};

/// What a route answers on success.
#[derive(Clone, Copy)]
pub enum Answer {
    Json(SchemaFn),
    /// Not JSON: the content type (`/metrics`, the pages).
    Text(&'static str),
}

/// One route as the OpenAPI document shows it.
#[derive(Clone)]
pub struct RouteDoc {
    pub method: Method,
    pub path: String,
    pub summary: &'static str,
    /// What the caller's role must allow; `None` when no credentials are needed.
    pub action: Option<Action>,
    /// Query parameters: each schema's properties.
    pub query: Vec<SchemaFn>,
    pub body: Option<SchemaFn>,
    pub answer: Answer,
    pub status: StatusCode,
    /// Another status answering the same shape (`/ready`'s 503), and when.
    pub also: Option<(StatusCode, &'static str)>,
    /// An error answer only this route gives (`/api/events`' 410), and when.
    pub refusal: Option<(StatusCode, &'static str)>,
}

/// A route that reads (`Action::Read`) and answers JSON; the methods below say otherwise.
pub fn doc(summary: &'static str) -> RouteDoc {
    RouteDoc {
        method: Method::GET,
        path: String::new(),
        summary,
        action: Some(Action::Read),
        query: Vec::new(),
        body: None,
        answer: Answer::Json(reference::<serde_json::Value>),
        status: StatusCode::OK,
        also: None,
        refusal: None,
    }
}

impl RouteDoc {
    pub fn public(self) -> Self {
        Self {
            action: None,
            ..self
        }
    }

    pub fn needs(self, action: Action) -> Self {
        Self {
            action: Some(action),
            ..self
        }
    }

    pub fn query<T: JsonSchema>(mut self) -> Self {
        self.query.push(T::json_schema);
        self
    }

    pub fn body<T: JsonSchema>(self) -> Self {
        self.body_with(reference::<T>)
    }

    pub fn body_with(self, schema: SchemaFn) -> Self {
        Self {
            body: Some(schema),
            ..self
        }
    }

    pub fn returns<T: JsonSchema>(self) -> Self {
        self.returns_with(reference::<T>)
    }

    pub fn returns_with(self, schema: SchemaFn) -> Self {
        Self {
            answer: Answer::Json(schema),
            ..self
        }
    }

    pub fn text(self, content_type: &'static str) -> Self {
        Self {
            answer: Answer::Text(content_type),
            ..self
        }
    }

    pub fn or(self, status: StatusCode, when: &'static str) -> Self {
        Self {
            also: Some((status, when)),
            ..self
        }
    }

    pub fn refuses(self, status: StatusCode, when: &'static str) -> Self {
        Self {
            refusal: Some((status, when)),
            ..self
        }
    }

    pub fn created(self) -> Self {
        Self {
            status: StatusCode::CREATED,
            ..self
        }
    }
}

/// A body schema without a field the path carries (`sku` in `/inventory/{sku}`).
pub fn without_field(mut schema: Schema, name: &str) -> Schema {
    if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        properties.remove(name);
    }
    if let Some(required) = schema.get_mut("required").and_then(|r| r.as_array_mut()) {
        required.retain(|field| field != name);
    }
    schema
}

/// A router and the description of every route in it.
#[derive(Default)]
pub struct Routes {
    router: Router<Arc<AppState>>,
    docs: Vec<RouteDoc>,
}

impl Routes {
    pub fn get<H: Handler<T, Arc<AppState>>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
        doc: RouteDoc,
    ) -> Self {
        self.add(Method::GET, path, get(handler), doc)
    }

    pub fn post<H: Handler<T, Arc<AppState>>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
        doc: RouteDoc,
    ) -> Self {
        self.add(Method::POST, path, post(handler), doc)
    }

    pub fn patch<H: Handler<T, Arc<AppState>>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
        doc: RouteDoc,
    ) -> Self {
        self.add(Method::PATCH, path, patch(handler), doc)
    }

    fn add(
        mut self,
        method: Method,
        path: &'static str,
        route: MethodRouter<Arc<AppState>>,
        doc: RouteDoc,
    ) -> Self {
        self.router = self.router.route(path, route);
        self.docs.push(RouteDoc {
            method,
            path: path.to_owned(),
            ..doc
        });
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.docs.extend(other.docs);
        self
    }

    /// `other` under `prefix`, answering `fallback` for paths it does not have.
    pub fn nest<H: Handler<T, Arc<AppState>>, T: 'static>(
        mut self,
        prefix: &str,
        other: Routes,
        fallback: H,
    ) -> Self {
        self.router = self.router.nest(prefix, other.router.fallback(fallback));
        self.docs.extend(other.docs.into_iter().map(|doc| RouteDoc {
            path: format!("{prefix}{}", doc.path),
            ..doc
        }));
        self
    }

    pub fn into_parts(self) -> (Router<Arc<AppState>>, Vec<RouteDoc>) {
        (self.router, self.docs)
    }
}
