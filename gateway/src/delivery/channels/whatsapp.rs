//! The WhatsApp channel: a text message with the order's summary, sent from the
//! operator's business number through the WhatsApp Cloud API (Meta's Graph API).
//!
//! `POST {base_url}/{api_version}/{phone_number_id}/messages` with a bearer token;
//! the answer carries the message id (`wamid.…`), kept as the attempt's detail.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;

use super::{
    Channel, ChannelConfigError, Failure, Outgoing, SendError, Sent, api_status_failure, excerpt,
    http_client_builder, read_capped, redact, transport_error_text,
};
use crate::delivery::render;

/// WhatsApp's limit on a text message's body.
pub const MAX_TEXT_CHARS: usize = 4096;

/// The operator's WhatsApp business number (`[delivery.whatsapp]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppConfig {
    /// The Graph API's address; changed only for tests or a proxy.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The Graph API version in the path, e.g. `"v21.0"`.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// The business number's id in the WhatsApp Business account (not the number).
    pub phone_number_id: String,
    /// A system user's access token with `whatsapp_business_messaging`. Never
    /// logged, nor shown by `Debug`.
    pub access_token: String,
    /// How long one request may take, e.g. `"15s"`.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

fn default_base_url() -> String {
    "https://graph.facebook.com".into()
}

fn default_api_version() -> String {
    "v21.0".into()
}

fn default_timeout() -> Duration {
    Duration::from_secs(15)
}

impl fmt::Debug for WhatsAppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsAppConfig")
            .field("base_url", &self.base_url)
            .field("api_version", &self.api_version)
            .field("phone_number_id", &self.phone_number_id)
            .field("access_token", &"[redacted]")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Where one WhatsApp message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppTarget {
    /// The craftsman's number in international form, e.g. `6281234567890`.
    pub to: String,
}

/// Sends orders as WhatsApp text messages.
#[derive(Clone)]
pub struct WhatsAppChannel {
    client: reqwest::Client,
    /// `{base}/{version}/{phone_number_id}/messages`.
    endpoint: String,
    /// `Bearer …`, marked sensitive.
    authorization: HeaderValue,
    /// Kept only to mask it in errors a server might echo it into.
    access_token: String,
}

impl fmt::Debug for WhatsAppChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsAppChannel")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl WhatsAppChannel {
    /// Checks the config and builds the HTTP client.
    pub fn new(config: &WhatsAppConfig) -> Result<Self, ChannelConfigError> {
        let error = |message: &str| ChannelConfigError::new("whatsapp", message);
        if config.access_token.trim().is_empty() {
            return Err(error("`access_token` is not set"));
        }
        if config
            .access_token
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(error("`access_token` contains whitespace"));
        }
        let id = config.phone_number_id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(error(
                "`phone_number_id` must be the number's id, all digits",
            ));
        }
        let version = config.api_version.trim().trim_matches('/');
        let endpoint = format!(
            "{}/{version}/{id}/messages",
            config.base_url.trim().trim_end_matches('/')
        );
        reqwest::Url::parse(&endpoint)
            .map_err(|e| ChannelConfigError::new("whatsapp", format!("`base_url`: {e}")))?;
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", config.access_token))
                .map_err(|_| error("`access_token` has characters a header cannot carry"))?;
        authorization.set_sensitive(true);
        let client = http_client_builder(config.timeout)
            .build()
            .map_err(|e| ChannelConfigError::new("whatsapp", transport_error_text(e)))?;
        Ok(Self {
            client,
            endpoint,
            authorization,
            access_token: config.access_token.clone(),
        })
    }
}

/// A Graph API answer: `{"messages":[{"id":…}]}` or `{"error":{…}}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Answer {
    messages: Vec<MessageId>,
    error: Option<GraphError>,
}

#[derive(Deserialize)]
struct MessageId {
    id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GraphError {
    message: String,
    code: Option<i64>,
    error_data: Option<serde_json::Value>,
}

/// Graph error codes that mean "not now" even when the HTTP status is a 4xx (Meta
/// answers throttling with 400): rate limits (4, 80007, 130429, 131056), and
/// "temporarily unavailable" (1, 2, 131000, 133004).
const TRANSIENT_GRAPH_CODES: [i64; 8] = [1, 2, 4, 80007, 130429, 131000, 131056, 133004];

#[async_trait]
impl Channel for WhatsAppChannel {
    type Target = WhatsAppTarget;

    async fn send(&self, target: &WhatsAppTarget, out: &Outgoing<'_>) -> Result<Sent, SendError> {
        // The Cloud API wants digits; people write `+62 812-3456-7890`.
        let to: String = target
            .to
            .chars()
            .filter(|c| !matches!(c, '+' | ' ' | '-'))
            .collect();
        let request = serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": { "preview_url": false, "body": render::summary(out, MAX_TEXT_CHARS) },
        });
        let response = self
            .client
            .post(&self.endpoint)
            .header(AUTHORIZATION, self.authorization.clone())
            .json(&request)
            .send()
            .await
            .map_err(|e| SendError::retry(None, self.clean(transport_error_text(e))))?;
        let status = response.status().as_u16();
        let body = read_capped(response, 64 * 1024)
            .await
            .map_err(|e| SendError::retry(Some(status), self.clean(transport_error_text(e))))?;
        let answer: Answer = serde_json::from_slice(&body).unwrap_or_default();
        if (200..300).contains(&status) {
            return match answer.messages.into_iter().next() {
                Some(message) => Ok(Sent {
                    status_code: Some(status),
                    detail: Some(message.id),
                }),
                // Taken, but we cannot tell it was: better a duplicate than a loss.
                None => Err(SendError::retry(
                    Some(status),
                    format!(
                        "WhatsApp answered HTTP {status} without a message id: {}",
                        excerpt(&body, 200)
                    ),
                )),
            };
        }
        let (failure, text) = match &answer.error {
            Some(error) => {
                let transient = error
                    .code
                    .is_some_and(|c| TRANSIENT_GRAPH_CODES.contains(&c));
                let failure = if transient {
                    Failure::Retry
                } else {
                    api_status_failure(status)
                };
                let mut text = format!("WhatsApp answered HTTP {status}");
                if let Some(code) = error.code {
                    text.push_str(&format!(" (error {code})"));
                }
                text.push_str(": ");
                text.push_str(&excerpt(error.message.as_bytes(), 300));
                if let Some(details) = error
                    .error_data
                    .as_ref()
                    .and_then(|d| d.get("details"))
                    .and_then(|d| d.as_str())
                {
                    text.push_str(" — ");
                    text.push_str(&excerpt(details.as_bytes(), 300));
                }
                (failure, text)
            }
            None => (
                api_status_failure(status),
                format!("WhatsApp answered HTTP {status}: {}", excerpt(&body, 200)),
            ),
        };
        Err(SendError::new(failure, Some(status), self.clean(text)))
    }
}

impl WhatsAppChannel {
    fn clean(&self, text: String) -> String {
        redact(&text, &self.access_token)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::delivery::channels::Language;
    use crate::delivery::channels::testing::{
        Reply, TestServer, closed_url, outgoing, sample_record,
    };

    const TOKEN: &str = "EAAGm0PX4ZCpsBAKZC-test-token";

    fn channel(base_url: String) -> WhatsAppChannel {
        WhatsAppChannel::new(&WhatsAppConfig {
            base_url,
            api_version: default_api_version(),
            phone_number_id: "106540352242922".into(),
            access_token: TOKEN.into(),
            timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    async fn send(server_url: String) -> Result<Sent, SendError> {
        let record = sample_record();
        channel(server_url)
            .send(
                &WhatsAppTarget {
                    to: "+62 812-3456-7890".into(),
                },
                &outgoing(&record, Language::Indonesian),
            )
            .await
    }

    #[tokio::test]
    async fn sends_a_text_message_and_keeps_its_id() {
        let server = TestServer::start(|_| {
            Reply::json(
                200,
                json!({
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": "6281234567890", "wa_id": "6281234567890"}],
                    "messages": [{"id": "wamid.HBgLNjI4MTIzNDU2Nzg5MBUCABEYEjE="}]
                }),
            )
        });
        let sent = send(server.url()).await.unwrap();
        assert_eq!(sent.status_code, Some(200));
        assert_eq!(
            sent.detail.as_deref(),
            Some("wamid.HBgLNjI4MTIzNDU2Nzg5MBUCABEYEjE=")
        );

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v21.0/106540352242922/messages");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        let body = request.json();
        assert_eq!(body["messaging_product"], "whatsapp");
        assert_eq!(body["recipient_type"], "individual");
        assert_eq!(body["to"], "6281234567890");
        assert_eq!(body["type"], "text");
        assert_eq!(body["text"]["preview_url"], false);
        let text = body["text"]["body"].as_str().unwrap();
        assert!(
            text.starts_with("Pesanan baru PO-2026/0042 dari PT Mitra Otoparts"),
            "{text}"
        );
        assert!(text.chars().count() <= MAX_TEXT_CHARS);
    }

    #[tokio::test]
    async fn answers_are_classified() {
        let graph_error = |code: i64, message: &str| json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "A1"}});
        let cases = [
            (
                429,
                graph_error(130429, "(#130429) Rate limit hit"),
                Failure::Retry,
            ),
            (
                500,
                graph_error(131000, "(#131000) Something went wrong"),
                Failure::Retry,
            ),
            (503, json!({}), Failure::Retry),
            // Meta answers throttling with a 400: the code decides.
            (
                400,
                graph_error(131056, "(#131056) pair rate limit hit"),
                Failure::Retry,
            ),
            (
                400,
                graph_error(
                    131030,
                    "(#131030) Recipient phone number not in allowed list",
                ),
                Failure::Permanent,
            ),
            (
                401,
                graph_error(190, "Error validating access token: Session has expired"),
                Failure::Permanent,
            ),
            (404, json!({}), Failure::Permanent),
        ];
        for (status, body, expected) in cases {
            let message = body["error"]["message"].as_str().map(str::to_owned);
            let server = TestServer::start(move |_| Reply::json(status, body.clone()));
            let err = send(server.url()).await.unwrap_err();
            assert_eq!(err.failure, expected, "{status}: {err}");
            assert_eq!(err.status_code, Some(status));
            if let Some(message) = message {
                assert!(err.error.contains(&message), "{err}");
            }
        }
    }

    #[tokio::test]
    async fn a_success_without_an_id_is_retried() {
        let server = TestServer::start(|_| Reply::json(200, json!({"ok": true})));
        let err = send(server.url()).await.unwrap_err();
        assert_eq!(err.failure, Failure::Retry);
    }

    #[tokio::test]
    async fn no_answer_is_retried_and_the_token_never_shows() {
        let err = send(closed_url()).await.unwrap_err();
        assert_eq!(err.failure, Failure::Retry);
        assert_eq!(err.status_code, None);
        assert!(!err.error.contains(TOKEN));

        // A server that echoes the request's token back.
        let server = TestServer::start(|request| {
            let auth = request
                .header("authorization")
                .unwrap_or_default()
                .to_owned();
            Reply::json(
                400,
                json!({"error": {"message": format!("bad header {auth}"), "code": 100}}),
            )
        });
        let err = send(server.url()).await.unwrap_err();
        assert_eq!(err.failure, Failure::Permanent);
        assert!(!err.error.contains(TOKEN), "{err}");
        assert!(!format!("{err:?}").contains(TOKEN));
    }

    #[test]
    fn config_is_checked_and_the_token_hidden() {
        let config = WhatsAppConfig {
            base_url: default_base_url(),
            api_version: default_api_version(),
            phone_number_id: "106540352242922".into(),
            access_token: TOKEN.into(),
            timeout: default_timeout(),
        };
        assert!(!format!("{config:?}").contains(TOKEN));
        let channel = WhatsAppChannel::new(&config).unwrap();
        assert!(!format!("{channel:?}").contains(TOKEN));
        assert_eq!(
            channel.endpoint,
            "https://graph.facebook.com/v21.0/106540352242922/messages"
        );

        let mut bad = config.clone();
        bad.access_token = String::new();
        assert!(WhatsAppChannel::new(&bad).is_err());
        let mut bad = config.clone();
        bad.phone_number_id = "+62 812".into();
        assert!(WhatsAppChannel::new(&bad).is_err());

        let parsed: WhatsAppConfig =
            toml::from_str("phone_number_id = \"1065\"\naccess_token = \"t\"").unwrap();
        assert_eq!(parsed.base_url, "https://graph.facebook.com");
        assert_eq!(parsed.api_version, "v21.0");
        assert_eq!(parsed.timeout, Duration::from_secs(15));
    }
}
