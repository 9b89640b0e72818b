//! The gateway's configuration: defaults, then a TOML file, then the environment.
//!
//! Every setting has a safe default, may be written in the file (`jembatan serve
//! --config FILE`), and may be overridden by a `JEMBATAN_*` variable, so that a
//! container or a test can change one knob without a file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::admission::Quota;
use crate::admission::retention::RetentionConfig;
use crate::delivery::DeliveryConfig;
use crate::mail::InboundEmailConfig;
use crate::plugin_host::{Limits, Profiler};
use crate::reminders::ResponsesConfig;

/// The admin token `jembatan serve --demo` uses when none is configured.
pub const DEMO_ADMIN_TOKEN: &str = "demo-admin-token";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP API listens on (`JEMBATAN_LISTEN`).
    pub listen: SocketAddr,
    /// Where the gateway keeps its database, compiled-plugin cache and uploaded
    /// plugins (`JEMBATAN_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `sqlite://PATH`; defaults to `sqlite://<data_dir>/jembatan.db`
    /// (`JEMBATAN_DATABASE_URL`).
    pub database_url: Option<String>,
    /// Bearer token for `/v1/admin/*` (`JEMBATAN_ADMIN_TOKEN`). Without one the
    /// admin API refuses every request: there is no default password.
    pub admin_token: Option<String>,
    /// How long an inbox page sign-in lasts, in seconds
    /// (`JEMBATAN_INBOX_SESSION_TTL_SECS`); 12 hours, a working day on one phone.
    pub inbox_session_ttl_secs: u64,
    /// Largest request body accepted, in bytes (`JEMBATAN_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Largest plugin component accepted by `POST /v1/admin/plugins`, in bytes
    /// (`JEMBATAN_MAX_PLUGIN_BYTES`).
    pub max_plugin_bytes: usize,
    /// How long a request's whole body may take to arrive after its head, in
    /// milliseconds (`JEMBATAN_BODY_TIMEOUT_MS`); a slower body is answered 408 and
    /// its connection closed. 30 s lets 10 MiB through at about 3 Mbit/s; raise it
    /// for large plugin uploads over slow links.
    pub body_timeout_ms: u64,
    /// Where compiled plugin code is cached between starts
    /// (`JEMBATAN_PLUGIN_CACHE_DIR`); defaults to `<data_dir>/plugin-cache`. Files
    /// are named by the plugin's sha256 and the engine's settings, written
    /// atomically and verified when read, so several gateways may share one.
    pub plugin_cache_dir: Option<PathBuf>,
    /// Directories whose `*.wasm` components are loaded as plugins at start, beside
    /// the stock ones built into the binary (`JEMBATAN_PLUGIN_DIRS`, `:`-separated).
    pub plugin_dirs: Vec<PathBuf>,
    /// Limits a plugin call runs under unless the buyer has its own.
    pub plugin_limits: Limits,
    /// At most this many plugin instances run at once (`JEMBATAN_PLUGIN_CONCURRENCY`);
    /// also the size of the instance pool.
    pub plugin_concurrency: u32,
    /// Names the plugins' compiled functions for a profiler: `none` (default),
    /// `perfmap` or `jitdump` (`JEMBATAN_PLUGIN_PROFILER`; see
    /// [`Profiler`]).
    pub plugin_profiler: Profiler,
    /// HTTP worker threads; 0 means one per core (`JEMBATAN_HTTP_WORKERS`).
    pub http_workers: usize,
    /// `text` or `json` (`JEMBATAN_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// SQLite durability: `full` (default) syncs every commit to disk; `normal`
    /// survives a crash of the process but may lose the last commits on power loss
    /// (`JEMBATAN_SQLITE_SYNCHRONOUS`).
    pub sqlite_synchronous: SqliteSynchronous,
    /// What each buyer may send and keep unless its own `limits` say otherwise
    /// (`[buyer_quota]`; `JEMBATAN_BUYER_MESSAGES_PER_MINUTE`, `JEMBATAN_BUYER_BURST`,
    /// `JEMBATAN_BUYER_STORED_BYTES`).
    pub buyer_quota: Quota,
    /// No message is taken while the data directory's disk has fewer free bytes
    /// than this (`JEMBATAN_MIN_FREE_DISK_BYTES`, default 256 MiB).
    pub min_free_disk_bytes: u64,
    /// How often the gateway checks that it can store messages, in milliseconds
    /// (`JEMBATAN_HEALTH_CHECK_MS`, default 2000); a refused sender is told to
    /// retry after that long.
    pub health_check_ms: u64,
    /// How often the whole database is read for damage, at start and then this
    /// often (`JEMBATAN_INTEGRITY_CHECK_INTERVAL`, default `10m`; SQLite's
    /// `quick_check`, a read of every page).
    #[serde(with = "humantime_serde")]
    pub integrity_check_interval: Duration,
    /// A message left `received` this long (the plugin host, not the plugin,
    /// failed when it came, and the buyer has not retried it) is finished by the
    /// instance leading the scheduled work, without waiting for a restart
    /// (`JEMBATAN_RECOVERY_AFTER`, default `2m`; `0` finishes them only at start).
    #[serde(with = "humantime_serde")]
    pub recovery_after: Duration,
    /// What is deleted after how long (`[retention]`; `JEMBATAN_RETENTION_FAILED`,
    /// `JEMBATAN_RETENTION_FINISHED`, `JEMBATAN_RETENTION_ATTEMPTS`,
    /// `JEMBATAN_RETENTION_INTERVAL`, as `30days`, `12h`, `0` for never).
    pub retention: RetentionConfig,
    /// Delivery to craftsmen: retries, concurrency and the channels' servers
    /// (`[delivery]`, `[delivery.webhook]`, `[delivery.email]`, `[delivery.whatsapp]`,
    /// `[delivery.telegram]`); `[delivery.email] ca_file` names a PEM CA to trust
    /// for a private mail relay. Secrets may come from the environment instead of the
    /// file: `JEMBATAN_SMTP_PASSWORD`, `JEMBATAN_WHATSAPP_ACCESS_TOKEN`,
    /// `JEMBATAN_WHATSAPP_APP_SECRET`, `JEMBATAN_WHATSAPP_VERIFY_TOKEN`,
    /// `JEMBATAN_TELEGRAM_BOT_TOKEN`, `JEMBATAN_TELEGRAM_SECRET_TOKEN` (each applies when
    /// its section exists); `[delivery.alerts]` says where the admin hears of paused
    /// channels (`JEMBATAN_ALERTS_WEBHOOK_SECRET`).
    pub delivery: DeliveryConfig,
    /// Orders by e-mail (`[inbound_email]`): the buyers' inbound address domain,
    /// the SMTP listener and `POST /v1/inbound/email` (`JEMBATAN_INBOUND_EMAIL_DOMAIN`,
    /// `JEMBATAN_SMTP_LISTEN`, `JEMBATAN_SMTP_MAX_MESSAGE_BYTES`,
    /// `JEMBATAN_SMTP_MAX_SESSIONS`, `JEMBATAN_SMTP_SESSION_TIMEOUT`,
    /// `JEMBATAN_SMTP_TLS_CERT`, `JEMBATAN_SMTP_TLS_KEY`,
    /// `JEMBATAN_INBOUND_EMAIL_TOKEN`).
    pub inbound_email: InboundEmailConfig,
    /// Answers given by tapping a button in WhatsApp or Telegram (`[chat_answers]`;
    /// `JEMBATAN_REJECTION_REASON_WAIT`, `JEMBATAN_CHAT_EVENT_MAX_AGE`).
    pub chat_answers: ChatAnswersConfig,
    /// Craftsmen's answers (`[responses]`): how long an order waits for one before
    /// its craftsman is reminded, once (`remind_after`,
    /// `JEMBATAN_RESPONSES_REMIND_AFTER`, e.g. `24h`; `0`, the default, sends none).
    pub responses: ResponsesConfig,
    /// The file this config was read from, read again on SIGHUP (see
    /// [`Config::reload`]); not a setting.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// Answers from the chat channels (`[chat_answers]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatAnswersConfig {
    /// How long a rejection tapped in a chat waits for its reason, the craftsman's
    /// next text in that chat (`JEMBATAN_REJECTION_REASON_WAIT`, default `10m`).
    /// When none comes the rejection is recorded then, saying no reason was given.
    #[serde(with = "humantime_serde")]
    pub reason_wait: Duration,
    /// A WhatsApp event or Telegram message older than this is not acted on
    /// (`JEMBATAN_CHAT_EVENT_MAX_AGE`, default `15m`): a tap captured and replayed
    /// later changes nothing. Meta retries an undelivered webhook for days, so a
    /// gateway down longer than this loses those taps; the craftsman taps again.
    #[serde(with = "humantime_serde")]
    pub event_max_age: Duration,
}

impl Default for ChatAnswersConfig {
    fn default() -> Self {
        Self {
            reason_wait: Duration::from_secs(600),
            event_max_age: Duration::from_secs(900),
        }
    }
}

impl ChatAnswersConfig {
    /// How often expired reason questions are looked for: a tenth of the wait,
    /// between 200 ms and 30 s.
    pub fn expiry_check_interval(&self) -> Duration {
        (self.reason_wait / 10).clamp(Duration::from_millis(200), Duration::from_secs(30))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            admin_token: None,
            inbox_session_ttl_secs: 12 * 60 * 60,
            max_body_bytes: 10 * 1024 * 1024,
            max_plugin_bytes: 64 * 1024 * 1024,
            body_timeout_ms: 30_000,
            plugin_cache_dir: None,
            plugin_dirs: Vec::new(),
            plugin_limits: Limits::default(),
            plugin_concurrency: 64,
            plugin_profiler: Profiler::None,
            http_workers: 0,
            log_format: LogFormat::Text,
            sqlite_synchronous: SqliteSynchronous::Full,
            buyer_quota: Quota::default(),
            min_free_disk_bytes: 256 << 20,
            health_check_ms: 2000,
            integrity_check_interval: Duration::from_secs(600),
            recovery_after: Duration::from_secs(120),
            retention: RetentionConfig::default(),
            delivery: DeliveryConfig::default(),
            inbound_email: InboundEmailConfig::default(),
            chat_answers: ChatAnswersConfig::default(),
            responses: ResponsesConfig::default(),
            source: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error in config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Env {
        name: &'static str,
        value: String,
        reason: String,
    },
}

impl Config {
    /// Defaults, then `file` if given, then `JEMBATAN_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.source = file.map(Path::to_owned);
        Ok(config)
    }

    /// The same sources read again (the file, then the environment, which a running
    /// process cannot change, so a variable still wins over the file): what SIGHUP
    /// applies. Only the admin token takes effect without a restart.
    pub fn reload(&self) -> Result<Self, ConfigError> {
        Self::load(self.source.as_deref())
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Overrides from the environment; `var` is injectable so tests need not touch
    /// the process environment.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = var("JEMBATAN_LISTEN") {
            self.listen = parse("JEMBATAN_LISTEN", v)?;
        }
        if let Some(v) = var("JEMBATAN_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = var("JEMBATAN_PLUGIN_CACHE_DIR") {
            self.plugin_cache_dir = Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        if let Some(v) = var("JEMBATAN_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = var("JEMBATAN_ADMIN_TOKEN") {
            self.admin_token = Some(v).filter(|t| !t.is_empty());
        }
        if let Some(v) = var("JEMBATAN_REJECTION_REASON_WAIT") {
            self.chat_answers.reason_wait = duration("JEMBATAN_REJECTION_REASON_WAIT", v)?;
        }
        if let Some(v) = var("JEMBATAN_CHAT_EVENT_MAX_AGE") {
            self.chat_answers.event_max_age = duration("JEMBATAN_CHAT_EVENT_MAX_AGE", v)?;
        }
        if let Some(v) = var("JEMBATAN_INBOX_SESSION_TTL_SECS") {
            self.inbox_session_ttl_secs = parse("JEMBATAN_INBOX_SESSION_TTL_SECS", v)?;
        }
        if let Some(v) = var("JEMBATAN_MAX_BODY_BYTES") {
            self.max_body_bytes = parse("JEMBATAN_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = var("JEMBATAN_MAX_PLUGIN_BYTES") {
            self.max_plugin_bytes = parse("JEMBATAN_MAX_PLUGIN_BYTES", v)?;
        }
        if let Some(v) = var("JEMBATAN_BODY_TIMEOUT_MS") {
            self.body_timeout_ms = parse("JEMBATAN_BODY_TIMEOUT_MS", v)?;
        }
        if let Some(v) = var("JEMBATAN_PLUGIN_DIRS") {
            self.plugin_dirs = std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
        }
        if let Some(v) = var("JEMBATAN_PLUGIN_CONCURRENCY") {
            self.plugin_concurrency = parse("JEMBATAN_PLUGIN_CONCURRENCY", v)?;
        }
        if let Some(v) = var("JEMBATAN_PLUGIN_PROFILER") {
            self.plugin_profiler = choice("JEMBATAN_PLUGIN_PROFILER", v)?;
        }
        if let Some(v) = var("JEMBATAN_PLUGIN_TIME_LIMIT_MS") {
            let ms: u64 = parse("JEMBATAN_PLUGIN_TIME_LIMIT_MS", v)?;
            self.plugin_limits.time = Duration::from_millis(ms);
        }
        if let Some(v) = var("JEMBATAN_PLUGIN_MEMORY_LIMIT_BYTES") {
            self.plugin_limits.memory_bytes = parse("JEMBATAN_PLUGIN_MEMORY_LIMIT_BYTES", v)?;
        }
        if let Some(v) = var("JEMBATAN_HTTP_WORKERS") {
            self.http_workers = parse("JEMBATAN_HTTP_WORKERS", v)?;
        }
        if let Some(v) = var("JEMBATAN_LOG_FORMAT") {
            self.log_format = choice("JEMBATAN_LOG_FORMAT", v)?;
        }
        if let Some(v) = var("JEMBATAN_SQLITE_SYNCHRONOUS") {
            self.sqlite_synchronous = choice("JEMBATAN_SQLITE_SYNCHRONOUS", v)?;
        }
        self.apply_admission_env(&var)?;
        self.apply_inbound_email_env(&var)?;
        self.apply_delivery_env(var)
    }

    fn apply_inbound_email_env(
        &mut self,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let mail = &mut self.inbound_email;
        if let Some(v) = var("JEMBATAN_INBOUND_EMAIL_DOMAIN") {
            mail.domain = Some(v.trim().to_ascii_lowercase()).filter(|d| !d.is_empty());
        }
        if let Some(v) = var("JEMBATAN_SMTP_LISTEN") {
            mail.smtp_listen = if v.trim().is_empty() {
                None
            } else {
                Some(parse("JEMBATAN_SMTP_LISTEN", v)?)
            };
        }
        if let Some(v) = var("JEMBATAN_SMTP_MAX_MESSAGE_BYTES") {
            mail.max_message_bytes = parse("JEMBATAN_SMTP_MAX_MESSAGE_BYTES", v)?;
        }
        if let Some(v) = var("JEMBATAN_SMTP_MAX_SESSIONS") {
            mail.max_sessions = parse("JEMBATAN_SMTP_MAX_SESSIONS", v)?;
        }
        if let Some(v) = var("JEMBATAN_SMTP_SESSION_TIMEOUT") {
            mail.session_timeout = duration("JEMBATAN_SMTP_SESSION_TIMEOUT", v)?;
        }
        if let Some(v) = var("JEMBATAN_SMTP_TLS_CERT") {
            mail.tls_cert = Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        if let Some(v) = var("JEMBATAN_SMTP_TLS_KEY") {
            mail.tls_key = Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        // A secret: never echoed in an error.
        if let Some(v) = var("JEMBATAN_INBOUND_EMAIL_TOKEN") {
            mail.http_token = Some(v).filter(|t| !t.is_empty());
        }
        Ok(())
    }

    fn apply_admission_env(
        &mut self,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let quota = &mut self.buyer_quota;
        if let Some(v) = var("JEMBATAN_BUYER_MESSAGES_PER_MINUTE") {
            quota.messages_per_minute = parse("JEMBATAN_BUYER_MESSAGES_PER_MINUTE", v)?;
        }
        if let Some(v) = var("JEMBATAN_BUYER_BURST") {
            quota.burst = parse("JEMBATAN_BUYER_BURST", v)?;
        }
        if let Some(v) = var("JEMBATAN_BUYER_STORED_BYTES") {
            quota.stored_bytes = parse("JEMBATAN_BUYER_STORED_BYTES", v)?;
        }
        if let Some(v) = var("JEMBATAN_MIN_FREE_DISK_BYTES") {
            self.min_free_disk_bytes = parse("JEMBATAN_MIN_FREE_DISK_BYTES", v)?;
        }
        if let Some(v) = var("JEMBATAN_HEALTH_CHECK_MS") {
            self.health_check_ms = parse("JEMBATAN_HEALTH_CHECK_MS", v)?;
        }
        if let Some(v) = var("JEMBATAN_INTEGRITY_CHECK_INTERVAL") {
            self.integrity_check_interval = duration("JEMBATAN_INTEGRITY_CHECK_INTERVAL", v)?;
        }
        if let Some(v) = var("JEMBATAN_RECOVERY_AFTER") {
            self.recovery_after = duration("JEMBATAN_RECOVERY_AFTER", v)?;
        }
        let retention = &mut self.retention;
        for (name, field) in [
            ("JEMBATAN_RETENTION_FAILED", &mut retention.failed),
            ("JEMBATAN_RETENTION_FINISHED", &mut retention.finished),
            ("JEMBATAN_RETENTION_ATTEMPTS", &mut retention.attempts),
            ("JEMBATAN_RETENTION_INTERVAL", &mut retention.interval),
        ] {
            if let Some(v) = var(name) {
                *field = duration(name, v)?;
            }
        }
        Ok(())
    }

    fn apply_delivery_env(
        &mut self,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(v) = var("JEMBATAN_RESPONSES_REMIND_AFTER") {
            self.responses.remind_after = duration("JEMBATAN_RESPONSES_REMIND_AFTER", v)?;
        }
        let delivery = &mut self.delivery;
        if let Some(v) = var("JEMBATAN_ALLOW_PRIVATE_TARGETS") {
            delivery.webhook.allow_private_targets =
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on");
        }
        if let Some(v) = var("JEMBATAN_DELIVERY_RETRY_SCHEDULE") {
            delivery.retry_schedule = parse("JEMBATAN_DELIVERY_RETRY_SCHEDULE", v)?;
        }
        if let Some(v) = var("JEMBATAN_DELIVERY_CONCURRENCY") {
            delivery.concurrency = parse("JEMBATAN_DELIVERY_CONCURRENCY", v)?;
        }
        if let Some(v) = var("JEMBATAN_DELIVERY_LEASE") {
            delivery.lease = duration("JEMBATAN_DELIVERY_LEASE", v)?;
        }
        // Secrets kept out of the config file; the values are never echoed in errors.
        if let (Some(email), Some(v)) = (&mut delivery.email, var("JEMBATAN_SMTP_PASSWORD")) {
            email.password = Some(v);
        }
        if let (Some(whatsapp), Some(v)) = (
            &mut delivery.whatsapp,
            var("JEMBATAN_WHATSAPP_ACCESS_TOKEN"),
        ) {
            whatsapp.access_token = v;
        }
        if let (Some(whatsapp), Some(v)) =
            (&mut delivery.whatsapp, var("JEMBATAN_WHATSAPP_APP_SECRET"))
        {
            whatsapp.app_secret = Some(v);
        }
        if let (Some(whatsapp), Some(v)) = (
            &mut delivery.whatsapp,
            var("JEMBATAN_WHATSAPP_VERIFY_TOKEN"),
        ) {
            whatsapp.verify_token = Some(v);
        }
        if let (Some(telegram), Some(v)) =
            (&mut delivery.telegram, var("JEMBATAN_TELEGRAM_BOT_TOKEN"))
        {
            telegram.bot_token = v;
        }
        if let (Some(telegram), Some(v)) = (
            &mut delivery.telegram,
            var("JEMBATAN_TELEGRAM_SECRET_TOKEN"),
        ) {
            telegram.secret_token = Some(v);
        }
        if let Some(v) = var("JEMBATAN_ALERTS_WEBHOOK_SECRET") {
            delivery.alerts.webhook_secret = Some(v).filter(|s| !s.is_empty());
        }
        Ok(())
    }

    /// How often the gateway checks it can store messages
    /// ([`Config::health_check_ms`]).
    pub fn health_check_interval(&self) -> Duration {
        Duration::from_millis(self.health_check_ms.max(100))
    }

    /// The SQLite database file, when the store is one.
    pub fn database_file(&self) -> Option<PathBuf> {
        let url = self.database_url();
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or(path);
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("jembatan.db").display()))
    }

    /// How long a request's body may take to arrive ([`Config::body_timeout_ms`]).
    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }

    /// How long an inbox page sign-in lasts ([`Config::inbox_session_ttl_secs`]).
    pub fn inbox_session_ttl(&self) -> Duration {
        Duration::from_secs(self.inbox_session_ttl_secs)
    }

    /// Why the admin token is easy to guess, if it is: shorter than 24 characters,
    /// or a word people pick. `None` when there is no token or it looks random.
    pub fn weak_admin_token(&self) -> Option<&'static str> {
        const COMMON: &[&str] = &[
            "admin",
            "password",
            "changeme",
            "secret",
            "token",
            "test",
            "letmein",
            DEMO_ADMIN_TOKEN,
        ];
        let token = self.admin_token.as_deref()?;
        let lower = token.to_ascii_lowercase();
        if COMMON.iter().any(|word| lower.contains(word)) {
            Some("it contains a common word")
        } else if token.chars().count() < 24 {
            Some("it is shorter than 24 characters")
        } else {
            None
        }
    }

    /// Where compiled plugin code is cached between runs.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.plugin_cache_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("plugin-cache"))
    }
}

/// A variable's value parsed, or an error naming the variable.
/// A variable's value as a duration: `30days`, `12h`, `500ms`, or `0`.
fn duration(name: &'static str, value: String) -> Result<Duration, ConfigError> {
    if value.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(value.trim()).map_err(|e| ConfigError::Env {
        name,
        reason: e.to_string(),
        value,
    })
}

fn parse<T: std::str::FromStr>(name: &'static str, value: String) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e: T::Err| ConfigError::Env {
        name,
        reason: e.to_string(),
        value,
    })
}

/// A variable's value as one of an enum's lower-case names.
fn choice<T>(name: &'static str, value: String) -> Result<T, ConfigError>
where
    T: for<'de> Deserialize<'de>,
{
    T::deserialize(
        serde::de::value::StrDeserializer::<serde::de::value::Error>::new(
            &value.to_ascii_lowercase(),
        ),
    )
    .map_err(|e| ConfigError::Env {
        name,
        reason: e.to_string(),
        value: value.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn file_then_environment_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jembatan.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\nadmin_token = \"from-file\"\nmax_body_bytes = 1000\n",
        )
        .unwrap();
        let mut config = Config::from_file(&path).unwrap();
        assert_eq!(config.plugin_cache_dir(), Path::new("data/plugin-cache"));
        config
            .apply_env(env(&[
                ("JEMBATAN_ADMIN_TOKEN", "from-env"),
                ("JEMBATAN_DATABASE_URL", "sqlite:///tmp/x.db"),
                ("JEMBATAN_LOG_FORMAT", "JSON"),
                ("JEMBATAN_PLUGIN_CACHE_DIR", "/var/cache/jembatan"),
                ("JEMBATAN_PLUGIN_PROFILER", "perfmap"),
            ]))
            .unwrap();
        assert_eq!(config.plugin_profiler, Profiler::PerfMap);
        assert_eq!(config.plugin_cache_dir(), Path::new("/var/cache/jembatan"));
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.admin_token.as_deref(), Some("from-env"));
        assert_eq!(config.max_body_bytes, 1000);
        assert_eq!(config.database_url(), "sqlite:///tmp/x.db");
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn a_short_or_common_admin_token_is_weak() {
        let weak = |token: &str| {
            Config {
                admin_token: Some(token.into()),
                ..Config::default()
            }
            .weak_admin_token()
        };
        assert_eq!(weak("a1B2c3"), Some("it is shorter than 24 characters"));
        assert_eq!(
            weak("my-Secret-token-that-is-long"),
            Some("it contains a common word")
        );
        assert_eq!(weak(DEMO_ADMIN_TOKEN), Some("it contains a common word"));
        assert_eq!(weak("q8Zt2vYx7LmP4nR6sW1kJ3hD"), None);
        assert_eq!(Config::default().weak_admin_token(), None);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "listn = \"x\"\n").unwrap();
        let err = Config::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("listn"), "{err}");

        let err = Config::default()
            .apply_env(env(&[("JEMBATAN_LISTEN", "nowhere")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("JEMBATAN_LISTEN"), "{err}");
    }
}
