//! A closed-loop load generator: N connections, each sending its next request as
//! soon as the previous one is answered, for a fixed time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;

/// One request to repeat.
#[derive(Clone)]
pub struct Request {
    url: String,
    key: Option<String>,
    content_type: Option<&'static str>,
    body: Option<Vec<u8>>,
}

impl Request {
    pub fn get(url: String) -> Self {
        Self {
            url,
            key: None,
            content_type: None,
            body: None,
        }
    }

    pub fn post(url: String, key: &str, content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            url,
            key: Some(key.to_owned()),
            content_type: Some(content_type),
            body: Some(body),
        }
    }

    fn send(&self, client: &reqwest::Client) -> reqwest::RequestBuilder {
        let mut builder = match &self.body {
            Some(body) => client.post(&self.url).body(body.clone()),
            None => client.get(&self.url),
        };
        if let Some(key) = &self.key {
            builder = builder.bearer_auth(key);
        }
        if let Some(ct) = self.content_type {
            builder = builder.header("content-type", ct);
        }
        builder
    }
}

pub struct Report {
    /// Latencies of successful requests, sorted.
    latencies: Vec<Duration>,
    pub errors: usize,
    elapsed: Duration,
}

impl Report {
    pub fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[rank]
    }
}

pub async fn wait_until_up(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the gateway did not come up at {base}")
}

/// Warms up for a second, then measures for `duration`.
pub async fn run(
    client: &reqwest::Client,
    request: &Request,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    drive(client, request, connections, Duration::from_secs(1)).await?;
    drive(client, request, connections, duration).await
}

async fn drive(
    client: &reqwest::Client,
    request: &Request,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let deadline = started + duration;
    let request = Arc::new(request.clone());
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let client = client.clone();
            let request = request.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match request.send(&client).send().await {
                        Ok(res) if res.status().is_success() => {
                            let _ = res.bytes().await;
                            latencies.push(sent.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut report = Report {
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let (latencies, errors) = task.await?;
        report.latencies.extend(latencies);
        report.errors += errors;
    }
    report.elapsed = started.elapsed();
    report.latencies.sort_unstable();
    Ok(report)
}
