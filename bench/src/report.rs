//! The markdown report of a `compare` run: ratios with the raw figures, the targets,
//! a projection to larger nodes, and the machine.

use serde_json::Value;

use crate::{
    compare::{Outcome, Results, SCENARIOS, Scenario},
    fanout::Step,
    latency,
    server::Kind,
};

/// One line of the table for one server.
struct Row {
    name: &'static str,
    higher_is_better: bool,
    value: Option<f64>,
    shown: String,
}

fn row(name: &'static str, higher_is_better: bool, value: impl Into<Option<f64>>) -> Row {
    let value = value.into();
    let shown = value.map_or("–".into(), fmt);
    Row {
        name,
        higher_is_better,
        value,
        shown,
    }
}

/// Latency at a step: shows p50 / p99, compares the p99.
fn latency(name: &'static str, step: Option<&Step>) -> Row {
    Row {
        name,
        higher_is_better: false,
        value: step.map(|s| s.latency.p99_ms),
        shown: step.map_or("–".into(), |s| {
            format!("{} / {}", fmt(s.latency.p50_ms), fmt(s.latency.p99_ms))
        }),
    }
}

fn rows(outcome: &Outcome) -> Vec<Row> {
    match outcome {
        Outcome::Connections(c) => vec![
            row(
                "RSS per idle connection, KiB (slope)",
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
            row("failed connects", false, c.failed as f64),
            row("idle CPU, % of a core", false, c.idle_cpu_percent),
        ],
        Outcome::Fanout(f) => {
            let rate = |s: Option<&Step>| s.map_or(0.0, |s| s.deliveries_per_sec);
            vec![
                row(
                    "sustainable deliveries/s (p99 ≤ 50 ms)",
                    true,
                    rate(f.sustainable.as_ref()),
                ),
                row(
                    "lossless max deliveries/s (any latency)",
                    true,
                    rate(f.lossless.as_ref()),
                ),
                row(
                    "peak deliveries/s, nothing lost (any step)",
                    true,
                    rate(f.peak.as_ref()),
                ),
                row(
                    "producer events/s at the lossless max",
                    true,
                    f.lossless.as_ref().map(|s| s.rate),
                ),
                latency("p50 / p99 ms at the lossless max", f.lossless.as_ref()),
                latency("p50 / p99 ms at 1 event/s (one burst)", f.steps.first()),
                row(
                    "server CPU % at the lossless max",
                    false,
                    f.lossless.as_ref().map(|s| s.server_cpu_percent),
                ),
                row(
                    "load generator CPU % there",
                    false,
                    f.lossless.as_ref().map(|s| s.client_cpu_percent),
                ),
                row(
                    "lost at the last step",
                    false,
                    f.steps.last().map(|s| s.lost as f64),
                ),
            ]
        }
        Outcome::Commands(c) => vec![
            row("order:create acks/s", true, c.acks_per_sec),
            row("ack p50 ms", false, c.latency.p50_ms),
            row("ack p99 ms", false, c.latency.p99_ms),
            row("errors", false, c.errors as f64),
            row("server CPU, % of a core", false, c.server_cpu_percent),
        ],
        Outcome::Storm(o) => vec![
            row("dashboards back", true, o.reconnected as f64),
            row("recovered (same pid)", true, o.recovered as f64),
            row("first attempt → last CONNECT, s", false, o.reconnect_secs),
            row("missed events replayed/s", true, o.replayed_per_sec),
            row("events lost (over all dashboards)", false, o.lost as f64),
            row(
                "events doubled, unexpected or out of order",
                false,
                (o.doubled + o.unexpected + o.out_of_order) as f64,
            ),
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
            row(
                "lost + command errors",
                false,
                (m.lost + m.command_errors) as f64,
            ),
            row("server CPU, % of a core", false, m.server_cpu_percent),
            row("server RSS, MiB", false, m.rss_kib as f64 / 1024.0),
        ],
    }
}

fn find(results: &Results, scenario: Scenario, kind: Kind) -> Option<&Outcome> {
    results
        .runs
        .iter()
        .find(|r| r.scenario == scenario && r.server == kind && r.database == "sqlite")
        .and_then(|r| r.outcome.as_ref())
}

fn fmt(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn ratio(pulso: Option<f64>, reference: Option<f64>) -> String {
    match (pulso, reference) {
        (Some(p), Some(r)) if r != 0.0 => format!("{:.2}×", p / r),
        _ => "–".into(),
    }
}

pub fn report(results: &Results) -> String {
    let mut md = format!(
        "# pulso benchmark, {} ({} mode)\n\n\
         Every figure comes from one `bench compare` run on this machine; each scenario ran on \
         a fresh server and SQLite file, servers interleaved. Ratios are pulso ÷ reference: \
         ↑ marks rows where higher is better, ↓ where lower is (a ratio under 1 favours pulso).\n\n\
         | scenario | metric | pulso | node | python | pulso ÷ node | pulso ÷ python |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
        results.date, results.mode
    );
    for scenario in SCENARIOS {
        let [p, n, y] = Kind::ALL.map(|kind| find(results, scenario, kind).map(rows));
        let Some(names) = p.as_ref().or(n.as_ref()).or(y.as_ref()) else {
            continue;
        };
        for (i, first) in names.iter().enumerate() {
            let cell =
                |rows: &Option<Vec<Row>>| rows.as_ref().map(|r| (r[i].value, r[i].shown.clone()));
            let (pv, ps) = cell(&p).unwrap_or((None, "–".into()));
            let (nv, ns) = cell(&n).unwrap_or((None, "–".into()));
            let (yv, ys) = cell(&y).unwrap_or((None, "–".into()));
            let arrow = if first.higher_is_better { "↑" } else { "↓" };
            let scenario = format!("{scenario:?}").to_lowercase();
            md += &format!(
                "| {scenario} | {} {arrow} | {ps} | {ns} | {ys} | {} | {} |\n",
                first.name,
                ratio(pv, nv),
                ratio(pv, yv)
            );
        }
    }
    md += &skipped(results);
    md += &storm_note(results);
    md += &latency_table(results);
    let postgres = results.runs.iter().find(|r| r.database == "postgres");
    if let Some(Outcome::Commands(c)) = postgres.and_then(|r| r.outcome.as_ref()) {
        md += &format!(
            "\npulso on PostgreSQL, commands: {} acks/s, p50 {} ms, p99 {} ms, {} errors.\n",
            c.acks_per_sec, c.latency.p50_ms, c.latency.p99_ms, c.errors
        );
    }
    md += &targets(results);
    md += &projection(results);
    let failed: Vec<_> = results.runs.iter().filter(|r| r.error.is_some()).collect();
    if !failed.is_empty() {
        md += "\n## Runs that failed\n\n";
        for run in failed {
            let error = run.error.as_deref().unwrap_or_default();
            md += &format!("- {:?} on {}: {error}\n", run.scenario, run.server.name());
        }
    }
    md += "\n## Machine\n\n";
    if let Value::Object(facts) = &results.machine {
        for (key, value) in facts {
            md += &format!(
                "- {key}: {}\n",
                value.as_str().map_or(value.to_string(), str::to_owned)
            );
        }
    }
    md += "- load average (1, 5, 15 min) before each run, as `scenario/server: load`: ";
    let loads: Vec<String> = results
        .runs
        .iter()
        .map(|r| format!("{:?}/{}: {}", r.scenario, r.server.name(), r.load_before).to_lowercase())
        .collect();
    md += &format!("{}\n\n## Settings\n\n", loads.join("; "));
    if let Value::Object(settings) = &results.settings {
        for (key, value) in settings {
            md += &format!("- {key}: `{}`\n", value.as_str().unwrap_or_default());
        }
    }
    md
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
    let Some(Outcome::Storm(s)) = Kind::ALL
        .iter()
        .find_map(|&kind| find(results, Scenario::Storm, kind))
    else {
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

/// One event's delivery latency by socket count, pulso against Node.
fn latency_table(results: &Results) -> String {
    let sweep = |kind| match find(results, Scenario::Latency, kind) {
        Some(Outcome::Latency(l)) => Some(l),
        _ => None,
    };
    let (pulso, node) = (sweep(Kind::Pulso), sweep(Kind::Node));
    let Some(any) = pulso.or(node) else {
        return String::new();
    };
    let mut md = format!(
        "\n## Delivery latency by socket count\n\n\
         One event (an `order:create` acked, persisted, then `order_created` to the room) to \
         every socket of the room, {} events at {}/s per point, sockets added between points \
         on one server; p50 / p99 over every delivery, in ms. Ratio: pulso's p99 ÷ Node's.\n\n\
         | sockets | pulso p50 / p99 | node p50 / p99 | pulso ÷ node (p99) | lost (pulso / node) |\n\
         |---:|---:|---:|---:|---:|\n",
        any.events, any.rate
    );
    let cell = |p: Option<&latency::Point>| {
        p.map_or("–".into(), |p| {
            format!(
                "{} / {}",
                fmt(p.step.latency.p50_ms),
                fmt(p.step.latency.p99_ms)
            )
        })
    };
    let lost = |p: Option<&latency::Point>| p.map_or("–".into(), |p| p.step.lost.to_string());
    for point in &any.points {
        let p = pulso.and_then(|l| l.at(point.sockets));
        let n = node.and_then(|l| l.at(point.sockets));
        md += &format!(
            "| {} | {} | {} | {} | {} / {} |\n",
            point.sockets,
            cell(p),
            cell(n),
            ratio(
                p.map(|p| p.step.latency.p99_ms),
                n.map(|n| n.step.latency.p99_ms)
            ),
            lost(p),
            lost(n)
        );
    }
    md
}

type Pick = fn(&crate::fanout::Outcome) -> Option<&Step>;

fn targets(results: &Results) -> String {
    let mut md = String::from("\n## Targets\n\n| target | measured | met |\n|---|---|---|\n");
    let verdict = |ok: bool| if ok { "yes" } else { "**no**" };
    if let Some(Outcome::Connections(c)) = find(results, Scenario::Connections, Kind::Pulso) {
        let met = if c.connected < 19_000 {
            "n/a (fewer connections)"
        } else {
            verdict(c.rss_per_connection_kib <= 8.0)
        };
        md += &format!(
            "| ≤ 8 KiB RSS per idle connection at 19 000 | {} KiB at {} connections | {met} |\n",
            fmt(c.rss_per_connection_kib),
            c.connected
        );
    }
    let picks: [(&str, Pick); 3] = [
        ("sustainable deliveries/s, p99 ≤ 50 ms", |f| {
            f.sustainable.as_ref()
        }),
        ("lossless deliveries/s, any latency (for reference)", |f| {
            f.lossless.as_ref()
        }),
        ("peak deliveries/s, nothing lost (for reference)", |f| {
            f.peak.as_ref()
        }),
    ];
    for (what, pick) in picks {
        let rate = |kind| match find(results, Scenario::Fanout, kind) {
            Some(Outcome::Fanout(f)) => {
                Some((f.sockets, pick(f).map_or(0.0, |s| s.deliveries_per_sec)))
            }
            _ => None,
        };
        if let (Some((sockets, p)), Some((_, n))) = (rate(Kind::Pulso), rate(Kind::Node)) {
            let met = match (p > 0.0, n > 0.0) {
                (_, true) => verdict(p >= 5.0 * n),
                (true, false) => "yes (Node has no passing step)",
                (false, false) => "**no** (no server has a passing step)",
            };
            let times = if n > 0.0 { fmt(p / n) } else { "–".into() };
            md += &format!(
                "| fan-out ≥ 5× Node's {what} ({sockets} sockets) | {times}× ({} vs {}) | {met} |\n",
                fmt(p),
                fmt(n)
            );
        }
    }
    let acks = |kind| match find(results, Scenario::Commands, kind) {
        Some(Outcome::Commands(c)) => Some(c.acks_per_sec),
        _ => None,
    };
    if let (Some(p), Some(n)) = (acks(Kind::Pulso), acks(Kind::Node)) {
        let times = if n > 0.0 { fmt(p / n) } else { "–".into() };
        md += &format!(
            "| commands ≥ 3× Node's persisted order:create acks/s | {times}× ({} vs {}) | {} |\n",
            fmt(p),
            fmt(n),
            verdict(n > 0.0 && p >= 3.0 * n)
        );
    }
    md += &latency_targets(results);
    if let Some(Outcome::Storm(s)) = find(results, Scenario::Storm, Kind::Pulso) {
        let wrong = s.doubled + s.unexpected + s.out_of_order;
        md += &format!(
            "| storm: every dashboard recovered after a SIGKILL, nothing lost or doubled | {} of {} recovered in {} s, {} lost, {} doubled, unexpected or out of order | {} |\n",
            s.recovered,
            s.connected,
            fmt(s.reconnect_secs),
            s.lost,
            wrong,
            verdict(s.all_recovered_secs.is_some() && s.lost == 0 && wrong == 0)
        );
    }
    md
}

/// p99 ≤ 50 ms at 2 000 sockets; at 10 000, pulso's p99 at most half of Node's.
fn latency_targets(results: &Results) -> String {
    let verdict = |ok: bool| if ok { "yes" } else { "**no**" };
    let point = |kind, sockets| match find(results, Scenario::Latency, kind) {
        Some(Outcome::Latency(l)) => l.at(sockets).map(|p| &p.step),
        _ => None,
    };
    let mut md = String::new();
    if let Some(Outcome::Latency(_)) = find(results, Scenario::Latency, Kind::Pulso) {
        md += &match point(Kind::Pulso, 2_000) {
            Some(s) => format!(
                "| one event's p99 ≤ {} ms at 2 000 sockets | {} ms ({} lost) | {} |\n",
                latency::P99_LIMIT_MS,
                fmt(s.latency.p99_ms),
                s.lost,
                verdict(s.lost == 0 && s.latency.p99_ms <= latency::P99_LIMIT_MS)
            ),
            None => format!(
                "| one event's p99 ≤ {} ms at 2 000 sockets | no 2 000-socket point | n/a |\n",
                latency::P99_LIMIT_MS
            ),
        };
        md += &match (point(Kind::Pulso, 10_000), point(Kind::Node, 10_000)) {
            (Some(p), Some(n)) => format!(
                "| one event's p99 at 10 000 sockets ≤ ½ Node's | {} vs {} ms ({}) | {} |\n",
                fmt(p.latency.p99_ms),
                fmt(n.latency.p99_ms),
                ratio(Some(p.latency.p99_ms), Some(n.latency.p99_ms)),
                verdict(p.lost == 0 && p.latency.p99_ms <= 0.5 * n.latency.p99_ms)
            ),
            _ => "| one event's p99 at 10 000 sockets ≤ ½ Node's | no 10 000-socket point for both | n/a |\n"
                .into(),
        };
    }
    md
}

/// Memory and idle CPU at 100 000 and 1 000 000 connections, extrapolated linearly from
/// the measured slope, with its assumptions; and fan-out CPU per delivery.
fn projection(results: &Results) -> String {
    let measured = |s| {
        Kind::ALL
            .iter()
            .any(|&kind| find(results, s, kind).is_some())
    };
    if !measured(Scenario::Connections) && !measured(Scenario::Fanout) {
        return String::new();
    }
    let mut md = String::from(
        "\n## Projection per node (linear, from the measured slope)\n\n\
         Assumes idle dashboards (heartbeat only, 25 s interval) in the same rooms, an \
         open-files limit raised past the socket count, and enough client addresses. Kernel \
         socket memory is not in RSS (roughly 4–10 KiB more per idle TCP socket).\n\n\
         | server | KiB/conn | RSS at 100 000 | RSS at 1 000 000 | idle CPU at 100 000 | idle CPU at 1 000 000 |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for kind in Kind::ALL {
        if let Some(Outcome::Connections(c)) = find(results, Scenario::Connections, kind) {
            let rss =
                |n: f64| (c.rss_idle_kib as f64 + c.rss_per_connection_kib * n) / 1024.0 / 1024.0;
            let cpu = |n: f64| c.idle_cpu_percent / c.connected.max(1) as f64 * n / 100.0;
            md += &format!(
                "| {} | {} | {:.1} GiB | {:.1} GiB | {:.2} cores | {:.1} cores |\n",
                kind.name(),
                fmt(c.rss_per_connection_kib),
                rss(1e5),
                rss(1e6),
                cpu(1e5),
                cpu(1e6)
            );
        }
    }
    for kind in Kind::ALL {
        if let Some(Outcome::Fanout(f)) = find(results, Scenario::Fanout, kind)
            && let Some(s) = &f.lossless
            && s.server_cpu_percent > 0.0
        {
            md += &format!(
                "\n{}: fan-out costs {:.1} µs of server CPU per delivery ({} deliveries/s at {}% of a core).",
                kind.name(),
                s.server_cpu_percent / 100.0 / s.deliveries_per_sec * 1e6,
                fmt(s.deliveries_per_sec),
                fmt(s.server_cpu_percent)
            );
        }
    }
    md + "\n"
}
