//! `cargo run --release -p bench`: starts the real gateway on loopback, drives
//! `POST /v1/orders` with UBL and canonical JSON orders over many connections, and
//! reports throughput and latency beside a baseline measured in the same run (the
//! same server answering `GET /healthz`). Then times the plugin call alone for
//! every stock plugin, beside a trivial call as its baseline.

mod load;
mod orders;
mod plugin_call;

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use serde_json::json;

use load::{Report, Request};

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
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let data = tempfile::tempdir()?;
    let mut config = jembatan::config::Config {
        data_dir: data.path().to_owned(),
        admin_token: Some("bench-admin".into()),
        ..Default::default()
    };
    config.apply_env(|name| match name {
        "JEMBATAN_SQLITE_SYNCHRONOUS" => Some(args.synchronous.clone()),
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
    let reports = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(args.connections)
            .build()?;
        load::wait_until_up(&client, &base).await?;
        let ubl_key = create_buyer(&client, &base, "bench-ubl", "ubl-order").await?;
        let json_key = create_buyer(&client, &base, "bench-json", "canonical-json").await?;
        let scenarios = [
            (
                "baseline GET /healthz",
                Request::get(format!("{base}/healthz")),
            ),
            (
                "POST /v1/orders UBL, 10 lines",
                Request::post(
                    format!("{base}/v1/orders"),
                    &ubl_key,
                    "application/xml",
                    orders::ubl(10),
                ),
            ),
            (
                "POST /v1/orders canonical JSON, 10 lines",
                Request::post(
                    format!("{base}/v1/orders"),
                    &json_key,
                    "application/json",
                    orders::canonical_json(10),
                ),
            ),
        ];
        let mut reports = Vec::new();
        for (name, request) in scenarios {
            let report = load::run(&client, &request, args.connections, duration)
                .await
                .with_context(|| name.to_owned())?;
            reports.push((name, report));
        }
        anyhow::Ok(reports)
    })?;

    println!(
        "HTTP, {} connections, {} s each, server and load on the same machine:",
        args.connections, args.seconds
    );
    let baseline = reports[0].1.throughput();
    println!(
        "{:<42} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "scenario", "req/s", "vs base", "p50 ms", "p99 ms", "errors"
    );
    for (name, report) in &reports {
        print_row(name, report, baseline);
    }

    println!(
        "\nPlugin call alone (fresh instance + normalize), every stock plugin, {} calls \
         per case ({} for 500 lines); baseline: canonical-json on its 1-line minimal order:",
        args.plugin_calls,
        plugin_call::calls_per_case(args.plugin_calls, 500),
    );
    for line in plugin_call::measure(args.plugin_calls)? {
        println!("{line}");
    }
    Ok(())
}

fn print_row(name: &str, report: &Report, baseline: f64) {
    println!(
        "{:<42} {:>10.0} {:>8.1}% {:>9.2} {:>9.2} {:>8}",
        name,
        report.throughput(),
        100.0 * report.throughput() / baseline,
        report.percentile(50.0).as_secs_f64() * 1e3,
        report.percentile(99.0).as_secs_f64() * 1e3,
        report.errors,
    );
}

async fn create_buyer(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    plugin: &str,
) -> anyhow::Result<String> {
    let res = client
        .post(format!("{base}/v1/admin/buyers"))
        .bearer_auth("bench-admin")
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
