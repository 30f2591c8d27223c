//! Schema migrations. The server runs `Migrator::up` at startup.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_tables;
mod m20261123_000002_notification_reads;
mod m20261203_000003_write_probe;
mod m20261203_000004_connection_recovery;
mod m20261203_000005_publications;
mod m20261203_000006_event_log_pruning;
mod m20261204_000007_retention_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_tables::Migration),
            Box::new(m20261123_000002_notification_reads::Migration),
            Box::new(m20261203_000003_write_probe::Migration),
            Box::new(m20261203_000004_connection_recovery::Migration),
            Box::new(m20261203_000005_publications::Migration),
            Box::new(m20261203_000006_event_log_pruning::Migration),
            Box::new(m20261204_000007_retention_indexes::Migration),
        ]
    }
}
