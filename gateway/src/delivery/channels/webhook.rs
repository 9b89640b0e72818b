//! The webhook channel: POSTs the order as JSON to the craftsman's system, signed
//! per [Standard Webhooks](https://www.standardwebhooks.com) so that any of its
//! libraries verifies what we send. The same channel carries a craftsman's
//! response back to the buyer's `callback_url` (issue 10): one signer, one client,
//! one address policy and one classification of failures for both.
//!
//! The body is `{"type":"order.created","timestamp":…,"data":{…}}` with `data` as
//! [`render::OrderData`], or, for a response, `{"type":"order.response",
//! "timestamp":…,"data":{"order_id","buyer_order_number","response"}}` with the
//! response as `schemas/order-response.schema.json` describes it, and, when the
//! buyer's plugin renders responses, `rendered` (`{"content_type","encoding",
//! "body"}`, the answer in the buyer's format) or `render_error`; or, for the
//! reminder that an order has no answer yet, `{"type":"order.reminder",
//! "timestamp":…,"data":{"id","buyer_id","buyer_order_number","supplier_code",
//! "created_at","routed_at","reminded_at","answer":{"method","path"}}}`. Each is made
//! from what is stored alone, so every attempt of a delivery sends the same bytes. Headers: `webhook-id` (the delivery id,
//! the same on every attempt, for the receiver to drop duplicates),
//! `webhook-timestamp` (now, per attempt, against replays) and `webhook-signature`
//! (`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`).
//!
//! Targets are checked by [`TargetPolicy`] before sending and again when
//! connecting (see `delivery::targets`).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{
    Channel, ChannelConfigError, Outgoing, SendError, Sent, excerpt, http_client_builder,
    read_capped, transport_error_text,
};
use crate::delivery::render::{self, OrderData};
use crate::delivery::targets::{TargetError, TargetPolicy};
use crate::model::RenderOutcome;
use crate::orders::OrderSchema;
use crate::store::OrderRecord;
use jembatan_schemas::OrderResponse;

/// The event type of a new order.
pub const EVENT_TYPE: &str = "order.created";

/// The event type of a craftsman's response, sent to the buyer.
pub const RESPONSE_EVENT_TYPE: &str = "order.response";

/// The event type of the reminder that an order still has no answer, sent to its
/// craftsman.
pub const REMINDER_EVENT_TYPE: &str = "order.reminder";

/// The prefix of a Standard Webhooks symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Names the canonical order version of the body's `data.order`: `v1` or `v2`.
pub const ORDER_SCHEMA_HEADER: &str = "jembatan-order-schema";

/// Signing keys shorter than this are refused (Standard Webhooks: at least 24
/// bytes); longer than the maximum is surely a mistake.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// How much of a refusal's body is kept for the attempt log.
const EXCERPT_CHARS: usize = 200;

/// Operator-wide webhook settings (`[delivery.webhook]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// How long one attempt may take, connecting included, e.g. `"15s"`. Standard
    /// Webhooks recommends 15 to 30 seconds.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Allow webhooks to loopback, private (RFC 1918), link-local and other
    /// non-public addresses. Off by default: a webhook URL is chosen by users, and
    /// without this check it could reach the gateway's own network. Turn it on only
    /// when the craftsmen's systems share a private network with the gateway.
    pub allow_private_targets: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            allow_private_targets: false,
        }
    }
}

/// Where one webhook goes.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// `https://…` (or `http://…`).
    pub url: String,
    /// `whsec_` + base64 of the signing key.
    pub secret: String,
    /// The canonical order version the body carries.
    pub order_schema: OrderSchema,
}

impl fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .field("order_schema", &self.order_schema)
            .finish()
    }
}

/// A webhook secret that cannot be used. The message never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid webhook secret: {0}")]
pub struct InvalidSecret(String);

/// Sends orders as signed webhooks. One HTTP client (and its connection pool) for
/// every target.
#[derive(Debug, Clone)]
pub struct WebhookChannel {
    client: reqwest::Client,
    policy: TargetPolicy,
}

impl WebhookChannel {
    /// A channel with the config's timeout and address policy.
    pub fn new(config: &WebhookConfig) -> Result<Self, ChannelConfigError> {
        let policy = TargetPolicy {
            allow_private: config.allow_private_targets,
        };
        let mut builder = http_client_builder(config.timeout)
            .dns_resolver(std::sync::Arc::new(policy.resolver()));
        if !policy.allow_private {
            // Through a proxy, our resolver would only see the proxy's name and the
            // target would be resolved where we cannot check it.
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| ChannelConfigError::new("webhook", transport_error_text(e)))?;
        Ok(Self { client, policy })
    }

    /// Checks a webhook URL against this channel's address policy, as far as can be
    /// done without DNS (see [`TargetPolicy::check_url`]); for refusing a target
    /// when it is configured rather than at its first delivery.
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, TargetError> {
        self.policy.check_url(url)
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: DateTime<Utc>,
    data: OrderData<'a>,
}

/// The exact body a webhook for `record` carries. Made from the stored record
/// alone (the event time is the order's `created_at`), so every attempt of a
/// delivery sends, and signs, the same bytes.
pub fn body(record: &OrderRecord, schema: OrderSchema) -> Vec<u8> {
    serde_json::to_vec(&Envelope {
        kind: EVENT_TYPE,
        timestamp: record.created_at,
        data: render::order_data(record, schema),
    })
    .expect("an order always serializes")
}

#[derive(Serialize)]
struct ResponseEnvelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: DateTime<Utc>,
    data: ResponseData<'a>,
}

#[derive(Serialize)]
struct ResponseData<'a> {
    order_id: &'a str,
    buyer_order_number: &'a str,
    response: &'a OrderResponse,
    #[serde(skip_serializing_if = "Option::is_none")]
    rendered: Option<RenderedData<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    render_error: Option<&'a str>,
}

/// The response in the buyer's own format: its media type, and its bytes as text
/// when they are UTF-8 (`encoding` `utf-8`), else in base64 (`base64`).
#[derive(Serialize)]
struct RenderedData<'a> {
    content_type: &'a str,
    encoding: &'static str,
    body: std::borrow::Cow<'a, str>,
}

/// The exact body of the `order.response` event for `response`, made from the
/// stored response alone (the event time is when the craftsman answered), with
/// what the buyer's plugin made of it when it renders responses: `rendered`, or
/// `render_error`. Both are kept once made, so every attempt sends the same bytes.
pub fn response_body(response: &OrderResponse, rendered: Option<&RenderOutcome>) -> Vec<u8> {
    let (rendered, render_error) = match rendered {
        None => (None, None),
        Some(RenderOutcome::Failed { error }) => (None, Some(error.as_str())),
        Some(RenderOutcome::Rendered { content_type, body }) => {
            let (encoding, body) = match std::str::from_utf8(body) {
                Ok(text) => ("utf-8", std::borrow::Cow::Borrowed(text)),
                Err(_) => ("base64", std::borrow::Cow::Owned(STANDARD.encode(body))),
            };
            (
                Some(RenderedData {
                    content_type,
                    encoding,
                    body,
                }),
                None,
            )
        }
    };
    serde_json::to_vec(&ResponseEnvelope {
        kind: RESPONSE_EVENT_TYPE,
        timestamp: response.issued_at,
        data: ResponseData {
            order_id: &response.order_id,
            buyer_order_number: &response.buyer_order_number,
            response,
            rendered,
            render_error,
        },
    })
    .expect("a response always serializes")
}

#[derive(Serialize)]
struct ReminderEnvelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: DateTime<Utc>,
    data: ReminderData<'a>,
}

#[derive(Serialize)]
struct ReminderData<'a> {
    id: &'a str,
    buyer_id: &'a str,
    buyer_order_number: &'a str,
    supplier_code: &'a str,
    created_at: DateTime<Utc>,
    routed_at: Option<DateTime<Utc>>,
    reminded_at: Option<DateTime<Utc>>,
    answer: Answer,
}

/// Where the craftsman's system answers the order: the inbox API, with the
/// craftsman's token.
#[derive(Serialize)]
struct Answer {
    method: &'static str,
    path: String,
}

/// The exact body of the `order.reminder` event for `record`: the order named (its
/// ids and times, not the order again) and where to answer it. Made from the
/// stored record alone (the event time is when the reminder was decided), so every
/// attempt sends the same bytes.
pub fn reminder_body(record: &OrderRecord) -> Vec<u8> {
    serde_json::to_vec(&ReminderEnvelope {
        kind: REMINDER_EVENT_TYPE,
        timestamp: record.reminded_at.unwrap_or(record.created_at),
        data: ReminderData {
            id: &record.id,
            buyer_id: &record.buyer_id,
            buyer_order_number: &record.buyer_order_number,
            supplier_code: &record.supplier_code,
            created_at: record.created_at,
            routed_at: record.routed_at,
            reminded_at: record.reminded_at,
            answer: Answer {
                method: "POST",
                path: format!("/v1/inbox/{}/response", record.id),
            },
        },
    })
    .expect("a reminder always serializes")
}

/// A fresh signing secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// Checks that `secret` is a usable Standard Webhooks secret: `whsec_` then
/// standard base64 of 24 to 64 bytes.
pub fn check_secret(secret: &str) -> Result<(), String> {
    signing_key(secret).map(drop).map_err(|e| e.to_string())
}

fn signing_key(secret: &str) -> Result<Vec<u8>, InvalidSecret> {
    let encoded = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or_else(|| InvalidSecret(format!("it must start with {SECRET_PREFIX:?}")))?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| InvalidSecret(format!("the part after {SECRET_PREFIX:?} is not base64")))?;
    if !KEY_BYTES.contains(&key.len()) {
        return Err(InvalidSecret(format!(
            "the key must be {} to {} bytes, not {}",
            KEY_BYTES.start(),
            KEY_BYTES.end(),
            key.len()
        )));
    }
    Ok(key)
}

/// The `webhook-signature` value for one attempt: `v1,` + base64 of
/// HMAC-SHA256(key, `{id}.{timestamp}.{body}`), the key being the base64-decoded
/// part of `secret` after `whsec_`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, InvalidSecret> {
    let key = signing_key(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[async_trait]
impl Channel for WebhookChannel {
    type Target = WebhookTarget;

    async fn send(&self, target: &WebhookTarget, out: &Outgoing<'_>) -> Result<Sent, SendError> {
        let url = self
            .policy
            .check_url(&target.url)
            .map_err(|e| SendError::permanent(None, e.to_string()))?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let body = match out.response {
            Some(response) => response_body(response, out.rendered),
            None if out.reminder => reminder_body(out.order),
            None => body(out.order, target.order_schema),
        };
        let timestamp = Utc::now().timestamp();
        let signature = sign(&target.secret, out.delivery_id, timestamp, &body)
            .map_err(|e| SendError::permanent(None, e.to_string()))?;
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", out.delivery_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature);
        // A response or a reminder carries no order to name the schema of.
        if out.response.is_none() && !out.reminder {
            request = request.header(ORDER_SCHEMA_HEADER, target.order_schema.as_str());
        }
        let response = request.body(body).send().await.map_err(transport_failure)?;

        let status = response.status();
        if status.is_success() {
            return Ok(Sent {
                status_code: Some(status.as_u16()),
                detail: None,
                message_id: None,
                moved_to: None,
            });
        }
        let retry_after_value = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Standard Webhooks: a `retry-after` "should be taken into consideration
        // when scheduling the next attempt" (docs/services.md H2).
        let hint = retry_after_value
            .as_deref()
            .and_then(|v| super::parse_retry_after(v, chrono::Utc::now()));
        let retry_after = retry_after_value
            .as_deref()
            .map(|v| format!(" (Retry-After: {})", excerpt(v.as_bytes(), 40)));
        // The body is only for the log; failing to read it changes nothing.
        let answer = read_capped(response, 4096).await.unwrap_or_default();
        let mut error = format!("{host} answered HTTP {}", status.as_u16());
        error.push_str(retry_after.as_deref().unwrap_or_default());
        let answer = excerpt(&answer, EXCERPT_CHARS);
        if !answer.is_empty() {
            error.push_str(": ");
            error.push_str(&answer);
        }
        // Standard Webhooks: 410 Gone means "stop sending"; every other status,
        // 3xx and 4xx included, is a failed attempt to retry on the schedule.
        Err(if status.as_u16() == 410 {
            SendError::disable(Some(410), error)
        } else {
            SendError::retry(Some(status.as_u16()), error).with_retry_after(hint)
        })
    }
}

/// No answer. Refused by the address policy (the resolver found only non-public
/// addresses) or a request that cannot be built is permanent; anything else
/// (refused, reset, timeout, DNS failure) may pass.
fn transport_failure(err: reqwest::Error) -> SendError {
    let refused_by_policy = {
        let mut source = std::error::Error::source(&err);
        let mut found = false;
        while let Some(cause) = source {
            if let Some(TargetError::NoPublicAddress { .. }) = cause.downcast_ref::<TargetError>() {
                found = true;
                break;
            }
            source = cause.source();
        }
        found
    };
    let permanent = refused_by_policy || err.is_builder();
    let text = transport_error_text(err);
    if permanent {
        SendError::permanent(None, text)
    } else {
        SendError::retry(None, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::channels::Failure;
    use crate::delivery::channels::Language;
    use crate::delivery::channels::testing::{
        Reply, TestServer, closed_url, outgoing, sample_record,
    };

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn signatures_match_the_standard_webhooks_test_vectors() {
        // standard-webhooks/standard-webhooks, libraries/php/tests/WebhookTest.php
        // (testSignFunctionWorks), the same vector as the other libraries.
        assert_eq!(
            sign(
                SECRET,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            )
            .unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        // libraries/rust/src/lib.rs (test_sign).
        assert_eq!(
            sign(
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#
            )
            .unwrap(),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn new_secrets_are_valid_and_unique() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        check_secret(&a).unwrap();
        assert_eq!(signing_key(&a).unwrap().len(), 32);
    }

    #[test]
    fn bad_secrets_are_refused_without_being_echoed() {
        for (secret, expected) in [
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with"),
            ("whsec_not base64 at all!!", "not base64"),
            ("whsec_c2hvcnQ=", "24 to 64 bytes, not 5"),
            ("", "must start with"),
        ] {
            let err = check_secret(secret).unwrap_err();
            assert!(err.contains(expected), "{secret}: {err}");
            if !secret.is_empty() {
                assert!(!err.contains(secret), "{err}");
            }
            assert!(sign(secret, "id", 1, b"{}").is_err());
        }
    }

    #[test]
    fn the_body_is_the_standard_envelope_and_stable() {
        let record = sample_record();
        let bytes = body(&record, OrderSchema::V2);
        assert_eq!(bytes, body(&record, OrderSchema::V2));
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.starts_with(
                r#"{"type":"order.created","timestamp":"2026-11-20T03:04:05.123456Z","data":{"id":"ord_0001","buyer_id":"byr_mitra","buyer_order_number":"PO-2026/0042","supplier_code":"RTN-07","created_at":"2026-11-20T03:04:05.123456Z","order":{"#
            ),
            "{text}"
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let order: jembatan_schemas::PurchaseOrderV2 =
            serde_json::from_value(value["data"]["order"].clone()).unwrap();
        assert_eq!(order, record.order);
        // A channel that still reads v1 gets the documented downgrade.
        let v1: serde_json::Value =
            serde_json::from_slice(&body(&record, OrderSchema::V1)).unwrap();
        let v1: jembatan_schemas::PurchaseOrder =
            serde_json::from_value(v1["data"]["order"].clone()).unwrap();
        assert_eq!(v1, jembatan_schemas::downgrade_v2(&record.order));
    }

    #[test]
    fn debug_hides_the_secret() {
        let target = WebhookTarget {
            url: "https://x.example/".into(),
            secret: SECRET.into(),
            order_schema: OrderSchema::V2,
        };
        assert!(!format!("{target:?}").contains("MfKQ9r8"));
    }

    fn channel(allow_private: bool, timeout: Duration) -> WebhookChannel {
        WebhookChannel::new(&WebhookConfig {
            timeout,
            allow_private_targets: allow_private,
        })
        .unwrap()
    }

    fn target(url: String) -> WebhookTarget {
        WebhookTarget {
            url,
            secret: SECRET.into(),
            order_schema: OrderSchema::V2,
        }
    }

    /// Sends the sample order once to `url`, on a channel that may send to loopback.
    async fn send_to(url: String) -> Result<Sent, SendError> {
        let record = sample_record();
        channel(true, Duration::from_secs(5))
            .send(&target(url), &outgoing(&record, Language::Indonesian))
            .await
    }

    #[tokio::test]
    async fn delivers_a_signed_order() {
        let server = TestServer::start(|_| Reply::text(200, "ok"));
        let record = sample_record();
        let out = outgoing(&record, Language::Indonesian);
        let sent = channel(true, Duration::from_secs(5))
            .send(
                &target(format!("{}/hooks/jembatan?k=1", server.url())),
                &out,
            )
            .await
            .unwrap();
        assert_eq!(sent.status_code, Some(200));

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hooks/jembatan?k=1");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert!(
            request
                .header("user-agent")
                .unwrap()
                .starts_with("jembatan/")
        );
        assert_eq!(request.header("webhook-id"), Some("dlv_0001"));
        let timestamp: i64 = request
            .header("webhook-timestamp")
            .unwrap()
            .parse()
            .unwrap();
        assert!((Utc::now().timestamp() - timestamp).abs() < 60);
        // What a receiver's library does: recompute and compare.
        assert_eq!(
            request.header("webhook-signature").unwrap(),
            sign(SECRET, "dlv_0001", timestamp, &request.body).unwrap()
        );
        let json = request.json();
        assert_eq!(json["type"], "order.created");
        assert_eq!(json["timestamp"], "2026-11-20T03:04:05.123456Z");
        assert_eq!(json["data"]["id"], "ord_0001");
        assert_eq!(
            json["data"]["order"]["lines"][0]["price"]["amount"],
            "185000.00"
        );
        assert_eq!(request.header(ORDER_SCHEMA_HEADER), Some("v2"));
    }

    #[tokio::test]
    async fn a_reminder_is_a_signed_order_reminder_event_without_the_order() {
        let server = TestServer::start(|_| Reply::text(204, ""));
        let mut record = sample_record();
        record.reminded_at = Some("2026-11-21T03:04:05.123Z".parse().unwrap());
        let mut out = outgoing(&record, Language::Indonesian);
        out.reminder = true;
        channel(true, Duration::from_secs(5))
            .send(&target(server.url()), &out)
            .await
            .unwrap();
        let request = &server.requests()[0];
        let timestamp: i64 = request
            .header("webhook-timestamp")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            request.header("webhook-signature").unwrap(),
            sign(SECRET, "dlv_0001", timestamp, &request.body).unwrap()
        );
        assert_eq!(request.body, reminder_body(&record));
        assert_eq!(request.header(ORDER_SCHEMA_HEADER), None);
        assert_eq!(
            request.json(),
            serde_json::json!({
                "type": "order.reminder",
                "timestamp": "2026-11-21T03:04:05.123Z",
                "data": {
                    "id": "ord_0001",
                    "buyer_id": "byr_mitra",
                    "buyer_order_number": "PO-2026/0042",
                    "supplier_code": "RTN-07",
                    "created_at": "2026-11-20T03:04:05.123456Z",
                    "routed_at": "2026-11-20T03:04:05.123456Z",
                    "reminded_at": "2026-11-21T03:04:05.123Z",
                    "answer": {"method": "POST", "path": "/v1/inbox/ord_0001/response"},
                },
            })
        );
    }

    #[tokio::test]
    async fn every_attempt_sends_the_same_body_and_id() {
        let server = TestServer::start(|_| Reply::text(500, "busy"));
        let record = sample_record();
        let channel = channel(true, Duration::from_secs(5));
        let target = target(server.url());
        for attempt in 1..=2 {
            let mut out = outgoing(&record, Language::English);
            out.attempt = attempt;
            let err = channel.send(&target, &out).await.unwrap_err();
            assert_eq!(err.failure, Failure::Retry);
        }
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].body, requests[1].body);
        assert_eq!(
            requests[0].header("webhook-id"),
            requests[1].header("webhook-id")
        );
    }

    #[tokio::test]
    async fn statuses_are_classified_as_standard_webhooks_recommends() {
        let record = sample_record();
        let out = outgoing(&record, Language::Indonesian);
        let channel = channel(true, Duration::from_secs(5));
        for (status, expected) in [
            (204, None),
            (410, Some(Failure::Disable)),
            (429, Some(Failure::Retry)),
            (500, Some(Failure::Retry)),
            (400, Some(Failure::Retry)),
            (404, Some(Failure::Retry)),
        ] {
            let server = TestServer::start(move |_| Reply::text(status, "no"));
            let result = channel.send(&target(server.url()), &out).await;
            match expected {
                None => assert_eq!(result.unwrap().status_code, Some(status)),
                Some(failure) => {
                    let err = result.unwrap_err();
                    assert_eq!(err.failure, failure, "{status}: {err}");
                    assert_eq!(err.status_code, Some(status));
                    assert!(err.error.contains(&format!("HTTP {status}")), "{err}");
                    assert!(!err.error.contains("MfKQ9r8"), "{err}");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        let server = TestServer::start(|_| {
            let mut reply = Reply::text(301, "");
            reply
                .headers
                .push(("location", "http://127.0.0.1:1/elsewhere".into()));
            reply
        });
        let err = send_to(server.url()).await.unwrap_err();
        assert_eq!(err.failure, Failure::Retry);
        assert_eq!(err.status_code, Some(301));
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn the_retry_after_header_is_kept_for_the_log() {
        let server = TestServer::start(|_| {
            let mut reply = Reply::text(503, "maintenance");
            reply.headers.push(("retry-after", "120".into()));
            reply
        });
        let err = send_to(server.url()).await.unwrap_err();
        assert!(err.error.contains("Retry-After: 120"), "{err}");
        assert!(err.error.contains("maintenance"), "{err}");
    }

    #[tokio::test]
    async fn no_answer_is_retried() {
        let err = send_to(closed_url()).await.unwrap_err();
        assert_eq!(err.failure, Failure::Retry, "{err}");
        assert_eq!(err.status_code, None);

        let server = TestServer::start(|_| {
            let mut reply = Reply::text(200, "late");
            reply.delay = Duration::from_secs(3);
            reply
        });
        let record = sample_record();
        let err = channel(true, Duration::from_millis(300))
            .send(
                &target(server.url()),
                &outgoing(&record, Language::Indonesian),
            )
            .await
            .unwrap_err();
        assert_eq!(err.failure, Failure::Retry, "{err}");
        assert!(err.error.contains("timed out"), "{err}");
    }

    #[tokio::test]
    async fn private_targets_are_refused_before_and_at_connect() {
        let server = TestServer::start(|_| Reply::text(200, "ok"));
        let record = sample_record();
        let out = outgoing(&record, Language::Indonesian);
        let channel = channel(false, Duration::from_secs(5));

        // An IP literal, refused by the URL check.
        let err = channel.send(&target(server.url()), &out).await.unwrap_err();
        assert_eq!(err.failure, Failure::Permanent, "{err}");
        assert!(
            err.error.contains("127.0.0.1 is not a public address"),
            "{err}"
        );

        // A name that resolves to loopback, refused by the resolver.
        let url = format!("http://localhost:{}/hook?token=s3cr3t", server.port());
        let err = channel.send(&target(url), &out).await.unwrap_err();
        assert_eq!(err.failure, Failure::Permanent, "{err}");
        assert!(
            err.error
                .contains("webhook host localhost resolves only to non-public"),
            "{err}"
        );
        assert!(!err.error.contains("s3cr3t"), "{err}");

        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn an_unusable_secret_is_permanent_and_not_echoed() {
        let server = TestServer::start(|_| Reply::text(200, "ok"));
        let record = sample_record();
        let target = WebhookTarget {
            url: server.url(),
            secret: "hunter2-is-not-a-secret".into(),
            order_schema: OrderSchema::V2,
        };
        let err = channel(true, Duration::from_secs(5))
            .send(&target, &outgoing(&record, Language::Indonesian))
            .await
            .unwrap_err();
        assert_eq!(err.failure, Failure::Permanent);
        assert!(!err.error.contains("hunter2"), "{err}");
        assert!(server.requests().is_empty());
    }
}
