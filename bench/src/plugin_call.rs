//! The plugin call alone: a fresh instance and one `normalize`, as the gateway
//! makes for every message, without HTTP or the store. Then how late a runaway
//! plugin is stopped after its time limit ([`time_limit_overshoot`]).
//!
//! The baseline is the cheapest call the public API allows: `canonical-json` on
//! its one-line minimal fixture. (Instantiate + `info()` would be cheaper still,
//! but `PluginHost` only calls `info()` inside `load`, which also compiles.)

use std::time::{Duration, Instant};

use anyhow::Context;
use jembatan::plugin_host::{
    Limits, LoadedPlugin, LogContext, NormalizeError, Normalized, PluginHost, PluginHostConfig,
    PluginInput, PluginRegistry, TransactionOutcome,
};

use crate::orders::{self, FORMATS};

/// Order sizes timed for every plugin.
const SIZES: [usize; 2] = [10, 500];

/// One timed case: a plugin, its config and one order.
struct Case<'a> {
    plugin: &'a str,
    content_type: &'a str,
    config: &'a str,
    body: Vec<u8>,
    lines: usize,
}

/// Median and 99th percentile of one case's calls.
struct Timing {
    p50: Duration,
    p99: Duration,
}

/// Times the baseline, then every stock plugin on a 10-line and a 500-line
/// order; returns the table, one line per case.
pub fn measure(calls: usize) -> anyhow::Result<Vec<String>> {
    let host = PluginHost::new(PluginHostConfig::default())?;
    let registry = PluginRegistry::with_stock(&host)?;
    let lookup = |name: &str| {
        registry
            .get(name)
            .with_context(|| format!("no stock plugin {name}"))
    };

    let baseline = Case {
        plugin: "canonical-json",
        content_type: "application/json",
        config: "{}",
        body: orders::MINIMAL_CANONICAL.to_vec(),
        lines: 1,
    };
    let base = time(&host, &*lookup(baseline.plugin)?, &baseline, calls)?;
    let mut table = vec![
        format!(
            "{:<16} {:>5} {:>8} {:>10} {:>10} {:>8}",
            "plugin", "lines", "bytes", "p50 us", "p99 us", "p50/base"
        ),
        row("baseline", &baseline, &base, &base),
    ];
    for format in &FORMATS {
        let plugin = lookup(format.plugin)?;
        for lines in SIZES {
            let case = Case {
                plugin: format.plugin,
                content_type: format.content_type,
                config: format.config,
                body: (format.order)(lines),
                lines,
            };
            let timing = time(&host, &plugin, &case, calls_per_case(calls, lines))?;
            table.push(row(format.plugin, &case, &timing, &base));
        }
    }
    Ok(table)
}

/// How many calls to time on an order of `lines` lines, of the `calls` asked:
/// a tenth as many for big orders, so the whole run stays short.
pub fn calls_per_case(calls: usize, lines: usize) -> usize {
    if lines > 10 { calls / 10 } else { calls }.max(10)
}

/// Makes `calls` timed calls (after a tenth as many untimed ones), checking
/// every result so a generator bug cannot pass as a fast figure.
fn time(
    host: &PluginHost,
    plugin: &LoadedPlugin,
    case: &Case<'_>,
    calls: usize,
) -> anyhow::Result<Timing> {
    let what = || format!("{} on a {}-line order", case.plugin, case.lines);
    let warm_up = calls / 10;
    let mut times = Vec::with_capacity(calls);
    for i in 0..warm_up + calls {
        let input = PluginInput {
            content_type: case.content_type.into(),
            headers: Vec::new(),
            body: case.body.clone(),
            email: None,
        };
        let started = Instant::now();
        let orders = host.normalize(
            plugin,
            input,
            case.config,
            &Limits::default(),
            LogContext::default(),
        );
        let elapsed = started.elapsed();
        let orders = orders.with_context(what)?;
        check(&orders, case.lines).with_context(what)?;
        if i >= warm_up {
            times.push(elapsed);
        }
    }
    times.sort_unstable();
    Ok(Timing {
        p50: times[times.len() / 2],
        p99: times[times.len() * 99 / 100],
    })
}

/// The call gave exactly one order, with the expected number of lines.
fn check(normalized: &Normalized, lines: usize) -> anyhow::Result<()> {
    let orders: Vec<&String> = normalized
        .transactions
        .iter()
        .filter_map(|t| match &t.outcome {
            TransactionOutcome::Order(order) => Some(order),
            _ => None,
        })
        .collect();
    anyhow::ensure!(
        orders.len() == 1 && normalized.transactions.len() == 1,
        "{} orders of {} transactions, not 1",
        orders.len(),
        normalized.transactions.len()
    );
    let order: serde_json::Value =
        serde_json::from_str(orders[0]).context("the order is not JSON")?;
    let found = order["lines"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(found == lines, "the order has {found} lines, not {lines}");
    Ok(())
}

fn row(name: &str, case: &Case<'_>, timing: &Timing, base: &Timing) -> String {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    format!(
        "{:<16} {:>5} {:>8} {:>10.1} {:>10.1} {:>7.1}x",
        name,
        case.lines,
        case.body.len(),
        us(timing.p50),
        us(timing.p99),
        timing.p50.as_secs_f64() / base.p50.as_secs_f64(),
    )
}

/// The time limit the runaway plugin runs under.
const RUNAWAY_LIMIT: Duration = Duration::from_millis(200);

/// Runaway calls timed per case.
const RUNAWAY_ROUNDS: usize = 10;

/// How long after its time limit a plugin that never stops is stopped: the
/// `loop` mode of the hostile test plugin (built by `plugins/build --no-dist`,
/// as the tests do) under a 200 ms limit, alone and then with one more loop
/// than there are cores running at once. Every call must end as a timeout, and
/// none before its limit; anything else is an error, not a figure.
pub fn time_limit_overshoot() -> anyhow::Result<Vec<String>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let build = std::process::Command::new(root.join("plugins/build"))
        .arg("--no-dist")
        .output()
        .context("running plugins/build")?;
    anyhow::ensure!(
        build.status.success(),
        "plugins/build --no-dist failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let path = root.join("target/plugins/wasm32-wasip2/plugin/test_hostile.wasm");
    let wasm = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let host = PluginHost::new(PluginHostConfig::default())?;
    let plugin = host.load(&wasm)?;

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut table = vec![
        format!(
            "Time limit: the hostile plugin's endless loop under a {} ms limit, \
             {RUNAWAY_ROUNDS} calls per thread; how long after the limit each call ended:",
            RUNAWAY_LIMIT.as_millis()
        ),
        format!(
            "{:<28} {:>6} {:>10} {:>10} {:>10}",
            "case", "calls", "p50 ms", "p99 ms", "max ms"
        ),
    ];
    for threads in [1, cores + 1] {
        let mut late: Vec<Duration> = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..threads)
                .map(|_| scope.spawn(|| runaway_calls(&host, &plugin)))
                .collect();
            runs.into_iter()
                .map(|run| run.join().expect("a runaway thread panicked"))
                .collect::<anyhow::Result<Vec<_>>>()
        })?
        .concat();
        late.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let case = if threads == 1 {
            "alone".to_owned()
        } else {
            format!("{threads} at once on {cores} cores")
        };
        table.push(format!(
            "{:<28} {:>6} {:>10.1} {:>10.1} {:>10.1}",
            case,
            late.len(),
            ms(late[late.len() / 2]),
            ms(late[late.len() * 99 / 100]),
            ms(late[late.len() - 1]),
        ));
    }
    Ok(table)
}

/// [`RUNAWAY_ROUNDS`] calls of the endless loop; how long after the limit each
/// one ended.
fn runaway_calls(host: &PluginHost, plugin: &LoadedPlugin) -> anyhow::Result<Vec<Duration>> {
    let limits = Limits {
        time: RUNAWAY_LIMIT,
        ..Limits::default()
    };
    (0..RUNAWAY_ROUNDS)
        .map(|_| {
            let input = PluginInput {
                content_type: "application/json".into(),
                headers: Vec::new(),
                body: b"{}".to_vec(),
                email: None,
            };
            let started = Instant::now();
            let result = host.normalize(
                plugin,
                input,
                r#"{"mode":"loop"}"#,
                &limits,
                LogContext::default(),
            );
            let took = started.elapsed();
            match result {
                Err(NormalizeError::Timeout { .. }) => {
                    took.checked_sub(RUNAWAY_LIMIT).with_context(|| {
                        format!("the endless loop was stopped after {took:?}, before its limit")
                    })
                }
                Err(e) => anyhow::bail!("the endless loop failed, but not as a timeout: {e}"),
                Ok(normalized) => anyhow::bail!(
                    "the endless loop returned {} transactions",
                    normalized.transactions.len()
                ),
            }
        })
        .collect()
}
