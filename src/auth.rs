//! Who is calling: identity from credentials (API key + user id), roles, and what each
//! role may do. The one place that decides permissions for both REST and sockets.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{config::ApiKeys, error::AppError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Staff,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Staff, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}` (expected admin, staff or viewer)"))
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub user_id: String,
    pub role: Role,
}

/// Something a caller may want to do; `authorize` says whether its role may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read dashboards, rooms and the event log.
    Read,
    /// Create or change clients, orders, inventory, and report stock.
    WriteCatalog,
    /// Send notifications to a user or everyone.
    SendNotification,
    /// Read the socket layer's live stats.
    ReadStats,
    /// Fire a test broadcast (never in production).
    TestBroadcast,
}

pub fn authorize(identity: &Identity, action: Action) -> Result<(), AppError> {
    let allowed = match action {
        Action::Read => true,
        Action::WriteCatalog => matches!(identity.role, Role::Admin | Role::Staff),
        Action::SendNotification | Action::ReadStats | Action::TestBroadcast => {
            identity.role == Role::Admin
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "role {} may not do this",
            identity.role
        )))
    }
}

/// Credentials as presented, from whichever place the transport carries them.
#[derive(Debug, Default, Clone)]
pub struct Credentials {
    pub api_key: Option<String>,
    pub user_id: Option<String>,
}

const MAX_USER_ID_LEN: usize = 128;

pub fn authenticate(keys: &ApiKeys, credentials: &Credentials) -> Result<Identity, AppError> {
    let Some(key) = credentials.api_key.as_deref().filter(|k| !k.is_empty()) else {
        return Err(AppError::unauthorized(
            "unauthorized: no credentials (send auth.api_key and auth.user_id)",
        ));
    };
    let Some(role) = keys.0.get(key) else {
        return Err(AppError::unauthorized("unauthorized: unknown api key"));
    };
    let user_id = credentials.user_id.as_deref().unwrap_or_default();
    validate_user_id(user_id)?;
    Ok(Identity {
        user_id: user_id.to_owned(),
        role: *role,
    })
}

/// User ids become room names (`user:{id}`), so they are kept short and plain.
fn validate_user_id(user_id: &str) -> Result<(), AppError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.@".contains(c);
    if user_id.is_empty() {
        Err(AppError::unauthorized("unauthorized: user_id is required"))
    } else if user_id.len() > MAX_USER_ID_LEN || !user_id.chars().all(plain) {
        Err(AppError::unauthorized(
            "unauthorized: user_id must be 1-128 characters of letters, digits, - _ . @",
        ))
    } else {
        Ok(())
    }
}

impl Credentials {
    /// Reads `X-API-Key` / `X-User-Id` headers and `api_key` / `user_id` query parameters
    /// (the query wins, as it is what a browser client can set).
    pub fn from_http(headers: &axum::http::HeaderMap, query: Option<&str>) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let mut credentials = Credentials {
            api_key: header("x-api-key"),
            user_id: header("x-user-id"),
        };
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match name.as_ref() {
                "api_key" => credentials.api_key = Some(value.into_owned()),
                "user_id" => credentials.user_id = Some(value.into_owned()),
                _ => {}
            }
        }
        credentials
    }
}
