//! The delivery scenario: how many routed orders per second reach a craftsman's
//! webhook, and how long after the buyer's 201 each one arrives.
//!
//! A webhook receiver runs in this process on loopback, answers 204 at once and
//! notes when each order first arrived, how often each delivery (`webhook-id`)
//! came, and whether it was signed and carried the order posted. A buyer of its
//! own has its orders for the supplier code the bench's orders carry routed to a
//! craftsman with that webhook; the other scenarios' buyers have no route, so only
//! this scenario's orders are delivered.
//!
//! Both instants come from this process's clock: the 201's when the load generator
//! has read the answer whole, the delivery's when the receiver has read the request
//! whole. Each includes a little scheduling of its own side, and a delivery can
//! even arrive before its 201 is read (the worker is rung when the order is
//! stored, before the answer is written); those count as zero and are reported.
//!
//! Measured twice: as fast as the gateway answers, then paced at half the rate it
//! accepted then, to see whether delivery keeps pace below saturation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::{Context, bail, ensure};
use jembatan::delivery::channels::webhook;
use jembatan_schemas::PurchaseOrder;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::check::{self, Expect, ReadBack};
use crate::cpu;
use crate::load::{self, Report, Request};

/// The buyer whose orders are routed to the receiver.
const BUYER: &str = "bench-delivery";
/// The craftsman the receiver stands for.
const CRAFTSMAN: &str = "bench-bengkel";
/// How long the receiver may take to see every accepted order after the load
/// stops, before the missing ones are reported undelivered.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// What the scenario measured. Rates and latencies leave the warm-up's orders
/// out; the counts of wrong deliveries and answers include them.
pub struct DeliveryReport {
    /// As fast as the gateway answers.
    pub full: Window,
    /// Paced at half the rate `full` accepted orders; `None` when it accepted none.
    pub half: Option<Window>,
    /// Deliveries (by `webhook-id`) that arrived more than once.
    pub duplicates: usize,
    /// Requests whose `webhook-signature` did not match.
    pub bad_signatures: usize,
    /// Requests whose body is not an `order.created` event with the order posted
    /// (`data.order`), or has no order id (`data.id`).
    pub wrong_payloads: usize,
    /// What the first wrong payload was.
    pub first_wrong_payload: Option<String>,
    /// A sample of `full`'s accepted orders, read back after the drain.
    pub read_back: ReadBack,
}

/// One measured stretch of posting and the deliveries of its orders.
pub struct Window {
    /// The measured POSTs, as for any HTTP scenario. Their `cpu` is the
    /// gateway's from the first POST to the last arrival (or the drain limit),
    /// so it covers delivering the orders too.
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
}

impl Window {
    /// Delivered orders per second over [`Window::window`].
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
/// posts `order` (canonical JSON) for `duration` and waits for its deliveries;
/// then the same at half the rate it accepted. `bases` are the gateway's
/// instances (the posts are spread over them; the set-up goes to the first),
/// `servers` their pids.
pub async fn run(
    client: &reqwest::Client,
    bases: &[String],
    order: Vec<u8>,
    connections: usize,
    duration: Duration,
    servers: &[u32],
) -> anyhow::Result<DeliveryReport> {
    let base = bases.first().context("no gateway")?;
    let expected = check::Order {
        canonical: serde_json::from_slice(&order).context("reading the bench's order")?,
        // Routed at once, so the 201 says `received`; read back after the drain,
        // the order may still be marked `received` a moment after its webhook.
        accepted_as: "received",
        stored_as: &["received", "delivered"],
    };
    let receiver = Receiver::start(expected.clone())?;
    let key = set_up(client, base, &receiver, &expected.canonical).await?;
    let request = Request::post(
        bases
            .iter()
            .map(|base| format!("{base}/v1/orders"))
            .collect(),
        Some(&key),
        "application/json",
        order,
        Expect::Accepted(Box::new(expected.clone())),
    );

    // The warm-up's deliveries are drained so that none is in the measured window.
    let warm_up = load::drive(client, &request, connections, load::WARM_UP)
        .await
        .context("warming up")?;
    if !receiver.wait_for_orders(warm_up.accepted.len()).await {
        bail!(
            "only {} of the warm-up's {} accepted orders reached the webhook within {} s",
            receiver.orders_arrived(),
            warm_up.accepted.len(),
            DRAIN_LIMIT.as_secs()
        );
    }

    let pace = Pace {
        client,
        request: &request,
        connections,
        duration,
        servers,
    };
    let mut full = pace.measure(&receiver, None).await?;
    full.accepted.add_errors_of(warm_up);
    let rate = full.accepted.throughput() / 2.0;
    let half = if rate > 0.0 {
        Some(pace.measure(&receiver, Some(rate)).await?)
    } else {
        None
    };
    let read_back = expected
        .read_back(client, base, &key, &full.accepted.accepted)
        .await;

    let log = receiver
        .shared
        .log
        .lock()
        .expect("the receiver never panics holding its log");
    Ok(DeliveryReport {
        full,
        half,
        // The warm-up's too: a wrong delivery is wrong whenever it came.
        duplicates: log.duplicates,
        bad_signatures: log.bad_signatures,
        wrong_payloads: log.wrong_payloads,
        first_wrong_payload: log.first_wrong_payload.clone(),
        read_back,
    })
}

/// How each [`Window`] posts.
struct Pace<'a> {
    client: &'a reqwest::Client,
    request: &'a Request,
    connections: usize,
    duration: Duration,
    servers: &'a [u32],
}

impl Pace<'_> {
    /// Posts for the duration, as fast as answered or at `rate`, and waits for
    /// the orders to arrive.
    async fn measure(&self, receiver: &Receiver, rate: Option<f64>) -> anyhow::Result<Window> {
        let arrived_before = receiver.orders_arrived();
        let cpu_before = cpu::used_by(self.servers)?;
        let (client, request, connections) = (self.client, self.request, self.connections);
        let mut accepted = match rate {
            None => load::drive(client, request, connections, self.duration).await?,
            Some(rate) => load::paced(client, request, connections, rate, self.duration).await?,
        };
        // Orders still missing after the limit are counted as undelivered.
        receiver
            .wait_for_orders(arrived_before + accepted.accepted.len())
            .await;
        accepted.cpu = Some(cpu::used_by(self.servers)? - cpu_before);

        let log = receiver
            .shared
            .log
            .lock()
            .expect("the receiver never panics holding its log");
        let orders = &accepted.accepted;
        let first_accept = orders.iter().map(|(_, at)| *at).min();
        let mut latencies = Vec::with_capacity(orders.len());
        let mut last_arrival = None;
        let mut before_accept = 0;
        for (id, accepted_at) in orders {
            if let Some(&arrived) = log.first_arrival.get(id) {
                before_accept += usize::from(arrived < *accepted_at);
                latencies.push(arrived.saturating_duration_since(*accepted_at));
                last_arrival = last_arrival.max(Some(arrived));
            }
        }
        drop(log);
        latencies.sort_unstable();
        let window = match (first_accept, last_arrival) {
            (Some(first), Some(last)) => last.saturating_duration_since(first),
            _ => Duration::ZERO,
        };
        Ok(Window {
            delivered: latencies.len(),
            undelivered: orders.len() - latencies.len(),
            window,
            latencies,
            before_accept,
            accepted,
        })
    }
}

/// A buyer of its own, a craftsman with the receiver's webhook, and the route
/// between them for the supplier code `order` carries; returns the buyer's key.
async fn set_up(
    client: &reqwest::Client,
    base: &str,
    receiver: &Receiver,
    order: &PurchaseOrder,
) -> anyhow::Result<String> {
    // Read from the order itself, so the route cannot drift from the fixture.
    let supplier_code = &order.supplier.code;
    let key = crate::create_buyer(client, base, BUYER, "canonical-json").await?;

    let res = client
        .post(format!("{base}/v1/admin/craftsmen"))
        .bearer_auth(crate::ADMIN_TOKEN)
        .json(&json!({
            "id": CRAFTSMAN,
            "name": "Bengkel Knalpot Sumber Rejeki",
            // The bench checks what arrives against the v1 order it posted.
            "channels": [{"type": "webhook", "url": receiver.url, "order_schema": "v1"}],
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

/// A craftsman's system on loopback: takes every webhook, answers 204 at once.
struct Receiver {
    url: String,
    shared: Arc<Shared>,
}

struct Shared {
    log: Mutex<Log>,
    /// The order every webhook must carry.
    expected: check::Order,
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
    wrong_payloads: usize,
    first_wrong_payload: Option<String>,
}

impl Receiver {
    /// Listens on 127.0.0.1 and serves from a thread of its own, so that the load
    /// generator's runtime never delays an arrival's timestamp.
    fn start(expected: check::Order) -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let shared = Arc::new(Shared {
            log: Mutex::default(),
            expected,
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

    /// Waits until `count` distinct orders have arrived, at most [`DRAIN_LIMIT`];
    /// whether they did.
    async fn wait_for_orders(&self, count: usize) -> bool {
        let mut arrived = self.shared.orders.subscribe();
        tokio::time::timeout(DRAIN_LIMIT, arrived.wait_for(|&n| n >= count))
            .await
            .is_ok()
    }
}

/// A webhook's body, the part the checks need; `data.order` is parsed as the
/// canonical type, which refuses unknown fields.
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    id: String,
    order: PurchaseOrder,
}

/// One webhook: noted, and answered 204 whatever it holds, so that a problem shows
/// in the report rather than as retries.
async fn hook(shared: web::Data<Shared>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let at = Instant::now();
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let (order_id, wrong_payload) = match serde_json::from_slice::<Event>(&body) {
        Ok(event) => {
            let wrong = if event.kind == "order.created" {
                shared.expected.check_canonical(&event.data.order).err()
            } else {
                Some(format!(
                    "event type {:?}, not \"order.created\"",
                    event.kind
                ))
            };
            (Some(event.data.id), wrong)
        }
        // Still counted as arrived when the id can be read.
        Err(e) => (
            serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["data"]["id"].as_str().map(str::to_owned)),
            Some(format!("a body that does not parse: {e}")),
        ),
    };
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
    if let Some(wrong) = wrong_payload {
        log.wrong_payloads += 1;
        log.first_wrong_payload.get_or_insert(wrong);
    }
    if let Some(id) = order_id {
        log.first_arrival.entry(id).or_insert(at);
        shared.orders.send_replace(log.first_arrival.len());
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
