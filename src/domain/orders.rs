//! Orders, their lines, and the status rules.

use std::{collections::HashSet, fmt, str::FromStr};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

use super::{
    inventory::{MAX_QUANTITY, SKU_PATTERN},
    money::Money,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    const ALL: [OrderStatus; 5] = [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Delivered | OrderStatus::Cancelled)
    }

    /// `pending → confirmed → shipped → delivered`, and any non-final status → `cancelled`.
    pub fn can_move_to(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Confirmed) | (Confirmed, Shipped) | (Shipped, Delivered)
        ) || (next == Cancelled && !self.is_final())
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown order status `{s}`"))
    }
}

#[derive(Debug, Serialize, Deserialize, Validate, JsonSchema)]
pub struct NewOrderLine {
    #[validate(custom(function = "super::inventory::sku_rule"))]
    #[schemars(pattern(SKU_PATTERN))]
    pub sku: String,
    #[validate(range(min = 1, max = MAX_QUANTITY, message = "must be a whole number from 1 to 1000000000"))]
    pub quantity: i64,
    pub unit_price: Money,
}

#[derive(Debug, Deserialize, Validate, JsonSchema)]
pub struct NewOrder {
    #[validate(range(min = 1, message = "must be a client id"))]
    pub client_id: i64,
    #[validate(
        length(min = 1, max = 100, message = "must have 1-100 lines"),
        custom(function = "distinct_skus"),
        nested
    )]
    pub items: Vec<NewOrderLine>,
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    pub notes: Option<String>,
}

fn distinct_skus(lines: &[NewOrderLine]) -> Result<(), ValidationError> {
    let mut seen = HashSet::new();
    if lines.iter().all(|line| seen.insert(line.sku.as_str())) {
        Ok(())
    } else {
        Err(ValidationError::new("items")
            .with_message("each sku may appear in one line only".into()))
    }
}

/// A change to an order: a new status, new notes, or both. Empty notes clear them.
#[derive(Debug, Deserialize, Validate, JsonSchema)]
pub struct OrderPatch {
    pub status: Option<OrderStatus>,
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    pub notes: Option<String>,
}

/// `POST /api/orders/{id}/status`.
#[derive(Debug, Deserialize, Validate, JsonSchema)]
#[schemars(rename = "NewStatus")]
pub struct StatusChange {
    pub status: OrderStatus,
}

// Views are also read: a producer publishes them (`domain::published`).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, JsonSchema)]
#[schemars(rename = "OrderLine")]
pub struct OrderLineView {
    #[validate(custom(function = "super::inventory::sku_rule"))]
    #[schemars(pattern(SKU_PATTERN))]
    pub sku: String,
    #[validate(range(min = 1, max = MAX_QUANTITY, message = "must be a whole number from 1 to 1000000000"))]
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, JsonSchema)]
#[schemars(rename = "Order")]
pub struct OrderView {
    #[validate(range(min = 1, message = "must be an order id"))]
    pub id: i64,
    #[validate(range(min = 1, message = "must be a client id"))]
    pub client_id: i64,
    #[validate(custom(function = "known_status"))]
    #[schemars(with = "OrderStatus")]
    pub status: String,
    pub total: Money,
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    pub notes: Option<String>,
    #[validate(length(min = 1, max = 100, message = "must have 1-100 lines"), nested)]
    pub items: Vec<OrderLineView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn known_status(status: &str) -> Result<(), ValidationError> {
    status.parse::<OrderStatus>().map(|_| ()).map_err(|_| {
        ValidationError::new("status")
            .with_message("must be one of pending, confirmed, shipped, delivered, cancelled".into())
    })
}

impl OrderView {
    pub fn new(order: entity::order::Model, lines: Vec<entity::order_item::Model>) -> Self {
        let items = lines
            .into_iter()
            .map(|line| {
                let unit_price = Money::from_cents(line.unit_price_cents);
                OrderLineView {
                    line_total: unit_price.times(line.quantity).unwrap_or_default(),
                    sku: line.sku,
                    quantity: line.quantity,
                    unit_price,
                }
            })
            .collect();
        Self {
            id: order.id,
            client_id: order.client_id,
            status: order.status,
            total: Money::from_cents(order.total_cents),
            notes: order.notes,
            items,
            created_at: order.created_at,
            updated_at: order.updated_at,
        }
    }
}

/// The `order_status_changed` event's data.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, JsonSchema)]
#[schemars(rename = "StatusChange")]
pub struct StatusChanged {
    #[validate(range(min = 1, message = "must be an order id"))]
    pub order_id: i64,
    pub from: OrderStatus,
    pub to: OrderStatus,
    #[validate(nested)]
    pub order: OrderView,
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;

    #[test]
    fn status_moves_forward_or_cancels() {
        assert!(Pending.can_move_to(Confirmed));
        assert!(Confirmed.can_move_to(Shipped));
        assert!(Shipped.can_move_to(Delivered));
        for from in [Pending, Confirmed, Shipped] {
            assert!(from.can_move_to(Cancelled));
        }
        assert!(!Pending.can_move_to(Shipped));
        assert!(!Shipped.can_move_to(Pending));
        assert!(!Delivered.can_move_to(Cancelled));
        assert!(!Cancelled.can_move_to(Pending));
        assert!(!Pending.can_move_to(Pending));
    }
}
