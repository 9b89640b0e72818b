//! jembatan: carries purchase orders from buyers to craftsmen.
//!
//! The modules follow an order's way through the gateway: [`api`] receives it,
//! [`ingest`] stores the raw message and runs the buyer's plugin in the
//! [`plugin_host`], [`orders`] checks the result against the canonical contract,
//! routes it to a craftsman, [`delivery`] carries it there, [`responses`] takes the
//! craftsman's answer back (the same outbox carries it to the buyer), [`reminders`]
//! reminds a craftsman once of an order they leave unanswered, and [`store`]
//! keeps everything. [`serve`] runs the whole on a listener, so tests
//! and the binary boot the very same server.

pub mod admission;
pub mod api;
pub mod chat_answers;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod error;
pub mod ingest;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod orders;
pub mod plugin_host;
pub mod reminders;
pub mod response_render;
pub mod responses;
pub mod scaffold;
pub mod secrets;
pub mod store;
pub mod telemetry;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{HttpServer, web};
use anyhow::Context;

use crate::admission::{Admission, Health, HealthConfig};
use crate::api::AppState;
use crate::config::Config;
use crate::delivery::{Alerts, Bell, Channels, Worker};
use crate::ingest::Ingest;
use crate::mail::MailDoor;
use crate::metrics::Metrics;
use crate::plugin_host::{PluginHost, PluginHostConfig, PluginRegistry};
use crate::store::sqlite::{SqliteOptions, Synchronous};
use crate::store::{PluginArtifact, Store, StoreOptions};

/// Opens the store named by the config, the engine chosen by the URL's scheme (see
/// [`store::open`]), running its migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url();
    let synchronous = match config.sqlite_synchronous {
        config::SqliteSynchronous::Full => Synchronous::Full,
        config::SqliteSynchronous::Normal => Synchronous::Normal,
    };
    let options = StoreOptions {
        sqlite: SqliteOptions {
            synchronous,
            ..Default::default()
        },
        ..Default::default()
    };
    store::open(&url, options)
        .await
        .with_context(|| format!("opening the store at {}", store::redact_url(&url)))
}

/// The plugin host and every plugin: the stock ones, then those in `plugin_dirs`.
pub fn load_plugins(config: &Config) -> anyhow::Result<(Arc<PluginHost>, Arc<PluginRegistry>)> {
    let host = PluginHost::new(PluginHostConfig {
        cache_dir: Some(config.plugin_cache_dir()),
        max_concurrent_instances: config.plugin_concurrency,
        profiler: config.plugin_profiler,
        ..Default::default()
    })
    .context("starting the plugin host")?;
    let registry = PluginRegistry::with_stock(&host).context("loading the stock plugins")?;
    for dir in &config.plugin_dirs {
        registry
            .load_dir(&host, dir)
            .with_context(|| format!("loading plugins from {}", dir.display()))?;
    }
    Ok((Arc::new(host), Arc::new(registry)))
}

/// Loads the plugins uploaded to the store that `plugins` lacks (by hash): all of
/// them at start, then those another instance sharing the database stored. In the
/// store's order, so the latest upload is the latest here too. Returns what it
/// loaded.
async fn load_stored_plugins(
    store: &dyn Store,
    host: &Arc<PluginHost>,
    plugins: &PluginRegistry,
) -> anyhow::Result<Vec<PluginArtifact>> {
    let stored = store.list_plugins().await?;
    if stored
        .iter()
        .all(|p| plugins.get_by_sha(&p.sha256).is_some())
    {
        return Ok(Vec::new());
    }
    let mut loaded = Vec::new();
    for (artifact, wasm) in store.all_plugin_wasm().await? {
        if plugins.get_by_sha(&artifact.sha256).is_some() {
            continue;
        }
        let host = host.clone();
        let plugin = tokio::task::spawn_blocking(move || host.load(&wasm))
            .await?
            .with_context(|| {
                format!(
                    "loading stored plugin {} {}",
                    artifact.name, artifact.version
                )
            })?;
        plugins.register(plugin);
        loaded.push(artifact);
    }
    Ok(loaded)
}

/// Everything the API needs, ready to serve.
pub async fn build_state(config: Config) -> anyhow::Result<web::Data<AppState>> {
    // Checked first: a mistake in the e-mail checks' settings is told at once,
    // before the store is opened and the plugins compiled.
    let mail_config = &config.inbound_email;
    let authenticator = mail::authentication::Authenticator::new(
        &mail_config.authentication,
        mail_config.hostname(),
        mail_config.http_token.is_some(),
    )?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let store = open_store(&config).await?;
    let (host, plugins) = load_plugins(&config)?;
    // Versions uploaded through the admin API live in the store.
    load_stored_plugins(&*store, &host, &plugins).await?;
    let bell = Arc::new(Bell::default());
    let ingest = Arc::new(Ingest::new(
        store.clone(),
        host.clone(),
        plugins.clone(),
        config.plugin_limits.clone(),
        config.plugin_concurrency,
        bell.clone(),
    ));
    let channels = Arc::new(Channels::new(&config.delivery).context("setting up the channels")?);
    let alerts = Arc::new(
        Alerts::new(store.clone(), channels.clone(), &config.delivery)
            .context("setting up the admin's alerts")?,
    );
    let health = Arc::new(Health::new(config.health_check_interval()));
    let admission = Arc::new(Admission::new(
        store.clone(),
        config.buyer_quota.clone(),
        health,
    ));
    let renderer = Arc::new(response_render::Renderer::new(
        store.clone(),
        ingest.clone(),
    ));
    let responses = Arc::new(responses::Responses {
        store: store.clone(),
        bell: bell.clone(),
        renderer: Some(renderer),
    });
    let chat_answers = Arc::new(chat_answers::ChatAnswers {
        store: store.clone(),
        responses: responses.clone(),
        channels: channels.clone(),
        reason_wait: config.chat_answers.reason_wait,
    });
    let mail = Arc::new(MailDoor::new(
        config.inbound_email.clone(),
        store.clone(),
        ingest.clone(),
        admission.clone(),
        channels.clone(),
        authenticator,
    ));
    // Every path that finishes an e-mailed message (recovery, a retry, a replay)
    // writes its one reply, not only the door's first pass.
    ingest.on_finished(Arc::new(mail.replier().clone()));
    Ok(web::Data::new(AppState {
        responses,
        chat_answers,
        admin_token: Arc::new(api::AdminToken::new(config.admin_token.clone())),
        config: Arc::new(config),
        store,
        ingest,
        plugins,
        host,
        channels,
        alerts,
        bell,
        metrics: Arc::new(Metrics::new()),
        admission,
        mail,
    }))
}

/// Runs the gateway on `listener` until SIGINT/SIGTERM.
pub async fn serve(config: Config, listener: TcpListener) -> anyhow::Result<()> {
    let workers = match config.http_workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let state = build_state(config).await?;
    for plugin in state.plugins.list() {
        tracing::info!(plugin = %plugin.info.name, version = %plugin.info.version, sha256 = %plugin.sha256, "plugin loaded");
    }
    // Messages a crash left half-way are finished before new ones come in. A
    // database that cannot be used does not stop the start: the gateway comes up
    // failing closed (the health check says why), and recovery waits for the next
    // start. Instances sharing a database recover one at a time.
    let recovered = match state.store.recovering_alone().await {
        Ok(_alone) => state.ingest.recover().await,
        Err(error) => Err(error),
    };
    match recovered {
        Ok(0) => {}
        Ok(recovered) => tracing::info!(
            count = recovered,
            "recovered messages left unprocessed by a crash"
        ),
        Err(error) if error.is_unavailable() => {
            tracing::error!(%error, "recovery at start could not read the database");
        }
        Err(error) => return Err(error.into()),
    }
    // Claims a killed run left behind would hold their deliveries until the lease
    // ran out; a process that owns its SQLite file takes them all back now (on
    // PostgreSQL, shared with live instances, only the leases already out).
    match state.store.release_claims().await {
        Ok(0) => {}
        Ok(released) => tracing::info!(
            count = released,
            "took back deliveries a stopped run had claimed"
        ),
        Err(error) if error.is_unavailable() => {
            tracing::error!(%error, "taking back claims at start could not use the database");
        }
        Err(error) => return Err(error.into()),
    }
    let worker = Worker {
        store: state.store.clone(),
        channels: state.channels.clone(),
        schedule: state.config.delivery.retry_schedule.clone(),
        concurrency: state.config.delivery.concurrency,
        lease: state.config.delivery.lease,
        metrics: state.metrics.clone(),
        bell: state.bell.clone(),
        renderer: state
            .responses
            .renderer
            .clone()
            .map(|r| r as Arc<dyn delivery::ResponseRenderer>),
        alerts: state.alerts.clone(),
    };
    // Deliveries another instance sharing the database made due wake this one's
    // worker too; its poll finds them anyway, later.
    let bell = state.bell.clone();
    state.store.watch_outbox(Arc::new(move || bell.ring()));
    // A plugin another instance stored is loaded here at once, so any instance
    // serves the buyers bound to it.
    let uploads = Arc::new(tokio::sync::Notify::new());
    let ring = uploads.clone();
    state
        .store
        .watch_plugins(Arc::new(move || ring.notify_one()));
    let uploaded = tokio::spawn({
        let state = state.clone();
        async move {
            let mut loading =
                telemetry::RepeatedStep::new("loading plugins uploaded on another instance");
            loop {
                uploads.notified().await;
                match load_stored_plugins(&*state.store, &state.host, &state.plugins).await {
                    Ok(loaded) => {
                        loading.worked();
                        for artifact in loaded {
                            tracing::info!(plugin = %artifact.name, version = %artifact.version,
                                sha256 = %artifact.sha256, "plugin loaded, uploaded on another instance");
                        }
                    }
                    Err(error) => loading.failed(&format!("{error:#}")),
                }
            }
        }
    });
    // Scheduled work runs on one instance of those sharing a database at a time
    // (docs/architecture.md, "Several instances"); the worker and the alerts'
    // sender run on every one, each claiming its own rows.
    let leadership = state.store.scheduled_work();
    state.alerts.load().await;
    let alerts = tokio::spawn(state.alerts.clone().run());
    let worker = tokio::spawn(worker.run());
    // Rejections tapped in a chat whose reason did not come in time are recorded
    // without one; the questions are in the store, so a restart keeps them.
    let reasons = tokio::spawn(state.chat_answers.clone().run_expiry(
        state.config.chat_answers.expiry_check_interval(),
        leadership.clone(),
    ));
    // Messages left `received` after start (a plugin host that failed, an instance
    // sharing the database that died) are finished without a restart.
    let recovery = (!state.config.recovery_after.is_zero()).then(|| {
        tokio::spawn(
            state
                .ingest
                .clone()
                .run_recovery(state.config.recovery_after, leadership.clone()),
        )
    });
    let health = admission::health::watch(
        state.admission.health().clone(),
        state.store.clone(),
        HealthConfig {
            data_dir: state.config.data_dir.clone(),
            database_file: state.config.database_file(),
            min_free_disk_bytes: state.config.min_free_disk_bytes,
            interval: state.config.health_check_interval(),
            integrity_interval: state.config.integrity_check_interval,
        },
    );
    let reminders = reminders::run(
        state.store.clone(),
        state.config.responses,
        state.bell.clone(),
        leadership.clone(),
    );
    let retention = admission::retention::run(
        state.store.clone(),
        state.admission.clone(),
        state.config.retention.clone(),
        leadership,
    );
    #[cfg(unix)]
    let reloads = tokio::spawn(
        api::reload_on_hangup(state.clone()).context("listening for SIGHUP (config reload)")?,
    );
    let smtp = match state.config.inbound_email.smtp_listen {
        Some(address) => {
            let tls = mail::smtp::tls_acceptor(&state.config.inbound_email)?;
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("binding the SMTP listener to {address}"))?;
            let bound = listener.local_addr()?;
            // Tests read this line to learn the port when listening on port 0.
            println!("jembatan smtp listening on smtp://{bound}");
            tracing::info!(address = %bound, starttls = tls.is_some(), "SMTP listening");
            Some(tokio::spawn(mail::smtp::serve(
                state.mail.clone(),
                listener,
                tls,
            )))
        }
        None => None,
    };
    let address = listener.local_addr()?;
    let store = state.store.clone();
    let server = HttpServer::new(move || api::app(state.clone()))
        .workers(workers)
        .listen(listener)?
        .run();
    // Tests and scripts read this line to learn the port when listening on port 0.
    println!("jembatan listening on http://{address}");
    tracing::info!(%address, workers, "listening");
    server.await?;
    // An attempt cut short is recorded by no one; the next start sends it again.
    worker.abort();
    reasons.abort();
    alerts.abort();
    health.abort();
    retention.abort();
    if let Some(reminders) = reminders {
        reminders.abort();
    }
    if let Some(recovery) = recovery {
        recovery.abort();
    }
    uploaded.abort();
    if let Some(smtp) = smtp {
        smtp.abort();
    }
    #[cfg(unix)]
    reloads.abort();
    store.close().await;
    Ok(())
}
