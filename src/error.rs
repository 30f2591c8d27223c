//! One error type for every failure a caller can see. The same value becomes an HTTP
//! response (`{ "error": { code, message, fields? } }`) or a socket ack
//! (`{ ok: false, error: { code, message, fields? } }`), so REST and sockets agree.

use std::{collections::BTreeMap, time::Duration};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;

use crate::telemetry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    /// A cursor older than what the event log still keeps (REST only).
    CursorExpired,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Invalid => "invalid",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::CursorExpired => "cursor_expired",
            ErrorCode::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, schemars::JsonSchema)]
#[schemars(rename = "ApiError")]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// Each bad field, named as the client sent it (`items[0].quantity`), and what is
    /// wrong with it, in words a form can show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    /// With `rate_limited`: how long to wait before trying again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: None,
            retry_after_ms: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    /// A validation failure naming the offending fields (HTTP 422).
    pub fn invalid_fields(fields: BTreeMap<String, String>) -> Self {
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        let message = format!("invalid fields: {}", names.join(", "));
        Self {
            fields: Some(fields),
            ..Self::invalid(message)
        }
    }

    pub fn invalid_field(field: &str, problem: impl Into<String>) -> Self {
        Self::invalid_fields(BTreeMap::from([(field.to_owned(), problem.into())]))
    }

    /// The same error, naming the one field it is about (an order line's SKU, say), so
    /// that a form can show it there.
    pub fn on_field(self, field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            fields: Some(BTreeMap::from([(field.into(), problem.into())])),
            ..self
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn rate_limited(message: impl Into<String>, retry_after: Option<Duration>) -> Self {
        Self {
            retry_after_ms: retry_after.map(|wait| wait.as_millis().try_into().unwrap_or(u64::MAX)),
            ..Self::new(ErrorCode::RateLimited, message)
        }
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
    }

    pub fn status(&self) -> StatusCode {
        match self.code {
            // A request that names bad fields is well-formed but unprocessable;
            // one that cannot even be read (bad JSON, wrong shape) is a bad request.
            ErrorCode::Invalid if self.fields.is_some() => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Invalid => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::CursorExpired => StatusCode::GONE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::conflict("already exists"),
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                Self::conflict("refers to a record that does not exist")
            }
            _ => {
                // Details stay in the log; callers only learn that it failed.
                tracing::error!(error = %err, "database error");
                telemetry::record_db_error();
                Self::internal()
            }
        }
    }
}

/// What a refused HTTP request answers.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ErrorBody<'a> {
    error: &'a AppError,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.status(), Json(ErrorBody { error: &self })).into_response()
    }
}

/// The ack every socket command answers with.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Ack<T: Serialize> {
    Ok { ok: bool, data: T },
    Err { ok: bool, error: AppError },
}

impl<T: Serialize> From<Result<T, AppError>> for Ack<T> {
    fn from(result: Result<T, AppError>) -> Self {
        match result {
            Ok(data) => Ack::Ok { ok: true, data },
            Err(error) => Ack::Err { ok: false, error },
        }
    }
}
