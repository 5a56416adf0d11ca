//! Frames to MQTT at the live rate, and camera health to the health topic.
//!
//! Runs on the async runtime, never on the capture thread: base64 and JSON are
//! done here, once per published frame, and only while the link is up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Serialize;
use tokio::sync::watch;

use crate::capture::thread::CameraHealth;
use crate::control::Controls;
use crate::frame::{Frame, FrameHub};
use tars_mqtt::Client;

/// The frame payload (field names as the Python service had them, plus `seq`).
#[derive(Debug, Serialize)]
pub struct FramePayload<'a> {
    /// Base64 of the JPEG.
    pub frame: &'a str,
    pub timestamp: f64,
    pub width: u32,
    pub height: u32,
    pub quality: u8,
    pub mqtt_rate: f64,
    pub backend: &'a str,
    pub consecutive_failures: u64,
    pub seq: u64,
    /// The camera's own JPEG, not re-encoded (`quality` is then the setting).
    pub passthrough: bool,
}

/// Serialize `frame` as the JSON payload.
///
/// # Errors
/// The payload does not serialise (never with these plain fields; the
/// caller logs and counts it instead of sending something empty).
pub fn frame_payload(
    frame: &Frame,
    quality_setting: u8,
    rate_hz: f64,
) -> Result<Vec<u8>, serde_json::Error> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(&frame.jpeg);
    let payload = FramePayload {
        frame: &b64,
        timestamp: frame.timestamp(),
        width: frame.width,
        height: frame.height,
        quality: frame.quality.unwrap_or(quality_setting),
        mqtt_rate: rate_hz,
        backend: frame.backend,
        consecutive_failures: frame.consecutive_failures,
        seq: frame.seq,
        passthrough: frame.quality.is_none(),
    };
    serde_json::to_vec(&payload)
}

/// What the frame publisher counts (read by the status).
#[derive(Debug, Default)]
pub struct PublisherCounters {
    /// Frames handed to the MQTT client.
    pub published: AtomicU64,
    /// Frames whose payload could not be built (logged, never sent).
    pub payload_errors: AtomicU64,
}

/// The longest period between frames: that of the lowest rate other than 0.
const MAX_PERIOD: Duration = Duration::from_secs(100);

/// When the next frame is due at `rate_hz`, given the one just taken at `now`.
/// Keeps the long-run rate (no drift) but never bursts to catch up. A rate
/// whose period is not a representable duration (below the minimum, 0,
/// NaN) waits `MAX_PERIOD`: no panic, no overflow, whatever the controls say.
#[must_use]
pub fn next_due(previous_due: Instant, now: Instant, rate_hz: f64) -> Instant {
    let period = Duration::try_from_secs_f64(1.0 / rate_hz)
        .unwrap_or(MAX_PERIOD)
        .min(MAX_PERIOD);
    let next = later_by(previous_due, period);
    if later_by(next, period / 2) < now {
        later_by(now, period)
    } else {
        next.max(now)
    }
}

fn later_by(t: Instant, d: Duration) -> Instant {
    t.checked_add(d).unwrap_or(t)
}

/// How early a frame may be taken before it is due.
const EARLY: Duration = Duration::from_millis(5);
/// Longest sleep between looks at the rate and pause settings.
const MAX_NAP: Duration = Duration::from_millis(100);

/// Offer frames to MQTT at the rate the controls say (read at least every
/// `MAX_NAP`, so a change applies within a tenth of a second); with
/// `jpeg_topic`, each frame also goes there as bare JPEG bytes.
pub async fn publish_frames(
    hub: Arc<FrameHub>,
    client: Client,
    controls: Arc<Controls>,
    topic: String,
    jpeg_topic: Option<String>,
    quality: impl Fn() -> u8 + Send,
    counters: Arc<PublisherCounters>,
) {
    let mut seqs = hub.subscribe();
    let mut due = Instant::now();
    loop {
        // Sleep until shortly before the next frame is due rather than wake
        // for every frame in between (a fast source makes hundreds a
        // second); rate and pause changes apply within `MAX_NAP`.
        let now = Instant::now();
        let nap_until = due.checked_sub(EARLY).unwrap_or(now).min(now + MAX_NAP);
        if nap_until > now {
            tokio::time::sleep_until(nap_until.into()).await;
            // Frames made during the nap are stale: wait for a fresh one.
            seqs.borrow_and_update();
        }
        if seqs.changed().await.is_err() {
            break;
        }
        let rate_hz = controls.mqtt_rate_hz();
        if rate_hz <= 0.0 || controls.mqtt_paused() {
            due = Instant::now() + MAX_NAP;
            continue;
        }
        let now = Instant::now();
        // Allow a little early (frames arrive on the capture grid).
        if now + EARLY < due {
            continue;
        }
        due = next_due(due.min(now), now, rate_hz);
        let Some(frame) = hub.latest() else { continue };
        // Build the payload only when it can be sent; otherwise the client
        // drops and counts the frame without the base64 work.
        let payload = if client.is_connected() {
            match frame_payload(&frame, quality(), rate_hz) {
                Ok(payload) => payload,
                Err(e) => {
                    counters.payload_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("frame {} not published: payload: {e}", frame.seq);
                    continue;
                }
            }
        } else {
            Vec::new()
        };
        if client.try_publish_frame(&topic, frame.seq, payload, frame.captured_at) {
            counters.published.fetch_add(1, Ordering::Relaxed);
            // The bare JPEG for Home Assistant's camera, at the same rate.
            if let Some(jpeg_topic) = &jpeg_topic {
                let jpeg = frame.jpeg.to_vec();
                client.try_publish_frame(jpeg_topic, frame.seq, jpeg, frame.captured_at);
            }
        }
    }
}

/// Turn camera health changes into `camera_error` / `camera_ok` health
/// events. (The "no signal" picture for HTTP viewers is the camera side's:
/// see [`super::no_signal::follow_camera_health`].)
pub async fn relay_camera_health(mut health: watch::Receiver<CameraHealth>, client: Client) {
    let mut failing = false;
    loop {
        let current = health.borrow_and_update().clone();
        match current {
            CameraHealth::Failing(err) if !failing => {
                failing = true;
                // Remembered by the client and republished on reconnect even
                // when this call finds the link down.
                let _ = client.set_health(false, "camera_error", Some(err));
            }
            CameraHealth::Ok if failing => {
                failing = false;
                let _ = client.set_health(true, "camera_ok", None);
            }
            _ => {}
        }
        if health.changed().await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::SystemTime;

    #[test]
    fn payload_has_every_field_and_decodes() {
        let frame = Frame {
            seq: 42,
            jpeg: Bytes::from_static(&[0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9]),
            width: 640,
            height: 480,
            quality: Some(75),
            captured_at: Instant::now(),
            captured_wall: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_500),
            backend: "test-pattern",
            consecutive_failures: 0,
        };
        let v: serde_json::Value =
            serde_json::from_slice(&frame_payload(&frame, 80, 2.0).expect("payload"))
                .expect("json");
        let jpeg = base64::engine::general_purpose::STANDARD
            .decode(v["frame"].as_str().expect("frame"))
            .expect("base64");
        assert_eq!(jpeg, frame.jpeg.as_ref());
        assert_eq!(v["timestamp"].as_f64(), Some(1_700_000_000.5));
        assert_eq!(v["width"], 640);
        assert_eq!(v["height"], 480);
        assert_eq!(v["quality"], 75);
        assert_eq!(v["mqtt_rate"], 2.0);
        assert_eq!(v["backend"], "test-pattern");
        assert_eq!(v["consecutive_failures"], 0);
        assert_eq!(v["seq"], 42);
        assert_eq!(v["passthrough"], false);
    }

    #[test]
    fn rate_schedule_keeps_the_rate_without_bursts() {
        let t0 = Instant::now();
        // 2 Hz, frames every 100 ms: due at 0, 500, 1000 ms…
        let mut due = t0;
        let mut taken = Vec::new();
        for i in 0..30u64 {
            let now = t0 + Duration::from_millis(i * 100);
            if now + Duration::from_millis(5) >= due {
                taken.push(i * 100);
                due = next_due(due.min(now), now, 2.0);
            }
        }
        assert_eq!(taken, vec![0, 500, 1000, 1500, 2000, 2500]);
        // After a long gap, the next is one period later, not a burst.
        let late = t0 + Duration::from_secs(10);
        assert_eq!(next_due(t0, late, 2.0), late + Duration::from_millis(500));
    }

    #[test]
    fn any_rate_gives_a_due_time_without_panic() {
        let t0 = Instant::now();
        for rate in [
            1e-300,
            f64::MIN_POSITIVE,
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            1e300,
        ] {
            let due = next_due(t0, t0, rate);
            assert!(due >= t0 && due <= t0 + MAX_PERIOD, "{rate}: {due:?}");
        }
        assert_eq!(next_due(t0, t0, 0.01), t0 + MAX_PERIOD);
    }
}
