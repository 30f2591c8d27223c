//! Real faults under a running server on SQLite: the disk fills up, the database file
//! becomes unwritable. An acknowledged write must be durably committed whatever failed
//! before it, a refused one must have written nothing, `/ready` must say when writes
//! fail, and the server must serve again once the fault is gone, without a restart.
//!
//! The faults need root (a tmpfs mount, `chattr +i`); CI runs as root. Elsewhere these
//! tests print why they were skipped.

use std::{collections::BTreeSet, path::Path, process::Command};

use reqwest::Method;
use serde_json::json;
use tempfile::TempDir;

use crate::helpers::*;

/// Runs a system command a fault needs; `Err` says why it could not.
fn system(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct SmallDisk {
    dir: TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().to_str().ok_or("temp path is not UTF-8")?;
        system(
            "mount",
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", path],
        )?;
        Ok(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, size: &str) {
        let path = self.path().to_str().expect("UTF-8 path");
        system("mount", &["-o", &format!("remount,size={size}"), path]).expect("tmpfs resized");
    }

    /// Takes whatever room is left (SQLite gives some back when it checkpoints and
    /// removes its WAL, as it does when a connection closes).
    fn fill(&self) {
        use std::io::Write;
        let mut filler = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path().join("filler"))
            .expect("filler opens");
        let block = [0u8; 4096];
        while filler
            .write_all(&block)
            .and_then(|()| filler.flush())
            .is_ok()
        {}
    }

    fn database_url(&self) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            self.path().join("pulso.db").display()
        )
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = system("umount", &["-l", &self.dir.path().display().to_string()]);
    }
}

/// Creates a client over REST; `Some(id)` when acknowledged (201), `None` when refused
/// with a 5xx. Anything else fails the test.
async fn create_client(app: &TestApp, name: &str) -> Option<i64> {
    let (status, body) = app
        .api(Method::POST, "/api/clients", Some(json!({ "name": name })))
        .await;
    match status {
        201 => Some(body["id"].as_i64().expect("client id")),
        500 => {
            assert_eq!(body["error"]["code"], "internal", "{body}");
            None
        }
        _ => panic!("unexpected answer {status}: {body}"),
    }
}

/// Asserts that the database holds exactly the acknowledged clients, each with its
/// `client_created` event, read through a connection of its own (as another process
/// would).
async fn assert_committed(database_url: &str, acked: &BTreeSet<i64>) {
    let (clients, events) = committed_clients(database_url).await;
    assert_eq!(&clients, acked, "committed clients = acknowledged clients");
    assert_eq!(
        &events, acked,
        "every acknowledged client has its event, and no other"
    );
}

/// `/ready`'s status, its body checked against docs/protocol.md: while writes fail it
/// says why (a connection that cannot be had in time may show as either).
async fn ready_status(app: &TestApp) -> u16 {
    let (status, body) = send(app.raw(Method::GET, "/ready")).await;
    match status {
        200 => assert_eq!(body, json!({ "status": "ready" })),
        503 => assert!(
            body == json!({ "status": "unavailable", "database": "refusing writes" })
                || body == json!({ "status": "unavailable", "database": "not answering" }),
            "{body}"
        ),
        other => panic!("/ready answered {other}: {body}"),
    }
    status
}

#[tokio::test]
async fn a_full_disk_loses_no_acknowledged_write_and_writes_again_once_it_has_room() {
    if !sqlite_pass("the full-disk test") {
        return;
    }
    let disk = match SmallDisk::mount("3m") {
        Ok(disk) => disk,
        Err(why) => {
            println!("SKIPPED the full-disk test: it mounts a tmpfs, which needs root ({why})");
            return;
        }
    };
    let url = disk.database_url();
    let app = spawn_app_with(|config| config.database_url = url.clone()).await;
    assert_eq!(ready_status(&app).await, 200);

    let mut acked = BTreeSet::new();
    let mut refused = 0;
    // Fill the disk: the first refusal is the first failed write.
    for n in 0.. {
        assert!(n < 100_000, "a 3 MiB disk never filled up");
        match create_client(&app, &format!("filler {n} {}", "x".repeat(150))).await {
            Some(id) => acked.insert(id),
            None => break,
        };
    }
    // Writes on the full disk: whatever is acknowledged must be there afterwards.
    disk.fill();
    for n in 0..100 {
        match create_client(&app, &format!("on a full disk {n}")).await {
            Some(id) => acked.insert(id),
            None => {
                refused += 1;
                true
            }
        };
    }
    assert!(refused > 0, "a full disk refused nothing");
    // A probe that replaces a failed connection lets SQLite checkpoint and remove its
    // WAL, which gives room back: fill it again until a probe finds the disk full.
    let mut unready = false;
    for _ in 0..5 {
        disk.fill();
        if ready_status(&app).await == 503 {
            unready = true;
            break;
        }
    }
    assert!(unready, "/ready never said 503 while the disk was full");

    disk.resize("64m");
    for n in 0..100 {
        let id = create_client(&app, &format!("after the disk grew {n}"))
            .await
            .expect("a write commits once the disk has room");
        acked.insert(id);
    }
    assert_eq!(ready_status(&app).await, 200, "/ready once writes commit");
    // Another connection sees every acknowledged write while the server runs...
    assert_committed(&url, &acked).await;
    // ...and after it stopped.
    app.stop().await;
    assert_committed(&url, &acked).await;
}

/// `chattr +i` makes a file unwritable even through the descriptors the server already
/// holds (and even for root), as a read-only mount would.
struct Immutable<'a>(Vec<&'a Path>);

impl<'a> Immutable<'a> {
    fn set(files: Vec<&'a Path>) -> Result<Self, String> {
        for file in &files {
            system("chattr", &["+i", &file.display().to_string()])?;
        }
        Ok(Immutable(files))
    }
}

impl Drop for Immutable<'_> {
    fn drop(&mut self) {
        for file in &self.0 {
            let _ = system("chattr", &["-i", &file.display().to_string()]);
        }
    }
}

#[tokio::test]
async fn an_unwritable_database_refuses_writes_promptly_and_serves_again_without_a_restart() {
    if !sqlite_pass("the unwritable-file test") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pulso.db");
    let wal = dir.path().join("pulso.db-wal");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let app = spawn_app_with(|config| config.database_url = url.clone()).await;
    let socket = app.socket(STAFF_KEY, "staff-1").await;
    let before = socket
        .ok("client:create", json!({ "name": "before" }))
        .await;

    let fault = match Immutable::set(vec![&file, &wal]) {
        Ok(fault) => fault,
        Err(why) => {
            println!("SKIPPED the unwritable-file test: chattr +i needs root ({why})");
            return;
        }
    };
    // Each refusal comes as an error ack within the helper's wait (5 s), though no
    // connection can be opened for writing meanwhile; nothing is written.
    let error = socket
        .err("client:create", json!({ "name": "refused" }), "internal")
        .await;
    assert_eq!(error["message"], "internal error");
    assert_eq!(create_client(&app, "refused over REST").await, None);
    socket
        .err(
            "client:create",
            json!({ "name": "refused again" }),
            "internal",
        )
        .await;
    assert_eq!(
        ready_status(&app).await,
        503,
        "/ready while the file is unwritable"
    );

    drop(fault);
    let after = socket.ok("client:create", json!({ "name": "after" })).await;
    assert_eq!(
        ready_status(&app).await,
        200,
        "/ready once the file is writable"
    );
    app.stop().await;
    let expected: BTreeSet<i64> = [&before, &after]
        .iter()
        .map(|client| client["id"].as_i64().expect("id"))
        .collect();
    assert_committed(&url, &expected).await;
}

/// A PostgreSQL server of the test's own, in a temporary directory, so that stopping it
/// leaves the machine's server alone. PostgreSQL refuses to run as root: as root it runs
/// as the `postgres` user.
struct OwnPostgres {
    dir: TempDir,
    port: u16,
    as_postgres: bool,
}

impl OwnPostgres {
    fn start() -> Result<OwnPostgres, String> {
        let bin = postgres_bin().ok_or("no PostgreSQL server binaries (pg_ctl) found")?;
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| e.to_string())?
            .stdout
            .starts_with(b"0\n");
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        if as_postgres {
            system("chown", &["postgres", &dir.path().display().to_string()])?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let server = OwnPostgres {
            dir,
            port,
            as_postgres,
        };
        let data = server.data();
        server.run(
            &format!("{bin}/initdb"),
            &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        )?;
        server.pg_ctl(&["start"])?;
        Ok(server)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        if self.as_postgres {
            let mut with_user = vec!["-u", "postgres", "--", program];
            with_user.extend_from_slice(args);
            system("runuser", &with_user)
        } else {
            system(program, args)
        }
    }

    /// `start`, or `stop -m immediate`: the server dies as on a crash.
    fn pg_ctl(&self, action: &[&str]) -> Result<(), String> {
        let bin = postgres_bin().ok_or("pg_ctl vanished")?;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let data = self.data();
        // The server's output goes to a file: a pipe it inherited would stay open.
        let log = self.dir.path().join("server.log").display().to_string();
        let mut args = vec!["-D", &data, "-l", &log, "-o", &options, "-w"];
        args.extend_from_slice(action);
        self.run(&format!("{bin}/pg_ctl"), &args)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate"]);
    }
}

/// The directory of the machine's PostgreSQL server binaries.
fn postgres_bin() -> Option<String> {
    let mut versions: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop().map(|bin| bin.display().to_string())
}

/// PostgreSQL killed mid-load (`pg_ctl stop -m immediate`) and started again: every
/// command answers within a bounded time, `/ready` says 503, nothing acknowledged is
/// lost and nothing is half-written, and pulso serves again without a restart.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_going_away_mid_load_fails_promptly_and_serves_again_when_it_returns() {
    if !sqlite_pass("the PostgreSQL outage test") {
        return;
    }
    let postgres = match OwnPostgres::start() {
        Ok(postgres) => postgres,
        Err(why) => {
            println!("SKIPPED the PostgreSQL outage test: {why}");
            return;
        }
    };
    let url = postgres.url();
    let app = spawn_app_with(|config| config.database_url = url.clone()).await;
    let socket = app.socket(STAFF_KEY, "staff-1").await;
    let mut acked = BTreeSet::new();
    for n in 0..20 {
        let client = socket
            .ok("client:create", json!({ "name": format!("before {n}") }))
            .await;
        acked.insert(client["id"].as_i64().expect("id"));
    }

    // The server dies while commands keep coming.
    let producer = {
        let url = app.url.clone();
        tokio::spawn(async move {
            let socket = TestSocket::connect(
                &url,
                json!({ "api_key": STAFF_KEY, "user_id": "staff-2" }),
                rust_socketio::TransportType::Any,
            )
            .await;
            let mut outcomes = Vec::new();
            // While the server is down each command waits for a connection until
            // pulso gives up (3 s), so a few make the point.
            for n in 0..8 {
                // `try_ack` fails the test's way if no ack comes within 5 s.
                let reply = socket
                    .try_ack("client:create", json!({ "name": format!("during {n}") }))
                    .await
                    .expect("every command is answered in time");
                outcomes.push(reply);
            }
            socket.disconnect().await;
            outcomes
        })
    };
    postgres
        .pg_ctl(&["stop", "-m", "immediate"])
        .expect("PostgreSQL stops");
    let refused = socket
        .err("client:create", json!({ "name": "while down" }), "internal")
        .await;
    assert_eq!(refused["message"], "internal error");
    assert_eq!(
        ready_status(&app).await,
        503,
        "/ready while PostgreSQL is down"
    );
    let outcomes = producer.await.expect("producer");
    for reply in &outcomes {
        match reply["ok"].as_bool() {
            Some(true) => {
                acked.insert(reply["data"]["id"].as_i64().expect("id"));
            }
            _ => assert_eq!(reply["error"]["code"], "internal", "{reply}"),
        }
    }

    postgres
        .pg_ctl(&["start"])
        .expect("PostgreSQL starts again");
    let after = eventually("a write after PostgreSQL came back", WAIT * 3, || async {
        socket
            .try_ack("client:create", json!({ "name": "after" }))
            .await
            .ok()
            .filter(|reply| reply["ok"] == true)
    })
    .await;
    acked.insert(after["data"]["id"].as_i64().expect("id"));
    assert_eq!(
        ready_status(&app).await,
        200,
        "/ready once PostgreSQL is back"
    );
    assert_eq!(server_panics(), 0, "the server panicked (see the output)");
    socket.disconnect().await;
    app.stop().await;

    assert_committed(&url, &acked).await;
}
