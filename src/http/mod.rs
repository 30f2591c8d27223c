//! REST under `/api`, plus health and readiness. Handlers only translate HTTP to
//! service calls; every write goes through the same service function as the socket
//! command and emits the same events. Each handler's `Caller<…>` names its action,
//! checked before the body is read, so a denial says nothing about the input (as
//! socket commands do).

pub mod admin_page;
mod clients;
mod events;
mod health;
mod home;
mod inventory;
mod notifications;
mod operations;
mod orders;
mod presence;
mod publish;
pub mod routes;
mod summary;

use std::{marker::PhantomData, sync::Arc};

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use routes::Routes;

use crate::{
    auth::{Action, Credentials, Identity},
    domain,
    error::AppError,
    state::AppState,
};

/// Every route, with what it takes and answers (the OpenAPI document is built from it).
pub fn routes() -> Routes {
    let api = clients::routes()
        .merge(inventory::routes())
        .merge(orders::routes())
        .merge(events::routes())
        .merge(publish::routes())
        .merge(notifications::routes())
        .merge(presence::routes())
        .merge(summary::routes());
    Routes::default()
        .nest("/api", api, || async {
            AppError::not_found("no such endpoint")
        })
        .merge(home::routes())
        .merge(health::routes())
        .merge(operations::routes())
}

/// The authenticated caller (`Authorization: Bearer <JWT>`, or `X-API-Key` plus
/// `X-User-Id`, or the same in the query string), allowed to do `A`: every handler
/// names what it does, and the permission table is asked once, here, before the body
/// is read (so a refusal says nothing about the input).
pub struct Caller<A = can::Read>(pub Identity, PhantomData<A>);

/// What a REST handler does, as an action of the permission table.
pub trait Permission {
    const ACTION: Action;
}

/// The actions REST handlers name in `Caller<…>`.
pub mod can {
    use super::{Action, Permission};

    macro_rules! permissions {
        ($($name:ident),*) => {$(
            pub struct $name;
            impl Permission for $name {
                const ACTION: Action = Action::$name;
            }
        )*};
    }
    permissions!(
        Read,
        WriteCatalog,
        SendNotification,
        ReadStats,
        TestBroadcast,
        Publish
    );
}

impl<A: Permission> FromRequestParts<Arc<AppState>> for Caller<A> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, AppError> {
        let credentials = Credentials::from_http(&parts.headers, parts.uri.query());
        // Logged like a refused socket: the reason, never the credential.
        let caller = state.auth.authenticate(&credentials).inspect_err(|error| {
            tracing::info!(reason = "unauthorized", error = %error.message, "request refused");
        })?;
        state.permit(&caller, A::ACTION)?;
        Ok(Caller(caller, PhantomData))
    }
}

/// A JSON request body, read as a value; commands parse it with `domain::parse` exactly
/// as socket payloads are parsed.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| AppError::invalid(format!("could not read the request body: {e}")))?;
        if bytes.is_empty() {
            return Ok(JsonBody(Value::Object(Default::default())));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| AppError::invalid(format!("request body is not valid JSON: {e}")))
    }
}

/// Path parameters with errors in the API's JSON shape.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        // A NUL names nothing (and PostgreSQL cannot even compare it).
        if parts.uri.path().contains("%00") {
            return Err(AppError::not_found("no such resource"));
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|e| AppError::not_found(format!("no such resource: {e}")))
    }
}

/// Query parameters with errors in the API's JSON shape.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(pairs)
            .map(ApiQuery)
            .map_err(|error| {
                let (field, problem) = domain::field_problem(&error);
                AppError::invalid_field(&field, problem)
            })
    }
}

/// Adds a path parameter to a JSON body, so `PATCH /api/x/{key}` parses like the socket
/// command that carries the key inside its payload.
fn with_field(body: Value, name: &str, value: Value) -> Result<Value, AppError> {
    match body {
        Value::Object(mut map) => {
            map.insert(name.to_owned(), value);
            Ok(Value::Object(map))
        }
        _ => Err(AppError::invalid("expected a JSON object")),
    }
}
