//! Room names: the only place that builds or parses them (who may join which is
//! decided in `auth::permissions`).

use std::{fmt, str::FromStr};

use crate::{auth::Role, domain::inventory::valid_sku, error::AppError};

/// Dashboard topics: every domain event goes to exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Orders,
    Clients,
    Inventory,
    Alerts,
}

impl Topic {
    pub const ALL: [Topic; 4] = [
        Topic::Orders,
        Topic::Clients,
        Topic::Inventory,
        Topic::Alerts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Orders => "orders",
            Topic::Clients => "clients",
            Topic::Inventory => "inventory",
            Topic::Alerts => "alerts",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Room {
    Topic(Topic),
    Order(i64),
    Client(i64),
    Sku(String),
    User(String),
    Role(Role),
    /// Every socket: delivered through the role rooms, which every socket is in.
    Everyone,
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Room::Topic(topic) => f.write_str(topic.as_str()),
            Room::Order(id) => write!(f, "order:{id}"),
            Room::Client(id) => write!(f, "client:{id}"),
            Room::Sku(sku) => write!(f, "sku:{sku}"),
            Room::User(id) => write!(f, "user:{id}"),
            Room::Role(role) => write!(f, "role:{role}"),
            Room::Everyone => f.write_str("everyone"),
        }
    }
}

impl FromStr for Room {
    type Err = AppError;

    fn from_str(name: &str) -> Result<Self, AppError> {
        let unknown = || {
            AppError::invalid_field(
                "room",
                format!(
                    "unknown room `{name}` (expected orders, clients, inventory, alerts, order:ID, client:ID or sku:SKU)"
                ),
            )
        };
        if let Some(topic) = Topic::ALL.into_iter().find(|t| t.as_str() == name) {
            return Ok(Room::Topic(topic));
        }
        let (kind, key) = name.split_once(':').ok_or_else(unknown)?;
        let id = || {
            key.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(unknown)
        };
        match kind {
            "order" => Ok(Room::Order(id()?)),
            "client" => Ok(Room::Client(id()?)),
            "sku" if valid_sku(key) => Ok(Room::Sku(key.to_owned())),
            "user" if !key.is_empty() => Ok(Room::User(key.to_owned())),
            "role" => key.parse().map(Room::Role).map_err(|_| unknown()),
            _ => Err(unknown()),
        }
    }
}

impl Room {
    /// How the names of private rooms begin (their owners alone read their events): as
    /// `Display` writes `User` and `Role` rooms.
    pub const PRIVATE_PREFIXES: [&'static str; 2] = ["user:", "role:"];

    /// The socket.io rooms an emit to this room goes to.
    pub fn targets(&self) -> Vec<String> {
        match self {
            Room::Everyone => Role::ALL
                .into_iter()
                .map(|role| Room::Role(role).to_string())
                .collect(),
            room => vec![room.to_string()],
        }
    }

    /// Rooms a socket is in from connect until it leaves: these cannot be left by hand.
    pub fn is_automatic(&self) -> bool {
        matches!(self, Room::User(_) | Room::Role(_) | Room::Everyone)
    }
}
