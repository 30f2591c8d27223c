//! Read state per user: a notification for everyone is read separately by each user,
//! so "read" cannot be a column of the notification itself.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NotificationReads::Table)
                    .col(big_integer(NotificationReads::NotificationId))
                    .col(string(NotificationReads::UserId))
                    .col(timestamp_with_time_zone(NotificationReads::ReadAt))
                    .primary_key(
                        Index::create()
                            .col(NotificationReads::NotificationId)
                            .col(NotificationReads::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(NotificationReads::Table, NotificationReads::NotificationId)
                            .to(Notifications::Table, Notifications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Unread counts look up one user's reads.
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_reads_user")
                    .table(NotificationReads::Table)
                    .col(NotificationReads::UserId)
                    .col(NotificationReads::NotificationId)
                    .to_owned(),
            )
            .await?;
        // SQLite cannot drop a column an index still covers.
        manager
            .drop_index(
                Index::drop()
                    .name(OLD_INDEX)
                    .table(Notifications::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .drop_column(Notifications::Read)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(NEW_INDEX)
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NEW_INDEX)
                    .table(Notifications::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .add_column(boolean(Notifications::Read).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(OLD_INDEX)
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::Read)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(NotificationReads::Table).to_owned())
            .await
    }
}

const OLD_INDEX: &str = "idx_notifications_user_read";
const NEW_INDEX: &str = "idx_notifications_user";

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Read,
}

#[derive(DeriveIden)]
enum NotificationReads {
    Table,
    NotificationId,
    UserId,
    ReadAt,
}
