//! What a producer's idempotency key already published (`POST /api/publish`), so a
//! retry answers the first result instead of publishing again, across restarts and
//! nodes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Publications::Table)
                    .col(string(Publications::Scope))
                    .col(string(Publications::IdempotencyKey))
                    .col(string(Publications::RequestDigest))
                    .col(text(Publications::EventIds))
                    .col(timestamp_with_time_zone(Publications::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Publications::Scope)
                            .col(Publications::IdempotencyKey),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Publications::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Publications {
    Table,
    Scope,
    IdempotencyKey,
    RequestDigest,
    EventIds,
    CreatedAt,
}
