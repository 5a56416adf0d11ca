//! The one place that wires the parts together: source → capture thread →
//! frame hub → HTTP, MQTT publisher, UI. Owns the command channel and the
//! status snapshot, and stops everything in order, bounded in time.
//!
//! - [`source`]: the frame source the configuration asks for;
//! - [`publisher`]: frames and camera health to MQTT; [`no_signal`]: the
//!   picture `/stream` shows while the camera fails;
//! - [`status`]: the status snapshot; [`broker`]: the embedded broker;
//! - [`address`]: the addresses a viewer can open; `tasks`: the
//!   long-running tasks, each under the supervisor.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

pub mod address;
mod broker;
pub mod no_signal;
pub mod publisher;
pub mod source;
mod status;
pub mod systemd;
mod tasks;

pub use status::STATUS_PERIOD;

use crate::capture::FrameSource;
use crate::capture::thread::{CaptureSettings, CaptureShared};
use crate::config::{BrokerChoice, Config};
use crate::control::{Command, Controls};
use crate::encode::Transform;
use crate::events::EventLog;
use crate::frame::FrameHub;
use crate::http::{HttpContext, HttpServer, Limits, StreamCounters};
use crate::stats::Status;
use crate::supervise::Supervisor;
use tars_mqtt::{BrokerUrl, Client, ClientConfig, ClientStatus};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot start a thread: {0}")]
    Thread(#[from] std::io::Error),
    #[error("embedded broker: {0}")]
    Broker(String),
}

/// A running service. Clone-free handle for the runners (headless, UI, tests).
#[derive(Debug)]
pub struct Service {
    pub hub: Arc<FrameHub>,
    pub status: watch::Receiver<Status>,
    pub commands: mpsc::Sender<Command>,
    pub http_addr: SocketAddr,
    pub config: Config,
    quit: watch::Receiver<bool>,
    capture: Arc<CaptureShared>,
    mqtt: Client,
    capture_thread: Option<JoinHandle<()>>,
    http: Option<HttpServer>,
    systemd: Option<systemd::Systemd>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The MQTT link: stopped last, after it has published `stopped`.
    mqtt_task: Option<tokio::task::JoinHandle<()>>,
    supervisor: Arc<Supervisor>,
    failed: watch::Receiver<Option<String>>,
}

/// The capture side, started first.
struct CaptureParts {
    shared: Arc<CaptureShared>,
    settings: CaptureSettings,
    thread: JoinHandle<()>,
}

fn start_capture(
    config: &Config,
    source: Box<dyn FrameSource>,
    hub: &Arc<FrameHub>,
) -> Result<CaptureParts, StartError> {
    let shared = CaptureShared::new(config.quality);
    let settings = CaptureSettings {
        source_name: config.source.to_string(),
        target_fps: config.fps,
        transform: Transform {
            rotation: config.rotation,
            flip_h: config.flip_h,
            flip_v: config.flip_v,
        },
        codec: config.encoder.clone(),
        reopen_min: Duration::from_millis(500),
        reopen_max: Duration::from_secs(10),
        controls: config.controls.clone(),
    };
    let thread = crate::capture::thread::spawn(
        source,
        settings.clone(),
        Arc::clone(hub),
        Arc::clone(&shared),
    )?;
    Ok(CaptureParts {
        shared,
        settings,
        thread,
    })
}

/// The MQTT client, on the configured broker or the embedded one.
async fn connect_mqtt(
    config: &Config,
    supervisor: &Arc<Supervisor>,
) -> Result<MqttParts, StartError> {
    let (url, embedded) = match &config.broker {
        BrokerChoice::External(url) => (url.clone(), None),
        BrokerChoice::Embedded(port) => {
            let addr = broker::start_embedded(*port).await?;
            let url = BrokerUrl::new(tars_mqtt::Scheme::Mqtt, &addr.ip().to_string(), addr.port());
            (url, Some(addr.to_string()))
        }
    };
    let mut mqtt_config = ClientConfig::new(url, &config.client_id, &config.service_name);
    mqtt_config.heartbeat_interval = config.heartbeat_interval;
    mqtt_config.reconnect_min = config.reconnect_min;
    mqtt_config.reconnect_max = config.reconnect_max;
    let (client, status, task) = tars_mqtt::start(mqtt_config);
    // The link, its backoff and the heartbeat live in this one task; its
    // state cannot be rebuilt in place, so its failure stops the service
    // with an error (and systemd starts it again).
    let task = supervisor.spawn_fatal("mqtt link and heartbeat", task);
    Ok((client, status, embedded, task))
}

/// The MQTT client, its status, the embedded broker's address if any, and
/// the connection task.
type MqttParts = (
    Client,
    watch::Receiver<ClientStatus>,
    Option<String>,
    tokio::task::JoinHandle<()>,
);

/// The live settings the commands change, with the snapshot folder.
fn controls(config: &Config) -> Arc<Controls> {
    let snapshots = crate::control::snapshots::SnapshotStore::new(config.snapshot_dir.clone());
    let save = crate::control::SaveTarget {
        file: config.config_file.clone(),
        width: config.width,
        height: config.height,
        fps: config.fps,
        rotation: config.rotation,
        flip_h: config.flip_h,
        flip_v: config.flip_v,
    };
    Arc::new(
        Controls::new(config.mqtt_rate_hz, config.fps)
            .with_snapshots(snapshots)
            .with_save(save),
    )
}

/// The configuration's warnings and the start line.
fn log_start(config: &Config) {
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    tracing::info!(
        "tars-camera {}: {} {}x{} at {} fps, JPEG encoder {}",
        env!("CARGO_PKG_VERSION"),
        config.source,
        config.width,
        config.height,
        config.fps,
        config.encoder.describe()
    );
}

impl Service {
    /// Start every part. `listener` is the already-bound HTTP socket.
    /// Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// A thread could not start, or the embedded broker failed.
    pub async fn start(config: Config, listener: TcpListener) -> Result<Self, StartError> {
        Self::start_with_source(config, listener, None).await
    }

    /// As `start`, with a given frame source (tests inject failing sources).
    ///
    /// # Errors
    /// A thread could not start, or the embedded broker failed.
    pub async fn start_with_source(
        config: Config,
        listener: TcpListener,
        source: Option<Box<dyn FrameSource>>,
    ) -> Result<Self, StartError> {
        Self::start_logged(config, listener, source, EventLog::default()).await
    }

    /// As `start_with_source`, serving `events` (the log's recent lines) on `/events`.
    ///
    /// # Errors
    /// A thread could not start, or the embedded broker failed.
    pub async fn start_logged(
        config: Config,
        listener: TcpListener,
        source: Option<Box<dyn FrameSource>>,
        events: EventLog,
    ) -> Result<Self, StartError> {
        let started = Instant::now();
        log_start(&config);
        let (supervisor, failed) = supervisor();
        let hub = Arc::new(FrameHub::new());
        let source = source.unwrap_or_else(|| source::from_config(&config));
        let capture = start_capture(&config, source, &hub)?;
        let controls = controls(&config);
        let counters = Arc::new(StreamCounters::default());
        let (status_tx, status_rx) = watch::channel(Status::default());
        let (commands_tx, commands_rx) = mpsc::channel(32);
        let http_context = HttpContext::new(
            Arc::clone(&hub),
            status_rx.clone(),
            Arc::clone(&counters),
            http_limits(&config),
            config.http_auth.clone(),
        )
        .with_commands(commands_tx.clone())
        .with_events(events)
        .with_config_file(config.config_file.is_some())
        .with_supervisor(Arc::clone(&supervisor))
        .with_allowed_hosts(&config.http_allowed_hosts);
        let (http, urls) = start_http(listener, http_context)?;
        let http_addr = http.local_addr();
        let (mqtt, mqtt_status, embedded_broker, mqtt_task) =
            connect_mqtt(&config, &supervisor).await?;
        let publisher_counters = Arc::new(publisher::PublisherCounters::default());
        let (quit_tx, quit_rx) = watch::channel(false);
        let control_counters = Arc::new(crate::control::mqtt::MqttControlCounters::default());
        let status_source = status::StatusSource {
            started,
            config: config.clone(),
            settings: capture.settings.clone(),
            capture: Arc::clone(&capture.shared),
            controls: Arc::clone(&controls),
            counters,
            stream_url: urls
                .first()
                .map_or_else(String::new, |u| format!("{u}stream")),
            mqtt_status,
            embedded_broker,
            publisher: Arc::clone(&publisher_counters),
            control: Arc::clone(&control_counters),
            supervisor: Arc::clone(&supervisor),
        };
        let wiring = tasks::Wiring {
            commands: commands_rx,
            commands_tx: commands_tx.clone(),
            quit: quit_tx,
            controls,
            publisher: publisher_counters,
            control: control_counters,
            status: status_tx,
            supervisor: Arc::clone(&supervisor),
        };
        let systemd = systemd::Systemd::start(systemd::Watched::of(
            &capture.shared,
            status_rx.clone(),
            &http,
        ));
        let tasks = tasks::spawn(&config, &capture, &hub, &mqtt, wiring, status_source);
        Ok(Self {
            hub,
            status: status_rx,
            commands: commands_tx,
            http_addr,
            config,
            quit: quit_rx,
            capture: capture.shared,
            mqtt,
            capture_thread: Some(capture.thread),
            http: Some(http),
            systemd,
            tasks,
            mqtt_task: Some(mqtt_task),
            supervisor,
            failed,
        })
    }

    /// Resolves when a `Quit` command arrives (from the UI or a test), or
    /// when a task that cannot be restarted has failed (see [`Self::failure`]).
    pub async fn quit_requested(&self) {
        let mut quit = self.quit.clone();
        let mut failed = self.failed.clone();
        tokio::select! {
            _ = quit.wait_for(|q| *q) => {}
            _ = failed.wait_for(Option::is_some) => {}
        }
    }

    /// Why the service must stop with an error (a task that cannot be
    /// restarted failed), if it must: the runners then exit non-zero.
    #[must_use]
    pub fn failure(&self) -> Option<String> {
        self.failed.borrow().clone()
    }

    /// Changes to `Some(why)` when the service must stop with an error.
    #[must_use]
    pub fn failed_watch(&self) -> watch::Receiver<Option<String>> {
        self.failed.clone()
    }

    /// The watched tasks (their records; tests inject faults through it).
    #[must_use]
    pub fn supervisor(&self) -> Arc<Supervisor> {
        Arc::clone(&self.supervisor)
    }

    /// Stop, in this order: supervision and the systemd watchdog; capture
    /// (its stop flag) and HTTP; then wait for the capture thread (≤ 1 s)
    /// and abort the service's tasks; MQTT last (≤ 1 s), so retained
    /// `stopped` is the last thing the broker hears.
    pub async fn shutdown(mut self) {
        tracing::info!("shutting down");
        self.supervisor.stop();
        if let Some(systemd) = self.systemd.take() {
            systemd.stop();
        }
        self.capture.stop();
        if let Some(http) = self.http.take() {
            http.stop();
        }
        if let Some(t) = self.capture_thread.take() {
            // The capture thread checks its stop flag at least every 50 ms,
            // or after one frame read (bounded by the camera's timeout).
            let joined = tokio::task::spawn_blocking(move || t.join());
            if tokio::time::timeout(Duration::from_secs(1), joined)
                .await
                .is_err()
            {
                tracing::warn!("capture thread did not stop within 1 s; leaving it");
            }
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
        // Publishes retained `stopped`, waits for its ack, disconnects: ≤ 1 s.
        match self
            .mqtt
            .shutdown(tars_mqtt::DEFAULT_SHUTDOWN_TIMEOUT)
            .await
        {
            Ok(()) => tracing::info!("MQTT: health 'stopped' published, disconnected"),
            Err(e) => tracing::info!("MQTT: stopped ({e})"),
        }
        if let Some(t) = self.mqtt_task.take() {
            t.abort();
        }
        tracing::info!("stopped");
    }
}

/// Serve HTTP on `listener`; returns the server and the addresses a
/// viewer can open (logged).
fn start_http(
    listener: TcpListener,
    context: HttpContext,
) -> Result<(HttpServer, Vec<String>), StartError> {
    let http = HttpServer::start(listener, context)?;
    let urls = address::viewer_urls(http.local_addr());
    tracing::info!(
        "HTTP on {} (stream: /stream, snapshot: /snapshot, status: /status)",
        urls.join(" ")
    );
    Ok((http, urls))
}

/// The watcher of the service's tasks, and where it says the service must
/// stop with an error.
fn supervisor() -> (Arc<Supervisor>, watch::Receiver<Option<String>>) {
    let supervisor = Supervisor::new();
    let (failed_tx, failed) = watch::channel(None);
    supervisor.on_fatal(failed_tx);
    (supervisor, failed)
}

/// The HTTP server's bounds from the configuration.
pub(crate) fn http_limits(config: &Config) -> Limits {
    Limits {
        max_connections: config.max_connections,
        max_clients: config.max_clients,
        client_timeout: config.client_timeout,
        ..Limits::default()
    }
}
