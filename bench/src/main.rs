//! pulso's load generator and side-by-side benchmark. See bench/README.md.
//!
//! `bench compare [--quick]` builds pulso, installs the reference servers (Node
//! socket.io, python-socketio), runs every scenario against each in turn and writes
//! bench/results/. `bench connections|fanout|commands|mixed --url URL` runs one
//! scenario against a server already running; `bench smoke` is the seconds-long CI run.

mod client;
mod commands;
mod common;
mod compare;
mod connections;
mod fanout;
mod mixed;
mod report;
mod server;
mod stats;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde::Serialize;

use common::{Target, loopback_addr};

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
