//! `GET /metrics`: the service's counters and gauges for Prometheus.
//!
//! Everything is read from the status snapshot (refreshed four times a
//! second), so a scrape costs one pass over numbers already gathered: no
//! lock on the capture path, no allocation per frame. The Prometheus text
//! format is the default; a scraper that asks for OpenMetrics
//! (`Accept: application/openmetrics-text`) gets that.

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use tokio::sync::watch;

use crate::stats::{MqttFigures, Status};

/// The prefix of every metric name.
pub const PREFIX: &str = "tars_camera";

/// The two text formats a scraper may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4 (what `promtool check metrics` reads).
    Prometheus,
    /// OpenMetrics 1.0 text (`# UNIT` lines, `# EOF`).
    OpenMetrics,
}

impl Format {
    /// The format a request's `Accept` header asks for.
    #[must_use]
    pub fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Self::OpenMetrics,
            _ => Self::Prometheus,
        }
    }

    #[must_use]
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The registry behind `/metrics`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
}

impl Metrics {
    /// Metrics read from `status` at each scrape.
    #[must_use]
    pub fn new(status: watch::Receiver<Status>) -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        registry.register_collector(Box::new(StatusCollector { status }));
        Self { registry }
    }

    /// The metrics as text in `format`.
    ///
    /// # Errors
    /// Only if formatting fails, which writing to a `String` does not.
    pub fn render(&self, format: Format) -> Result<String, fmt::Error> {
        let mut out = String::with_capacity(8 * 1024);
        match format {
            Format::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
            }
            Format::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
            }
        }
        Ok(out)
    }
}

#[derive(Debug)]
struct StatusCollector {
    status: watch::Receiver<Status>,
}

impl Collector for StatusCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let status = self.status.borrow();
        let mut out = Out(&mut encoder);
        capture(&mut out, &status)?;
        http(&mut out, &status)?;
        mqtt(&mut out, &status.mqtt.figures())?;
        control(&mut out, &status)
    }
}

/// Writes one metric family at a time.
struct Out<'a, 'b>(&'a mut DescriptorEncoder<'b>);

impl Out<'_, '_> {
    fn counter(&mut self, name: &str, help: &str, unit: Option<Unit>, value: u64) -> fmt::Result {
        let metric = ConstCounter::new(value);
        let encoder = self
            .0
            .encode_descriptor(name, help, unit.as_ref(), metric.metric_type())?;
        metric.encode(encoder)
    }

    fn gauge(&mut self, name: &str, help: &str, unit: Option<Unit>, value: f64) -> fmt::Result {
        let metric = ConstGauge::new(value);
        let encoder = self
            .0
            .encode_descriptor(name, help, unit.as_ref(), metric.metric_type())?;
        metric.encode(encoder)
    }

    /// A counter family: one series per `(labels, count)`.
    fn counters<'v, const N: usize>(
        &mut self,
        name: &str,
        help: &str,
        series: impl IntoIterator<Item = ([(&'static str, &'v str); N], u64)>,
    ) -> fmt::Result {
        let mut encoder = self
            .0
            .encode_descriptor(name, help, None, MetricType::Counter)?;
        for (labels, count) in series {
            ConstCounter::new(count).encode(encoder.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

fn capture(out: &mut Out<'_, '_>, s: &Status) -> fmt::Result {
    let c = &s.capture;
    out.counter(
        "frames_captured",
        "Frames read from the source (camera, test pattern or file).",
        None,
        c.captured,
    )?;
    out.counter(
        "frames_encoded",
        "Frames encoded to JPEG by the service.",
        None,
        c.encoded,
    )?;
    out.counter(
        "frames_passed_through",
        "Camera JPEG frames published as they came, without re-encoding.",
        None,
        c.passed_through,
    )?;
    out.counter(
        "capture_failures",
        "Failed reads, decodes and encodes of the source.",
        None,
        c.total_failures,
    )?;
    out.counter(
        "camera_reopens",
        "Times the source was closed and opened again after failures.",
        None,
        c.reopens,
    )?;
    out.gauge(
        "capture_frames_per_second",
        "Frames per second published over the last seconds.",
        None,
        c.measured_fps,
    )?;
    out.gauge(
        "capture_target_frames_per_second",
        "Frames per second asked of the source (--fps).",
        None,
        c.target_fps,
    )?;
    out.gauge(
        "jpeg_quality",
        "JPEG quality of encoded frames (1 to 100).",
        None,
        f64::from(s.encoder.quality),
    )?;
    let times = &s.encoder.encode_seconds;
    let mut encoder = out.0.encode_descriptor(
        "encode",
        "Time from a frame's arrival at an encoder to its JPEG.",
        Some(&Unit::Seconds),
        MetricType::Histogram,
    )?;
    encoder.encode_histogram::<NoLabelSet>(times.sum, times.count, &times.buckets(), None)
}

fn http(out: &mut Out<'_, '_>, s: &Status) -> fmt::Result {
    let h = &s.stream;
    out.counters(
        "http_requests",
        "HTTP requests answered, by endpoint (other: unknown paths).",
        h.requests
            .iter()
            .map(|(path, n)| ([("endpoint", path.as_str())], *n)),
    )?;
    out.counter(
        "stream_frames_served",
        "Frames written to /stream clients.",
        None,
        h.frames_served,
    )?;
    out.counter(
        "stream_served",
        "Bytes written to /stream clients.",
        Some(Unit::Bytes),
        h.bytes_served,
    )?;
    out.counter(
        "http_rejected",
        "Requests and connections refused: over a limit, malformed, or unauthorised.",
        None,
        h.rejected + h.refused_connections + h.bad_requests + h.unauthorized,
    )?;
    out.counter(
        "stream_dropped_stalled",
        "/stream clients dropped for taking no bytes for --client-timeout.",
        None,
        h.dropped_stalled,
    )?;
    out.gauge(
        "stream_clients",
        "/stream clients connected now.",
        None,
        f64::from(h.clients),
    )?;
    out.gauge(
        "status_watchers",
        "/status/events watchers (web consoles) connected now.",
        None,
        f64::from(h.watchers),
    )?;
    out.gauge(
        "http_connections",
        "HTTP connections open now.",
        None,
        f64::from(h.connections),
    )
}

fn mqtt(out: &mut Out<'_, '_>, m: &MqttFigures) -> fmt::Result {
    out.counter(
        "mqtt_published",
        "MQTT PUBLISH packets written: frames, JSON, health, heartbeats.",
        None,
        m.published,
    )?;
    out.counter(
        "mqtt_dropped",
        "MQTT messages dropped: offered while disconnected or with a full queue.",
        None,
        m.dropped,
    )?;
    out.counter(
        "mqtt_deduplicated",
        "MQTT messages handled once although seen again, and frames refused as already published.",
        None,
        m.deduplicated,
    )?;
    out.counter(
        "mqtt_inbound_too_large",
        "MQTT messages received larger than the packet limit, dropped unhandled.",
        None,
        m.inbound_too_large,
    )?;
    out.counter(
        "mqtt_reconnects",
        "MQTT connections made after the first.",
        None,
        m.reconnects,
    )?;
    out.gauge(
        "mqtt_connected",
        "1 while connected to the MQTT broker, else 0.",
        None,
        if m.connected { 1.0 } else { 0.0 },
    )?;
    out.gauge(
        "mqtt_rate_hertz",
        "Frames per second published over MQTT (0 = off).",
        None,
        m.rate_hz,
    )?;
    out.gauge(
        "mqtt_paused",
        "1 while MQTT frame publishing is paused, else 0.",
        None,
        if m.paused { 1.0 } else { 0.0 },
    )?;
    // NaN until the first heartbeat came back: Prometheus shows "no value".
    let rtt = m.round_trip_ms.map_or(f64::NAN, |ms| ms / 1e3);
    out.gauge(
        "mqtt_round_trip",
        "Publish to return through the broker of the last heartbeat.",
        Some(Unit::Seconds),
        rtt,
    )
}

fn control(out: &mut Out<'_, '_>, s: &Status) -> fmt::Result {
    let series = [
        ("keys", "applied", s.keys_applied),
        ("http", "applied", s.stream.control_applied),
        ("http", "refused", s.stream.control_refused),
        ("mqtt", "applied", s.mqtt.control.applied),
        ("mqtt", "refused", s.mqtt.control.rejected),
    ];
    out.counters(
        "control_commands",
        "Control commands, by origin (keys, http, mqtt) and result (applied, refused).",
        series.map(|(origin, result, n)| ([("origin", origin), ("result", result)], n)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(status: Status, format: Format) -> String {
        let (_tx, rx) = watch::channel(status);
        Metrics::new(rx).render(format).expect("render")
    }

    #[test]
    fn every_family_has_help_type_and_the_prefix() {
        let mut status = Status::default();
        status.capture.captured = 42;
        status.encoder.encode_seconds.record(0.004);
        status.encoder.encode_seconds.record(3.0);
        status.stream.requests.insert("/stream".into(), 3);
        let text = render(status, Format::Prometheus);
        assert!(
            text.contains("tars_camera_frames_captured_total 42\n"),
            "{text}"
        );
        assert!(text.contains("tars_camera_http_requests_total{endpoint=\"/stream\"} 3\n"));
        assert!(
            text.contains("tars_camera_encode_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("tars_camera_encode_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("tars_camera_encode_seconds_count 2\n"));
        assert!(
            text.contains("tars_camera_mqtt_round_trip_seconds NaN\n"),
            "{text}"
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("tars_camera_"), "{line}");
        }
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        assert_eq!(helps, types);
        assert!(helps >= 25, "{helps} families");
    }

    #[test]
    fn openmetrics_when_asked_for() {
        assert_eq!(Format::from_accept(None), Format::Prometheus);
        assert_eq!(
            Format::from_accept(Some(
                "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
            )),
            Format::OpenMetrics
        );
        let text = render(Status::default(), Format::OpenMetrics);
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(text.contains("# UNIT tars_camera_encode_seconds seconds\n"));
    }
}
