//! sea-orm entities for pulso. Plain data: behaviour lives in the server's services.

pub mod client;
pub mod event;
pub mod event_log_pruning;
pub mod inventory_item;
pub mod notification;
pub mod notification_read;
pub mod order;
pub mod order_item;
pub mod publication;
pub mod pulso_node;
pub mod socket_session;
