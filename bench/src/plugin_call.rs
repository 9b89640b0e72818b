//! The plugin call alone: a fresh instance and one `normalize`, as the gateway
//! makes for every message, without HTTP or the store.

use std::time::{Duration, Instant};

use jembatan::plugin_host::{
    Limits, LogContext, PluginHost, PluginHostConfig, PluginInput, PluginRegistry,
};

use crate::orders;

/// Times each stock plugin on a 10-line and a 500-line order; one line each.
pub fn measure(calls: usize) -> anyhow::Result<Vec<String>> {
    let host = PluginHost::new(PluginHostConfig::default())?;
    let registry = PluginRegistry::with_stock(&host)?;
    let cases = [
        ("ubl-order", "application/xml", orders::ubl(10), 10),
        ("ubl-order", "application/xml", orders::ubl(500), 500),
        (
            "canonical-json",
            "application/json",
            orders::canonical_json(10),
            10,
        ),
        (
            "canonical-json",
            "application/json",
            orders::canonical_json(500),
            500,
        ),
    ];
    let mut lines = Vec::new();
    for (name, content_type, body, line_count) in cases {
        let plugin = registry
            .get(name)
            .ok_or_else(|| anyhow::anyhow!("no stock plugin {name}"))?;
        // Fewer calls for big orders, so the whole run stays short.
        let calls = if line_count > 10 { calls / 10 } else { calls }.max(10);
        let mut times = Vec::with_capacity(calls);
        for i in 0..calls + calls / 10 {
            let input = PluginInput {
                content_type: content_type.into(),
                headers: Vec::new(),
                body: body.clone(),
                email: None,
            };
            let started = Instant::now();
            let orders = host.normalize(
                &plugin,
                input,
                "{}",
                &Limits::default(),
                LogContext::default(),
            )?;
            let elapsed = started.elapsed();
            anyhow::ensure!(orders.len() == 1, "{name} returned {} orders", orders.len());
            if i >= calls / 10 {
                times.push(elapsed); // the first tenth is warm-up
            }
        }
        times.sort_unstable();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        lines.push(format!(
            "{:<16} {:>4} lines ({:>7} bytes): p50 {:>9.1} us  p99 {:>9.1} us",
            name,
            line_count,
            body.len(),
            us(times[times.len() / 2]),
            us(times[times.len() * 99 / 100]),
        ));
    }
    Ok(lines)
}
