use sea_orm::entity::prelude::*;

/// A socket session a reconnecting client may recover (Socket.IO connection state
/// recovery): found by the digest of the pid its CONNECT packet carried.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "socket_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub pid_digest: String,
    pub user_id: String,
    /// The socket's rooms, as a JSON array of names.
    pub rooms: String,
    /// The last event id logged when the session began: a client that got no event
    /// since has missed those after it.
    pub baseline_id: i64,
    /// The server (`pulso_nodes`) the session's socket is on.
    pub node: String,
    pub owner_sid: String,
    /// When its socket went away; NULL while connected or when its node was lost.
    pub disconnected_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
