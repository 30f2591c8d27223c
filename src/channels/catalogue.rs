//! Every event the server sends, by name: the one place event names are spelled.

/// A server → client event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventName {
    // Domain events: persisted in the event log, sent enveloped.
    OrderCreated,
    OrderUpdated,
    OrderStatusChanged,
    ClientCreated,
    ClientUpdated,
    InventoryUpdated,
    StockLow,
    Notification,
    NotificationReadConfirmation,
    // Session events: not persisted, sent as they are.
    ConnectionEstablished,
    UnreadCount,
    UserConnected,
    UserDisconnected,
}

impl EventName {
    pub const ALL: [EventName; 13] = [
        EventName::OrderCreated,
        EventName::OrderUpdated,
        EventName::OrderStatusChanged,
        EventName::ClientCreated,
        EventName::ClientUpdated,
        EventName::InventoryUpdated,
        EventName::StockLow,
        EventName::Notification,
        EventName::NotificationReadConfirmation,
        EventName::ConnectionEstablished,
        EventName::UnreadCount,
        EventName::UserConnected,
        EventName::UserDisconnected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventName::OrderCreated => "order_created",
            EventName::OrderUpdated => "order_updated",
            EventName::OrderStatusChanged => "order_status_changed",
            EventName::ClientCreated => "client_created",
            EventName::ClientUpdated => "client_updated",
            EventName::InventoryUpdated => "inventory_updated",
            EventName::StockLow => "stock_low",
            EventName::Notification => "notification",
            EventName::NotificationReadConfirmation => "notification_read_confirmation",
            EventName::ConnectionEstablished => "connection_established",
            EventName::UnreadCount => "unread_count",
            EventName::UserConnected => "user_connected",
            EventName::UserDisconnected => "user_disconnected",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_are_distinct() {
        let names: HashSet<&str> = EventName::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(names.len(), EventName::ALL.len());
    }
}
