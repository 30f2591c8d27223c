//! `pulso backup FILE`: a consistent copy of the SQLite database, taken while the server
//! may be running. `VACUUM INTO` reads one snapshot (writers go on meanwhile) and writes
//! it compacted to a new file, which a server can be started on as it is.

use std::{path::Path, str::FromStr};

use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, RuntimeErr, Statement, sqlx::sqlite::SqliteConnectOptions,
};

use crate::startup::connect_database;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// Copies the database to `file` and returns what to tell the operator.
pub async fn run(database_url: &str, file: &Path) -> Result<String, BackupError> {
    let refused = |why: String| Err(BackupError::Refused(why));
    if !database_url.starts_with("sqlite:") {
        return refused(
            "it copies a SQLite database; back PostgreSQL up with pg_dump \
             (docs/operations.md#backups)"
                .into(),
        );
    }
    let source = SqliteConnectOptions::from_str(database_url)
        .map_err(|error| DbErr::Conn(RuntimeErr::SqlxError(error.into())))?;
    if !source.get_filename().exists() {
        return refused(format!(
            "there is no database at {}",
            source.get_filename().display()
        ));
    }
    if file.exists() {
        return refused(format!(
            "{} exists already: it writes a new file",
            file.display()
        ));
    }
    let Some(target) = file.to_str() else {
        return refused(format!("{} is not a UTF-8 path", file.display()));
    };
    let db = connect_database(database_url).await?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await?;
    db.close().await?;
    let bytes = std::fs::metadata(file).map_or(0, |meta| meta.len());
    Ok(format!("backed up to {} ({bytes} bytes)\n", file.display()))
}
