//! What the socket edge speaks, described for the published contract (`docs`): every
//! command with its payload and ack, every event with its data and rooms. The matches
//! are exhaustive, so a new command or event cannot go undescribed.

use schemars::{Schema, SchemaGenerator, json_schema};

use super::{commands::Command, commands::RoomChange, connect::Established};
use crate::{
    auth::Action,
    channels::{EventName, Presence},
    domain::{
        clients::{ClientPatch, ClientView, NewClient},
        inventory::{ItemUpdate, ItemView, SKU_PATTERN, StockLow, StockLowReport},
        notifications::{
            MarkRead, NewNotification, NotificationView, ReadConfirmation, TestBroadcast,
            UnreadCount,
        },
        orders::{NewOrder, OrderPatch, OrderView, StatusChanged},
        published,
        schema::{SchemaFn, reference},
    },
    services::{operations::BroadcastReport, publish::Published},
};

/// A client → server command.
pub struct CommandDoc {
    pub name: &'static str,
    pub summary: &'static str,
    /// What the caller's role must allow.
    pub action: Action,
    /// `None`: the command takes no argument (one may be sent and is ignored).
    pub payload: Option<SchemaFn>,
    /// The ack's `data` when `ok` is true.
    pub result: SchemaFn,
}

/// A server → client event.
pub struct EventDoc {
    pub name: &'static str,
    pub summary: &'static str,
    /// The event's data; logged events carry it in their envelope's `data`.
    pub data: SchemaFn,
    /// Logged (persisted, enveloped, recoverable) or a session message sent as it is.
    pub logged: bool,
    /// The rooms it goes to (`{id}` stands for the entity's key).
    pub rooms: &'static [&'static str],
}

pub fn commands() -> Vec<CommandDoc> {
    Command::ALL.into_iter().map(describe_command).collect()
}

pub fn events() -> Vec<EventDoc> {
    EventName::ALL.into_iter().map(describe_event).collect()
}

/// `"orders"` or `{ "room": "orders" }`.
fn room_payload(_: &mut SchemaGenerator) -> Schema {
    let room = json_schema!({
        "type": "string",
        "description": "orders, clients, inventory, alerts, order:{id}, client:{id} or sku:{sku}",
        "pattern": format!(
            "^(orders|clients|inventory|alerts|order:[1-9][0-9]*|client:[1-9][0-9]*|sku:{})$",
            SKU_PATTERN.trim_start_matches('^').trim_end_matches('$'),
        ),
    });
    json_schema!({
        "oneOf": [
            room.clone(),
            { "type": "object", "properties": { "room": room }, "required": ["room"] },
        ],
    })
}

/// Update commands carry the target's `id` beside the changes.
fn with_id(mut schema: Schema) -> Schema {
    if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        properties.insert(
            "id".to_owned(),
            serde_json::json!({ "type": "integer", "format": "int64" }),
        );
    }
    let required = schema
        .ensure_object()
        .entry("required")
        .or_insert_with(|| serde_json::json!([]));
    if let Some(required) = required.as_array_mut() {
        required.insert(0, "id".into());
    }
    schema
}

fn describe_command(command: Command) -> CommandDoc {
    use schemars::JsonSchema;
    let (summary, payload, result): (&str, Option<SchemaFn>, SchemaFn) = match command {
        Command::JoinRoom => (
            "Join a room: its events start arriving",
            Some(room_payload),
            reference::<RoomChange>,
        ),
        Command::LeaveRoom => (
            "Leave a room (a user's and role rooms cannot be left)",
            Some(room_payload),
            reference::<RoomChange>,
        ),
        Command::ClientCreate => (
            "Create a client",
            Some(reference::<NewClient>),
            reference::<ClientView>,
        ),
        Command::ClientUpdate => (
            "Change a client; absent fields stay, an empty email or phone clears it",
            Some(|g| with_id(ClientPatch::json_schema(g))),
            reference::<ClientView>,
        ),
        Command::InventoryUpdate => (
            "Set an item's quantity or move it by delta, rename it, change its threshold; an unknown SKU is created when a name is given",
            Some(reference::<ItemUpdate>),
            reference::<ItemView>,
        ),
        Command::StockLow => (
            "Report an item's stock as low",
            Some(reference::<StockLowReport>),
            reference::<StockLow>,
        ),
        Command::OrderCreate => (
            "Create an order: stock is taken for every line, or for none",
            Some(reference::<NewOrder>),
            reference::<OrderView>,
        ),
        Command::OrderUpdate => (
            "Change an order's status or notes",
            Some(|g| with_id(OrderPatch::json_schema(g))),
            reference::<OrderView>,
        ),
        Command::NotificationSend => (
            "Send a notification to one user, or to everyone with user_id null",
            Some(reference::<NewNotification>),
            reference::<NotificationView>,
        ),
        Command::MarkRead => (
            "Mark one notification read",
            Some(reference::<MarkRead>),
            reference::<ReadConfirmation>,
        ),
        Command::MarkAllRead => (
            "Mark every notification of the caller read",
            None,
            reference::<ReadConfirmation>,
        ),
        Command::GetUnreadCount => (
            "How many of the caller's notifications are unread (also sent as unread_count)",
            None,
            reference::<UnreadCount>,
        ),
        Command::TestBroadcast => (
            "Send a test notification to everyone (refused in production)",
            Some(reference::<TestBroadcast>),
            reference::<BroadcastReport>,
        ),
        Command::Publish => (
            "Publish events about data the producer owns (service role; catalogue events in relay mode only)",
            Some(published::schema),
            reference::<Published>,
        ),
    };
    CommandDoc {
        name: command.name(),
        summary,
        action: command.action(),
        payload,
        result,
    }
}

fn describe_event(event: EventName) -> EventDoc {
    type Rooms = &'static [&'static str];
    let logged = |summary: &'static str, data: SchemaFn, rooms: Rooms| (summary, data, true, rooms);
    let session =
        |summary: &'static str, data: SchemaFn, rooms: Rooms| (summary, data, false, rooms);
    let (summary, data, logged, rooms) = match event {
        EventName::OrderCreated => logged(
            "An order was created",
            reference::<OrderView>,
            &["orders", "order:{id}"],
        ),
        EventName::OrderUpdated => logged(
            "An order changed",
            reference::<OrderView>,
            &["orders", "order:{id}"],
        ),
        EventName::OrderStatusChanged => logged(
            "An order moved to a new status",
            reference::<StatusChanged>,
            &["orders", "order:{id}"],
        ),
        EventName::ClientCreated => logged(
            "A client was created",
            reference::<ClientView>,
            &["clients", "client:{id}"],
        ),
        EventName::ClientUpdated => logged(
            "A client changed",
            reference::<ClientView>,
            &["clients", "client:{id}"],
        ),
        EventName::InventoryUpdated => logged(
            "An item's stock, name or threshold changed",
            reference::<ItemView>,
            &["inventory", "sku:{sku}"],
        ),
        EventName::StockLow => logged(
            "An item's stock fell to its threshold, or a user reported it low",
            reference::<StockLow>,
            &["alerts", "sku:{sku}"],
        ),
        EventName::Notification => logged(
            "A notification for the user, or for everyone",
            reference::<NotificationView>,
            &["user:{user_id}", "everyone"],
        ),
        EventName::NotificationReadConfirmation => logged(
            "The user read notifications (every tab of the user hears it)",
            reference::<ReadConfirmation>,
            &["user:{user_id}"],
        ),
        EventName::ConnectionEstablished => session(
            "Sent to a socket once it is connected",
            reference::<Established<'static>>,
            &[],
        ),
        EventName::UnreadCount => session(
            "The user's unread count: on connect and whenever it changes",
            reference::<UnreadCount>,
            &["user:{user_id}"],
        ),
        EventName::UserConnected => session(
            "A user's first socket connected",
            reference::<Presence>,
            &["everyone"],
        ),
        EventName::UserDisconnected => session(
            "A user's last socket disconnected",
            reference::<Presence>,
            &["everyone"],
        ),
    };
    EventDoc {
        name: event.as_str(),
        summary,
        data,
        logged,
        rooms,
    }
}
