//! One row that `GET /ready` rewrites: readiness means a write really commits (a full
//! disk or a read-only file still answers reads).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WriteProbe::Table)
                    .col(integer(WriteProbe::Id).primary_key())
                    .col(timestamp_with_time_zone(WriteProbe::CheckedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WriteProbe::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WriteProbe {
    Table,
    Id,
    CheckedAt,
}
