//! The delivery scenario: how many routed orders per second reach a craftsman's
//! webhook, and how long after the buyer's 201 each one arrives.
//!
//! A webhook receiver runs in this process on loopback, answers 204 at once and
//! notes when each order first arrived and how often each delivery (`webhook-id`)
//! came. A buyer of its own has its orders for the supplier code the bench's orders
//! carry routed to a craftsman with that webhook; the other scenarios' buyers have
//! no route, so only this scenario's orders are delivered.
//!
//! Both instants come from this process's clock: the 201's when the load generator
//! has read the answer whole, the delivery's when the receiver has read the request
//! whole. Each includes a little scheduling of its own side, and a delivery can
//! even arrive before its 201 is read (the worker is rung when the order is
//! stored, before the answer is written); those count as zero and are reported.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::{Context, bail, ensure};
use jembatan::delivery::channels::webhook;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::load::{self, Answer, Keep, Report, Request};

/// The buyer whose orders are routed to the receiver.
const BUYER: &str = "bench-delivery";
/// The craftsman the receiver stands for.
const CRAFTSMAN: &str = "bench-bengkel";
/// How long the receiver may take to see every accepted order after the load
/// stops, before the missing ones are reported undelivered.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// What the scenario measured, the warm-up's orders left out.
pub struct DeliveryReport {
    /// The measured POSTs, as for any HTTP scenario.
    pub accepted: Report,
    /// Accepted orders that reached the receiver within [`DRAIN_LIMIT`].
    pub delivered: usize,
    /// Accepted orders that did not.
    pub undelivered: usize,
    /// From the first 201 to the last order's first arrival.
    pub window: Duration,
    /// 201 → first arrival per delivered order, sorted.
    latencies: Vec<Duration>,
    /// Delivered orders that arrived before their 201 was read (counted as zero).
    pub before_accept: usize,
    /// Deliveries (by `webhook-id`) that arrived more than once.
    pub duplicates: usize,
    /// Requests whose `webhook-signature` did not match.
    pub bad_signatures: usize,
    /// Requests without an order id (`data.id`).
    pub unreadable: usize,
}

impl DeliveryReport {
    /// Delivered orders per second over [`DeliveryReport::window`].
    pub fn throughput(&self) -> f64 {
        if self.window.is_zero() {
            return 0.0;
        }
        self.delivered as f64 / self.window.as_secs_f64()
    }

    /// The `p`th percentile of accept → delivery.
    pub fn percentile(&self, p: f64) -> Duration {
        load::percentile(&self.latencies, p)
    }

    pub fn max(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }
}

/// Sets up the receiver, the craftsman and the route, warms up and drains, then
/// posts `order` (canonical JSON) for `duration` and waits for its deliveries.
pub async fn run(
    client: &reqwest::Client,
    base: &str,
    order: Vec<u8>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<DeliveryReport> {
    let receiver = Receiver::start()?;
    let key = set_up(client, base, &receiver, &order).await?;
    let request = Request::post(format!("{base}/v1/orders"), &key, "application/json", order);

    // The warm-up's deliveries are drained so that none is in the measured window.
    let warm_up = load::drive(
        client,
        &request,
        connections,
        load::WARM_UP,
        Keep::Latencies,
    )
    .await
    .context("warming up")?;
    if !receiver.wait_for_orders(warm_up.successes()).await {
        bail!(
            "only {} of the warm-up's {} orders reached the webhook within {} s",
            receiver.orders_arrived(),
            warm_up.successes(),
            DRAIN_LIMIT.as_secs()
        );
    }
    let before = receiver.snapshot();

    let accepted = load::drive(client, &request, connections, duration, Keep::Answers).await?;
    let orders = accepted_orders(&accepted.answers)?;
    // Orders still missing after the limit are reported, not an error.
    receiver.wait_for_orders(before.orders + orders.len()).await;

    let log = receiver
        .shared
        .log
        .lock()
        .expect("the receiver never panics holding its log");
    let first_accept = orders.iter().map(|(_, at)| *at).min();
    let mut latencies = Vec::with_capacity(orders.len());
    let mut last_arrival = None;
    let mut before_accept = 0;
    for (id, accepted_at) in &orders {
        if let Some(&arrived) = log.first_arrival.get(id) {
            before_accept += usize::from(arrived < *accepted_at);
            latencies.push(arrived.saturating_duration_since(*accepted_at));
            last_arrival = last_arrival.max(Some(arrived));
        }
    }
    latencies.sort_unstable();
    let window = match (first_accept, last_arrival) {
        (Some(first), Some(last)) => last.saturating_duration_since(first),
        _ => Duration::ZERO,
    };
    Ok(DeliveryReport {
        delivered: latencies.len(),
        undelivered: orders.len() - latencies.len(),
        window,
        latencies,
        before_accept,
        duplicates: log.duplicates - before.duplicates,
        bad_signatures: log.bad_signatures - before.bad_signatures,
        unreadable: log.unreadable - before.unreadable,
        accepted,
    })
}

/// A buyer of its own, a craftsman with the receiver's webhook, and the route
/// between them for the supplier code `order` carries; returns the buyer's key.
async fn set_up(
    client: &reqwest::Client,
    base: &str,
    receiver: &Receiver,
    order: &[u8],
) -> anyhow::Result<String> {
    // Read from the order itself, so the route cannot drift from the fixture.
    let order: Value = serde_json::from_slice(order).context("reading the bench's order")?;
    let supplier_code = order["supplier"]["code"]
        .as_str()
        .context("the bench's order has no supplier.code")?;
    let key = crate::create_buyer(client, base, BUYER, "canonical-json").await?;

    let res = client
        .post(format!("{base}/v1/admin/craftsmen"))
        .bearer_auth(crate::ADMIN_TOKEN)
        .json(&json!({
            "id": CRAFTSMAN,
            "name": "Bengkel Knalpot Sumber Rejeki",
            "channels": [{"type": "webhook", "url": receiver.url}],
        }))
        .send()
        .await?;
    ensure!(
        res.status() == 201,
        "creating craftsman {CRAFTSMAN}: {}",
        res.text().await?
    );
    let craftsman: Value = res.json().await?;
    let secret = craftsman["channels"][0]["secret"]
        .as_str()
        .context("the new craftsman's webhook has no secret")?;
    receiver
        .shared
        .secret
        .set(secret.to_owned())
        .expect("the secret is set once");

    let res = client
        .put(format!(
            "{base}/v1/admin/buyers/{BUYER}/suppliers/{supplier_code}"
        ))
        .bearer_auth(crate::ADMIN_TOKEN)
        .json(&json!({"craftsman": CRAFTSMAN}))
        .send()
        .await?;
    ensure!(
        res.status().is_success(),
        "routing {BUYER}'s {supplier_code} to {CRAFTSMAN}: {}",
        res.text().await?
    );
    Ok(key)
}

/// Every order id the 201s list, with when its 201 was read.
fn accepted_orders(answers: &[Answer]) -> anyhow::Result<Vec<(String, Instant)>> {
    let mut orders = Vec::with_capacity(answers.len());
    for answer in answers {
        let body: Value = serde_json::from_slice(&answer.body).context("reading a 201")?;
        let listed = body["orders"].as_array().context("a 201 without orders")?;
        for order in listed {
            let id = order["id"]
                .as_str()
                .context("an accepted order without id")?;
            orders.push((id.to_owned(), answer.at));
        }
    }
    Ok(orders)
}

/// A craftsman's system on loopback: takes every webhook, answers 204 at once.
struct Receiver {
    url: String,
    shared: Arc<Shared>,
}

struct Shared {
    log: Mutex<Log>,
    /// The channel's signing secret, known once the craftsman is created.
    secret: OnceLock<String>,
    /// How many distinct orders have arrived; waited on.
    orders: watch::Sender<usize>,
}

#[derive(Default)]
struct Log {
    /// Order id → when its first delivery arrived.
    first_arrival: HashMap<String, Instant>,
    /// `webhook-id` (the delivery id, the same on every attempt) → times it arrived.
    arrivals: HashMap<String, u32>,
    /// Deliveries that arrived more than once.
    duplicates: usize,
    bad_signatures: usize,
    unreadable: usize,
}

/// The counters of the log at one moment.
struct Snapshot {
    orders: usize,
    duplicates: usize,
    bad_signatures: usize,
    unreadable: usize,
}

impl Receiver {
    /// Listens on 127.0.0.1 and serves from a thread of its own, so that the load
    /// generator's runtime never delays an arrival's timestamp.
    fn start() -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let shared = Arc::new(Shared {
            log: Mutex::default(),
            secret: OnceLock::new(),
            orders: watch::Sender::new(0),
        });
        let data = web::Data::from(shared.clone());
        std::thread::spawn(move || {
            actix_web::rt::System::new()
                .block_on(async move {
                    HttpServer::new(move || {
                        App::new()
                            .app_data(data.clone())
                            .app_data(web::PayloadConfig::new(16 << 20))
                            .route("/hook", web::post().to(hook))
                    })
                    .workers(1)
                    .disable_signals()
                    .listen(listener)?
                    .run()
                    .await
                })
                .expect("the webhook receiver runs")
        });
        Ok(Self { url, shared })
    }

    fn orders_arrived(&self) -> usize {
        *self.shared.orders.borrow()
    }

    fn snapshot(&self) -> Snapshot {
        let log = self
            .shared
            .log
            .lock()
            .expect("the receiver never panics holding its log");
        Snapshot {
            orders: log.first_arrival.len(),
            duplicates: log.duplicates,
            bad_signatures: log.bad_signatures,
            unreadable: log.unreadable,
        }
    }

    /// Waits until `count` distinct orders have arrived, at most [`DRAIN_LIMIT`];
    /// whether they did.
    async fn wait_for_orders(&self, count: usize) -> bool {
        let mut arrived = self.shared.orders.subscribe();
        tokio::time::timeout(DRAIN_LIMIT, arrived.wait_for(|&n| n >= count))
            .await
            .is_ok()
    }
}

/// One webhook: noted, and answered 204 whatever it holds, so that a problem shows
/// in the report rather than as retries.
async fn hook(shared: web::Data<Shared>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let at = Instant::now();
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let order_id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["data"]["id"].as_str().map(str::to_owned));
    let webhook_id = header("webhook-id");
    let signed = shared.secret.get().is_some_and(|secret| {
        signature_matches(
            secret,
            webhook_id,
            header("webhook-timestamp"),
            header("webhook-signature"),
            &body,
        )
    });

    let mut guard = shared
        .log
        .lock()
        .expect("the receiver never panics holding its log");
    let log = &mut *guard;
    log.bad_signatures += usize::from(!signed);
    if let Some(webhook_id) = webhook_id {
        let times = log.arrivals.entry(webhook_id.to_owned()).or_default();
        *times += 1;
        if *times == 2 {
            log.duplicates += 1;
        }
    }
    match order_id {
        Some(id) => {
            log.first_arrival.entry(id).or_insert(at);
            shared.orders.send_replace(log.first_arrival.len());
        }
        None => log.unreadable += 1,
    }
    HttpResponse::NoContent().finish()
}

/// What a receiver does per request, with the gateway's own `sign`: this proves the
/// headers carry what was signed (the algorithm is pinned by the gateway's tests
/// against the Standard Webhooks vectors), at the cost a real receiver pays.
fn signature_matches(
    secret: &str,
    id: Option<&str>,
    timestamp: Option<&str>,
    signatures: Option<&str>,
    body: &[u8],
) -> bool {
    let (Some(id), Some(timestamp), Some(signatures)) = (id, timestamp, signatures) else {
        return false;
    };
    let Ok(timestamp) = timestamp.parse() else {
        return false;
    };
    let Ok(expected) = webhook::sign(secret, id, timestamp, body) else {
        return false;
    };
    // Several space-separated signatures are allowed (during a secret rotation).
    signatures.split(' ').any(|s| s == expected)
}
