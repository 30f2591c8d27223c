//! `bench compare`: builds and installs what it needs, runs every scenario against
//! pulso and the reference servers in interleaved order, round after round (each run on
//! a fresh server and database), and writes bench/results/<date>.json and .md. A run
//! whose work went wrong (errors, losses, events that do not match the acks) counts as
//! failed, never as a figure. `bench smoke`: a few seconds of each scenario against
//! pulso, failing on any error.

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::Value;

use crate::{
    client::Error,
    commands, connections, fanout, latency, mixed,
    server::{Kind, Programs, Server, python_venv, root},
    soak, storm,
};

#[derive(Args, Debug)]
pub struct Opts {
    /// A sanity run (under 5 minutes): smaller counts, shorter steps. Writes
    /// <date>-quick.json/.md so it never overwrites a full run.
    #[arg(long)]
    quick: bool,
    /// Use this pulso binary instead of `cargo build --release --bin pulso`.
    #[arg(long)]
    pulso_bin: Option<PathBuf>,
    /// The commit a given `--pulso-bin` was built from, for the report.
    #[arg(long, requires = "pulso_bin")]
    pulso_commit: Option<String>,
    /// Also run `commands` on pulso against this PostgreSQL database (it is written to).
    #[arg(long)]
    postgres_url: Option<String>,
    /// Servers to run, in this order (default: pulso,node,python).
    #[arg(long, value_delimiter = ',')]
    servers: Vec<Kind>,
    /// Scenarios to run (default: all).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<Scenario>,
    /// Directory for the result files (default: bench/results).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Appended to the result files' names (<date>-<name>.json), for partial runs.
    #[arg(long)]
    name: Option<String>,
    /// Rounds: every scenario runs this many times on every server, interleaved; the
    /// report gives each figure's median and range.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    Connections,
    Fanout,
    Latency,
    Commands,
    Mixed,
    Storm,
}

pub const SCENARIOS: [Scenario; 6] = [
    Scenario::Connections,
    Scenario::Fanout,
    Scenario::Latency,
    Scenario::Commands,
    Scenario::Mixed,
    Scenario::Storm,
];

impl Scenario {
    /// Why `kind` sits this scenario out, if it does: python-socketio has no connection
    /// state recovery, the latency sweep is pulso against Node (python-socketio's
    /// one-event latency is in `fanout`'s first step), and Node's group-commit variant
    /// differs from Node only where commands arrive faster than one a transaction.
    pub fn skipped_on(self, kind: Kind) -> Option<&'static str> {
        match (self, kind) {
            (Scenario::Commands | Scenario::Mixed, Kind::NodeBatched) => None,
            (_, Kind::NodeBatched) => {
                Some("the group-commit variant differs from Node only in how commands commit")
            }
            (Scenario::Storm, Kind::Python) => {
                Some("python-socketio has no connection state recovery")
            }
            (Scenario::Latency, Kind::Python) => Some("the latency sweep is pulso against Node"),
            _ => None,
        }
    }
}

/// Every scenario's settings for one mode.
#[derive(Debug, Clone)]
struct Plan {
    connections: connections::Opts,
    fanout: fanout::Opts,
    commands: commands::Opts,
    mixed: mixed::Opts,
    latency: latency::Opts,
    storm: storm::Opts,
}

impl Plan {
    fn full() -> Self {
        Plan {
            connections: connections::Opts {
                count: 19_000,
                users: 100,
                stages: 5,
                per_worker: 7_000,
                hold_secs: 125,
            },
            fanout: fanout::Opts {
                sockets: 10_000,
                // Fine near where Node (5–10) and pulso (40–50) stop keeping up, so
                // that no ratio is a step of the grid.
                rates: vec![
                    1.0, 2.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 15.0, 17.0, 20.0, 25.0, 30.0,
                    35.0, 40.0, 43.0, 46.0, 50.0, 60.0, 75.0, 100.0,
                ],
                step_secs: 5.0,
                p99_limit_ms: 50.0,
                users: 100,
            },
            commands: commands::Opts {
                clients: 16,
                in_flight: 4,
                secs: 20.0,
            },
            mixed: mixed::Opts {
                viewers: 2_000,
                staff: 4,
                staff_rate: 5.0,
                notify_rate: 10.0,
                secs: 30.0,
                mark_read: false,
            },
            latency: latency::Opts {
                sockets: vec![1_000, 2_000, 5_000, 10_000],
                events: 5,
                rate: 1.0,
                users: 100,
            },
            storm: storm::Opts {
                dashboards: 10_000,
                before: 10,
                events: 200,
                in_flight: 512,
                users: 100,
            },
        }
    }

    fn quick() -> Self {
        Plan {
            connections: connections::Opts {
                count: 2_000,
                users: 100,
                stages: 4,
                per_worker: 1_000,
                hold_secs: 10,
            },
            fanout: fanout::Opts {
                sockets: 1_000,
                rates: vec![5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0],
                step_secs: 2.0,
                p99_limit_ms: 50.0,
                users: 100,
            },
            commands: commands::Opts {
                clients: 16,
                in_flight: 4,
                secs: 5.0,
            },
            mixed: mixed::Opts {
                viewers: 400,
                staff: 4,
                staff_rate: 10.0,
                notify_rate: 10.0,
                secs: 8.0,
                mark_read: false,
            },
            latency: latency::Opts {
                sockets: vec![500, 1_000, 2_000],
                events: 3,
                rate: 1.0,
                users: 100,
            },
            storm: storm::Opts {
                dashboards: 1_000,
                before: 5,
                events: 200,
                in_flight: 512,
                users: 100,
            },
        }
    }

    /// Seconds, debug builds welcome: checks that everything works, not how fast.
    fn smoke() -> Self {
        Plan {
            connections: connections::Opts {
                count: 50,
                users: 10,
                stages: 2,
                per_worker: 25,
                hold_secs: 1,
            },
            fanout: fanout::Opts {
                sockets: 50,
                rates: vec![20.0, 50.0],
                step_secs: 1.0,
                p99_limit_ms: 5_000.0,
                users: 10,
            },
            commands: commands::Opts {
                clients: 2,
                in_flight: 2,
                secs: 2.0,
            },
            mixed: mixed::Opts {
                viewers: 40,
                staff: 2,
                staff_rate: 10.0,
                notify_rate: 5.0,
                secs: 2.0,
                mark_read: false,
            },
            latency: latency::Opts {
                sockets: vec![20, 50],
                events: 2,
                rate: 2.0,
                users: 10,
            },
            storm: storm::Opts {
                dashboards: 50,
                before: 3,
                events: 20,
                in_flight: 64,
                users: 10,
            },
        }
    }
}

/// One scenario's outcome, typed for the report.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    Connections(connections::Outcome),
    // Boxed: three copies of a step make it the largest by far.
    Fanout(Box<fanout::Outcome>),
    Commands(commands::Outcome),
    Mixed(mixed::Outcome),
    Latency(latency::Outcome),
    Storm(storm::Outcome),
}

#[derive(Debug, Serialize)]
pub struct Run {
    pub round: usize,
    pub scenario: Scenario,
    pub server: Kind,
    pub database: &'static str,
    /// /proc/loadavg before and after: this machine is shared, and a busy neighbour
    /// (a compile, a test suite) skews CPU-bound figures.
    pub load_before: String,
    pub load_after: String,
    /// How busy the machine's cores were in the second before the server started (no
    /// server runs then: anything over a few % is a neighbour).
    pub machine_busy_percent: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Why the run failed: it could not run, or its work went wrong (then its outcome
    /// is kept for the record and counts for nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Run {
    /// The outcome, if the run counts.
    pub fn counted(&self) -> Option<&Outcome> {
        self.outcome.as_ref().filter(|_| self.error.is_none())
    }
}

/// Above this, the run is marked: something else was using the machine.
pub const BUSY_WARNING_PERCENT: f64 = 20.0;

#[derive(Debug, Serialize)]
pub struct Results {
    pub date: String,
    pub mode: &'static str,
    pub rounds: usize,
    pub machine: Value,
    pub settings: Value,
    pub runs: Vec<Run>,
}

/// Runs one scenario on `server` (storm kills and restarts it).
async fn run_scenario(
    scenario: Scenario,
    plan: &Plan,
    server: &mut Server,
) -> Result<Outcome, Error> {
    let (addr, pid) = (server.addr, Some(server.pid));
    Ok(match scenario {
        Scenario::Connections => {
            Outcome::Connections(connections::run(addr, pid, &plan.connections).await?)
        }
        Scenario::Fanout => Outcome::Fanout(Box::new(fanout::run(addr, pid, &plan.fanout).await?)),
        Scenario::Commands => Outcome::Commands(commands::run(addr, pid, &plan.commands).await?),
        Scenario::Mixed => Outcome::Mixed(mixed::run(addr, pid, &plan.mixed).await?),
        Scenario::Latency => Outcome::Latency(latency::run(addr, pid, &plan.latency).await?),
        Scenario::Storm => Outcome::Storm(storm::run(server, &plan.storm).await?),
    })
}

fn summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Connections(o) => summary_connections(o),
        Outcome::Fanout(o) => summary_fanout(o),
        Outcome::Commands(o) => summary_commands(o),
        Outcome::Mixed(o) => summary_mixed(o),
        Outcome::Latency(o) => summary_latency(o),
        Outcome::Storm(o) => summary_storm(o),
    }
}

pub fn summary_connections(o: &connections::Outcome) -> String {
    format!(
        "connections: {}/{} connected ({} failed) at {}/s; RSS {} → {} MiB, {} KiB per connection; idle CPU {}%",
        o.connected,
        o.target,
        o.failed,
        o.connects_per_sec,
        o.rss_idle_kib / 1024,
        o.rss_full_kib / 1024,
        o.rss_per_connection_kib,
        o.idle_cpu_percent
    )
}

pub fn summary_fanout(o: &fanout::Outcome) -> String {
    let step = |s: Option<&fanout::Step>| match s {
        Some(s) => format!(
            "{} events/s = {} deliveries/s (p50 {} ms, p99 {} ms)",
            s.rate, s.deliveries_per_sec, s.latency.p50_ms, s.latency.p99_ms
        ),
        None => "none".into(),
    };
    format!(
        "fanout: {} sockets; sustainable (p99 ≤ {} ms): {}; lossless max: {}; peak, nothing lost: {}",
        o.connected,
        o.p99_limit_ms,
        step(o.sustainable.as_ref()),
        step(o.lossless.as_ref()),
        step(o.peak.as_ref())
    )
}

pub fn summary_commands(o: &commands::Outcome) -> String {
    format!(
        "commands: {} order:create acks/s ({} clients × {} in flight), p50 {} ms, p99 {} ms, {} errors, {}/{} announced",
        o.acks_per_sec,
        o.clients,
        o.in_flight,
        o.latency.p50_ms,
        o.latency.p99_ms,
        o.errors,
        o.observed_events,
        o.acked
    )
}

pub fn summary_mixed(o: &mixed::Outcome) -> String {
    format!(
        "mixed: {} viewers; {} commands (ack p99 {} ms, {} errors); order_created p99 {} ms, notification p99 {} ms; {} deliveries/s, {} lost, {} doubled, {} disconnected; server CPU {}%",
        o.connected,
        o.commands_acked,
        o.ack_latency.p99_ms,
        o.command_errors,
        o.order_created_latency.p99_ms,
        o.notification_latency.p99_ms,
        o.deliveries_per_sec,
        o.lost,
        o.doubled,
        o.disconnected,
        o.server_cpu_percent
    )
}

pub fn summary_latency(o: &latency::Outcome) -> String {
    let points: Vec<String> = o
        .points
        .iter()
        .map(|p| {
            format!(
                "{} sockets p50 {} / p99 {} ms ({} lost)",
                p.connected, p.step.latency.p50_ms, p.step.latency.p99_ms, p.step.lost
            )
        })
        .collect();
    format!("latency: {}", points.join("; "))
}

pub fn summary_storm(o: &storm::Outcome) -> String {
    format!(
        "storm: {}/{} dashboards back in {} s, {} recovered; {} events replayed ({}/s); {} lost, {} doubled, {} unexpected, {} out of order ({} dashboards wrong); restart {} s",
        o.reconnected,
        o.connected,
        o.reconnect_secs,
        o.recovered,
        o.replayed,
        o.replayed_per_sec,
        o.lost,
        o.doubled,
        o.unexpected,
        o.out_of_order,
        o.dashboards_wrong,
        o.restart_secs
    )
}

pub async fn compare(opts: Opts) -> Result<(), Error> {
    let plan = if opts.quick {
        Plan::quick()
    } else {
        Plan::full()
    };
    let servers = if opts.servers.is_empty() {
        Kind::ALL.to_vec()
    } else {
        opts.servers.clone()
    };
    let scenarios = if opts.scenarios.is_empty() {
        SCENARIOS.to_vec()
    } else {
        opts.scenarios.clone()
    };
    let pulso = match &opts.pulso_bin {
        Some(bin) => absolute(bin)?,
        None => build_pulso(true)?,
    };
    let runs_on = |kind: Kind| scenarios.iter().any(|s| s.skipped_on(kind).is_none());
    if servers.contains(&Kind::Node) || servers.contains(&Kind::NodeBatched) {
        install_node()?;
    }
    if servers.contains(&Kind::Python) && runs_on(Kind::Python) {
        install_python()?;
    }
    // Read now, right after the build: what the binary was built from, not what the
    // working tree holds by the end of the run.
    let machine = machine_facts(opts.pulso_bin.as_deref(), opts.pulso_commit.as_deref());
    let sqlite = Programs {
        pulso,
        ..Programs::default()
    };
    let started = std::time::Instant::now();
    let rounds = opts.rounds.max(1);
    let mut runs = Vec::new();
    for round in 1..=rounds {
        for (i, &scenario) in scenarios.iter().enumerate() {
            // Interleaved: each scenario and each round starts with the next server, so
            // none always goes first.
            let mut order = servers.clone();
            order.rotate_left((i + round) % servers.len());
            for kind in order {
                if let Some(why) = scenario.skipped_on(kind) {
                    if round == 1 {
                        eprintln!("== {scenario:?} skipped on {}: {why}", kind.name());
                    }
                    continue;
                }
                runs.push(run_one(round, scenario, kind, &plan, &sqlite, "sqlite").await);
            }
            if scenario == Scenario::Commands
                && let Some(url) = &opts.postgres_url
            {
                let postgres = Programs {
                    pulso_database_url: Some(url.clone()),
                    ..sqlite.clone()
                };
                runs.push(
                    run_one(round, scenario, Kind::Pulso, &plan, &postgres, "postgres").await,
                );
            }
        }
    }
    eprintln!(
        "compare: finished in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let results = Results {
        date: date.clone(),
        mode: if opts.quick { "quick" } else { "full" },
        rounds,
        machine,
        settings: serde_json::json!({
            "connections": format!("{:?}", plan.connections),
            "fanout": format!("{:?}", plan.fanout),
            "commands": format!("{:?}", plan.commands),
            "mixed": format!("{:?}", plan.mixed),
            "latency": format!("{:?}", plan.latency),
            "storm": format!("{:?}", plan.storm),
        }),
        runs,
    };
    let mut stem = if opts.quick {
        format!("{date}-quick")
    } else {
        date
    };
    if let Some(name) = &opts.name {
        stem = format!("{stem}-{name}");
    }
    let markdown = crate::report::report(&results);
    write_results(opts.out, &stem, &results, &markdown)?;
    let failed = results.runs.iter().filter(|r| r.error.is_some()).count();
    if failed > 0 {
        eprintln!("compare: {failed} runs failed (listed in the report); they count for nothing");
    }
    Ok(())
}

/// Writes `<stem>.json` and `<stem>.md` into `out` (bench/results by default) and
/// prints the markdown; returns the directory.
pub fn write_results(
    out: Option<PathBuf>,
    stem: &str,
    results: &impl Serialize,
    markdown: &str,
) -> Result<PathBuf, Error> {
    let dir = out.unwrap_or_else(|| root().join("bench/results"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(results).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(format!("{stem}.json")), json + "\n").map_err(|e| e.to_string())?;
    std::fs::write(dir.join(format!("{stem}.md")), markdown).map_err(|e| e.to_string())?;
    println!("{markdown}");
    eprintln!("bench: wrote {}/{stem}.json and .md", dir.display());
    Ok(dir)
}

/// How busy the machine's cores are over one second, in %.
pub async fn machine_busy_percent() -> f64 {
    let before = crate::stats::machine_ticks();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    crate::stats::busy_percent(before, crate::stats::machine_ticks())
}

pub fn loadavg() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

async fn run_one(
    round: usize,
    scenario: Scenario,
    kind: Kind,
    plan: &Plan,
    programs: &Programs,
    database: &'static str,
) -> Run {
    let machine_busy_percent = machine_busy_percent().await;
    eprintln!(
        "== round {round}: {scenario:?} on {} ({database}), load {}, cores {machine_busy_percent}% busy{}",
        kind.name(),
        loadavg(),
        if machine_busy_percent > BUSY_WARNING_PERCENT {
            "  WARNING: something else is using the machine"
        } else {
            ""
        }
    );
    let load_before = loadavg();
    let result = match Server::start(kind, programs) {
        Ok(mut server) => {
            let outcome = run_scenario(scenario, plan, &mut server).await;
            server.stop();
            outcome
        }
        Err(e) => Err(e),
    };
    let load_after = loadavg();
    match &result {
        Ok(outcome) => eprintln!("   {}: {}", kind.name(), summary(outcome)),
        Err(error) => eprintln!("   {}: FAILED: {error}", kind.name()),
    }
    let (outcome, error) = match result {
        Ok(outcome) => {
            let problem = problem(&outcome, Strictness::Compare);
            if let Some(problem) = &problem {
                eprintln!(
                    "   {}: FAILED (the work went wrong): {problem}",
                    kind.name()
                );
            }
            (Some(outcome), problem)
        }
        Err(error) => (None, Some(error)),
    };
    Run {
        round,
        scenario,
        server: kind,
        database,
        load_before,
        load_after,
        machine_busy_percent,
        outcome,
        error,
    }
}

#[derive(Args, Debug)]
pub struct SmokeOpts {
    /// Use this pulso binary instead of `cargo build --bin pulso` (debug).
    #[arg(long)]
    pulso_bin: Option<PathBuf>,
}

/// Every scenario, a few seconds each, against pulso; non-zero exit on any failure.
pub async fn smoke(opts: SmokeOpts) -> Result<ExitCode, Error> {
    let pulso = match opts.pulso_bin {
        Some(bin) => absolute(&bin)?,
        None => build_pulso(false)?,
    };
    let programs = Programs {
        pulso,
        ..Programs::default()
    };
    let plan = Plan::smoke();
    let mut failures = Vec::new();
    for scenario in SCENARIOS {
        let mut server = Server::start(Kind::Pulso, &programs)?;
        let outcome = run_scenario(scenario, &plan, &mut server).await;
        server.stop();
        match outcome {
            Ok(outcome) => {
                eprintln!("{}", summary(&outcome));
                if let Some(problem) = problem(&outcome, Strictness::Smoke) {
                    failures.push(format!("{scenario:?}: {problem}"));
                }
            }
            Err(e) => failures.push(format!("{scenario:?}: {e}")),
        }
    }
    // The soak's machinery (prefilled log, pruning, churn, sampling) for seconds: its
    // work is judged, its trends are too short to be.
    match soak::run(&programs, &smoke_soak()).await {
        Ok(outcome) => {
            eprintln!("{}", soak::summary(&outcome));
            failures.extend(outcome.problems.iter().map(|p| format!("soak: {p}")));
        }
        Err(e) => failures.push(format!("soak: {e}")),
    }
    if failures.is_empty() {
        eprintln!("smoke ok: connections, fanout, latency, commands, mixed, storm, soak");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("smoke FAILED:\n  {}", failures.join("\n  "));
        Ok(ExitCode::FAILURE)
    }
}

/// A seconds-long soak: every part of it, small.
fn smoke_soak() -> soak::Opts {
    soak::Opts {
        duration_secs: 10,
        interval_secs: 2,
        viewers: 40,
        staff: 1,
        staff_rate: 5.0,
        notify_rate: 2.0,
        churn_rate: 12.0,
        // A sparse day: a small file to write, still expiring from the first seconds.
        prefill_per_sec: Some(0.5),
    }
}

/// How much `problem` asks of an outcome.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// Every step of a step-up scenario must keep up, and recovery must lose nothing.
    Smoke,
    /// A measurement: the fan-out's last step falls behind by design, and a server
    /// without durable recovery loses events in the storm; that is its figure.
    Compare,
}

/// What went wrong with an outcome's work, if anything (timings are not judged).
fn problem(outcome: &Outcome, strictness: Strictness) -> Option<String> {
    let smoke = strictness == Strictness::Smoke;
    match outcome {
        Outcome::Connections(o) if o.connected != o.target || o.failed > 0 => Some(format!(
            "{}/{} connected: {:?}",
            o.connected, o.target, o.first_errors
        )),
        Outcome::Fanout(o) => o
            .steps
            .iter()
            .find(|s| {
                s.doubled > 0
                    || (smoke
                        && (s.lost > 0
                            || s.ack_errors > 0
                            || s.delivered == 0
                            || s.disconnected > 0))
            })
            .map(|s| {
                format!(
                    "step {}/s: {} delivered, {} lost, {} doubled, {} ack errors",
                    s.rate, s.delivered, s.lost, s.doubled, s.ack_errors
                )
            })
            .or_else(|| (o.connected != o.sockets).then(|| format!("{:?}", o.connect_errors))),
        Outcome::Commands(o) if o.acked == 0 || o.errors > 0 || o.observed_events != o.acked => {
            Some(format!(
                "{} acked, {} errors ({:?}), {} announced",
                o.acked, o.errors, o.first_error, o.observed_events
            ))
        }
        Outcome::Mixed(o)
            if o.commands_acked == 0
                || o.command_errors > 0
                || o.lost + o.doubled > 0
                || o.disconnected > 0
                || o.mark_read_errors > 0 =>
        {
            Some(format!(
                "{} acked, {} errors, {} lost, {} doubled, {} disconnected, {} marks read failed",
                o.commands_acked,
                o.command_errors,
                o.lost,
                o.doubled,
                o.disconnected,
                o.mark_read_errors
            ))
        }
        Outcome::Latency(o) => o
            .points
            .iter()
            .find(|p| {
                p.connected != p.sockets
                    || p.step.doubled > 0
                    || (smoke && (p.step.lost > 0 || p.step.disconnected > 0))
            })
            .map(|p| {
                format!(
                    "{} of {} sockets: {} lost, {} doubled, {} disconnected",
                    p.connected, p.sockets, p.step.lost, p.step.doubled, p.step.disconnected
                )
            }),
        Outcome::Storm(o)
            if o.connected != o.dashboards
                || o.missed_before_kill > 0
                || o.doubled + o.unexpected + o.out_of_order > 0
                || (smoke && (o.recovered != o.connected || o.lost > 0)) =>
        {
            Some(format!(
                "{} connected, {} recovered of {} back ({:?}); {} lost, {} doubled, {} unexpected, {} out of order",
                o.connected,
                o.recovered,
                o.reconnected,
                o.reconnect_errors,
                o.lost,
                o.doubled,
                o.unexpected,
                o.out_of_order
            ))
        }
        _ => None,
    }
}

/// Servers start in their own directory: a relative binary path would not resolve.
pub fn absolute(path: &Path) -> Result<PathBuf, Error> {
    std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn build_pulso(release: bool) -> Result<PathBuf, Error> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(root())
        .args(["build", "--bin", "pulso"]);
    if release {
        command.arg("--release");
    }
    eprintln!(
        "compare: building pulso ({})",
        if release { "release" } else { "debug" }
    );
    check(command.status(), "cargo build --bin pulso")?;
    Ok(root().join(if release {
        "target/release/pulso"
    } else {
        "target/debug/pulso"
    }))
}

pub fn install_node() -> Result<(), Error> {
    let dir = root().join("bench/reference/node");
    let built = dir.join("node_modules/better-sqlite3/build/Release/better_sqlite3.node");
    if built.exists() && dir.join("node_modules/socket.io/package.json").exists() {
        return Ok(());
    }
    eprintln!("compare: npm ci in bench/reference/node (better-sqlite3 compiles from source)");
    let mut command = Command::new("npm");
    command
        .current_dir(&dir)
        .arg("ci")
        .env("npm_config_build_from_source", "true");
    // node-gyp needs Node's headers: use the system's instead of downloading them.
    if std::env::var_os("npm_config_nodedir").is_none()
        && Path::new("/usr/include/node/node.h").exists()
    {
        command.env("npm_config_nodedir", "/usr");
    }
    check(command.status(), "npm ci")
}

fn install_python() -> Result<(), Error> {
    let venv = python_venv();
    let requirements = root().join("bench/reference/python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).map_err(|e| e.to_string())?;
    let stamp = venv.join("bench-requirements.txt");
    if std::fs::read_to_string(&stamp).is_ok_and(|had| had == wanted) {
        return Ok(());
    }
    eprintln!(
        "compare: installing the Python reference into {}",
        venv.display()
    );
    check(
        Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status(),
        "python3 -m venv",
    )?;
    check(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "-r"])
            .arg(&requirements)
            .status(),
        "pip install",
    )?;
    std::fs::write(stamp, wanted).map_err(|e| e.to_string())
}

fn check(status: std::io::Result<std::process::ExitStatus>, what: &str) -> Result<(), Error> {
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{what} failed ({s})")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

/// The first line of a command's output, or "?".
fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

pub fn machine_facts(pulso_bin: Option<&Path>, pulso_commit: Option<&str>) -> Value {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")
            .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
    });
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    let package_version = |path: &str| -> Value {
        serde_json::from_str::<Value>(&read(root().join(path).to_str().unwrap_or_default()))
            .map_or(Value::Null, |p| p["version"].clone())
    };
    let lock = read(root().join("Cargo.lock").to_str().unwrap_or_default());
    let crate_version = |name: &str| {
        let needle = format!("name = \"{name}\"\nversion = \"");
        lock.find(&needle).map(|at| {
            lock[at + needle.len()..]
                .split('"')
                .next()
                .unwrap_or("?")
                .to_owned()
        })
    };
    let python = python_venv().join("bin/python");
    let python = python.to_str().unwrap_or("python3");
    serde_json::json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "ram_gib": (mem_kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "open_files_limit": output("sh", &["-c", "ulimit -n"]),
        // Built here from the working tree (dirty: uncommitted server edits), or given.
        "pulso_commit": match (pulso_bin, pulso_commit) {
            (None, _) => output("git", &["rev-parse", "--short", "HEAD"]),
            (Some(_), Some(commit)) => commit.to_owned(),
            (Some(_), None) => "unknown (a given binary)".to_owned(),
        },
        "pulso_binary": match pulso_bin {
            Some(bin) => bin.display().to_string(),
            None => format!(
                "cargo build --release from the working tree (uncommitted server edits: {})",
                output("sh", &["-c", "git status --porcelain -- src migration entity vendor | wc -l"]) != "0"
            ),
        },
        "rustc": output("rustc", &["--version"]),
        "socketioxide": crate_version("socketioxide"),
        "node": output("node", &["--version"]),
        "socket.io": package_version("bench/reference/node/node_modules/socket.io/package.json"),
        "better-sqlite3": package_version("bench/reference/node/node_modules/better-sqlite3/package.json"),
        "python": output(python, &["--version"]),
        "python-socketio": output(python, &["-c", "import importlib.metadata as m; print(m.version('python-socketio'))"]),
        "uvicorn": output(python, &["-c", "import importlib.metadata as m; print(m.version('uvicorn'))"]),
    })
}
