//! How far retention has pruned the event log: a cursor (`after`) below it asks for
//! events that are gone, which a reader must be told rather than silently skip.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventLogPruning::Table)
                    .col(integer(EventLogPruning::Id).primary_key())
                    .col(big_integer(EventLogPruning::PrunedThrough))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EventLogPruning::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum EventLogPruning {
    Table,
    Id,
    PrunedThrough,
}
