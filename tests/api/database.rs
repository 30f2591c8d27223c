//! The database under a test server: a fresh in-memory SQLite by default, or, when
//! `PULSO_TEST_DATABASE_URL` names a PostgreSQL server, a fresh database created on it
//! for this test and dropped afterwards.

use std::sync::atomic::{AtomicUsize, Ordering};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tempfile::TempDir;
use tokio::sync::OnceCell;

pub const POSTGRES_VARIABLE: &str = "PULSO_TEST_DATABASE_URL";

pub struct TestDatabase {
    pub url: String,
    postgres: Option<Postgres>,
    /// Keeps a SQLite file alive for as long as the test needs it.
    _dir: Option<TempDir>,
}

struct Postgres {
    admin_url: String,
    name: String,
}

/// The Postgres server the tests run against, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_VARIABLE)
        .ok()
        .filter(|url| !url.is_empty())
}

impl TestDatabase {
    /// `durable`: the data must survive a server restart (SQLite then uses a file).
    pub async fn create(durable: bool) -> TestDatabase {
        if let Some(admin_url) = postgres_url() {
            return Self::postgres(admin_url).await;
        }
        if !durable {
            return TestDatabase {
                url: "sqlite::memory:".into(),
                postgres: None,
                _dir: None,
            };
        }
        Self::sqlite_file(tempfile::tempdir().expect("temp dir"), "pulso.db")
    }

    /// The SQLite file `name` in `dir` (made when a server first opens it).
    pub fn sqlite_file(dir: TempDir, name: &str) -> TestDatabase {
        TestDatabase {
            url: format!("sqlite://{}?mode=rwc", dir.path().join(name).display()),
            postgres: None,
            _dir: Some(dir),
        }
    }

    async fn postgres(admin_url: String) -> TestDatabase {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        static SWEPT: OnceCell<()> = OnceCell::const_new();
        let admin = admin(&admin_url).await;
        // Databases left by an earlier run that was killed mid-test.
        SWEPT.get_or_init(|| sweep(&admin)).await;
        let name = format!(
            "{}{}_{}",
            PREFIX,
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        execute(&admin, &format!("CREATE DATABASE \"{name}\"")).await;
        let _ = admin.close().await;
        TestDatabase {
            url: with_database(&admin_url, &name),
            postgres: Some(Postgres { admin_url, name }),
            _dir: None,
        }
    }

    pub async fn remove(self) {
        if let Some(Postgres { admin_url, name }) = self.postgres {
            let admin = admin(&admin_url).await;
            execute(
                &admin,
                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            )
            .await;
            let _ = admin.close().await;
        }
    }
}

const PREFIX: &str = "pulso_test_";

async fn admin(url: &str) -> DatabaseConnection {
    Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_VARIABLE}: cannot connect: {e}"))
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Drops test databases of other (finished) test processes.
async fn sweep(admin: &DatabaseConnection) {
    let ours = format!("{PREFIX}{}_", std::process::id());
    let rows = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"),
        ))
        .await
        .expect("list test databases");
    for row in rows {
        let name: String = row.try_get("", "datname").expect("datname");
        if !name.starts_with(&ours) {
            execute(
                admin,
                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            )
            .await;
        }
    }
}

/// The same server URL with another database name.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[test]
fn database_names_are_swapped_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
}
