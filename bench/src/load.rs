//! A closed-loop load generator: N connections, each sending its next request as
//! soon as the previous one is answered, for a fixed time. Every answer is checked
//! ([`Expect`]); only right ones count as successes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::check::{self, Expect};

/// One request to repeat, and its right answer.
#[derive(Clone)]
pub struct Request {
    url: String,
    key: Option<String>,
    content_type: Option<&'static str>,
    body: Option<Vec<u8>>,
    expect: Expect,
}

impl Request {
    pub fn get(url: String, expect: Expect) -> Self {
        Self {
            url,
            key: None,
            content_type: None,
            body: None,
            expect,
        }
    }

    pub fn post(
        url: String,
        key: &str,
        content_type: &'static str,
        body: Vec<u8>,
        expect: Expect,
    ) -> Self {
        Self {
            url,
            key: Some(key.to_owned()),
            content_type: Some(content_type),
            body: Some(body),
            expect,
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

    /// Sends the request once: when the answer was read whole, and the order ids
    /// it lists or what is wrong with it. The instant is taken before the check,
    /// so the check's cost is not the server's latency.
    async fn answer(&self, client: &reqwest::Client) -> (Instant, Result<Vec<String>, String>) {
        let res = match self.send(client).send().await {
            Ok(res) => res,
            Err(e) => return (Instant::now(), Err(format!("no answer: {e}"))),
        };
        let status = res.status().as_u16();
        let body = res.bytes().await;
        let at = Instant::now();
        let verdict = match body {
            Ok(body) => self.expect.check(status, &body),
            Err(e) => Err(format!("{status} with an unreadable body: {e}")),
        };
        (at, verdict)
    }
}

pub struct Report {
    /// Latencies of right answers, sorted.
    latencies: Vec<Duration>,
    /// Wrong answers: no answer, an unreadable body, another status, a body that
    /// does not parse or does not match what was sent, or an order id already
    /// listed by another answer. The warm-up's count too.
    pub errors: usize,
    /// What the first wrong answer was.
    pub first_error: Option<String>,
    elapsed: Duration,
    /// Every order the right answers listed, with when its answer was read whole.
    pub accepted: Vec<(String, Instant)>,
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

    /// Counts `earlier`'s wrong answers (a warm-up's) as this run's too.
    pub fn add_errors_of(&mut self, earlier: Report) {
        self.errors += earlier.errors;
        if earlier.first_error.is_some() {
            self.first_error = earlier.first_error;
        }
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
    let warm_up = drive(client, request, connections, WARM_UP).await?;
    let mut report = drive(client, request, connections, duration).await?;
    report.add_errors_of(warm_up);
    Ok(report)
}

/// How long [`run`] warms up before it measures.
pub const WARM_UP: Duration = Duration::from_secs(1);

/// Sends `request` over `connections` connections for `duration`, without warming up.
pub async fn drive(
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
                let mut accepted = Vec::new();
                let mut errors = 0;
                let mut first_error = None;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let (at, verdict) = request.answer(&client).await;
                    match verdict {
                        Ok(ids) => {
                            latencies.push(at - sent);
                            accepted.extend(ids.into_iter().map(|id| (id, at)));
                        }
                        Err(wrong) => {
                            errors += 1;
                            first_error.get_or_insert(wrong);
                        }
                    }
                }
                (latencies, accepted, errors, first_error)
            })
        })
        .collect();
    let mut report = Report {
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
        accepted: Vec::new(),
    };
    for task in tasks {
        let (latencies, accepted, errors, first_error) = task.await?;
        report.latencies.extend(latencies);
        report.accepted.extend(accepted);
        report.errors += errors;
        if report.first_error.is_none() {
            report.first_error = first_error;
        }
    }
    report.elapsed = started.elapsed();
    report.latencies.sort_unstable();
    let repeated = check::repeated_ids(&report.accepted);
    if repeated > 0 {
        report.errors += repeated;
        report
            .first_error
            .get_or_insert(format!("{repeated} order ids listed by more than one 201"));
    }
    Ok(report)
}
