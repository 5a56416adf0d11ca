//! State shared by the client handles and the connection task: the current
//! link, the subscriptions, the counters and the status. Both sides import
//! from here; neither imports the other.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rumqttc::{AsyncClient, QoS};
use tokio::sync::{oneshot, watch};

use super::dedup::DedupCache;
use super::error::MqttError;
use super::status::{ClientStatus, HealthStatus};
use super::topic;

/// What handles ask of the task.
#[derive(Debug)]
pub(crate) enum Command {
    ReconnectNow,
    Shutdown {
        deadline: Instant,
        done: oneshot::Sender<Result<(), MqttError>>,
    },
}

/// An inbound message, as handed to subscription handlers.
#[derive(Debug, Clone)]
pub struct Message {
    /// The topic it was published on.
    pub topic: String,
    /// The payload as received.
    pub payload: Bytes,
    /// The QoS it was delivered with.
    pub qos: QoS,
    /// True when the broker delivered a stored retained message.
    pub retain: bool,
}

pub(crate) type Handler = Arc<dyn Fn(&Message) + Send + Sync>;

pub(crate) struct Subscription {
    pub filter: String,
    pub qos: QoS,
    pub handler: Handler,
}

/// The connection currently up, as the handle sees it.
pub(crate) struct Link {
    pub client: AsyncClient,
    pub connected_at: Instant,
    /// Publishes put on this connection's request channel.
    pub enqueued: u64,
    /// Of those, the ones with QoS ≥ 1 (they expect an ack).
    pub enqueued_acked: u64,
}

pub(crate) struct Inner {
    pub link: Option<Link>,
    pub subs: Vec<Subscription>,
    /// Outbound frame keys already published.
    pub sent_frames: DedupCache,
    /// The health the service last asked for (republished after `ready` when not ok).
    pub health: Option<HealthStatus>,
}

/// State shared by the handles and the connection task.
pub(crate) struct Shared {
    pub health_topic: String,
    pub keepalive_topic: String,
    pub max_packet_bytes: usize,
    pub inner: Mutex<Inner>,
    pub published: AtomicU64,
    pub dropped: AtomicU64,
    pub deduplicated: AtomicU64,
    pub received: AtomicU64,
    /// Inbound messages larger than `max_packet_bytes`, dropped unhandled.
    pub inbound_too_large: AtomicU64,
    pub stopping: AtomicBool,
    pub status: watch::Sender<ClientStatus>,
}

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Shared {
    /// Locks the shared state; a panic elsewhere does not make it unusable.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts one publish on the current connection, or fails at once.
    pub fn publish_raw(
        &self,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    ) -> Result<(), MqttError> {
        let mut inner = self.lock();
        publish_on(
            &mut inner,
            self.max_packet_bytes,
            topic,
            payload,
            qos,
            retain,
        )
    }

    /// Publishes `health` retained QoS 1 and shows it in the status.
    pub fn publish_health_locked(
        &self,
        inner: &mut Inner,
        health: &HealthStatus,
    ) -> Result<(), MqttError> {
        let payload =
            serde_json::to_vec(health).map_err(|e| MqttError::Serialize(e.to_string()))?;
        let topic = self.health_topic.clone();
        publish_on(
            inner,
            self.max_packet_bytes,
            &topic,
            payload,
            QoS::AtLeastOnce,
            true,
        )?;
        self.status.send_modify(|s| s.health = Some(health.clone()));
        Ok(())
    }

    /// The status with the live counters filled in.
    pub fn overlay_counters(&self, s: &mut ClientStatus) {
        s.published = self.published.load(Ordering::Relaxed);
        s.dropped = self.dropped.load(Ordering::Relaxed);
        s.deduplicated = self.deduplicated.load(Ordering::Relaxed);
        s.received = self.received.load(Ordering::Relaxed);
        s.inbound_too_large = self.inbound_too_large.load(Ordering::Relaxed);
    }

    pub(super) fn drop_one(&self) -> bool {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        false
    }
}

/// Size of a PUBLISH packet as rumqttc counts it against the limit (header
/// bytes over-estimated by a few, so what passes here never fails there).
fn publish_packet_size(topic: &str, payload_len: usize, qos: QoS) -> usize {
    let pkid = if qos == QoS::AtMostOnce { 0 } else { 2 };
    5 + 2 + topic.len() + pkid + payload_len
}

pub(super) fn publish_on(
    inner: &mut Inner,
    max_packet_bytes: usize,
    topic: &str,
    payload: Vec<u8>,
    qos: QoS,
    retain: bool,
) -> Result<(), MqttError> {
    if !topic::valid_topic(topic) {
        return Err(MqttError::InvalidTopic(topic.to_string()));
    }
    let size = publish_packet_size(topic, payload.len(), qos);
    if size > max_packet_bytes {
        // rumqttc would fail the whole connection on it: refuse it here.
        return Err(MqttError::PacketTooLarge {
            size,
            max: max_packet_bytes,
        });
    }
    let link = inner.link.as_mut().ok_or(MqttError::NotConnected)?;
    match link.client.try_publish(topic, qos, retain, payload) {
        Ok(()) => {
            link.enqueued += 1;
            if qos != QoS::AtMostOnce {
                link.enqueued_acked += 1;
            }
            Ok(())
        }
        Err(rumqttc::ClientError::TryRequest(_)) => Err(MqttError::QueueFull),
        Err(rumqttc::ClientError::Request(_)) => Err(MqttError::NotConnected),
    }
}

/// Calls each handler, containing panics so one bad handler cannot kill the
/// connection task.
pub(crate) fn call_handlers(handlers: &[Handler], message: &Message) {
    for handler in handlers {
        if catch_unwind(AssertUnwindSafe(|| handler(message))).is_err() {
            tracing::error!(topic = %message.topic, "MQTT subscription handler panicked");
        }
    }
}
