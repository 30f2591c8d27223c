//! Notifications: a persistent inbox per user, with messages for one user or everyone.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use validator::Validate;

/// How urgent a notification is. The older `priority` names are accepted too:
/// `low` → info, `normal` → warning, `high` → error, `urgent` → critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    #[serde(alias = "low")]
    Info,
    #[serde(alias = "normal")]
    Warning,
    #[serde(alias = "high")]
    Error,
    #[serde(alias = "urgent")]
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

/// `notification:send` / `POST /api/notifications`. `user_id: null` (or absent) means
/// everyone.
#[derive(Debug, Deserialize, Validate, JsonSchema)]
pub struct NewNotification {
    #[serde(default, deserialize_with = "crate::domain::string_or_number")]
    #[schemars(schema_with = "crate::domain::schema::string_or_number")]
    #[validate(length(min = 1, max = 128, message = "must be 1-128 characters"))]
    pub user_id: Option<String>,
    #[serde(default = "default_kind", rename = "type")]
    #[validate(length(min = 1, max = 64, message = "must be 1-64 characters"))]
    pub kind: String,
    #[validate(custom(function = "super::required_text"))]
    #[schemars(length(min = 1, max = 200))]
    pub subject: String,
    #[validate(length(min = 1, max = 5000, message = "must be 1-5000 characters"))]
    pub message: String,
    /// Also accepted as `priority`.
    #[serde(default, alias = "priority")]
    pub severity: Severity,
}

fn default_kind() -> String {
    "message".to_owned()
}

/// `mark_read { notification_id }`.
#[derive(Debug, Deserialize, Validate, JsonSchema)]
pub struct MarkRead {
    pub notification_id: i64,
}

/// `admin:test_broadcast` / `POST /ws/_test/broadcast`.
#[derive(Debug, Deserialize, Validate, JsonSchema)]
pub struct TestBroadcast {
    #[serde(default = "default_title")]
    #[validate(custom(function = "super::required_text"))]
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
    #[serde(default = "default_content")]
    #[validate(length(min = 1, max = 5000, message = "must be 1-5000 characters"))]
    pub content: String,
    /// Also accepted as `severity`.
    #[serde(default, alias = "severity")]
    pub level: Severity,
}

fn default_title() -> String {
    "Test broadcast".to_owned()
}

fn default_content() -> String {
    "This is a test notification from pulso.".to_owned()
}

/// A notification as its reader sees it (`read` is that reader's state).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Notification")]
pub struct NotificationView {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub subject: String,
    pub message: String,
    #[schemars(with = "Severity")]
    pub severity: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
    /// The recipient, or `null` for everyone.
    pub user_id: Option<String>,
}

impl NotificationView {
    pub fn new(row: entity::notification::Model, read: bool) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            subject: row.subject,
            message: row.message,
            severity: row.severity,
            created_at: row.created_at,
            read,
            user_id: row.user_id,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct UnreadCount {
    pub unread_count: u64,
}

/// `notification_read_confirmation`: one notification, or with `mark_all_read` every
/// one that was unread (`notification_id` is then `null`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReadConfirmation {
    pub notification_id: Option<i64>,
    pub notification_ids: Vec<i64>,
    #[schemars(schema_with = "crate::domain::schema::always_true")]
    pub read: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_priority_names_map_onto_severities() {
        for (name, severity) in [
            ("low", Severity::Info),
            ("normal", Severity::Warning),
            ("high", Severity::Error),
            ("urgent", Severity::Critical),
            ("critical", Severity::Critical),
        ] {
            let parsed: Severity = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(parsed, severity, "{name}");
        }
        assert!(serde_json::from_value::<Severity>(serde_json::json!("loud")).is_err());
    }
}
