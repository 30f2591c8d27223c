//! An event log made ahead of a run (`prune`, `soak`): pulso creates and migrates a
//! SQLite file, is stopped, and old events are then written into the file directly
//! (far faster than through pulso), so retention has work from its first pass.

use std::path::{Path, PathBuf};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sqlx::{AssertSqlSafe, Connection, Executor, SqliteConnection, sqlite::SqliteConnectOptions};

use crate::{
    client::Error,
    server::{Kind, Programs, Server},
};

/// Rows per INSERT (six values each, far below SQLite's limit of bound values).
const ROWS_PER_INSERT: usize = 100;
/// Rows per transaction.
const ROWS_PER_COMMIT: usize = 20_000;

/// A directory of its own for the files of a run, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Result<Self, Error> {
        let dir = std::env::temp_dir().join(format!("pulso-bench-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self(dir))
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// pulso on the SQLite file `file` (created if missing), with `env` added to its settings.
pub fn on_file(programs: &Programs, file: &Path, env: Vec<(&'static str, String)>) -> Programs {
    Programs {
        pulso_database_url: Some(format!("sqlite://{}?mode=rwc", file.display())),
        pulso_env: env,
        ..programs.clone()
    }
}

/// Creates `file` with pulso's schema: pulso starts on it (migrating it) and is stopped.
pub fn migrated(programs: &Programs, file: &Path) -> Result<(), Error> {
    Server::start(Kind::Pulso, &on_file(programs, file, Vec::new()))?.stop();
    Ok(())
}

/// Writes `count` `order_created` events into the log of `file` (made by `migrated`,
/// pulso stopped), dated evenly from `from` to `to`, oldest first; then folds the WAL
/// into the file, so that copying the file alone copies the log.
pub async fn prefill(
    file: &Path,
    count: u64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(), Error> {
    let options = SqliteConnectOptions::new().filename(file);
    let mut db = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let step = (to - from) / i32::try_from(count.max(1)).map_err(|e| e.to_string())?;
    let failed = |e: sqlx::Error| format!("prefilling {}: {e}", file.display());
    let mut n = 0;
    while n < count {
        let mut tx = db.begin().await.map_err(failed)?;
        let end = count.min(n + ROWS_PER_COMMIT as u64);
        while n < end {
            let rows = (end - n).min(ROWS_PER_INSERT as u64);
            let mut query = sqlx::query(AssertSqlSafe(insert(rows as usize)));
            for i in n..n + rows {
                // Whole milliseconds, as pulso dates its events (compared as text).
                let at = (from + step * i32::try_from(i).map_err(|e| e.to_string())?)
                    .duration_trunc(TimeDelta::milliseconds(1))
                    .map_err(|e| e.to_string())?;
                query = query
                    .bind("order_created")
                    .bind("orders")
                    .bind(format!("order:{}", i + 1))
                    .bind(order_data(i + 1, at))
                    .bind("bench-prefill")
                    .bind(at);
            }
            tx.execute(query).await.map_err(failed)?;
            n += rows;
        }
        tx.commit().await.map_err(failed)?;
    }
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .map_err(failed)?;
    db.close().await.map_err(failed)
}

/// An INSERT of `rows` events (prepared once per length: sqlx keeps its statements).
fn insert(rows: usize) -> String {
    format!(
        "INSERT INTO events (type, room, entity, data, user_id, created_at) VALUES {}",
        vec!["(?, ?, ?, ?, ?, ?)"; rows].join(", ")
    )
}

/// Copies `seed` (a file `prefill` wrote, with no WAL beside it) to `to`.
pub fn copy(seed: &Path, to: &Path) -> Result<(), Error> {
    std::fs::copy(seed, to)
        .map(drop)
        .map_err(|e| format!("copying {} to {}: {e}", seed.display(), to.display()))
}

/// The data of an `order_created` as pulso logs it for a one-item order (the same
/// fields, about the same size), so the log weighs what a real one does.
fn order_data(id: u64, at: DateTime<Utc>) -> String {
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    serde_json::json!({
        "id": id,
        "client_id": 1,
        "status": "pending",
        "total": "1.50",
        "notes": "prefilled by bench",
        "items": [{ "sku": "BENCH-0", "quantity": 1, "unit_price": "1.50", "line_total": "1.50" }],
        "created_at": at,
        "updated_at": at,
    })
    .to_string()
}
