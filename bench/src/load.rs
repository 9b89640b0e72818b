//! A load generator: N connections, each sending its next request as soon as the
//! previous one is answered (closed loop, to find the saturating rate), or at
//! fixed intervals ([`paced`], to see the latency below saturation), for a fixed
//! time. Every answer is checked ([`Expect`]); only right ones count as
//! successes. The server's CPU time over a measured run is read from `/proc`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::check::{self, Expect};
use crate::cpu;

/// One request to repeat, and its right answer.
#[derive(Clone)]
pub struct Request {
    /// The same request on each gateway instance: connection `n` sends to
    /// `urls[n % len]`, so the connections are spread round-robin over them.
    urls: Vec<String>,
    key: Option<String>,
    content_type: Option<&'static str>,
    body: Option<Vec<u8>>,
    expect: Expect,
}

impl Request {
    /// A GET of `urls` (one per instance).
    pub fn get(urls: Vec<String>, expect: Expect) -> Self {
        Self {
            urls,
            key: None,
            content_type: None,
            body: None,
            expect,
        }
    }

    /// A POST to `urls` (one per instance) with `key` as its bearer token, if any.
    pub fn post(
        urls: Vec<String>,
        key: Option<&str>,
        content_type: &'static str,
        body: Vec<u8>,
        expect: Expect,
    ) -> Self {
        Self {
            urls,
            key: key.map(str::to_owned),
            content_type: Some(content_type),
            body: Some(body),
            expect,
        }
    }

    /// The request as connection `connection` sends it.
    fn send(&self, client: &reqwest::Client, connection: usize) -> reqwest::RequestBuilder {
        let url = &self.urls[connection % self.urls.len()];
        let mut builder = match &self.body {
            Some(body) => client.post(url).body(body.clone()),
            None => client.get(url),
        };
        if let Some(key) = &self.key {
            builder = builder.bearer_auth(key);
        }
        if let Some(ct) = self.content_type {
            builder = builder.header("content-type", ct);
        }
        builder
    }

    /// Sends the request once: whether the answer was right.
    pub async fn check_once(&self, client: &reqwest::Client) -> Result<(), String> {
        self.answer(client, 0).await.1.map(drop)
    }

    /// Sends the request once: when the answer was read whole, and the order ids
    /// it lists or what is wrong with it. The instant is taken before the check,
    /// so the check's cost is not the server's latency.
    async fn answer(
        &self,
        client: &reqwest::Client,
        connection: usize,
    ) -> (Instant, Result<Vec<String>, String>) {
        let res = match self.send(client, connection).send().await {
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
    /// The server processes' CPU time (user + system) over the run, when measured.
    pub cpu: Option<Duration>,
}

impl Report {
    pub fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn successes(&self) -> usize {
        self.latencies.len()
    }

    /// The server's CPU time per right answer, when measured.
    pub fn cpu_per_success(&self) -> Option<Duration> {
        let successes = u32::try_from(self.successes()).ok().filter(|&n| n > 0)?;
        Some(self.cpu? / successes)
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

/// Warms up for a second, then measures for `duration`, with the CPU time that
/// the processes `servers` used meanwhile.
pub async fn run(
    client: &reqwest::Client,
    request: &Request,
    connections: usize,
    duration: Duration,
    servers: &[u32],
) -> anyhow::Result<Report> {
    let warm_up = drive(client, request, connections, WARM_UP).await?;
    let cpu_before = cpu::used_by(servers)?;
    let mut report = drive(client, request, connections, duration).await?;
    report.cpu = Some(cpu::used_by(servers)? - cpu_before);
    report.add_errors_of(warm_up);
    Ok(report)
}

/// Sends `request` at `rate` per second in all for `duration`: each connection
/// at fixed intervals, staggered. A latency counts from when the request was due,
/// not from when it went out, so a stall that delays the next sends counts
/// against them too (no coordinated omission). Right after a [`run`], it needs no
/// warm-up.
pub async fn paced(
    client: &reqwest::Client,
    request: &Request,
    connections: usize,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<Report> {
    if rate.is_nan() || rate <= 0.0 {
        bail!("cannot pace at {rate} requests per second");
    }
    drive_at(client, request, connections, duration, Some(rate)).await
}

/// How long [`run`] warms up before it measures.
pub const WARM_UP: Duration = Duration::from_secs(1);

/// Sends `request` over `connections` connections for `duration`, without warming
/// up, each connection as fast as it is answered.
pub async fn drive(
    client: &reqwest::Client,
    request: &Request,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    drive_at(client, request, connections, duration, None).await
}

/// [`drive`], or [`paced`] at `rate`.
async fn drive_at(
    client: &reqwest::Client,
    request: &Request,
    connections: usize,
    duration: Duration,
    rate: Option<f64>,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let deadline = started + duration;
    // Each connection's share of the rate: one request per `interval`.
    let interval = rate.map(|rate| Duration::from_secs_f64(connections as f64 / rate));
    let request = Arc::new(request.clone());
    let tasks: Vec<_> = (0..connections)
        .map(|connection| {
            let client = client.clone();
            let request = request.clone();
            let mut due = started
                + interval.map_or(Duration::ZERO, |i| {
                    i * connection as u32 / connections as u32
                });
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut accepted = Vec::new();
                let mut errors = 0;
                let mut first_error = None;
                loop {
                    let sent = match interval {
                        Some(interval) => {
                            if due >= deadline {
                                break;
                            }
                            tokio::time::sleep_until(due.into()).await;
                            let sent = due;
                            due += interval;
                            sent
                        }
                        None if Instant::now() < deadline => Instant::now(),
                        None => break,
                    };
                    let (at, verdict) = request.answer(&client, connection).await;
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
        cpu: None,
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use actix_web::{App, HttpResponse, HttpServer, web};

    use super::*;

    /// A `/healthz` on loopback whose second answer (the first after
    /// [`wait_until_up`]'s) takes `stall`; its base URL.
    fn stalling_health(stall: Duration) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let calls = web::Data::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || {
                    App::new().app_data(calls.clone()).route(
                        "/healthz",
                        web::get().to(move |calls: web::Data<AtomicUsize>| async move {
                            if calls.fetch_add(1, Ordering::SeqCst) == 1 {
                                actix_web::rt::time::sleep(stall).await;
                            }
                            HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
                        }),
                    )
                })
                .workers(1)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run()
                .await
            })
        });
        base
    }

    #[tokio::test]
    async fn paced_sends_on_schedule_and_counts_latency_from_when_due() {
        let base = stalling_health(Duration::from_millis(300));
        let client = reqwest::Client::new();
        wait_until_up(&client, &base).await.unwrap();
        let health = Request::get(vec![format!("{base}/healthz")], Expect::Healthy);
        // One connection, a request due every 50 ms for 0.5 s: 10 requests
        // whatever the machine's load. The first is answered at ~300 ms, so the
        // five due meanwhile wait for it: 250, 200, 150, 100 and 50 ms late,
        // counted from when they were due.
        let report = paced(&client, &health, 1, 20.0, Duration::from_millis(500))
            .await
            .unwrap();
        assert_eq!((report.successes(), report.errors), (10, 0));
        let p50 = report.percentile(50.0);
        assert!(
            p50 >= Duration::from_millis(40),
            "p50 {p50:?}: the stalled requests' wait is not counted"
        );
    }
}
