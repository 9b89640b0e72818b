//! `cargo run --release -p bench`: starts the real gateway on loopback, drives
//! `POST /v1/orders` with UBL and canonical JSON orders over many connections, and
//! reports throughput and latency beside a baseline measured in the same run (the
//! same server answering `GET /healthz`). Then measures delivery to a webhook
//! receiver on loopback (`delivery`), and times the plugin call alone for every
//! stock plugin, beside a trivial call as its baseline. `--only` picks scenarios.
//!
//! Only right answers count (`check`): the process exits non-zero, after printing
//! every table, when any answer was wrong, any order read back was not the one
//! posted, or any order was undelivered, delivered twice or badly signed.

mod check;
mod delivery;
mod load;
mod orders;
mod plugin_call;

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
}

impl Args {
    fn runs(&self, scenario: Scenario) -> bool {
        self.only.is_empty() || self.only.contains(&scenario)
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = [Scenario::Ubl, Scenario::Json, Scenario::Delivery]
        .into_iter()
        .any(|s| args.runs(s));
    // Kept to the end: the gateway's thread runs until the process exits.
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

/// The HTTP scenarios and delivery, against one gateway; prints their tables as
/// they finish and returns what went wrong.
fn run_http(args: &Args, data_dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let mut config = jembatan::config::Config {
        data_dir: data_dir.to_owned(),
        admin_token: Some(ADMIN_TOKEN.into()),
        ..Default::default()
    };
    config.apply_env(|name| match name {
        "JEMBATAN_SQLITE_SYNCHRONOUS" => Some(args.synchronous.clone()),
        // The delivery scenario's receiver is on loopback.
        "JEMBATAN_ALLOW_PRIVATE_TARGETS" => Some("true".into()),
        _ => None,
    })?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        actix_web::rt::System::new()
            .block_on(jembatan::serve(config, listener))
            .expect("the gateway runs")
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let duration = Duration::from_secs(args.seconds);
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(args.connections)
            .build()?;
        load::wait_until_up(&client, &base).await?;
        println!(
            "HTTP, {} connections, {} s each, server and load on the same machine \
             (errors: wrong answers, warm-up included; read back: right/read of a \
             sample of the accepted orders):",
            args.connections, args.seconds
        );
        println!(
            "{:<42} {:>10} {:>9} {:>9} {:>9} {:>8} {:>9}",
            "scenario", "req/s", "vs base", "p50 ms", "p99 ms", "errors", "read back"
        );
        let mut problems = Vec::new();

        let health = Request::get(format!("{base}/healthz"), Expect::Healthy);
        let report = load::run(&client, &health, args.connections, duration)
            .await
            .context(BASELINE_ROW)?;
        let baseline = report.throughput();
        print_row(BASELINE_ROW, &report, baseline, None);
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
                format!("{base}/v1/orders"),
                &key,
                content_type,
                body,
                Expect::Accepted(Box::new(expected.clone())),
            );
            let report = load::run(&client, &request, args.connections, duration)
                .await
                .context(name)?;
            let read_back = expected
                .read_back(&client, &base, &key, &report.accepted)
                .await;
            print_row(name, &report, baseline, Some(&read_back));
            problems.extend(answer_problems(name, &report));
            problems.extend(read_back_problem(name, &read_back));
        }

        if args.runs(Scenario::Delivery) {
            let order = orders::canonical_json(LINES);
            // A scenario that cannot finish (the warm-up's orders never arrive)
            // is one more problem, listed with those of the scenarios before it.
            let report =
                match delivery::run(&client, &base, order, args.connections, duration).await {
                    Ok(report) => report,
                    Err(e) => {
                        problems.push(format!("delivery: {e:#}"));
                        return Ok(problems);
                    }
                };
            print_row(
                DELIVERY_ROW,
                &report.accepted,
                baseline,
                Some(&report.read_back),
            );
            print_delivery(&report, baseline);
            problems.extend(answer_problems(DELIVERY_ROW, &report.accepted));
            problems.extend(read_back_problem(DELIVERY_ROW, &report.read_back));
            problems.extend(delivery_problems(&report));
        }
        anyhow::Ok(problems)
    })
}

/// Lines of the order every HTTP scenario posts.
const LINES: usize = 10;
/// The rows of the HTTP table.
const BASELINE_ROW: &str = "baseline GET /healthz";
const UBL_ROW: &str = "POST /v1/orders UBL, 10 lines";
const JSON_ROW: &str = "POST /v1/orders canonical JSON, 10 lines";
/// The delivery scenario's POSTs in the HTTP table.
const DELIVERY_ROW: &str = "POST /v1/orders JSON, routed to webhook";

fn print_delivery(report: &delivery::DeliveryReport, baseline: f64) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "\nDelivery of \"{DELIVERY_ROW}\" to a webhook receiver on loopback \
         (answers 204 at once; the warm-up's deliveries drained first):"
    );
    println!(
        "{:<42} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "", "orders/s", "vs base", "p50 ms", "p99 ms", "max ms"
    );
    println!(
        "{:<42} {:>10.0} {:>8.1}% {:>9.2} {:>9.2} {:>8.1}",
        "delivered, first 201 to last arrival",
        report.throughput(),
        100.0 * report.throughput() / baseline,
        ms(report.percentile(50.0)),
        ms(report.percentile(99.0)),
        ms(report.max()),
    );
    println!(
        "{} of {} accepted orders delivered in {:.2} s, {} not within the limit; \
         {} arrived before their 201 was read (latency 0); \
         {} delivered more than once (same webhook-id); \
         {} bad signatures, {} wrong payloads (warm-up included)",
        report.delivered,
        report.delivered + report.undelivered,
        report.window.as_secs_f64(),
        report.undelivered,
        report.before_accept,
        report.duplicates,
        report.bad_signatures,
        report.wrong_payloads,
    );
}

fn print_row(name: &str, report: &Report, baseline: f64, read_back: Option<&ReadBack>) {
    let read_back = read_back.map_or("-".to_owned(), |r| {
        format!("{}/{}", r.read - r.wrong, r.read)
    });
    println!(
        "{:<42} {:>10.0} {:>8.1}% {:>9.2} {:>9.2} {:>8} {:>9}",
        name,
        report.throughput(),
        100.0 * report.throughput() / baseline,
        report.percentile(50.0).as_secs_f64() * 1e3,
        report.percentile(99.0).as_secs_f64() * 1e3,
        report.errors,
        read_back,
    );
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
    if report.undelivered > 0 {
        problems.push(format!(
            "delivery: {} of {} accepted orders not delivered within the limit",
            report.undelivered,
            report.delivered + report.undelivered
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
