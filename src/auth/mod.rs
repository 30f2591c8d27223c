//! Who is calling: identity from credentials (a JWT, or an API key plus user id) and
//! roles. What each role may do is decided in `permissions`.

pub mod api_keys;
pub mod jwt;
pub mod permissions;

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use api_keys::ApiKeys;
use api_keys::SpeaksFor;
pub use permissions::{Action, authorize};

use crate::error::AppError;
use jwt::JwtSecret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Staff,
    Viewer,
    /// A producer's backend: publishes events about data it owns (`POST /api/publish`).
    Service,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Staff, Role::Viewer, Role::Service];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Viewer => "viewer",
            Role::Service => "service",
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
            .ok_or_else(|| format!("unknown role `{s}` (expected admin, staff, viewer or service)"))
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub role: Role,
    /// When the credentials stop being valid (a token's `exp`); API keys do not expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// The fingerprint of the key that named this user, when a key that may speak for
    /// any user did (such sessions are logged).
    pub delegated_by: Option<String>,
}

#[cfg(test)]
impl Identity {
    /// The user `me` with `role`, for unit tests.
    pub fn with_role(role: Role) -> Self {
        Identity {
            user_id: "me".into(),
            role,
            expires_at: None,
            delegated_by: None,
        }
    }
}

/// Credentials as presented, from whichever place the transport carries them.
#[derive(Default, Clone)]
pub struct Credentials {
    pub token: Option<String>,
    pub api_key: Option<String>,
    pub user_id: Option<String>,
}

impl Credentials {
    /// The headers credentials are read from.
    pub const HEADERS: [&str; 3] = ["authorization", "x-api-key", "x-user-id"];

    /// Reads `Authorization: Bearer`, `X-API-Key` and `X-User-Id` headers, and `token`,
    /// `api_key` and `user_id` query parameters (the query wins: it is what a browser
    /// client can set).
    pub fn from_http(headers: &axum::http::HeaderMap, query: Option<&str>) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let [authorization, api_key, user_id] = Self::HEADERS;
        let mut credentials = Credentials {
            token: header(authorization)
                .and_then(|value| value.strip_prefix("Bearer ").map(str::to_owned)),
            api_key: header(api_key),
            user_id: header(user_id),
        };
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match name.as_ref() {
                "token" => credentials.token = Some(value.into_owned()),
                "api_key" => credentials.api_key = Some(value.into_owned()),
                "user_id" => credentials.user_id = Some(value.into_owned()),
                _ => {}
            }
        }
        credentials
    }
}

/// Checks credentials against the configured API keys and JWT secret.
#[derive(Debug, Clone)]
pub struct Authenticator {
    pub api_keys: ApiKeys,
    pub jwt_secret: Option<JwtSecret>,
}

const MAX_USER_ID_LEN: usize = 128;

impl Authenticator {
    /// A token wins over an API key when both are present. Every refusal's message
    /// starts with `unauthorized:` and says why.
    pub fn authenticate(&self, credentials: &Credentials) -> Result<Identity, AppError> {
        if let Some(token) = credentials.token.as_deref().filter(|t| !t.is_empty()) {
            let Some(secret) = &self.jwt_secret else {
                return Err(unauthorized(
                    "tokens are not accepted (no PULSO_JWT_SECRET)",
                ));
            };
            let claims =
                jwt::verify(token, secret).map_err(|error| unauthorized(&error.to_string()))?;
            validate_user_id(&claims.sub).map_err(unauthorized)?;
            return Ok(Identity {
                user_id: claims.sub,
                role: claims.role,
                expires_at: Some(claims.expires_at),
                delegated_by: None,
            });
        }
        let Some(key) = credentials.api_key.as_deref().filter(|k| !k.is_empty()) else {
            return Err(unauthorized(
                "no credentials (send auth.token, or auth.api_key and auth.user_id)",
            ));
        };
        let Some(grant) = self.api_keys.find(key) else {
            return Err(unauthorized("unknown api key"));
        };
        let named = credentials.user_id.as_deref().filter(|u| !u.is_empty());
        let user_id = match (&grant.speaks_for, named) {
            (SpeaksFor::User(own), None) => own,
            (SpeaksFor::User(own), Some(named)) if named == own => own,
            // Which user the key belongs to is not said: it is nobody else's business.
            (SpeaksFor::User(_), Some(_)) => {
                return Err(unauthorized("this api key speaks only for its own user"));
            }
            (SpeaksFor::AnyUser, Some(named)) => {
                validate_user_id(named).map_err(unauthorized)?;
                named
            }
            (SpeaksFor::AnyUser, None) => return Err(unauthorized("user_id is required")),
        };
        Ok(Identity {
            user_id: user_id.to_owned(),
            role: grant.role,
            expires_at: None,
            delegated_by: grant.delegates().then(|| grant.fingerprint.clone()),
        })
    }
}

fn unauthorized(why: &str) -> AppError {
    AppError::unauthorized(format!("unauthorized: {why}"))
}

/// User ids become room names (`user:{id}`), so they are kept short and plain.
fn validate_user_id(user_id: &str) -> Result<(), &'static str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.@".contains(c);
    if user_id.is_empty() {
        Err("user_id is required")
    } else if user_id.len() > MAX_USER_ID_LEN || !user_id.chars().all(plain) {
        Err("user_id must be 1-128 characters of letters, digits, - _ . @")
    } else {
        Ok(())
    }
}
