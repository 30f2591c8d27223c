//! Inventory items and the stock-low rule.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

/// Largest quantity or threshold accepted (keeps arithmetic far from overflow).
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// SKUs are letters, digits, `-` and `_`, 1-64 characters (they also name `sku:` rooms).
pub const SKU_PATTERN: &str = "^[A-Za-z0-9_-]{1,64}$";

/// `SKU_PATTERN`, checked without a regex engine.
pub fn valid_sku(sku: &str) -> bool {
    (1..=64).contains(&sku.len())
        && sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub(crate) fn sku_rule(sku: &str) -> Result<(), ValidationError> {
    if valid_sku(sku) {
        Ok(())
    } else {
        Err(ValidationError::new("sku").with_message("must be 1-64 letters, digits, - or _".into()))
    }
}

#[derive(Debug, Deserialize, Validate, JsonSchema)]
pub struct NewItem {
    #[validate(custom(function = "sku_rule"))]
    #[schemars(pattern(SKU_PATTERN))]
    pub sku: String,
    #[validate(custom(function = "super::required_text"))]
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    #[serde(default)]
    #[validate(range(min = 0, max = MAX_QUANTITY, message = "must be a whole number from 0 to 1000000000"))]
    pub quantity: i64,
    /// Also accepted as `threshold`.
    #[serde(default, alias = "threshold")]
    #[validate(range(min = 0, max = MAX_QUANTITY, message = "must be a whole number from 0 to 1000000000"))]
    pub low_stock_threshold: i64,
}

/// `inventory:update`: set `quantity` or move it by `delta`, and optionally rename or
/// change the threshold. An unknown SKU is created when a `name` is given.
#[derive(Debug, Deserialize, Validate, JsonSchema)]
#[validate(schema(function = "quantity_xor_delta"))]
pub struct ItemUpdate {
    #[validate(custom(function = "sku_rule"))]
    #[schemars(pattern(SKU_PATTERN))]
    pub sku: String,
    #[validate(custom(function = "super::required_text"))]
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    #[validate(range(min = 0, max = MAX_QUANTITY, message = "must be a whole number from 0 to 1000000000"))]
    pub quantity: Option<i64>,
    #[validate(range(min = -MAX_QUANTITY, max = MAX_QUANTITY, message = "must be a whole number from -1000000000 to 1000000000"))]
    pub delta: Option<i64>,
    /// Also accepted as `threshold`.
    #[serde(alias = "threshold")]
    #[validate(range(min = 0, max = MAX_QUANTITY, message = "must be a whole number from 0 to 1000000000"))]
    pub low_stock_threshold: Option<i64>,
}

fn quantity_xor_delta(update: &ItemUpdate) -> Result<(), ValidationError> {
    if update.quantity.is_some() && update.delta.is_some() {
        Err(ValidationError::new("quantity")
            .with_message("give either quantity or delta, not both".into()))
    } else {
        Ok(())
    }
}

/// `stock_low` reported by a client: the SKU, optionally the quantity seen and a note.
#[derive(Debug, Deserialize, Validate, JsonSchema)]
pub struct StockLowReport {
    #[validate(custom(function = "sku_rule"))]
    #[schemars(pattern(SKU_PATTERN))]
    pub sku: String,
    #[validate(range(min = 0, max = MAX_QUANTITY, message = "must be a whole number from 0 to 1000000000"))]
    pub quantity: Option<i64>,
    #[validate(length(max = 1000, message = "must be at most 1000 characters"))]
    pub note: Option<String>,
}

/// Stock is low when the quantity is at or below the threshold.
pub fn is_low(quantity: i64, threshold: i64) -> bool {
    quantity <= threshold
}

/// `stock_low` fires once when an item goes from above its threshold to at or below it,
/// and not again until it has been above it.
pub fn crossed_low(before: (i64, i64), after: (i64, i64)) -> bool {
    !is_low(before.0, before.1) && is_low(after.0, after.1)
}

// Also read: a producer publishes it (`domain::published`).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, JsonSchema)]
#[schemars(rename = "InventoryItem")]
#[validate(schema(function = "low_stock_follows_the_rule"))]
pub struct ItemView {
    #[validate(range(min = 1, message = "must be an item id"))]
    pub id: i64,
    #[validate(custom(function = "sku_rule"))]
    #[schemars(pattern(SKU_PATTERN))]
    pub sku: String,
    #[validate(custom(function = "super::required_text"))]
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    #[validate(range(min = 0, max = MAX_QUANTITY, message = "must be a whole number from 0 to 1000000000"))]
    pub quantity: i64,
    #[validate(range(min = 0, max = MAX_QUANTITY, message = "must be a whole number from 0 to 1000000000"))]
    pub low_stock_threshold: i64,
    /// True when `quantity` is at or below `low_stock_threshold`.
    pub low_stock: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::inventory_item::Model> for ItemView {
    fn from(m: entity::inventory_item::Model) -> Self {
        Self {
            low_stock: is_low(m.quantity, m.low_stock_threshold),
            id: m.id,
            sku: m.sku,
            name: m.name,
            quantity: m.quantity,
            low_stock_threshold: m.low_stock_threshold,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

fn low_stock_follows_the_rule(item: &ItemView) -> Result<(), ValidationError> {
    if item.low_stock == is_low(item.quantity, item.low_stock_threshold) {
        Ok(())
    } else {
        Err(ValidationError::new("low_stock").with_message(
            "must be true exactly when quantity is at or below low_stock_threshold".into(),
        ))
    }
}

/// Why a `stock_low` alert went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlertSource {
    /// The stock crossed the item's threshold.
    Threshold,
    /// A user reported it.
    Report,
}

/// The `stock_low` event's data.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, JsonSchema)]
pub struct StockLow {
    #[validate(custom(function = "sku_rule"))]
    #[schemars(pattern(SKU_PATTERN))]
    pub sku: String,
    #[validate(custom(function = "super::required_text"))]
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    #[validate(range(min = 0, max = MAX_QUANTITY, message = "must be a whole number from 0 to 1000000000"))]
    pub quantity: i64,
    #[validate(range(min = 0, max = MAX_QUANTITY, message = "must be a whole number from 0 to 1000000000"))]
    pub threshold: i64,
    #[validate(range(min = 1, message = "must be an item id"))]
    pub item_id: i64,
    /// Only when the report had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    #[validate(length(max = 1000, message = "must be at most 1000 characters"))]
    pub note: Option<String>,
    pub source: AlertSource,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_fires_only_on_the_way_down() {
        assert!(crossed_low((6, 5), (5, 5)));
        assert!(crossed_low((10, 5), (0, 5)));
        assert!(!crossed_low((5, 5), (4, 5)), "already low: no second alert");
        assert!(!crossed_low((4, 5), (9, 5)), "going up is not low");
        assert!(
            crossed_low((6, 5), (6, 6)),
            "raising the threshold onto the stock"
        );
    }

    #[test]
    fn sku_rules() {
        assert!(valid_sku("ABC-12_x"));
        assert!(!valid_sku(""));
        assert!(!valid_sku("a b"));
        assert!(!valid_sku("a:b"));
        assert!(!valid_sku(&"x".repeat(65)));
    }
}
