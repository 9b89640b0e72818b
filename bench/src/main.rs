//! `cargo run --release -p bench`: starts the real gateway on loopback, as a
//! process of its own (`server`), drives `POST /v1/orders` with UBL and canonical
//! JSON orders over many connections, and reports throughput, latency and the
//! server's CPU time per order beside a baseline measured in the same run (the
//! same server answering `GET /healthz`), then the latency at half that rate.
//! Then measures delivery to a webhook receiver on loopback (`delivery`), and
//! times the plugin call alone for every stock plugin, beside a trivial call as
//! its baseline. `--only` picks scenarios; `--only node-red` adds Node-RED 4
//! doing an integrator's flow as a yardstick (`node_red`).
//!
//! The gateway stores in the embedded SQLite file, or with `--database
//! postgres://…` in a PostgreSQL database made for the run (and dropped after);
//! `--instances N` starts N gateway processes on that one database, the load
//! spread over them by connection, and `--pin` pins each to a core of its own.
//!
//! Only right answers count (`check`): the process exits non-zero, after printing
//! every table, when any answer was wrong, any order read back was not the one
//! posted, or any order was undelivered, delivered twice or badly signed.

mod check;
mod cpu;
mod delivery;
mod load;
mod node_red;
mod orders;
mod plugin_call;
mod server;

use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use serde_json::json;

use check::{Expect, ReadBack};
use load::{Report, Request};

/// The gateway's admin token in this run.
const ADMIN_TOKEN: &str = "bench-admin";

#[derive(Parser)]
#[command(about = "Benchmark the jembatan gateway against a baseline from the same run.")]
struct Args {
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// How long each HTTP scenario runs, in seconds (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Plugin calls timed per plugin on a 10-line order (a tenth as many on a
    /// 500-line one).
    #[arg(long, default_value_t = 2000)]
    plugin_calls: usize,
    /// SQLite synchronous mode of the server: full or normal.
    #[arg(long, default_value = "full")]
    synchronous: String,
    /// Names the plugins' compiled functions for `perf` in the gateway's process
    /// (`JEMBATAN_PLUGIN_PROFILER`): none, perfmap or jitdump.
    #[arg(long, default_value = "none")]
    plugin_profiler: String,
    /// Store in PostgreSQL: a fresh database is made for the run on the server
    /// this URL names (`postgres://USER@HOST[:PORT][/DATABASE][?pool_size=N]`,
    /// DATABASE being where it is created from) and dropped after. Without it,
    /// the embedded SQLite file.
    #[arg(long)]
    database: Option<String>,
    /// Gateway processes sharing the database (PostgreSQL only), the load spread
    /// over them round-robin by connection.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Pin each instance to a core of its own (`taskset -c N` for instance N).
    #[arg(long)]
    pin: bool,
    /// Run only these scenarios (comma-separated or repeated); all when absent.
    /// The /healthz baseline runs whenever an HTTP scenario does.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Scenario>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// POST /v1/orders with a UBL order.
    Ubl,
    /// POST /v1/orders with a canonical JSON order.
    Json,
    /// Canonical JSON orders routed to a webhook receiver on loopback.
    Delivery,
    /// The plugin call alone, every stock plugin.
    Plugins,
    /// The yardstick: Node-RED 4 normalizing the JSON order (bench/node-red);
    /// only when named, as it installs Node-RED with npm the first time.
    NodeRed,
}

impl Args {
    fn runs(&self, scenario: Scenario) -> bool {
        self.only.contains(&scenario) || (self.only.is_empty() && scenario != Scenario::NodeRed)
    }
}

/// The gateway binary's allocator, so the server measured here is the one shipped.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    // The same binary is the gateway under test, in a process of its own.
    if std::env::args().nth(1).as_deref() == Some(server::SERVE_ARG) {
        return server::serve();
    }
    let args = Args::parse();
    let http = [
        Scenario::Ubl,
        Scenario::Json,
        Scenario::Delivery,
        Scenario::NodeRed,
    ]
    .into_iter()
    .any(|s| args.runs(s));
    // Outlives the gateway, which `run_http` stops before returning.
    let data = tempfile::tempdir()?;
    let mut problems = Vec::new();
    if http {
        problems = run_http(&args, data.path())?;
    }
    if args.runs(Scenario::Plugins) {
        if http {
            println!();
        }
        println!(
            "Plugin call alone (fresh instance + normalize), every stock plugin, {} calls \
             per case ({} for 500 lines); baseline: canonical-json on its 1-line minimal order:",
            args.plugin_calls,
            plugin_call::calls_per_case(args.plugin_calls, 500),
        );
        // A call that fails or returns the wrong order is an error here too.
        for line in plugin_call::measure(args.plugin_calls)? {
            println!("{line}");
        }
        println!();
        for line in plugin_call::time_limit_overshoot()? {
            println!("{line}");
        }
    }
    if !problems.is_empty() {
        bail!(
            "{} problem(s), so the figures above are not a result:\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
    }
    Ok(())
}

/// The HTTP scenarios and delivery, against the gateway's instances; prints their tables as
/// they finish and returns what went wrong.
fn run_http(args: &Args, data_dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
    if args.instances > 1 && args.database.is_none() {
        bail!(
            "--instances above 1 needs --database postgres://…: instances share a PostgreSQL database"
        );
    }
    if args.pin && args.instances > available_cores() {
        bail!(
            "--pin gives each instance a core of its own: {} instances, {} cores",
            args.instances,
            available_cores()
        );
    }
    // Dropped (the database with it) after the gateways, which are declared later.
    let database = args
        .database
        .as_deref()
        .map(server::FreshDatabase::create)
        .transpose()?;
    let mut env = vec![
        ("JEMBATAN_ADMIN_TOKEN", ADMIN_TOKEN),
        ("JEMBATAN_SQLITE_SYNCHRONOUS", args.synchronous.as_str()),
        ("JEMBATAN_PLUGIN_PROFILER", args.plugin_profiler.as_str()),
        // The delivery scenario's receiver is on loopback.
        ("JEMBATAN_ALLOW_PRIVATE_TARGETS", "true"),
        // One buyer posts as fast as the gateway takes it: the rate limit would
        // measure itself, and the bodies of a run exceed a buyer's default store.
        ("JEMBATAN_BUYER_MESSAGES_PER_MINUTE", "600000"),
        ("JEMBATAN_BUYER_BURST", "100000"),
        ("JEMBATAN_BUYER_STORED_BYTES", "1099511627776"),
    ];
    if let Some(database) = &database {
        env.push(("JEMBATAN_DATABASE_URL", database.url.as_str()));
    }
    let gateway = server::Cluster::start(data_dir, &env, args.instances, args.pin)?;
    let bases = gateway.bases();
    let base = bases[0].clone();
    let servers = gateway.pids();
    let on_each =
        |path: &str| -> Vec<String> { bases.iter().map(|base| format!("{base}{path}")).collect() };
    println!(
        "Gateway: {} on {}{}.",
        match args.instances {
            1 => "1 instance".to_owned(),
            n => format!("{n} instances (the load spread over them by connection)"),
        },
        match &database {
            Some(database) => format!(
                "PostgreSQL (a fresh database, {}; its server's CPU time is not counted below)",
                database.name()
            ),
            None => format!("SQLite (synchronous={})", args.synchronous),
        },
        if args.pin {
            ", each pinned to a core of its own (taskset)"
        } else {
            ""
        },
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let duration = Duration::from_secs(args.seconds);
    let problems = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(args.connections)
            .build()?;
        for base in &bases {
            load::wait_until_up(&client, base).await?;
        }
        println!(
            "HTTP, {} connections, {} s each, server and load on the same machine, the \
             server a process of its own (cpu: its user + system time per right answer, \
             every instance's together; \
             at 1/2: paced at half the rate just measured, latency from each request's \
             due time; errors: wrong answers, warm-up included; read back: right/read \
             of a sample of the accepted orders):",
            args.connections, args.seconds
        );
        println!(
            "{:<42} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9}",
            "scenario",
            "req/s",
            "vs base",
            "p50 ms",
            "p99 ms",
            "cpu us",
            "p50 1/2",
            "p99 1/2",
            "errors",
            "read back"
        );
        let mut problems = Vec::new();
        // Rate and CPU per right answer of each order row, beside Node-RED's.
        let mut compared = Vec::new();

        let health = Request::get(on_each("/healthz"), Expect::Healthy);
        let report = load::run(&client, &health, args.connections, duration, &servers)
            .await
            .context(BASELINE_ROW)?;
        let baseline = report.throughput();
        print_row(BASELINE_ROW, &report, baseline, None, None);
        problems.extend(answer_problems(BASELINE_ROW, &report));

        // Both formats carry the same order; their buyers have no route, so it
        // stays `unrouted`.
        let expected = check::Order {
            canonical: orders::http_canonical(LINES),
            accepted_as: "unrouted",
            stored_as: &["unrouted"],
        };
        let mut posts = Vec::new();
        if args.runs(Scenario::Ubl) {
            posts.push((
                UBL_ROW,
                "bench-ubl",
                "ubl-order",
                "application/xml",
                orders::ubl(LINES),
            ));
        }
        if args.runs(Scenario::Json) {
            posts.push((
                JSON_ROW,
                "bench-json",
                "canonical-json",
                "application/json",
                orders::canonical_json(LINES),
            ));
        }
        for (name, buyer, plugin, content_type, body) in posts {
            let key = create_buyer(&client, &base, buyer, plugin).await?;
            let request = Request::post(
                on_each("/v1/orders"),
                Some(&key),
                content_type,
                body,
                Expect::Accepted(Box::new(expected.clone())),
            );
            let report = load::run(&client, &request, args.connections, duration, &servers)
                .await
                .context(name)?;
            let half = half_load(&client, &request, args.connections, duration, &report)
                .await
                .with_context(|| format!("{name} at half rate"))?;
            let read_back = expected
                .read_back(&client, &base, &key, &report.accepted)
                .await;
            print_row(name, &report, baseline, half.as_ref(), Some(&read_back));
            problems.extend(answer_problems(name, &report));
            problems.extend(half_problems(name, half.as_ref()));
            problems.extend(read_back_problem(name, &read_back));
            compared.push((name, report.throughput(), report.cpu_per_success()));
        }

        let mut yardstick = None;
        if args.runs(Scenario::NodeRed) {
            match node_red_row(&client, args.connections, duration, baseline).await {
                Ok((version, report, half)) => {
                    problems.extend(answer_problems(NODE_RED_ROW, &report));
                    problems.extend(half_problems(NODE_RED_ROW, half.as_ref()));
                    yardstick = Some((version, report.throughput(), report.cpu_per_success()));
                }
                Err(e) => problems.push(format!("{NODE_RED_ROW}: {e:#}")),
            }
        }

        if args.runs(Scenario::Delivery) {
            let order = orders::canonical_json(LINES);
            // A scenario that cannot finish (the warm-up's orders never arrive)
            // is one more problem, listed with those of the scenarios before it.
            match delivery::run(&client, &bases, order, args.connections, duration, &servers).await
            {
                Ok(report) => {
                    print_row(
                        DELIVERY_ROW,
                        &report.full.accepted,
                        baseline,
                        report.half.as_ref().map(|half| &half.accepted),
                        Some(&report.read_back),
                    );
                    print_delivery(&report, baseline);
                    problems.extend(answer_problems(DELIVERY_ROW, &report.full.accepted));
                    problems.extend(half_problems(
                        DELIVERY_ROW,
                        report.half.as_ref().map(|half| &half.accepted),
                    ));
                    problems.extend(read_back_problem(DELIVERY_ROW, &report.read_back));
                    problems.extend(delivery_problems(&report));
                    compared.push((
                        DELIVERY_ROW,
                        report.full.accepted.throughput(),
                        report.full.accepted.cpu_per_success(),
                    ));
                }
                Err(e) => problems.push(format!("delivery: {e:#}")),
            }
        }

        if let Some(yardstick) = yardstick {
            print_comparison(&compared, &yardstick);
        }
        anyhow::Ok(problems)
    })?;
    drop(gateway);
    drop(database);
    Ok(problems)
}

/// The cores this process may run on.
fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The same request paced at half the rate `full` reached; `None` when it reached
/// none.
async fn half_load(
    client: &reqwest::Client,
    request: &Request,
    connections: usize,
    duration: Duration,
    full: &Report,
) -> anyhow::Result<Option<Report>> {
    let rate = full.throughput() / 2.0;
    if rate <= 0.0 {
        return Ok(None);
    }
    load::paced(client, request, connections, rate, duration)
        .await
        .map(Some)
}

/// Node-RED's row: its version, its full run and its half-rate run.
async fn node_red_row(
    client: &reqwest::Client,
    connections: usize,
    duration: Duration,
    baseline: f64,
) -> anyhow::Result<(String, Report, Option<Report>)> {
    let mut node_red = node_red::NodeRed::start()?;
    let body = orders::canonical_json(LINES);
    let request = Request::post(
        vec![node_red.url.clone()],
        None,
        "application/json",
        body.clone(),
        Expect::Normalized(Box::new(check::Normalized::of(&body)?)),
    );
    node_red.wait_until_up(client, &request).await?;
    let report = load::run(client, &request, connections, duration, &[node_red.pid()]).await?;
    let half = half_load(client, &request, connections, duration, &report).await?;
    let name = format!("Node-RED {} POST /orders, 10 lines", node_red.version);
    print_row(&name, &report, baseline, half.as_ref(), None);
    Ok((node_red.version.clone(), report, half))
}

/// Lines of the order every HTTP scenario posts.
const LINES: usize = 10;
/// The rows of the HTTP table.
const BASELINE_ROW: &str = "baseline GET /healthz";
const UBL_ROW: &str = "POST /v1/orders UBL, 10 lines";
const JSON_ROW: &str = "POST /v1/orders canonical JSON, 10 lines";
/// The Node-RED yardstick's row, in problems.
const NODE_RED_ROW: &str = "Node-RED yardstick";
/// The delivery scenario's POSTs in the HTTP table.
const DELIVERY_ROW: &str = "POST /v1/orders JSON, routed to webhook";

fn print_delivery(report: &delivery::DeliveryReport, baseline: f64) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "\nDelivery of \"{DELIVERY_ROW}\" to a webhook receiver on loopback \
         (answers 204 at once; the warm-up's deliveries drained first; then the same \
         paced at half the rate the POSTs reached):"
    );
    println!(
        "{:<42} {:>9} {:>8} {:>8} {:>8} {:>8}",
        "", "orders/s", "vs base", "p50 ms", "p99 ms", "max ms"
    );
    let windows = [
        ("delivered, first 201 to last arrival", Some(&report.full)),
        ("the same at half rate", report.half.as_ref()),
    ];
    for (name, window) in windows {
        let Some(window) = window else { continue };
        println!(
            "{:<42} {:>9.0} {:>7.1}% {:>8.2} {:>8.2} {:>8.1}",
            name,
            window.throughput(),
            100.0 * window.throughput() / baseline,
            ms(window.percentile(50.0)),
            ms(window.percentile(99.0)),
            ms(window.max()),
        );
    }
    for (what, window) in windows {
        let Some(window) = window else { continue };
        println!(
            "{what}: {} of {} accepted orders delivered in {:.2} s, {} not within the \
             limit; {} arrived before their 201 was read (latency 0)",
            window.delivered,
            window.delivered + window.undelivered,
            window.window.as_secs_f64(),
            window.undelivered,
            window.before_accept,
        );
    }
    println!(
        "{} delivered more than once (same webhook-id); {} bad signatures, \
         {} wrong payloads (warm-up included)",
        report.duplicates, report.bad_signatures, report.wrong_payloads,
    );
}

/// Each order row's rate and CPU per order beside Node-RED's, from this run.
fn print_comparison(
    compared: &[(&str, f64, Option<Duration>)],
    (version, rate, cpu): &(String, f64, Option<Duration>),
) {
    println!("\nBeside Node-RED {version} normalizing the JSON order, same run:");
    for (name, own_rate, own_cpu) in compared {
        let cpu_ratio = match (own_cpu, cpu) {
            (Some(own), Some(theirs)) if !theirs.is_zero() => {
                format!("{:.2}x", own.as_secs_f64() / theirs.as_secs_f64())
            }
            _ => "-".to_owned(),
        };
        println!(
            "{name:<42} {:>6.2}x its rate, {cpu_ratio} its CPU per request",
            own_rate / rate
        );
    }
}

fn print_row(
    name: &str,
    report: &Report,
    baseline: f64,
    half: Option<&Report>,
    read_back: Option<&ReadBack>,
) {
    let read_back = read_back.map_or("-".to_owned(), |r| {
        format!("{}/{}", r.read - r.wrong, r.read)
    });
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1e3);
    let cpu = report.cpu_per_success().map_or("-".to_owned(), |cpu| {
        format!("{:.0}", cpu.as_secs_f64() * 1e6)
    });
    let (half_p50, half_p99) = half.map_or(("-".to_owned(), "-".to_owned()), |half| {
        (ms(half.percentile(50.0)), ms(half.percentile(99.0)))
    });
    println!(
        "{:<42} {:>9.0} {:>7.1}% {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9}",
        name,
        report.throughput(),
        100.0 * report.throughput() / baseline,
        ms(report.percentile(50.0)),
        ms(report.percentile(99.0)),
        cpu,
        half_p50,
        half_p99,
        report.errors + half.map_or(0, |half| half.errors),
        read_back,
    );
}

/// A half-rate run's wrong answers.
fn half_problems(name: &str, half: Option<&Report>) -> Vec<String> {
    half.map_or_else(Vec::new, |half| {
        answer_problems(&format!("{name} at half rate"), half)
    })
}

/// Wrong answers, or no right one at all.
fn answer_problems(name: &str, report: &Report) -> Vec<String> {
    let mut problems = Vec::new();
    if report.errors > 0 {
        problems.push(format!(
            "{name}: {} wrong answers; the first: {}",
            report.errors,
            report.first_error.as_deref().unwrap_or_default()
        ));
    }
    if report.successes() == 0 {
        problems.push(format!("{name}: not one right answer"));
    }
    problems
}

fn read_back_problem(name: &str, read_back: &ReadBack) -> Option<String> {
    (read_back.wrong > 0).then(|| {
        format!(
            "{name}: {} of {} orders read back wrong; the first: {}",
            read_back.wrong,
            read_back.read,
            read_back.first_wrong.as_deref().unwrap_or_default()
        )
    })
}

fn delivery_problems(report: &delivery::DeliveryReport) -> Vec<String> {
    let mut problems = Vec::new();
    let windows = [
        ("", Some(&report.full)),
        (" at half rate", report.half.as_ref()),
    ];
    for (when, window) in windows {
        let Some(window) = window.filter(|w| w.undelivered > 0) else {
            continue;
        };
        problems.push(format!(
            "delivery{when}: {} of {} accepted orders not delivered within the limit",
            window.undelivered,
            window.delivered + window.undelivered
        ));
    }
    if report.duplicates > 0 {
        problems.push(format!(
            "delivery: {} delivered more than once",
            report.duplicates
        ));
    }
    if report.bad_signatures > 0 {
        problems.push(format!(
            "delivery: {} bad signatures",
            report.bad_signatures
        ));
    }
    if report.wrong_payloads > 0 {
        problems.push(format!(
            "delivery: {} wrong payloads; the first: {}",
            report.wrong_payloads,
            report.first_wrong_payload.as_deref().unwrap_or_default()
        ));
    }
    problems
}

async fn create_buyer(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    plugin: &str,
) -> anyhow::Result<String> {
    let res = client
        .post(format!("{base}/v1/admin/buyers"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"id": id, "name": id, "plugin": plugin}))
        .send()
        .await?;
    anyhow::ensure!(
        res.status() == 201,
        "creating buyer {id}: {}",
        res.text().await?
    );
    let body: serde_json::Value = res.json().await?;
    Ok(body["api_key"].as_str().context("api_key")?.to_owned())
}
