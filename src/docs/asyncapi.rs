//! The Socket.IO contract as AsyncAPI 3.0: the default namespace as a channel carrying
//! every command (with its ack as the reply) and every event, and a channel per kind
//! of room listing the events it gets.

use serde_json::{Map, Value, json};

use super::schemas::Schemas;
use crate::{
    channels::Envelope,
    domain::schema::{SchemaFn, reference},
    error::AppError,
    socket::contract::{self, CommandDoc, EventDoc},
};

/// The channel of the namespace itself, where commands and acks travel.
const NAMESPACE: &str = "socket";

/// Component keys allow letters, digits, `.`, `-` and `_`: `order:create` becomes
/// `command.order.create`, its ack `ack.order.create`, `order_created` `event.order_created`.
fn key(kind: &str, name: &str) -> String {
    format!("{kind}.{}", name.replace(':', "."))
}

pub fn document() -> Value {
    let mut schemas = Schemas::new();
    let mut messages = Map::new();
    let mut operations = Map::new();
    let mut namespace = Map::new();
    let mut rooms: Vec<(&str, Map<String, Value>)> = Vec::new();

    for command in contract::commands() {
        let (request, ack) = (key("command", command.name), key("ack", command.name));
        messages.insert(request.clone(), command_message(&mut schemas, &command));
        messages.insert(ack.clone(), ack_message(&mut schemas, &command));
        operations.insert(
            request.clone(),
            json!({
                "action": "receive",
                "title": command.name,
                "summary": command.summary,
                "channel": channel_ref(NAMESPACE),
                "messages": [message_in(NAMESPACE, &request)],
                "reply": {
                    "channel": channel_ref(NAMESPACE),
                    "messages": [message_in(NAMESPACE, &ack)],
                },
                "x-pulso-roles": command.action.allowed_roles(),
            }),
        );
        namespace.insert(request.clone(), message_ref(&request));
        namespace.insert(ack.clone(), message_ref(&ack));
    }

    for event in contract::events() {
        let id = key("event", event.name);
        messages.insert(id.clone(), event_message(&mut schemas, &event));
        operations.insert(
            id.clone(),
            json!({
                "action": "send",
                "title": event.name,
                "summary": event.summary,
                "channel": channel_ref(NAMESPACE),
                "messages": [message_in(NAMESPACE, &id)],
                "x-pulso-rooms": event.rooms,
            }),
        );
        namespace.insert(id.clone(), message_ref(&id));
        for room in event.rooms {
            match rooms.iter_mut().find(|(known, _)| *known == *room) {
                Some((_, listed)) => {
                    listed.insert(id.clone(), message_ref(&id));
                }
                None => rooms.push((room, Map::from_iter([(id.clone(), message_ref(&id))]))),
            }
        }
    }

    let mut channels = Map::new();
    channels.insert(
        NAMESPACE.to_owned(),
        json!({
            "address": "/",
            "title": "The default namespace",
            "description": "Every socket connects here. A command is an event with an ack callback; the ack answers `{ ok: true, data }` or `{ ok: false, error }`. Events arrive on the socket from the rooms it is in.",
            "messages": namespace,
        }),
    );
    for (room, listed) in rooms {
        channels.insert(room_kind(room).to_owned(), room_channel(room, listed));
    }

    let error = schemas.written(reference::<AppError>);
    let mut shared = schemas.components();
    shared.insert(
        "AckError".to_owned(),
        json!({
            "type": "object",
            "properties": { "ok": { "const": false }, "error": error },
            "required": ["ok", "error"],
        }),
    );
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "pulso: Socket.IO",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "pulso's Socket.IO contract (Socket.IO 4, socket.io-client 4.x). Connect with `auth: { token }` (a JWT) or `auth: { api_key, user_id }`. Logged events arrive in an envelope `{ id, type, data, timestamp, user_id, room }` and are replayed after a reconnect (connection state recovery).",
        },
        "defaultContentType": "application/json",
        "servers": {
            "pulso": {
                "host": "127.0.0.1:8080",
                "protocol": "ws",
                "pathname": "/socket.io/",
                "description": "Socket.IO (Engine.IO 4) over WebSocket or HTTP long-polling, at pulso's default address (PULSO_ADDR moves it)",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": { "schemas": shared, "messages": messages },
    })
}

fn channel_ref(channel: &str) -> Value {
    json!({ "$ref": format!("#/channels/{channel}") })
}

fn message_ref(id: &str) -> Value {
    json!({ "$ref": format!("#/components/messages/{id}") })
}

fn message_in(channel: &str, id: &str) -> Value {
    json!({ "$ref": format!("#/channels/{channel}/messages/{id}") })
}

/// `order:{id}` → `order`; `orders` → `orders`.
fn room_kind(room: &str) -> &str {
    room.split(':').next().unwrap_or(room)
}

fn room_channel(room: &str, messages: Map<String, Value>) -> Value {
    let (address, description) = match room {
        "everyone" => (
            Value::Null,
            "Every socket: sent to the role rooms (role:admin, role:staff, role:viewer), which every socket is in from connect.".to_owned(),
        ),
        room if room.starts_with("user:") => (
            Value::from(room),
            "A user's sockets, every tab: joined at connect, cannot be left.".to_owned(),
        ),
        room => (
            Value::from(room),
            format!("Joined with `join_room` (or `auth.rooms` at connect), left with `leave_room`: `{room}`."),
        ),
    };
    let mut channel =
        json!({ "address": address, "description": description, "messages": messages });
    let parameters: Map<String, Value> = room
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split('}').next())
        .map(|name| {
            (
                name.to_owned(),
                json!({ "description": format!("The {name} of the entity") }),
            )
        })
        .collect();
    if !parameters.is_empty() {
        channel["parameters"] = Value::Object(parameters);
    }
    channel
}

fn command_message(schemas: &mut Schemas, command: &CommandDoc) -> Value {
    let payload = match command.payload {
        Some(payload) => schemas.read(payload),
        None => json!({ "description": "No argument (one may be sent: it is ignored)" }),
    };
    json!({
        "name": command.name,
        "title": command.name,
        "summary": command.summary,
        "payload": payload,
    })
}

fn ack_message(schemas: &mut Schemas, command: &CommandDoc) -> Value {
    let data = schemas.written(command.result);
    json!({
        "name": command.name,
        "title": format!("{} ack", command.name),
        "summary": format!("What `{}` answers", command.name),
        "payload": {
            "oneOf": [
                {
                    "type": "object",
                    "properties": { "ok": { "const": true }, "data": data },
                    "required": ["ok", "data"],
                },
                { "$ref": "#/components/schemas/AckError" },
            ],
        },
    })
}

fn event_message(schemas: &mut Schemas, event: &EventDoc) -> Value {
    let data = schemas.written(event.data);
    let payload = if event.logged {
        enveloped(schemas, event.name, data)
    } else {
        data
    };
    json!({
        "name": event.name,
        "title": event.name,
        "summary": event.summary,
        "payload": payload,
    })
}

/// The envelope's own schema, with this event's `type` and `data`.
fn enveloped(schemas: &mut Schemas, name: &str, data: Value) -> Value {
    let inline: SchemaFn = |generator| <Envelope as schemars::JsonSchema>::json_schema(generator);
    let mut envelope = schemas.written(inline);
    envelope["title"] = json!(format!("{name} (envelope)"));
    envelope["properties"]["type"] = json!({ "const": name });
    envelope["properties"]["data"] = data;
    envelope
}
