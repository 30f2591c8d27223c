//! Clients: who orders.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

#[derive(Debug, Deserialize, Validate, JsonSchema)]
pub struct NewClient {
    #[validate(custom(function = "super::required_text"))]
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    #[validate(custom(function = "valid_optional_email"))]
    pub email: Option<String>,
    #[validate(custom(function = "valid_phone"))]
    #[schemars(pattern(PHONE_PATTERN))]
    pub phone: Option<String>,
}

/// A change to a client: absent fields stay as they are; an empty `email` or `phone` clears it.
#[derive(Debug, Deserialize, Validate, JsonSchema)]
pub struct ClientPatch {
    #[validate(custom(function = "super::required_text"))]
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    #[validate(custom(function = "valid_optional_email"))]
    pub email: Option<String>,
    #[validate(custom(function = "valid_phone"))]
    #[schemars(pattern(PHONE_PATTERN))]
    pub phone: Option<String>,
}

/// What `valid_phone` accepts, for the published schema (empty clears the phone).
const PHONE_PATTERN: &str = r"^[0-9 +\-().]{0,32}$";

fn valid_phone(phone: &str) -> Result<(), ValidationError> {
    let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    if phone.is_empty() || (phone.len() <= 32 && phone.chars().all(allowed)) {
        Ok(())
    } else {
        Err(ValidationError::new("phone")
            .with_message("must be up to 32 digits, spaces and + - ( ) .".into()))
    }
}

fn valid_optional_email(email: &str) -> Result<(), ValidationError> {
    if email.is_empty() || validator::ValidateEmail::validate_email(&email) {
        Ok(())
    } else {
        Err(ValidationError::new("email").with_message("must be a valid email address".into()))
    }
}

// Also read: a producer publishes it (`domain::published`).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, JsonSchema)]
#[schemars(rename = "Client")]
pub struct ClientView {
    #[validate(range(min = 1, message = "must be a client id"))]
    pub id: i64,
    #[validate(custom(function = "super::required_text"))]
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    #[validate(custom(function = "valid_optional_email"))]
    pub email: Option<String>,
    #[validate(custom(function = "valid_phone"))]
    #[schemars(pattern(PHONE_PATTERN))]
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::client::Model> for ClientView {
    fn from(m: entity::client::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            email: m.email,
            phone: m.phone,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
