//! Business figures for a dashboard, computed by the database.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use super::{money::Money, orders::OrderStatus};

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Summary {
    /// Orders created since midnight UTC, whatever their status.
    pub orders_today: u64,
    /// The total of those orders, cancelled ones excluded.
    pub revenue_today: Money,
    /// Every order, whatever its day, by its status now.
    pub orders_by_status: OrdersByStatus,
    /// Items at or below their low-stock threshold.
    pub low_stock_items: u64,
    /// When the figures were taken.
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct OrdersByStatus {
    pub pending: u64,
    pub confirmed: u64,
    pub shipped: u64,
    pub delivered: u64,
    pub cancelled: u64,
}

impl OrdersByStatus {
    pub fn count_of(&mut self, status: OrderStatus) -> &mut u64 {
        match status {
            OrderStatus::Pending => &mut self.pending,
            OrderStatus::Confirmed => &mut self.confirmed,
            OrderStatus::Shipped => &mut self.shipped,
            OrderStatus::Delivered => &mut self.delivered,
            OrderStatus::Cancelled => &mut self.cancelled,
        }
    }
}
