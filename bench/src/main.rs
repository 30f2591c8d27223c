//! pulso's load generator and side-by-side benchmark. See bench/README.md.
//!
//! `bench compare [--quick]` builds pulso, installs the reference servers (Node
//! socket.io, python-socketio), runs every scenario against each in turn and writes
//! bench/results/. `bench connections|fanout|latency|commands|mixed --url URL` runs one
//! scenario against a server already running; `bench storm --server KIND` starts (and
//! kills, and restarts) its own; `bench smoke` is the seconds-long CI run.

mod churn;
mod client;
mod commands;
mod common;
mod compare;
mod connections;
mod eventlog;
mod fanout;
mod latency;
mod mixed;
mod plot;
mod prune;
mod report;
mod server;
mod soak;
mod soak_report;
mod stats;
mod storm;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use serde::Serialize;

use common::{Target, loopback_addr};
use server::{Kind, Programs, Server};

#[derive(Parser)]
#[command(about = "Load generator and benchmark for pulso (loopback targets only)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ramp to N idle authenticated sockets: RSS per connection, connect rate, failures.
    Connections {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        opts: connections::Opts,
    },
    /// N sockets in `orders`, one producer stepping its rate: deliveries/s, latency, loss.
    Fanout {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        opts: fanout::Opts,
    },
    /// One event's delivery latency to a room of growing size (1 000 … 10 000 sockets).
    Latency {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        opts: latency::Opts,
    },
    /// Reconnect storm after a crash: starts the server itself, kills it (SIGKILL),
    /// restarts it on the same database, and brings every dashboard back at once.
    Storm {
        /// The server to start (python-socketio has no connection state recovery).
        #[arg(long, value_enum, default_value = "pulso")]
        server: Kind,
        /// Use this pulso binary instead of `cargo build --release --bin pulso`.
        #[arg(long)]
        pulso_bin: Option<PathBuf>,
        #[command(flatten)]
        opts: storm::Opts,
    },
    /// Persisted `order:create` with a fixed number in flight: acks/s, ack latency.
    Commands {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        opts: commands::Opts,
    },
    /// Viewers in topic rooms, staff writing, notifications to users.
    Mixed {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        opts: mixed::Opts,
    },
    /// `order:create` ack latency with retention pruning busy against without (pulso
    /// only, on a prefilled event log); writes bench/results/<date>-prune.*.
    Prune(prune::Opts),
    /// pulso for a long while under a steady mixed load, connection churn and retention
    /// pruning, sampled every interval; writes bench/results/<date>-soak.* (with a plot).
    Soak(soak_report::CommandOpts),
    /// Every scenario against pulso and the references, interleaved; writes bench/results/.
    Compare(compare::Opts),
    /// A few seconds of every scenario against pulso only; fails on any error (for CI).
    Smoke(compare::SmokeOpts),
    /// Holds connections for `connections` (started by it, not by hand).
    #[command(hide = true)]
    Worker(connections::WorkerOpts),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Workers hold idle sockets: one thread is plenty and leaves the cores to the server.
    let runtime = match &cli.command {
        Command::Worker(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    }
    .expect("a tokio runtime");
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Connections { target, opts } => {
            let addr = loopback_addr(&target.url)?;
            let outcome = connections::run(addr, target.server_pid, &opts).await?;
            print(&outcome, compare::summary_connections(&outcome))
        }
        Command::Fanout { target, opts } => {
            let addr = loopback_addr(&target.url)?;
            let outcome = fanout::run(addr, target.server_pid, &opts).await?;
            print(&outcome, compare::summary_fanout(&outcome))
        }
        Command::Latency { target, opts } => {
            let addr = loopback_addr(&target.url)?;
            let outcome = latency::run(addr, target.server_pid, &opts).await?;
            print(&outcome, compare::summary_latency(&outcome))
        }
        Command::Storm {
            server,
            pulso_bin,
            opts,
        } => {
            if let Some(why) = compare::Scenario::Storm.skipped_on(server) {
                return Err(why.to_owned());
            }
            let pulso = match (server, pulso_bin) {
                (_, Some(bin)) => compare::absolute(&bin)?,
                (Kind::Pulso, None) => compare::build_pulso(true)?,
                _ => PathBuf::new(),
            };
            if matches!(server, Kind::Node | Kind::NodeBatched) {
                compare::install_node()?;
            }
            let programs = Programs {
                pulso,
                ..Programs::default()
            };
            let mut running = Server::start(server, &programs)?;
            let outcome = storm::run(&mut running, &opts).await;
            running.stop();
            let outcome = outcome?;
            print(&outcome, compare::summary_storm(&outcome))
        }
        Command::Commands { target, opts } => {
            let addr = loopback_addr(&target.url)?;
            let outcome = commands::run(addr, target.server_pid, &opts).await?;
            print(&outcome, compare::summary_commands(&outcome))
        }
        Command::Mixed { target, opts } => {
            let addr = loopback_addr(&target.url)?;
            let outcome = mixed::run(addr, target.server_pid, &opts).await?;
            print(&outcome, compare::summary_mixed(&outcome))
        }
        Command::Prune(opts) => prune::run(opts).await.map(|()| ExitCode::SUCCESS),
        Command::Soak(opts) => soak_report::command(opts).await,
        Command::Compare(opts) => compare::compare(opts).await.map(|()| ExitCode::SUCCESS),
        Command::Smoke(opts) => compare::smoke(opts).await,
        Command::Worker(opts) => connections::worker(opts).await.map(|()| ExitCode::SUCCESS),
    }
}

/// Machine-readable result on stdout, the human summary on stderr.
fn print(outcome: &impl Serialize, summary: String) -> Result<ExitCode, String> {
    println!(
        "{}",
        serde_json::to_string_pretty(outcome).map_err(|e| e.to_string())?
    );
    eprintln!("{summary}");
    Ok(ExitCode::SUCCESS)
}
