//! What a producer publishes (`POST /api/publish`, the `publish` command): events of
//! the catalogue about data it owns, read with the very types pulso sends, so a
//! published event cannot look unlike one pulso made.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use validator::Validate;

use super::{
    clients::ClientView, inventory::ItemView, inventory::StockLow, notifications::NewNotification,
    orders::OrderView, orders::StatusChanged, parse,
};
use crate::error::AppError;

/// The events a producer may publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublishedType {
    OrderCreated,
    OrderUpdated,
    OrderStatusChanged,
    ClientCreated,
    ClientUpdated,
    InventoryUpdated,
    StockLow,
    /// Its data is what `notification:send` takes; pulso keeps it in the inbox.
    Notification,
}

// Serialize: validator's length rule on a list of them needs it.
#[derive(Debug, Serialize, Deserialize, Validate, JsonSchema)]
pub struct PublishedEvent {
    #[serde(rename = "type")]
    pub kind: PublishedType,
    /// The event's data, as pulso sends it in the envelope (`Order`, `Client`, …); for
    /// `notification`, a `NewNotification`.
    pub data: Value,
}

/// Several events in one request, published together or not at all.
#[derive(Debug, Deserialize, Validate, JsonSchema)]
#[schemars(rename = "PublishBatch")]
pub struct Publication {
    #[validate(length(min = 1, max = 100, message = "must have 1-100 events"))]
    pub events: Vec<PublishedEvent>,
    /// A retry with the same key (same credential, within a day) answers the first
    /// result and publishes nothing new.
    #[validate(length(min = 1, max = 200, message = "must be 1-200 characters"))]
    pub idempotency_key: Option<String>,
    /// Sent as one event (`{ type, data }`): its field errors are named without
    /// `events[0].`.
    #[serde(skip)]
    pub single: bool,
}

/// One event: `{ type, data, idempotency_key? }`.
#[derive(Debug, Deserialize, Validate, JsonSchema)]
#[schemars(rename = "PublishEvent")]
pub struct OnePublication {
    #[serde(rename = "type")]
    pub kind: PublishedType,
    /// As in `PublishedEvent`.
    pub data: Value,
    /// As in `PublishBatch`.
    #[validate(length(min = 1, max = 200, message = "must be 1-200 characters"))]
    pub idempotency_key: Option<String>,
}

/// What `read` takes: one event, or a batch.
pub fn schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "oneOf": [
            super::schema::reference::<OnePublication>(generator),
            super::schema::reference::<Publication>(generator),
        ],
    })
}

/// A publish request: a batch when it has `events`, one event otherwise.
pub fn read(body: Value) -> Result<Publication, AppError> {
    if body.get("events").is_some() {
        return parse(body);
    }
    let one: OnePublication = parse(body)?;
    Ok(Publication {
        events: vec![PublishedEvent {
            kind: one.kind,
            data: one.data,
        }],
        idempotency_key: one.idempotency_key,
        single: true,
    })
}

/// A published event's data, checked.
#[derive(Debug)]
pub enum Data {
    Order(OrderView),
    StatusChange(StatusChanged),
    Client(ClientView),
    Item(ItemView),
    StockLow(StockLow),
    Notification(NewNotification),
}

/// Every event's data, checked against its type: all problems of all events in one
/// error, each named where it was sent (`data.items[0].sku`, `events[1].data.id`).
pub fn checked(publication: &Publication) -> Result<Vec<(PublishedType, Data)>, AppError> {
    let mut problems = BTreeMap::new();
    let mut checked = Vec::new();
    for (index, event) in publication.events.iter().enumerate() {
        let data = event.data.clone();
        let read = match event.kind {
            PublishedType::OrderCreated | PublishedType::OrderUpdated => {
                parse(data).map(Data::Order)
            }
            PublishedType::OrderStatusChanged => parse(data).map(Data::StatusChange),
            PublishedType::ClientCreated | PublishedType::ClientUpdated => {
                parse(data).map(Data::Client)
            }
            PublishedType::InventoryUpdated => parse(data).map(Data::Item),
            PublishedType::StockLow => parse(data).map(Data::StockLow),
            PublishedType::Notification => parse(data).map(Data::Notification),
        };
        match read {
            Ok(data) => checked.push((event.kind, data)),
            Err(error) => {
                let at = if publication.single {
                    "data".to_owned()
                } else {
                    format!("events[{index}].data")
                };
                match error.fields {
                    Some(fields) => problems.extend(
                        fields
                            .into_iter()
                            .map(|(field, problem)| (format!("{at}.{field}"), problem)),
                    ),
                    None => {
                        problems.insert(at, error.message);
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(AppError::invalid_fields(problems))
    }
}
