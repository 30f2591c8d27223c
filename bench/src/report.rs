//! The markdown report of a `compare` run: the targets first, the fan-out at equal load,
//! then every figure as its median over the rounds with its range, each ratio as the
//! median of the rounds' own ratios (pulso and the reference of the same round), a
//! projection to larger nodes, the runs that failed, and the machine.

use serde_json::Value;

use crate::{
    compare::{BUSY_WARNING_PERCENT, Outcome, Results, Run, SCENARIOS, Scenario},
    fanout::Step,
    latency,
    server::Kind,
};

/// One line of the table for one server in one round.
struct Row {
    name: &'static str,
    higher_is_better: bool,
    value: Option<f64>,
    /// Shown before the value, for latency rows: the p50 beside the compared p99.
    p50: Option<f64>,
}

fn row(name: &'static str, higher_is_better: bool, value: impl Into<Option<f64>>) -> Row {
    Row {
        name,
        higher_is_better,
        value: value.into(),
        p50: None,
    }
}

/// Latency at a step: shows p50 / p99, compares the p99.
fn latency(name: &'static str, step: Option<&Step>) -> Row {
    Row {
        name,
        higher_is_better: false,
        value: step.map(|s| s.latency.p99_ms),
        p50: step.map(|s| s.latency.p50_ms),
    }
}

/// Server CPU per delivery at a fan-out step, in µs.
fn cpu_per_delivery_us(step: &Step) -> Option<f64> {
    (step.deliveries_per_sec > 0.0 && step.server_cpu_percent > 0.0)
        .then(|| step.server_cpu_percent / 100.0 / step.deliveries_per_sec * 1e6)
}

fn rows(outcome: &Outcome) -> Vec<Row> {
    match outcome {
        Outcome::Connections(c) => vec![
            row(
                "RSS per idle connection, KiB (slope over the stages)",
                false,
                c.rss_per_connection_kib,
            ),
            row(
                "RSS with all connected, MiB",
                false,
                c.rss_full_kib as f64 / 1024.0,
            ),
            row("connected", true, c.connected as f64),
            row("connects/s", true, c.connects_per_sec),
            row(
                "idle CPU over the hold, % of a core",
                false,
                c.idle_cpu_percent,
            ),
        ],
        Outcome::Fanout(f) => {
            let rate = |s: Option<&Step>| s.map_or(0.0, |s| s.deliveries_per_sec);
            vec![
                row(
                    "deliveries/s with p99 ≤ 50 ms (the target's measure)",
                    true,
                    rate(f.sustainable.as_ref()),
                ),
                row(
                    "highest step kept up in full, deliveries/s (any latency)",
                    true,
                    rate(f.lossless.as_ref()),
                ),
                row(
                    "producer events/s at that step",
                    true,
                    f.lossless.as_ref().map(|s| s.rate),
                ),
                latency("p50 / p99 ms at that step", f.lossless.as_ref()),
                latency("p50 / p99 ms at 1 event/s (one burst)", f.steps.first()),
                row(
                    "load generator CPU % at that step",
                    false,
                    f.lossless.as_ref().map(|s| s.client_cpu_percent),
                ),
            ]
        }
        Outcome::Commands(c) => vec![
            row("order:create acks/s", true, c.acks_per_sec),
            row("ack p50 ms", false, c.latency.p50_ms),
            row("ack p99 ms", false, c.latency.p99_ms),
            row("server CPU, % of a core", false, c.server_cpu_percent),
        ],
        Outcome::Storm(o) => vec![
            row("dashboards back", true, o.reconnected as f64),
            row("recovered (same pid)", true, o.recovered as f64),
            row("first attempt → last CONNECT, s", false, o.reconnect_secs),
            row("missed events replayed/s", true, o.replayed_per_sec),
            row("events lost (over all dashboards)", false, o.lost as f64),
            row(
                "server CPU during the storm, % of a core",
                false,
                o.server_cpu_percent,
            ),
            row("restart after SIGKILL, s", false, o.restart_secs),
        ],
        // A table of its own, by socket count (`latency_table`).
        Outcome::Latency(_) => Vec::new(),
        Outcome::Mixed(m) => vec![
            row("command ack p99 ms", false, m.ack_latency.p99_ms),
            row(
                "order_created delivery p99 ms",
                false,
                m.order_created_latency.p99_ms,
            ),
            row(
                "notification delivery p99 ms",
                false,
                m.notification_latency.p99_ms,
            ),
            row("deliveries/s", true, m.deliveries_per_sec),
            row("server CPU, % of a core", false, m.server_cpu_percent),
            row("server RSS, MiB", false, m.rss_kib as f64 / 1024.0),
        ],
    }
}

/// The counted SQLite runs of `scenario` on `kind`, by round.
fn outcomes(results: &Results, scenario: Scenario, kind: Kind) -> Vec<(usize, &Outcome)> {
    results
        .runs
        .iter()
        .filter(|r| r.scenario == scenario && r.server == kind && r.database == "sqlite")
        .filter_map(|r| r.counted().map(|o| (r.round, o)))
        .collect()
}

/// A figure over the rounds.
#[derive(Clone, Copy)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

pub fn spread(mut values: Vec<f64>) -> Option<Spread> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = match n {
        0 => return None,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    };
    Some(Spread {
        median,
        min: values[0],
        max: values[n - 1],
        n,
    })
}

fn fmt(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// "median (min–max)", or the one value of a single round; `suffix` after each figure.
pub fn show(s: Option<Spread>, suffix: &str) -> String {
    match s {
        None => "–".into(),
        Some(s) if s.n == 1 || s.min == s.max => format!("{}{suffix}", fmt(s.median)),
        Some(s) => format!("{}{suffix} ({}–{})", fmt(s.median), fmt(s.min), fmt(s.max)),
    }
}

/// `pick` of each counted round of `kind`, by round.
fn per_round<'a>(
    results: &'a Results,
    scenario: Scenario,
    kind: Kind,
    pick: impl Fn(&'a Outcome) -> Option<f64>,
) -> Vec<(usize, f64)> {
    outcomes(results, scenario, kind)
        .into_iter()
        .filter_map(|(round, o)| pick(o).map(|v| (round, v)))
        .collect()
}

fn values(rounds: &[(usize, f64)]) -> Option<Spread> {
    spread(rounds.iter().map(|&(_, v)| v).collect())
}

/// pulso ÷ reference within each round both counted, over the rounds.
fn ratios(pulso: &[(usize, f64)], reference: &[(usize, f64)]) -> Option<Spread> {
    spread(
        pulso
            .iter()
            .filter_map(|&(round, p)| {
                let r = reference.iter().find(|(r, _)| *r == round)?.1;
                (r != 0.0).then_some(p / r)
            })
            .collect(),
    )
}

/// The "Machine" section: one line per fact.
pub fn machine(facts: &Value) -> String {
    let mut md = "\n## Machine\n\n".to_owned();
    if let Value::Object(facts) = facts {
        for (key, value) in facts {
            md += &format!(
                "- {key}: {}\n",
                value.as_str().map_or(value.to_string(), str::to_owned)
            );
        }
    }
    md
}

pub fn report(results: &Results) -> String {
    let mut md = format!(
        "# pulso benchmark, {} ({} mode, {} round{})\n\n\
         Every figure comes from this `bench compare` run on this machine: each scenario ran \
         {} time(s) on each server, servers and rounds interleaved, each time on a fresh \
         server and SQLite file. A figure is the median over the rounds, with its range \
         (min–max) in brackets; a ratio is the median of the rounds' own ratios (pulso ÷ the \
         reference of the same round), with their range. Runs whose work went wrong count for \
         nothing (listed at the end).\n",
        results.date,
        results.mode,
        results.rounds,
        if results.rounds == 1 { "" } else { "s" },
        results.rounds
    );
    md += &targets(results);
    md += &equal_load(results);
    md += &commands_note(results);
    md += &all_figures(results);
    md += &grid_note(results);
    md += &skipped(results);
    md += &storm_note(results);
    md += &latency_table(results);
    let postgres: Vec<_> = results
        .runs
        .iter()
        .filter(|r| r.database == "postgres")
        .filter_map(Run::counted)
        .filter_map(|o| match o {
            Outcome::Commands(c) => Some(c),
            _ => None,
        })
        .collect();
    if !postgres.is_empty() {
        md += &format!(
            "\npulso on PostgreSQL, commands: {} acks/s, ack p99 {} ms.\n",
            show(
                spread(postgres.iter().map(|c| c.acks_per_sec).collect()),
                ""
            ),
            show(
                spread(postgres.iter().map(|c| c.latency.p99_ms).collect()),
                ""
            )
        );
    }
    md += &projection(results);
    md += &failed_runs(results);
    md += &machine(&results.machine);
    md += &format!(
        "- before each run, as `round/scenario/server: load average (1, 5, 15 min); cores busy \
         in the second before` (over {BUSY_WARNING_PERCENT} % is marked ⚠: something else used \
         the machine): "
    );
    let loads: Vec<String> = results
        .runs
        .iter()
        .map(|r| {
            format!(
                "{}/{:?}/{}: {}; {}%{}",
                r.round,
                r.scenario,
                r.server.name(),
                r.load_before,
                r.machine_busy_percent,
                if r.machine_busy_percent > BUSY_WARNING_PERCENT {
                    " ⚠"
                } else {
                    ""
                }
            )
            .to_lowercase()
        })
        .collect();
    md += &format!("{}\n\n## Settings\n\n", loads.join("; "));
    if let Value::Object(settings) = &results.settings {
        for (key, value) in settings {
            md += &format!("- {key}: `{}`\n", value.as_str().unwrap_or_default());
        }
    }
    md
}

/// Every figure of every scenario, by server, with the ratios.
fn all_figures(results: &Results) -> String {
    let mut md = String::from(
        "\n## Every figure\n\n\
         ↑ marks rows where higher is better, ↓ where lower is (a ratio under 1 favours pulso \
         there). node-batched is the Node reference committing as pulso does (see above).\n\n\
         | scenario | metric | pulso | node | node-batched | python | pulso ÷ node | pulso ÷ node-batched | pulso ÷ python |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for scenario in SCENARIOS {
        let by_kind = Kind::ALL.map(|kind| {
            outcomes(results, scenario, kind)
                .into_iter()
                .map(|(round, o)| (round, rows(o)))
                .collect::<Vec<_>>()
        });
        let Some((_, names)) = by_kind.iter().flatten().next() else {
            continue;
        };
        for (i, first) in names.iter().enumerate() {
            let column = |k: usize| -> Vec<(usize, f64)> {
                by_kind[k]
                    .iter()
                    .filter_map(|(round, rows)| rows[i].value.map(|v| (*round, v)))
                    .collect()
            };
            let p50 = |k: usize| {
                spread(
                    by_kind[k]
                        .iter()
                        .filter_map(|(_, rows)| rows[i].p50)
                        .collect(),
                )
            };
            let cell = |k: usize| match p50(k) {
                Some(p50) => format!("{} / {}", fmt(p50.median), show(values(&column(k)), "")),
                None => show(values(&column(k)), ""),
            };
            let pulso = column(0);
            let ratio_cells: Vec<String> = (1..Kind::ALL.len())
                .map(|k| show(ratios(&pulso, &column(k)), "×"))
                .collect();
            md += &format!(
                "| {} | {} {} | {} | {} | {} | {} | {} |\n",
                format!("{scenario:?}").to_lowercase(),
                first.name,
                if first.higher_is_better { "↑" } else { "↓" },
                cell(0),
                cell(1),
                cell(2),
                cell(3),
                ratio_cells.join(" | ")
            );
        }
    }
    md
}

/// Sockets in the fan-out's room (the plan's, the same for every run).
fn fanout_sockets(results: &Results) -> usize {
    Kind::ALL
        .iter()
        .find_map(
            |&kind| match outcomes(results, Scenario::Fanout, kind).first() {
                Some((_, Outcome::Fanout(f))) => Some(f.sockets),
                _ => None,
            },
        )
        .unwrap_or(0)
}

/// The rate of the highest step `kind` kept up with in each round.
fn kept_up_rates(results: &Results, kind: Kind) -> Vec<(usize, f64)> {
    per_round(results, Scenario::Fanout, kind, |o| match o {
        Outcome::Fanout(f) => f.lossless.as_ref().map(|s| s.rate),
        _ => None,
    })
}

/// Fan-out at equal load: each server's CPU per delivery and latency at every producer
/// rate both pulso and Node ran, whatever each one's own limit.
fn equal_load(results: &Results) -> String {
    let steps = |kind| -> Vec<(usize, &Step)> {
        outcomes(results, Scenario::Fanout, kind)
            .into_iter()
            .filter_map(|(round, o)| match o {
                Outcome::Fanout(f) => Some(f.steps.iter().map(move |s| (round, s))),
                _ => None,
            })
            .flatten()
            .collect()
    };
    let (pulso, node) = (steps(Kind::Pulso), steps(Kind::Node));
    if pulso.is_empty() || node.is_empty() {
        return String::new();
    }
    let at = |steps: &[(usize, &Step)], rate: f64, pick: fn(&Step) -> Option<f64>| {
        steps
            .iter()
            .filter(|(_, s)| s.rate == rate)
            .filter_map(|&(round, s)| pick(s).map(|v| (round, v)))
            .collect::<Vec<_>>()
    };
    let kept = |steps: &[(usize, &Step)], rate: f64| {
        let runs: Vec<_> = steps.iter().filter(|(_, s)| s.rate == rate).collect();
        let kept = runs.iter().filter(|(_, s)| s.kept_up).count();
        if kept == runs.len() {
            String::new()
        } else {
            format!(" †{kept}/{}", runs.len())
        }
    };
    let mut rates: Vec<f64> = node.iter().map(|(_, s)| s.rate).collect();
    rates.sort_by(f64::total_cmp);
    rates.dedup();
    rates.retain(|&r| pulso.iter().any(|(_, s)| s.rate == r));
    let mut md = format!(
        "\n## Fan-out at equal load\n\n\
         The same producer rate on both servers ({} sockets in `orders`, each event one \
         persisted order): the server's CPU per delivery and one delivery's p50 / p99, at every \
         rate both ran. † k/n: the server kept up in only k of its n rounds at that rate \
         (it lost or fell behind; its figures there are what it managed).\n\n\
         | events/s | pulso µs CPU per delivery | node µs CPU per delivery | pulso ÷ node | pulso p50 / p99 ms | node p50 / p99 ms |\n\
         |---:|---:|---:|---:|---:|---:|\n",
        fanout_sockets(results)
    );
    let cpu: fn(&Step) -> Option<f64> = cpu_per_delivery_us;
    let p50: fn(&Step) -> Option<f64> = |s| Some(s.latency.p50_ms);
    let p99: fn(&Step) -> Option<f64> = |s| Some(s.latency.p99_ms);
    let latency = |steps: &[(usize, &Step)], rate| {
        let p50 = values(&at(steps, rate, p50)).map_or("–".into(), |s| fmt(s.median));
        format!("{p50} / {}", show(values(&at(steps, rate, p99)), ""))
    };
    for rate in rates {
        md += &format!(
            "| {} | {}{} | {}{} | {} | {} | {} |\n",
            fmt(rate),
            show(values(&at(&pulso, rate, cpu)), ""),
            kept(&pulso, rate),
            show(values(&at(&node, rate, cpu)), ""),
            kept(&node, rate),
            show(ratios(&at(&pulso, rate, cpu), &at(&node, rate, cpu)), "×"),
            latency(&pulso, rate),
            latency(&node, rate),
        );
    }
    md
}

fn commands_note(results: &Results) -> String {
    if outcomes(results, Scenario::Commands, Kind::Pulso).is_empty() {
        return String::new();
    }
    "\nWhat `commands` measures: 16 staff sockets keep 4 `order:create` each in flight, every \
     order persisted with its event-log rows before its ack. pulso commits the orders that \
     wait together in one transaction (group commit: its design, and a real advantage) and \
     acks a batch before publishing its events. `node` commits one order per `BEGIN \
     IMMEDIATE` and publishes each order's events before its ack (as python does); \
     `node-batched` is the same Node server committing as pulso does: the commands of one \
     event-loop turn in one transaction, each in a savepoint, then every ack, then every \
     event. pulso ÷ node-batched is the ratio of two servers doing the same work the same \
     way; pulso ÷ node adds what group commit and ack-before-publish buy. The mixed \
     scenario's ack p99 differs the same way between node and node-batched.\n"
        .into()
}

/// Where a step grid limits a figure: the next rate above each server's highest kept-up
/// step, when that server kept up nowhere above it.
fn grid_note(results: &Results) -> String {
    let mut notes = Vec::new();
    for kind in Kind::ALL {
        let rates = kept_up_rates(results, kind);
        let Some(s) = values(&rates) else { continue };
        // Every rate any round of this server ran: the step after its best round.
        let mut grid: Vec<f64> = outcomes(results, Scenario::Fanout, kind)
            .into_iter()
            .filter_map(|(_, o)| match o {
                Outcome::Fanout(f) => Some(f.steps.iter().map(|s| s.rate)),
                _ => None,
            })
            .flatten()
            .collect();
        grid.sort_by(f64::total_cmp);
        let next = grid.iter().find(|&&r| r > s.max);
        notes.push(format!(
            "{} kept up to {} events/s{}",
            kind.name(),
            show(Some(s), ""),
            next.map_or(String::new(), |n| format!(
                " and fell behind at the next step, {} events/s",
                fmt(*n)
            ))
        ));
    }
    if notes.is_empty() {
        return String::new();
    }
    format!(
        "\nThe fan-out's highest step kept up is a step of the grid, so its ratio is only as \
         fine as the grid: {}. The grid is fine near those limits so that a ratio is not one \
         step's width.\n",
        notes.join("; ")
    )
}

/// Which servers sit out the scenarios of this run, and why.
fn skipped(results: &Results) -> String {
    let mut md = String::new();
    for scenario in SCENARIOS {
        if !results.runs.iter().any(|r| r.scenario == scenario) {
            continue;
        }
        for kind in Kind::ALL {
            if let Some(why) = scenario.skipped_on(kind) {
                let name = format!("{scenario:?}").to_lowercase();
                md += &format!("\n{name} did not run on {}: {why}.\n", kind.name());
            }
        }
    }
    md
}

fn storm_note(results: &Results) -> String {
    let Some(Outcome::Storm(s)) = Kind::ALL.iter().find_map(|&kind| {
        outcomes(results, Scenario::Storm, kind)
            .first()
            .map(|(_, o)| *o)
    }) else {
        return String::new();
    };
    format!(
        "\nstorm: {} dashboards, {} events written after the restart (each missed by every \
         dashboard). Node's recovery lives in its process's memory (the in-memory adapter): \
         after a restart it recovers nothing, so its lost events are what a restart costs it, \
         and its time is that of plain reconnects with nothing to replay.\n",
        s.dashboards, s.events_written
    )
}

/// A latency sweep's point at `sockets`, by round.
fn sweep_points(results: &Results, kind: Kind, sockets: usize) -> Vec<(usize, &Step)> {
    outcomes(results, Scenario::Latency, kind)
        .into_iter()
        .filter_map(|(round, o)| match o {
            Outcome::Latency(l) => l.at(sockets).map(|p| (round, &p.step)),
            _ => None,
        })
        .collect()
}

fn p99s(points: &[(usize, &Step)]) -> Vec<(usize, f64)> {
    points
        .iter()
        .map(|&(round, s)| (round, s.latency.p99_ms))
        .collect()
}

/// One event's delivery latency by socket count, pulso against Node.
fn latency_table(results: &Results) -> String {
    let Some(Outcome::Latency(any)) = [Kind::Pulso, Kind::Node].iter().find_map(|&kind| {
        outcomes(results, Scenario::Latency, kind)
            .first()
            .map(|(_, o)| *o)
    }) else {
        return String::new();
    };
    let mut md = format!(
        "\n## Delivery latency by socket count\n\n\
         One event (an `order:create` acked, persisted, then `order_created` to the room) to \
         every socket of the room, {} events at {}/s per point, sockets added between points \
         on one server; p50 / p99 over every delivery, in ms. Ratio: pulso's p99 ÷ Node's.\n\n\
         | sockets | pulso p50 / p99 | node p50 / p99 | pulso ÷ node (p99) | lost (pulso / node, all rounds) |\n\
         |---:|---:|---:|---:|---:|\n",
        any.events, any.rate
    );
    let cell = |points: &[(usize, &Step)]| {
        let p50 = spread(points.iter().map(|(_, s)| s.latency.p50_ms).collect());
        match p50 {
            Some(p50) => format!("{} / {}", fmt(p50.median), show(values(&p99s(points)), "")),
            None => "–".into(),
        }
    };
    let lost = |points: &[(usize, &Step)]| points.iter().map(|(_, s)| s.lost).sum::<u64>();
    for point in &any.points {
        let p = sweep_points(results, Kind::Pulso, point.sockets);
        let n = sweep_points(results, Kind::Node, point.sockets);
        md += &format!(
            "| {} | {} | {} | {} | {} / {} |\n",
            point.sockets,
            cell(&p),
            cell(&n),
            show(ratios(&p99s(&p), &p99s(&n)), "×"),
            lost(&p),
            lost(&n)
        );
    }
    md
}

fn verdict(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

/// The targets, each judged on the median (its range beside it); the fan-out target,
/// not met, first.
fn targets(results: &Results) -> String {
    let mut md = String::from("\n## Targets\n\n| target | measured | met |\n|---|---|---|\n");
    let sustainable = |kind| {
        per_round(results, Scenario::Fanout, kind, |o| match o {
            Outcome::Fanout(f) => {
                Some(f.sustainable.as_ref().map_or(0.0, |s| s.deliveries_per_sec))
            }
            _ => None,
        })
    };
    let (p, n) = (sustainable(Kind::Pulso), sustainable(Kind::Node));
    if let (Some(ps), Some(ns)) = (values(&p), values(&n)) {
        let sockets = fanout_sockets(results);
        let met = match (ps.median > 0.0, ns.median > 0.0) {
            (_, true) => verdict(ratios(&p, &n).is_some_and(|r| r.median >= 5.0)),
            (true, false) => "yes (Node has no step with p99 ≤ 50 ms)",
            (false, false) => "**no** (no server has a step with p99 ≤ 50 ms)",
        };
        md += &format!(
            "| fan-out ≥ 5× Node's deliveries/s at p99 ≤ 50 ms ({sockets} sockets) | pulso {}, Node {} deliveries/s | {met} |\n",
            show(Some(ps), ""),
            show(Some(ns), "")
        );
    }
    if let Some(Outcome::Connections(c)) = outcomes(results, Scenario::Connections, Kind::Pulso)
        .first()
        .map(|(_, o)| *o)
    {
        let slope = values(&per_round(
            results,
            Scenario::Connections,
            Kind::Pulso,
            |o| match o {
                Outcome::Connections(c) => Some(c.rss_per_connection_kib),
                _ => None,
            },
        ));
        let met = if c.connected < 19_000 {
            "n/a (fewer connections)"
        } else {
            verdict(slope.is_some_and(|s| s.median <= 8.0))
        };
        md += &format!(
            "| ≤ 8 KiB RSS per idle connection at 19 000 | {} KiB at {} connections | {met} |\n",
            show(slope, ""),
            c.connected
        );
    }
    let acks = |kind| {
        per_round(results, Scenario::Commands, kind, |o| match o {
            Outcome::Commands(c) => Some(c.acks_per_sec),
            _ => None,
        })
    };
    let pulso = acks(Kind::Pulso);
    for (reference, how) in [
        (
            Kind::Node,
            "one transaction per order, as Node usually runs",
        ),
        (
            Kind::NodeBatched,
            "Node committing in groups as pulso does: the fair ratio",
        ),
    ] {
        if let Some(r) = ratios(&pulso, &acks(reference)) {
            md += &format!(
                "| commands ≥ 3× Node's persisted order:create acks/s ({how}) | {} | {} |\n",
                show(Some(r), "×"),
                verdict(r.median >= 3.0)
            );
        }
    }
    md += &latency_targets(results);
    let storms = per_round(results, Scenario::Storm, Kind::Pulso, |o| match o {
        Outcome::Storm(s) => Some(
            (s.all_recovered_secs.is_some()
                && s.lost + s.doubled + s.unexpected + s.out_of_order == 0) as u8
                as f64,
        ),
        _ => None,
    });
    if !storms.is_empty() {
        let good = storms.iter().filter(|(_, ok)| *ok == 1.0).count();
        md += &format!(
            "| storm: every dashboard recovered after a SIGKILL, nothing lost or doubled | in {good} of {} rounds | {} |\n",
            storms.len(),
            verdict(good == storms.len())
        );
    }
    md
}

/// p99 ≤ 50 ms at 2 000 sockets; at 10 000, pulso's p99 at most half of Node's.
fn latency_targets(results: &Results) -> String {
    let mut md = String::new();
    let at_2000 = sweep_points(results, Kind::Pulso, 2_000);
    if let Some(s) = values(&p99s(&at_2000)) {
        let lost: u64 = at_2000.iter().map(|(_, s)| s.lost).sum();
        md += &format!(
            "| one event's p99 ≤ {} ms at 2 000 sockets | {} ms ({lost} lost) | {} |\n",
            latency::P99_LIMIT_MS,
            show(Some(s), ""),
            verdict(lost == 0 && s.median <= latency::P99_LIMIT_MS)
        );
    }
    let (p, n) = (
        sweep_points(results, Kind::Pulso, 10_000),
        sweep_points(results, Kind::Node, 10_000),
    );
    if let Some(r) = ratios(&p99s(&p), &p99s(&n)) {
        md += &format!(
            "| one event's p99 at 10 000 sockets ≤ ½ Node's | pulso {} ms, Node {} ms: {} | {} |\n",
            show(values(&p99s(&p)), ""),
            show(values(&p99s(&n)), ""),
            show(Some(r), "×"),
            verdict(r.median <= 0.5)
        );
    }
    md
}

/// Memory and idle CPU at 100 000 and 1 000 000 connections, extrapolated linearly from
/// the median slope, with its assumptions.
fn projection(results: &Results) -> String {
    let mut lines = String::new();
    for kind in Kind::ALL {
        let runs = outcomes(results, Scenario::Connections, kind);
        let pick = |f: fn(&crate::connections::Outcome) -> f64| {
            spread(
                runs.iter()
                    .filter_map(|(_, o)| match o {
                        Outcome::Connections(c) => Some(f(c)),
                        _ => None,
                    })
                    .collect(),
            )
        };
        // RSS = the fit's intercept (at the last stage) + slope × connections: the
        // slope leaves the empty process out.
        let (Some(slope), Some(base), Some(cpu_per_conn)) = (
            pick(|c| c.rss_per_connection_kib),
            pick(|c| c.rss_full_kib as f64 - c.rss_per_connection_kib * c.connected as f64),
            pick(|c| c.idle_cpu_percent / c.connected.max(1) as f64),
        ) else {
            continue;
        };
        let rss = |n: f64| (base.median + slope.median * n) / 1024.0 / 1024.0;
        let cpu = |n: f64| cpu_per_conn.median * n / 100.0;
        lines += &format!(
            "| {} | {} | {:.1} GiB | {:.1} GiB | {:.2} cores | {:.1} cores |\n",
            kind.name(),
            fmt(slope.median),
            rss(1e5),
            rss(1e6),
            cpu(1e5),
            cpu(1e6)
        );
    }
    if lines.is_empty() {
        return String::new();
    }
    format!(
        "\n## Projection per node (linear, from the median slope)\n\n\
         Assumes idle dashboards (heartbeat only, 25 s interval) in the same rooms, an \
         open-files limit raised past the socket count, and enough client addresses. Kernel \
         socket memory is not in RSS (roughly 4–10 KiB more per idle TCP socket).\n\n\
         | server | KiB/conn | RSS at 100 000 | RSS at 1 000 000 | idle CPU at 100 000 | idle CPU at 1 000 000 |\n\
         |---|---:|---:|---:|---:|---:|\n{lines}"
    )
}

fn failed_runs(results: &Results) -> String {
    let failed: Vec<_> = results.runs.iter().filter(|r| r.error.is_some()).collect();
    if failed.is_empty() {
        return String::new();
    }
    let mut md = String::from("\n## Runs that failed (not counted)\n\n");
    for run in failed {
        let error = run.error.as_deref().unwrap_or_default();
        md += &format!(
            "- round {}, {:?} on {} ({}): {error}\n",
            run.round,
            run.scenario,
            run.server.name(),
            run.database
        );
    }
    md
}
