//! `pulso migrate up | down [N] | status`: the schema without the server.

use migration::{Migrator, MigratorTrait};
use sea_orm::DbErr;

use crate::{config::MigrateAction, startup::connect_database};

/// Runs the action and returns what to tell the operator.
pub async fn run(database_url: &str, action: MigrateAction) -> Result<String, DbErr> {
    let db = connect_database(database_url).await?;
    let before = Migrator::get_applied_migrations(&db).await?.len();
    match action {
        MigrateAction::Up => Migrator::up(&db, None).await?,
        MigrateAction::Down { steps } => Migrator::down(&db, Some(steps)).await?,
        MigrateAction::Status => {}
    }
    let migrations = Migrator::get_migration_with_status(&db).await?;
    let applied = Migrator::get_applied_migrations(&db).await?.len();
    let mut report = match action {
        MigrateAction::Up => format!("applied {} migration(s)\n", applied - before),
        MigrateAction::Down { .. } => format!("rolled back {} migration(s)\n", before - applied),
        MigrateAction::Status => String::new(),
    };
    for migration in migrations {
        report.push_str(&format!(
            "{:<8} {}\n",
            migration.status().to_string(),
            migration.name()
        ));
    }
    db.close().await?;
    Ok(report)
}
