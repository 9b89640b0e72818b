//! What counts as a right answer, so that a broken server cannot pass for a fast
//! one: every answer the load generator gets is checked against what was sent
//! (status and parsed body), and after each run a sample of the accepted orders is
//! read back through the API and compared with the order posted.

use std::collections::HashSet;
use std::time::Instant;

use jembatan_schemas::PurchaseOrder;
use serde::Deserialize;

/// How many accepted orders each scenario reads back, spread over its run.
pub const READ_BACK: usize = 50;

/// The right answer to a request the load generator repeats.
#[derive(Clone)]
pub enum Expect {
    /// 200 with `{"status":"ok"}`, as `GET /healthz` answers.
    Healthy,
    /// 201 listing exactly one order, `order`.
    Accepted(Box<Order>),
    /// 201 with the Node-RED yardstick's normalized order (`bench/node-red`).
    Normalized(Box<Normalized>),
}

/// What the Node-RED yardstick's flow answers for the bench's canonical JSON
/// order: the fields it maps and the totals it computes.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Normalized {
    pub buyer_order_number: String,
    pub supplier_code: String,
    pub currency: String,
    pub line_count: usize,
    /// The sum of the line totals, in the smallest unit (sen).
    pub total_minor: u64,
}

impl Normalized {
    /// The answer the flow must give for `order` (canonical JSON), computed here
    /// from the order's own line totals.
    pub fn of(order: &[u8]) -> anyhow::Result<Self> {
        let order: serde_json::Value = serde_json::from_slice(order)?;
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        let lines = order["lines"].as_array().cloned().unwrap_or_default();
        let mut total_minor = 0;
        for line in &lines {
            let total = line["line_total"].as_str().unwrap_or_default();
            let (whole, cents) = total.split_once('.').unwrap_or((total, "00"));
            total_minor += whole.parse::<u64>()? * 100 + cents.parse::<u64>()?;
        }
        Ok(Self {
            buyer_order_number: text(&order["buyer_order_number"]).unwrap_or_default(),
            supplier_code: text(&order["supplier"]["code"]).unwrap_or_default(),
            currency: text(&order["currency"]).unwrap_or_default(),
            line_count: lines.len(),
            total_minor,
        })
    }
}

/// One posted order as the gateway must answer and store it.
#[derive(Clone)]
pub struct Order {
    /// The canonical form of the order posted.
    pub canonical: PurchaseOrder,
    /// The status the 201 gives it: `unrouted`, or `received` when routed.
    pub accepted_as: &'static str,
    /// The statuses it may have when read back.
    pub stored_as: &'static [&'static str],
}

/// `GET /healthz`'s body.
#[derive(Deserialize)]
struct Health {
    status: String,
}

/// A 201's body, the part the checks need.
#[derive(Deserialize)]
struct AcceptedBody {
    message_id: String,
    orders: Vec<AcceptedOrder>,
}

#[derive(Deserialize)]
struct AcceptedOrder {
    id: String,
    buyer_order_number: String,
    status: String,
}

/// The Node-RED flow's 201 body, the part the checks need.
#[derive(Deserialize)]
struct NormalizedAnswer {
    order: Normalized,
}

/// `GET /v1/orders/{id}`'s body. The order is parsed as the canonical type, which
/// refuses unknown fields, so a body that is not a canonical order is wrong.
#[derive(Deserialize)]
struct StoredOrder {
    id: String,
    buyer_order_number: String,
    supplier_code: String,
    status: String,
    order: PurchaseOrder,
}

impl Expect {
    /// The ids of the orders a right answer lists, or what is wrong with it.
    pub fn check(&self, status: u16, body: &[u8]) -> Result<Vec<String>, String> {
        match self {
            Expect::Healthy => {
                ensure_status(status, 200, body)?;
                let health: Health = parse(body)?;
                if health.status != "ok" {
                    return Err(format!("200 with status {:?}, not \"ok\"", health.status));
                }
                Ok(Vec::new())
            }
            Expect::Accepted(order) => {
                ensure_status(status, 201, body)?;
                let accepted: AcceptedBody = parse(body)?;
                order.check_accepted(accepted)
            }
            Expect::Normalized(want) => {
                ensure_status(status, 201, body)?;
                let got: NormalizedAnswer = parse(body)?;
                same("normalized order", &got.order, &**want)?;
                Ok(Vec::new())
            }
        }
    }
}

impl Order {
    fn check_accepted(&self, accepted: AcceptedBody) -> Result<Vec<String>, String> {
        if accepted.message_id.is_empty() {
            return Err("201 with an empty message_id".into());
        }
        let [listed] = <[AcceptedOrder; 1]>::try_from(accepted.orders)
            .map_err(|orders| format!("201 listing {} orders, not 1", orders.len()))?;
        if listed.id.is_empty() {
            return Err("201 listing an order with an empty id".into());
        }
        same(
            "201's buyer_order_number",
            &listed.buyer_order_number,
            &self.canonical.buyer_order_number,
        )?;
        same("201's status", listed.status.as_str(), self.accepted_as)?;
        Ok(vec![listed.id])
    }

    /// Whether `order` is the order posted: its number, supplier, date, currency
    /// and every line.
    pub fn check_canonical(&self, order: &PurchaseOrder) -> Result<(), String> {
        let want = &self.canonical;
        same(
            "buyer_order_number",
            &order.buyer_order_number,
            &want.buyer_order_number,
        )?;
        same("supplier.code", &order.supplier.code, &want.supplier.code)?;
        same("issue_date", &order.issue_date, &want.issue_date)?;
        same("currency", &order.currency, &want.currency)?;
        if order.lines.len() != want.lines.len() {
            return Err(format!(
                "{} lines, not {}",
                order.lines.len(),
                want.lines.len()
            ));
        }
        match order
            .lines
            .iter()
            .zip(&want.lines)
            .find(|(got, want)| got != want)
        {
            Some((got, want)) => Err(format!("line {got:?}, not {want:?}")),
            None => Ok(()),
        }
    }

    /// Reads back up to [`READ_BACK`] of `accepted` (order id, when its 201 was
    /// read), spread evenly over the run, with the buyer's `key`.
    pub async fn read_back(
        &self,
        client: &reqwest::Client,
        base: &str,
        key: &str,
        accepted: &[(String, Instant)],
    ) -> ReadBack {
        let mut by_time: Vec<_> = accepted.iter().collect();
        by_time.sort_unstable_by_key(|(_, at)| *at);
        let count = by_time.len().min(READ_BACK);
        let mut report = ReadBack::default();
        for i in 0..count {
            let (id, _) = by_time[i * by_time.len() / count];
            report.read += 1;
            if let Err(wrong) = self.read_one(client, base, key, id).await {
                report.wrong += 1;
                report
                    .first_wrong
                    .get_or_insert(format!("order {id}: {wrong}"));
            }
        }
        report
    }

    async fn read_one(
        &self,
        client: &reqwest::Client,
        base: &str,
        key: &str,
        id: &str,
    ) -> Result<(), String> {
        // As v1: the orders the bench posts are v1, which the gateway upgrades
        // losslessly; the downgrade gives back exactly what was posted.
        let res = client
            .get(format!("{base}/v1/orders/{id}?schema=v1"))
            .bearer_auth(key)
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = res.status().as_u16();
        let body = res
            .bytes()
            .await
            .map_err(|e| format!("{status} with an unreadable body: {e}"))?;
        ensure_status(status, 200, &body)?;
        let stored: StoredOrder = parse(&body)?;
        same("id", stored.id.as_str(), id)?;
        same(
            "buyer_order_number",
            &stored.buyer_order_number,
            &self.canonical.buyer_order_number,
        )?;
        same(
            "supplier_code",
            &stored.supplier_code,
            &self.canonical.supplier.code,
        )?;
        if !self.stored_as.contains(&stored.status.as_str()) {
            return Err(format!(
                "status {:?}, not one of {:?}",
                stored.status, self.stored_as
            ));
        }
        self.check_canonical(&stored.order)
            .map_err(|wrong| format!("order: {wrong}"))
    }
}

/// What reading back a sample of accepted orders found.
#[derive(Default)]
pub struct ReadBack {
    pub read: usize,
    /// Orders not found, or not the order posted.
    pub wrong: usize,
    pub first_wrong: Option<String>,
}

/// How many of `accepted`'s order ids were already listed by an earlier answer:
/// each new order must get an id of its own.
pub fn repeated_ids(accepted: &[(String, Instant)]) -> usize {
    let mut seen = HashSet::with_capacity(accepted.len());
    accepted
        .iter()
        .filter(|(id, _)| !seen.insert(id.as_str()))
        .count()
}

fn ensure_status(status: u16, want: u16, body: &[u8]) -> Result<(), String> {
    if status == want {
        return Ok(());
    }
    // A little of the body, which for an error is the problem+json saying why.
    let excerpt: String = String::from_utf8_lossy(body).chars().take(200).collect();
    Err(format!("{status}, not {want}: {excerpt}"))
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("a body that does not parse: {e}"))
}

fn same<T: PartialEq + std::fmt::Debug + ?Sized>(
    what: &str,
    got: &T,
    want: &T,
) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what} {got:?}, not {want:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Order {
        Order {
            canonical: serde_json::from_slice(&crate::orders::canonical_json(3)).unwrap(),
            accepted_as: "unrouted",
            stored_as: &["unrouted"],
        }
    }

    fn accepted(orders: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"message_id": "msg_1", "orders": orders})).unwrap()
    }

    #[test]
    fn a_201_listing_the_order_is_right() {
        let body = accepted(serde_json::json!([
            {"id": "ord_1", "buyer_order_number": "PO-BENCH-1", "status": "unrouted"}
        ]));
        let expect = Expect::Accepted(Box::new(order()));
        assert_eq!(expect.check(201, &body), Ok(vec!["ord_1".to_owned()]));
    }

    #[test]
    fn wrong_201s_are_wrong() {
        let expect = Expect::Accepted(Box::new(order()));
        let one = |number: &str, status: &str| {
            accepted(serde_json::json!([
                {"id": "ord_1", "buyer_order_number": number, "status": status}
            ]))
        };
        let right = one("PO-BENCH-1", "unrouted");
        for (status, body) in [
            (200, right.clone()),
            (500, right.clone()),
            (201, b"{}".to_vec()),
            (201, b"not json".to_vec()),
            (201, accepted(serde_json::json!([]))),
            (201, one("PO-OTHER", "unrouted")),
            (201, one("PO-BENCH-1", "received")),
        ] {
            let verdict = expect.check(status, &body);
            assert!(
                verdict.is_err(),
                "{status} {}",
                String::from_utf8_lossy(&body)
            );
        }
    }

    #[test]
    fn healthz_wants_its_body() {
        assert_eq!(
            Expect::Healthy.check(200, br#"{"status":"ok"}"#),
            Ok(Vec::new())
        );
        assert!(Expect::Healthy.check(200, b"").is_err());
        assert!(Expect::Healthy.check(503, br#"{"status":"ok"}"#).is_err());
    }

    #[test]
    fn the_normalized_answer_must_carry_the_totals() {
        let body = crate::orders::canonical_json(3);
        let want = Normalized::of(&body).unwrap();
        // Lines 1 to 3 of the bench's order: 11, 12 and 13 at Rp 185.000.
        assert_eq!(want.total_minor, (11 + 12 + 13) * 185_000 * 100);
        assert_eq!(want.line_count, 3);
        let expect = Expect::Normalized(Box::new(want.clone()));
        let answer = |order: &Normalized| {
            serde_json::to_vec(&serde_json::json!({"order": {
                "buyer_order_number": order.buyer_order_number,
                "supplier_code": order.supplier_code,
                "currency": order.currency,
                "line_count": order.line_count,
                "total_minor": order.total_minor,
                "lines": [],
            }}))
            .unwrap()
        };
        assert_eq!(expect.check(201, &answer(&want)), Ok(Vec::new()));
        assert!(expect.check(200, &answer(&want)).is_err());
        let mut wrong = want.clone();
        wrong.total_minor += 1;
        assert!(expect.check(201, &answer(&wrong)).is_err());
    }

    #[test]
    fn a_missing_or_changed_line_is_wrong() {
        let want = order();
        let mut got = want.canonical.clone();
        assert_eq!(want.check_canonical(&got), Ok(()));
        got.lines[1].description = Some("Knalpot tipe lain".into());
        assert!(want.check_canonical(&got).is_err());
        got.lines.pop();
        assert!(want.check_canonical(&got).is_err());
    }

    #[test]
    fn repeated_ids_are_counted() {
        let now = Instant::now();
        let ids = ["a", "b", "a", "a"].map(|id| (id.to_owned(), now));
        assert_eq!(repeated_ids(&ids), 2);
    }
}
