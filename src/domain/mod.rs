//! Plain domain types: command inputs with their validation, views sent to callers,
//! and business rules that need no database.

pub mod clients;
pub mod inventory;
pub mod money;
pub mod notifications;
pub mod orders;
pub mod published;
pub mod schema;
pub mod summary;

use std::collections::BTreeMap;

use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;
use serde_path_to_error::Segment;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::AppError;

/// Reads a command input from JSON and validates it. Every problem comes back at once,
/// as an `invalid` error naming each field the way the client sent it, in words a
/// form can show, so REST and sockets report alike.
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
    let mut problems = BTreeMap::new();
    let input: T = read_all(&value, &mut problems)?;
    if let Err(errors) = input.validate() {
        // A field already wrong in type holds a stand-in: its rule errors say nothing.
        for (field, problem) in field_messages(&errors) {
            problems.entry(sent_name(&value, field)).or_insert(problem);
        }
    }
    if problems.is_empty() {
        Ok(input)
    } else {
        Err(AppError::invalid_fields(problems))
    }
}

/// serde stops at the first wrong field. To find them all, each one found is noted and
/// replaced by a stand-in (first nothing, then an empty value of each JSON type, then a
/// timestamp, until one lets parsing go past it), and parsing starts again. Gives up,
/// with what it has, when no stand-in fits (an enum's, say).
fn read_all<T: DeserializeOwned>(
    value: &Value,
    problems: &mut BTreeMap<String, String>,
) -> Result<T, AppError> {
    const STAND_INS: usize = 7;
    let mut tried: BTreeMap<String, usize> = BTreeMap::new();
    // A copy only once something is wrong.
    let mut patched: Option<Value> = None;
    loop {
        let current = patched.as_ref().unwrap_or(value);
        let error = match serde_path_to_error::deserialize::<_, T>(current) {
            Ok(input) => return Ok(input),
            Err(error) => error,
        };
        let (field, problem) = field_problem(&error);
        let mut pointer = String::new();
        for segment in error.path().iter() {
            let key = match segment {
                Segment::Seq { index } => index.to_string(),
                Segment::Map { key } => key.replace('~', "~0").replace('/', "~1"),
                Segment::Enum { variant } => variant.clone(),
                Segment::Unknown => String::new(),
            };
            pointer = format!("{pointer}/{key}");
        }
        let message = error.inner().to_string();
        let missing = missing_field(&message);
        if let Some(name) = missing {
            pointer = format!("{pointer}/{name}");
        }
        problems.entry(field).or_insert(problem);
        let attempt = tried
            .entry(pointer.clone())
            .or_insert(usize::from(missing.is_some()));
        let patched = patched.get_or_insert_with(|| value.clone());
        if *attempt >= STAND_INS || !stand_in(patched, &pointer, *attempt) {
            return Err(AppError::invalid_fields(std::mem::take(problems)));
        }
        *attempt += 1;
    }
}

/// Puts stand-in number `attempt` at `pointer` (0 removes an object's field); false
/// when there is no such place.
fn stand_in(value: &mut Value, pointer: &str, attempt: usize) -> bool {
    let Some((parent, name)) = pointer.rsplit_once('/') else {
        return false;
    };
    let name = name.replace("~1", "/").replace("~0", "~");
    let stand_in = match attempt {
        0 => None,
        1 => Some(Value::from("")),
        2 => Some(Value::from(0)),
        3 => Some(Value::from(false)),
        4 => Some(Value::Array(Vec::new())),
        5 => Some(Value::Object(serde_json::Map::new())),
        // Timestamps (published views carry them).
        _ => Some(Value::from("1970-01-01T00:00:00Z")),
    };
    match (value.pointer_mut(parent), stand_in) {
        (Some(Value::Object(fields)), None) => fields.remove(&name).is_some(),
        (Some(Value::Object(fields)), Some(stand_in)) => {
            fields.insert(name, stand_in);
            true
        }
        (Some(Value::Array(items)), stand_in) => match name.parse::<usize>() {
            Ok(index) if index < items.len() => {
                items[index] = stand_in.unwrap_or_default();
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// The field a parser's error is about, named as the client sent it (`items[0].sku`;
/// serde reports a missing field at its parent), and the problem in words.
pub fn field_problem<E: std::fmt::Display>(
    error: &serde_path_to_error::Error<E>,
) -> (String, String) {
    let message = error.inner().to_string();
    let parent = error.path().to_string();
    let parent = parent.trim_start_matches('.');
    let field = match (missing_field(&message), parent) {
        (Some(name), "") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, "") => "body".to_owned(),
        (None, parent) => parent.to_owned(),
    };
    (field, in_words(&message))
}

/// A parser's complaint as a sentence for a form; messages of pulso's own
/// deserializers (money, ids) are already sentences and pass through.
fn in_words(message: &str) -> String {
    if missing_field(message).is_some() {
        return "is required".to_owned();
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let choices = rest.split_once("expected ").map_or("", |(_, e)| e);
        let choices = choices.trim_start_matches("one of ").replace('`', "");
        return format!("must be one of {choices}");
    }
    for (prefix, sentence) in [
        // Query strings: numbers and booleans parsed from text.
        ("invalid digit", "must be a whole number"),
        ("cannot parse integer", "must be a whole number"),
        ("number too", "is out of range"),
        ("provided string was not", "must be true or false"),
        ("invalid length", "has the wrong number of items"),
        ("duplicate field", "is given twice"),
        ("unknown field", "is not a field of this command"),
    ] {
        if message.starts_with(prefix) {
            return sentence.to_owned();
        }
    }
    let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    else {
        return message.to_owned();
    };
    let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
    match expected {
        e if e.contains("Decimal") => "must be a number with at most two decimals",
        e if ["i64", "i32", "u64", "u32", "i16", "u16", "u8", "i8"].contains(&e) => {
            "must be a whole number"
        }
        "a string" => "must be text",
        "a boolean" => "must be true or false",
        e if e.starts_with("a sequence") => "must be a list",
        e if e.starts_with("struct") || e.starts_with("a map") => "must be an object",
        _ => "has the wrong type",
    }
    .to_owned()
}

/// Fields that take another name too: a rule names the field as the client sent it.
const ALIASES: [(&str, &str); 1] = [("low_stock_threshold", "threshold")];

fn sent_name(value: &Value, field: String) -> String {
    ALIASES
        .iter()
        .find(|(name, alias)| {
            field == *name && value.get(name).is_none() && value.get(alias).is_some()
        })
        .map_or(field, |(_, alias)| (*alias).to_owned())
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
#[derive(Debug, serde::Deserialize, Validate, schemars::JsonSchema)]
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
        Some(_) => Err(D::Error::custom("must be text or a number")),
    }
}
