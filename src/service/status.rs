//! The status snapshot: built from every part's counters four times a
//! second and shared through a `watch`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::capture::thread::{CaptureSettings, CaptureShared};
use crate::config::Config;
use crate::control::Controls;
use crate::http::StreamCounters;
use crate::stats::{CounterRate, Status};
use tars_mqtt::ClientStatus;

/// How often the status snapshot is refreshed.
pub const STATUS_PERIOD: Duration = Duration::from_millis(250);

/// Everything the status snapshot is built from.
#[derive(Clone)]
pub(super) struct StatusSource {
    pub(super) started: Instant,
    pub(super) config: Config,
    pub(super) settings: CaptureSettings,
    pub(super) capture: Arc<CaptureShared>,
    pub(super) controls: Arc<Controls>,
    pub(super) counters: Arc<StreamCounters>,
    /// Where a viewer opens the stream.
    pub(super) stream_url: String,
    pub(super) mqtt_status: watch::Receiver<ClientStatus>,
    pub(super) embedded_broker: Option<String>,
    pub(super) publisher: Arc<super::publisher::PublisherCounters>,
    pub(super) control: Arc<crate::control::mqtt::MqttControlCounters>,
    pub(super) supervisor: Arc<crate::supervise::Supervisor>,
}

/// Refresh the status snapshot every [`STATUS_PERIOD`] until aborted.
pub(super) async fn run(source: StatusSource, tx: watch::Sender<Status>) {
    let mut frames_rate = CounterRate::default();
    let mut bytes_rate = CounterRate::default();
    // The start on the wall clock, once: the same value in every snapshot.
    let started_at = crate::frame::unix_seconds(
        std::time::SystemTime::now()
            .checked_sub(source.started.elapsed())
            .unwrap_or_else(std::time::SystemTime::now),
    );
    let mut tick = tokio::time::interval(STATUS_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = Instant::now();
        let (capture, mut encoder) = source
            .capture
            .snapshot(&source.settings, source.settings.codec.name());
        encoder.last_saved = source.controls.last_saved();
        let mut stream = source.counters.status(
            source.stream_url.clone(),
            &super::http_limits(&source.config),
            &source.config.http_auth,
        );
        stream.frames_per_s = frames_rate.update(now, stream.frames_served);
        stream.bytes_per_s = bytes_rate.update(now, stream.bytes_served);
        let mut status = Status {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_s: source.started.elapsed().as_secs_f64(),
            started_at,
            capture,
            encoder,
            stream,
            mqtt: crate::stats::MqttSection::default(),
            keys_applied: source.controls.keys_applied(),
            tasks: source.supervisor.status(),
            controls: source.capture.controls(),
            modes: source.capture.modes_view(),
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
        status.mqtt.frames_published = source.publisher.published.load(Ordering::Relaxed);
        status.mqtt.payload_errors = source.publisher.payload_errors.load(Ordering::Relaxed);
        status.mqtt.client = source.mqtt_status.borrow().clone();
        status.mqtt.control = source
            .control
            .status(source.config.control_topic.as_deref().unwrap_or(""));
        tx.send_replace(status);
    }
}
