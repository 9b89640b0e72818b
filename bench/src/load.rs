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

/// What one successful request was answered, and when the answer was read whole.
pub struct Answer {
    pub at: Instant,
    pub body: Vec<u8>,
}

/// Whether [`drive`] keeps each successful answer besides its latency.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Latencies,
    Answers,
}

pub struct Report {
    /// Latencies of successful requests, sorted.
    latencies: Vec<Duration>,
    pub errors: usize,
    elapsed: Duration,
    /// Every successful answer, when asked for with [`Keep::Answers`].
    pub answers: Vec<Answer>,
}

impl Report {
    pub fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn successes(&self) -> usize {
        self.latencies.len()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }
}

/// The `p`th percentile (nearest rank) of `sorted`; zero when it is empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
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
    drive(client, request, connections, WARM_UP, Keep::Latencies).await?;
    drive(client, request, connections, duration, Keep::Latencies).await
}

/// How long [`run`] warms up before it measures.
pub const WARM_UP: Duration = Duration::from_secs(1);

/// Sends `request` over `connections` connections for `duration`, without warming up.
pub async fn drive(
    client: &reqwest::Client,
    request: &Request,
    connections: usize,
    duration: Duration,
    keep: Keep,
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
                let mut answers = Vec::new();
                let mut errors = 0;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match request.send(&client).send().await {
                        Ok(res) if res.status().is_success() => {
                            let body = res.bytes().await;
                            let at = Instant::now();
                            latencies.push(at - sent);
                            match body {
                                Ok(body) if keep == Keep::Answers => answers.push(Answer {
                                    at,
                                    body: body.to_vec(),
                                }),
                                _ => {}
                            }
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, answers, errors)
            })
        })
        .collect();
    let mut report = Report {
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
        answers: Vec::new(),
    };
    for task in tasks {
        let (latencies, answers, errors) = task.await?;
        report.latencies.extend(latencies);
        report.answers.extend(answers);
        report.errors += errors;
    }
    report.elapsed = started.elapsed();
    report.latencies.sort_unstable();
    Ok(report)
}
