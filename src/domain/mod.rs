//! Plain domain types: command inputs with their validation, views sent to callers,
//! and business rules that need no database.

pub mod clients;
pub mod inventory;
pub mod money;
pub mod notifications;
pub mod orders;

use std::collections::BTreeMap;

use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::AppError;

/// Reads a command input from JSON and validates it. Wrong types and failed rules both
/// come back as an `invalid` error naming each field, so REST and sockets report alike.
pub fn parse<T: DeserializeOwned + Validate>(value: Value) -> Result<T, AppError> {
    if !value.is_object() {
        return Err(AppError::invalid("expected a JSON object"));
    }
    if let Some(path) = nul_at(&value) {
        let field = path.trim_start_matches('.');
        return Err(AppError::invalid_field(
            if field.is_empty() { "body" } else { field },
            "must not contain the NUL character",
        ));
    }
    let input: T = serde_path_to_error::deserialize(value).map_err(|err| {
        let message = err.inner().to_string();
        let path = err.path().to_string();
        let field = if path == "." {
            missing_field(&message).unwrap_or("body").to_owned()
        } else {
            path
        };
        AppError::invalid_field(&field, message)
    })?;
    input
        .validate()
        .map_err(|errors| AppError::invalid_fields(field_messages(&errors)))?;
    Ok(input)
}

/// Where the first string (or key) holding a NUL character is (`.items[0].sku`), which
/// PostgreSQL cannot store in text: refused as input rather than failing the write.
/// The path is built only on the way back from a find, so clean input costs no
/// allocation.
fn nul_at(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(String::new),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item).map(|rest| format!("[{i}]{rest}"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let rest = if key.contains('\0') {
                Some(String::new())
            } else {
                nul_at(item)
            };
            rest.map(|rest| format!(".{key}{rest}"))
        }),
        _ => None,
    }
}

/// serde reports a missing field at the parent's path; pull the name out of its message.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// Flattens validator's nested errors into `field` / `items[0].quantity` → message.
fn field_messages(errors: &ValidationErrors) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    collect(errors, "", &mut out);
    out
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut BTreeMap<String, String>) {
    for (field, kind) in errors.errors() {
        let field = match (field.as_ref(), kind) {
            // A rule over the whole input names the field it is about in its code.
            ("__all__", ValidationErrorsKind::Field(list)) if !list.is_empty() => {
                list[0].code.to_string()
            }
            _ => field.to_string(),
        };
        let path = if prefix.is_empty() {
            field
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                let message = list
                    .first()
                    .map(|e| {
                        e.message
                            .as_ref()
                            .map_or_else(|| e.code.to_string(), ToString::to_string)
                    })
                    .unwrap_or_default();
                out.insert(path, message);
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

/// A name-like field: 1-200 characters, not only blanks.
pub fn required_text(text: &str) -> Result<(), validator::ValidationError> {
    if text.trim().is_empty() || text.chars().count() > 200 {
        Err(validator::ValidationError::new("length")
            .with_message("must be 1-200 characters, not only blanks".into()))
    } else {
        Ok(())
    }
}

/// The `id` that update commands carry beside their changes.
#[derive(Debug, serde::Deserialize, Validate)]
pub struct TargetId {
    pub id: i64,
}

/// Optional text from a form: blank means "not given".
pub fn non_blank(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Ids from browsers are often numbers: `7` means `"7"`.
pub fn string_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(D::Error::custom(format!(
            "expected a string or a number, got {other}"
        ))),
    }
}
