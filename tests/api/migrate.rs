//! `pulso migrate`: applies, rolls back and lists migrations without starting the
//! server (on SQLite, or on PostgreSQL when the tests run there).

use tokio::process::Command;

use crate::database::TestDatabase;

async fn migrate(database_url: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_pulso"))
        .arg("migrate")
        .args(args)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("pulso runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

fn statuses(report: &str) -> Vec<&str> {
    report
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| *word == "Applied" || *word == "Pending")
        .collect()
}

#[tokio::test]
async fn migrations_run_roll_back_and_report_without_a_server() {
    let database = TestDatabase::create(true).await;
    let url = database.url.clone();
    assert_eq!(statuses(&migrate(&url, &["status"]).await), ["Pending"; 7]);
    let up = migrate(&url, &["up"]).await;
    assert!(up.starts_with("applied 7 migration(s)"), "{up}");
    assert_eq!(statuses(&up), ["Applied"; 7]);
    let down = migrate(&url, &["down"]).await;
    assert!(down.starts_with("rolled back 1 migration(s)"), "{down}");
    assert_eq!(
        statuses(&down),
        [
            "Applied", "Applied", "Applied", "Applied", "Applied", "Applied", "Pending"
        ]
    );
    assert!(
        migrate(&url, &["down", "7"])
            .await
            .starts_with("rolled back 6")
    );
    assert!(migrate(&url, &["up"]).await.starts_with("applied 7"));
    database.remove().await;
}
