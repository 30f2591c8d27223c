//! Connection state recovery: what a reconnecting socket needs to get back its rooms and
//! every event it missed, on any node and after any node was lost.
//!
//! - `events.entity`: the entity room an event also went to (`order:7`, `sku:A-1`), so a
//!   replay reaches exactly the sockets the live event reached. Older rows keep NULL:
//!   sessions begun before this migration have no pid to recover with.
//! - `socket_sessions`: one row per recoverable session, keyed by its pid's digest.
//! - `pulso_nodes`: each running server's heartbeat, which tells how long ago a session
//!   on a node that stopped without a word (killed) was last known to be alive.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(string_null(Events::Entity))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SocketSessions::Table)
                    .col(string(SocketSessions::PidDigest).primary_key())
                    .col(string(SocketSessions::UserId))
                    .col(text(SocketSessions::Rooms))
                    .col(big_integer(SocketSessions::BaselineId))
                    .col(string(SocketSessions::Node))
                    .col(string(SocketSessions::OwnerSid))
                    .col(timestamp_with_time_zone_null(
                        SocketSessions::DisconnectedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PulsoNodes::Table)
                    .col(string(PulsoNodes::Node).primary_key())
                    .col(timestamp_with_time_zone(PulsoNodes::SeenAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PulsoNodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SocketSessions::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::Entity)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Entity,
}

#[derive(DeriveIden)]
enum SocketSessions {
    Table,
    PidDigest,
    UserId,
    Rooms,
    BaselineId,
    Node,
    OwnerSid,
    DisconnectedAt,
}

#[derive(DeriveIden)]
enum PulsoNodes {
    Table,
    Node,
    SeenAt,
}
