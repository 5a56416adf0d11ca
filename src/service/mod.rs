//! The one place that wires the parts together: source → capture thread →
//! frame hub → HTTP, MQTT publisher, UI. Owns the command channel and the
//! status snapshot, and stops everything in order, bounded in time.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

pub mod publisher;

use crate::capture::FrameSource;
use crate::capture::camera::{CameraSource, parse_device};
use crate::capture::file::FileSource;
use crate::capture::flaky::{FlakySource, Schedule};
use crate::capture::test_pattern::{Clock, TestPattern};
use crate::capture::thread::{CaptureSettings, CaptureShared};
use crate::config::{BrokerChoice, Config, SourceKind};
use crate::control::{Command, step_rate};
use crate::encode::{EncoderKind, Transform};
use crate::frame::FrameHub;
use crate::http::{HttpContext, HttpServer, StreamCounters};
use crate::mqtt::{BrokerUrl, Client, ClientConfig, ClientStatus};
use crate::stats::{CounterRate, Status, StreamStatus};

/// How often the status snapshot is refreshed.
pub const STATUS_PERIOD: Duration = Duration::from_millis(250);

/// Live settings changed by commands; read by the publisher and the status.
#[derive(Debug)]
pub struct Controls {
    mqtt_rate_bits: AtomicU64,
    mqtt_paused: AtomicBool,
    max_rate_hz: f64,
    last_saved: Mutex<Option<String>>,
}

impl Controls {
    fn new(rate_hz: f64, max_rate_hz: f64) -> Self {
        Self {
            mqtt_rate_bits: AtomicU64::new(rate_hz.to_bits()),
            mqtt_paused: AtomicBool::new(false),
            max_rate_hz,
            last_saved: Mutex::new(None),
        }
    }

    /// MQTT frame rate in Hz (0 = off).
    #[must_use]
    pub fn mqtt_rate_hz(&self) -> f64 {
        f64::from_bits(self.mqtt_rate_bits.load(Ordering::Relaxed))
    }

    fn set_mqtt_rate_hz(&self, hz: f64) -> f64 {
        let capped = if hz.is_finite() {
            hz.clamp(0.0, self.max_rate_hz)
        } else {
            0.0
        };
        self.mqtt_rate_bits
            .store(capped.to_bits(), Ordering::Relaxed);
        capped
    }

    #[must_use]
    pub fn mqtt_paused(&self) -> bool {
        self.mqtt_paused.load(Ordering::Relaxed)
    }
}

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
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// The frame source the configuration asks for, wrapped in a failure
/// schedule when one is given (tests).
fn make_source(config: &Config) -> Box<dyn FrameSource> {
    let source: Box<dyn FrameSource> = match config.source {
        SourceKind::TestPattern => Box::new(TestPattern::new(
            config.width,
            config.height,
            config.fps,
            Clock::Wall,
        )),
        SourceKind::Camera => {
            let index = parse_device(&config.device).unwrap_or(0);
            // fps is validated to (0, 240]: the rounded value fits.
            let fps = config.fps.round().max(1.0) as u32;
            Box::new(CameraSource::new(index, config.width, config.height, fps))
        }
        SourceKind::File => Box::new(FileSource::new(
            config.file.clone().unwrap_or_default(),
            config.loop_playback,
            config.fps,
        )),
    };
    match config.fail_schedule.as_deref().map(Schedule::parse) {
        Some(Ok(schedule)) => Box::new(FlakySource::new(source, schedule)),
        _ => source,
    }
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
        let started = Instant::now();
        for w in &config.warnings {
            tracing::warn!("{w}");
        }
        let hub = Arc::new(FrameHub::new());
        let capture = CaptureShared::new(config.quality);
        let settings = CaptureSettings {
            source_name: config.source.to_string(),
            target_fps: config.fps,
            transform: Transform {
                rotation: config.rotation,
                flip_h: config.flip_h,
                flip_v: config.flip_v,
            },
            reopen_min: Duration::from_millis(500),
            reopen_max: Duration::from_secs(10),
        };
        let source = source.unwrap_or_else(|| make_source(&config));
        let capture_thread = crate::capture::thread::spawn(
            source,
            settings.clone(),
            Arc::clone(&hub),
            Arc::clone(&capture),
        )?;

        let controls = Arc::new(Controls::new(config.mqtt_rate_hz, config.fps));
        let counters = Arc::new(StreamCounters::default());
        let (status_tx, status_rx) = watch::channel(Status::default());
        let http = HttpServer::start(
            listener,
            HttpContext {
                hub: Arc::clone(&hub),
                status: status_rx.clone(),
                counters: Arc::clone(&counters),
                max_clients: config.max_clients,
            },
        )?;
        let http_addr = http.local_addr();
        tracing::info!(
            "HTTP on http://{http_addr}/ (stream: /stream, snapshot: /snapshot, status: /status)"
        );
        let (broker_url, embedded_broker) = match &config.broker {
            BrokerChoice::External(url) => (url.clone(), None),
            BrokerChoice::Embedded => {
                let addr = start_embedded_broker().await?;
                (format!("mqtt://{addr}"), Some(addr.to_string()))
            }
        };
        let url = BrokerUrl::parse(&broker_url).map_err(|e| StartError::Broker(e.to_string()))?;
        let mut mqtt_config = ClientConfig::new(url, &config.client_id, &config.service_name);
        mqtt_config.heartbeat_interval = config.heartbeat_interval;
        mqtt_config.reconnect_min = config.reconnect_min;
        mqtt_config.reconnect_max = config.reconnect_max;
        let (mqtt, mqtt_status) = crate::mqtt::connect(mqtt_config);
        let frames_published = Arc::new(AtomicU64::new(0));

        let (commands_tx, commands_rx) = mpsc::channel(32);
        let (quit_tx, quit_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(control_task(
            commands_rx,
            Arc::clone(&capture),
            Arc::clone(&controls),
            Arc::clone(&hub),
            mqtt.clone(),
            quit_tx,
        )));
        let quality = {
            let capture = Arc::clone(&capture);
            move || capture.quality()
        };
        tasks.push(tokio::spawn(publisher::publish_frames(
            Arc::clone(&hub),
            mqtt.clone(),
            Arc::clone(&controls),
            config.frame_topic.clone(),
            quality,
            Arc::clone(&frames_published),
        )));
        tasks.push(tokio::spawn(publisher::relay_camera_health(
            capture.health(),
            mqtt.clone(),
            Arc::clone(&hub),
        )));
        let status_source = StatusSource {
            started,
            config: config.clone(),
            settings,
            capture: Arc::clone(&capture),
            controls,
            counters,
            http_addr,
            mqtt_status,
            embedded_broker,
            frames_published,
        };
        tasks.push(tokio::spawn(status_task(status_source, status_tx)));
        Ok(Self {
            hub,
            status: status_rx,
            commands: commands_tx,
            http_addr,
            config,
            quit: quit_rx,
            capture,
            mqtt,
            capture_thread: Some(capture_thread),
            http: Some(http),
            tasks,
        })
    }

    /// Resolves when a `Quit` command arrives (from the UI or a test).
    pub async fn quit_requested(&self) {
        let mut quit = self.quit.clone();
        let _ = quit.wait_for(|q| *q).await;
    }

    /// Stop capture, MQTT and HTTP, in that order, within ~1.5 s.
    pub async fn shutdown(mut self) {
        tracing::info!("shutting down");
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
            .shutdown(crate::mqtt::DEFAULT_SHUTDOWN_TIMEOUT)
            .await
        {
            Ok(()) => tracing::info!("MQTT: health 'stopped' published, disconnected"),
            Err(e) => tracing::info!("MQTT: stopped ({e})"),
        }
        tracing::info!("stopped");
    }
}

/// Start the broker inside this process on 127.0.0.1: port 1883, or a free
/// port when 1883 is taken. Blocks (off the runtime) until it accepts.
#[cfg(feature = "embedded-broker")]
async fn start_embedded_broker() -> Result<SocketAddr, StartError> {
    let addr = tokio::task::spawn_blocking(|| {
        crate::mqtt::broker::spawn_embedded_preferring(
            "127.0.0.1",
            crate::mqtt::broker::DEFAULT_PORT,
        )
    })
    .await
    .map_err(|e| StartError::Broker(e.to_string()))?
    .map_err(|e| StartError::Broker(e.to_string()))?;
    if addr.port() == 1883 {
        tracing::info!("embedded MQTT broker on mqtt://{addr}");
    } else {
        tracing::info!("embedded MQTT broker on mqtt://{addr} (1883 was taken)");
    }
    Ok(addr)
}

#[cfg(not(feature = "embedded-broker"))]
async fn start_embedded_broker() -> Result<SocketAddr, StartError> {
    Err(StartError::Broker(
        "this build has no embedded broker (feature embedded-broker); use --mqtt-url".into(),
    ))
}

async fn control_task(
    mut commands: mpsc::Receiver<Command>,
    capture: Arc<CaptureShared>,
    controls: Arc<Controls>,
    hub: Arc<FrameHub>,
    mqtt: Client,
    quit: watch::Sender<bool>,
) {
    while let Some(command) = commands.recv().await {
        match command {
            Command::AdjustQuality(delta) => {
                let q = (i32::from(capture.quality()) + delta).clamp(1, 100);
                capture.set_quality(u8::try_from(q).unwrap_or(80));
                tracing::info!("JPEG quality {q}");
            }
            Command::SetMqttRate(hz) => {
                let set = controls.set_mqtt_rate_hz(hz);
                tracing::info!("MQTT frame rate {set} Hz");
            }
            Command::StepMqttRate(up) => {
                let set = controls.set_mqtt_rate_hz(step_rate(
                    controls.mqtt_rate_hz(),
                    up,
                    controls.max_rate_hz,
                ));
                tracing::info!("MQTT frame rate {set} Hz");
            }
            Command::ToggleMqttPause => {
                let paused = !controls.mqtt_paused.fetch_xor(true, Ordering::Relaxed);
                tracing::info!("MQTT frames {}", if paused { "paused" } else { "resumed" });
            }
            Command::SaveSnapshot => save_snapshot(&hub, &controls).await,
            Command::ReconnectMqtt => {
                tracing::info!("MQTT: reconnecting now");
                mqtt.reconnect_now();
            }
            Command::Quit => {
                quit.send_replace(true);
            }
        }
    }
}

/// Write the newest frame to `snapshot-<unix ms>-<seq>.jpg` in the working directory.
async fn save_snapshot(hub: &FrameHub, controls: &Controls) {
    let Some(frame) = hub.latest() else {
        tracing::warn!("no frame to save yet");
        return;
    };
    let ms = frame
        .captured_wall
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let path = std::env::current_dir()
        .unwrap_or_else(|_| PathBuf::from("."))
        .join(format!("snapshot-{ms}-{}.jpg", frame.seq));
    match tokio::fs::write(&path, &frame.jpeg).await {
        Ok(()) => {
            let shown = path.display().to_string();
            tracing::info!("saved {shown} ({} bytes)", frame.jpeg.len());
            *controls
                .last_saved
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(shown);
        }
        Err(e) => tracing::warn!("cannot save {}: {e}", path.display()),
    }
}

/// Everything the status snapshot is built from.
struct StatusSource {
    started: Instant,
    config: Config,
    settings: CaptureSettings,
    capture: Arc<CaptureShared>,
    controls: Arc<Controls>,
    counters: Arc<StreamCounters>,
    http_addr: SocketAddr,
    mqtt_status: watch::Receiver<ClientStatus>,
    embedded_broker: Option<String>,
    frames_published: Arc<AtomicU64>,
}

async fn status_task(source: StatusSource, tx: watch::Sender<Status>) {
    let mut frames_rate = CounterRate::default();
    let mut bytes_rate = CounterRate::default();
    let mut tick = tokio::time::interval(STATUS_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = Instant::now();
        let (capture, mut encoder) = source
            .capture
            .snapshot(&source.settings, EncoderKind::service().name());
        encoder.last_saved = source
            .controls
            .last_saved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let c = &source.counters;
        let frames_served = c.frames_served.load(Ordering::Relaxed);
        let bytes_served = c.bytes_served.load(Ordering::Relaxed);
        let stream = StreamStatus {
            address: format!("http://{}/stream", source.http_addr),
            clients: c.clients.load(Ordering::Relaxed),
            max_clients: source.config.max_clients,
            frames_served,
            bytes_served,
            frames_per_s: frames_rate.update(now, frames_served),
            bytes_per_s: bytes_rate.update(now, bytes_served),
            rejected: c.rejected.load(Ordering::Relaxed),
        };
        let mut status = Status {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_s: source.started.elapsed().as_secs_f64(),
            capture,
            encoder,
            stream,
            mqtt: crate::stats::MqttSection::default(),
        };
        status
            .mqtt
            .frame_topic
            .clone_from(&source.config.frame_topic);
        status.mqtt.rate_hz = source.controls.mqtt_rate_hz();
        status.mqtt.paused = source.controls.mqtt_paused();
        status
            .mqtt
            .embedded_broker
            .clone_from(&source.embedded_broker);
        status.mqtt.frames_published = source.frames_published.load(Ordering::Relaxed);
        status.mqtt.client = source.mqtt_status.borrow().clone();
        tx.send_replace(status);
    }
}
