//! The cloneable handle any task (or the capture thread) uses to publish,
//! subscribe and read the status. It never waits on the network: every
//! publish is a `try_publish` on the current connection's request channel,
//! or fails at once.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rumqttc::{AsyncClient, QoS, SubscribeFilter};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};

use super::dedup::{DedupCache, seq_key};
use super::error::MqttError;
use super::status::{ClientStatus, HealthStatus, LinkState};
use super::task::Command;
use super::topic;

/// An inbound message, as handed to subscription handlers.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: String,
    pub payload: Bytes,
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
    }

    fn drop_one(&self) -> bool {
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

fn publish_on(
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

/// A cloneable handle to the robot's MQTT client. See [`super::connect`].
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    pub(crate) commands: mpsc::Sender<Command>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.shared.status.borrow();
        f.debug_struct("Client")
            .field("broker", &status.broker)
            .field("client_id", &status.client_id)
            .field("state", &status.state)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The latest status, counters up to date.
    #[must_use]
    pub fn status(&self) -> ClientStatus {
        let mut s = self.shared.status.borrow().clone();
        self.shared.overlay_counters(&mut s);
        s
    }

    /// A receiver of status updates (at least every ~250 ms while anything changes).
    #[must_use]
    pub fn watch_status(&self) -> watch::Receiver<ClientStatus> {
        self.shared.status.subscribe()
    }

    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.shared.lock().link.is_some()
    }

    /// Publishes `value` as JSON on the current connection. Never waits:
    /// fails with `NotConnected`, `QueueFull`, `PacketTooLarge` or `Stopped`
    /// instead, and nothing is queued for later.
    pub fn publish_json<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        value: &T,
        qos: QoS,
        retain: bool,
    ) -> Result<(), MqttError> {
        let payload = serde_json::to_vec(value).map_err(|e| MqttError::Serialize(e.to_string()))?;
        self.publish_bytes(topic, payload, qos, retain)
    }

    /// Like [`Client::publish_json`] for a raw payload.
    pub fn publish_bytes(
        &self,
        topic: &str,
        payload: impl Into<Vec<u8>>,
        qos: QoS,
        retain: bool,
    ) -> Result<(), MqttError> {
        if self.shared.stopping.load(Ordering::Relaxed) {
            return Err(MqttError::Stopped);
        }
        self.shared.publish_raw(topic, payload.into(), qos, retain)
    }

    /// Offers one frame (QoS 0, not retained). Never waits. Returns true if
    /// it was put on the current connection. It is dropped (and counted in
    /// `dropped`) when not connected, when the queue is full, when it is too
    /// large, or when it was captured before the current connection came up
    /// (no stale frames after a reconnect). A `seq` already published on this
    /// topic is refused and counted in `deduplicated`.
    pub fn try_publish_frame(
        &self,
        topic: &str,
        seq: u64,
        payload: impl Into<Vec<u8>>,
        captured_at: Instant,
    ) -> bool {
        if self.shared.stopping.load(Ordering::Relaxed) {
            return self.shared.drop_one();
        }
        let now = Instant::now();
        let key = seq_key(topic, seq);
        let mut inner = self.shared.lock();
        match &inner.link {
            Some(link) if captured_at >= link.connected_at => {}
            _ => return self.shared.drop_one(),
        }
        if inner.sent_frames.contains(key, now) {
            self.shared.deduplicated.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let max = self.shared.max_packet_bytes;
        match publish_on(
            &mut inner,
            max,
            topic,
            payload.into(),
            QoS::AtMostOnce,
            false,
        ) {
            Ok(()) => {
                inner.sent_frames.first_seen(key, now);
                true
            }
            Err(_) => self.shared.drop_one(),
        }
    }

    /// Calls `handler` for every message matching `filter` (`+`/`#` allowed),
    /// now and after every reconnect. Handlers run on the connection task:
    /// keep them short, hand heavy work to another task. A message seen twice
    /// (same `id`/`seq`, else same payload, within the dedup TTL) is handled once.
    pub fn subscribe<F>(&self, filter: &str, qos: QoS, handler: F) -> Result<(), MqttError>
    where
        F: Fn(&Message) + Send + Sync + 'static,
    {
        if !topic::valid_filter(filter) {
            return Err(MqttError::InvalidTopic(filter.to_string()));
        }
        if self.shared.stopping.load(Ordering::Relaxed) {
            return Err(MqttError::Stopped);
        }
        let mut inner = self.shared.lock();
        inner.subs.push(Subscription {
            filter: filter.to_string(),
            qos,
            handler: Arc::new(handler),
        });
        // If not connected, the next CONNACK subscribes it.
        if let Some(link) = &inner.link {
            let sub = SubscribeFilter::new(filter.to_string(), qos);
            link.client
                .try_subscribe_many([sub])
                .map_err(|_| MqttError::QueueFull)?;
        }
        Ok(())
    }

    /// Sets the service health: remembered, and published retained QoS 1 on
    /// `system/health/<name>` now if connected. When not connected it returns
    /// `NotConnected`, and a not-ok health is republished right after `ready`
    /// on the next connect.
    pub fn set_health(&self, ok: bool, event: &str, err: Option<String>) -> Result<(), MqttError> {
        if self.shared.stopping.load(Ordering::Relaxed) {
            return Err(MqttError::Stopped);
        }
        let health = HealthStatus {
            ok,
            event: event.to_string(),
            err,
            timestamp: unix_now(),
        };
        let mut inner = self.shared.lock();
        inner.health = Some(health.clone());
        self.shared.publish_health_locked(&mut inner, &health)
    }

    /// Drops the link and connects again at once (skipping any wait).
    pub fn reconnect_now(&self) {
        // A full command queue already holds a command that wakes the task.
        let _ = self.commands.try_send(Command::ReconnectNow);
    }

    /// Publishes retained `{"ok": false, "event": "stopped"}`, waits for its
    /// PUBACK, disconnects cleanly (so the last will is not sent) and stops.
    /// Bounded by `timeout` ([`super::DEFAULT_SHUTDOWN_TIMEOUT`] is 1 s). The
    /// client is stopped afterwards in every case; the error says what could
    /// not be done (`NotConnected`: `stopped` was not published).
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), MqttError> {
        self.shared.stopping.store(true, Ordering::Relaxed);
        let deadline = tokio::time::Instant::now() + timeout;
        let (done, reply) = oneshot::channel();
        let command = Command::Shutdown {
            deadline: deadline.into_std(),
            done,
        };
        match tokio::time::timeout_at(deadline, self.commands.send(command)).await {
            Ok(Ok(())) => {}
            // The task is gone: already stopped.
            Ok(Err(_)) => return self.already_stopped(),
            Err(_) => return Err(MqttError::Timeout("shutdown command not taken".into())),
        }
        let grace = Duration::from_millis(100);
        match tokio::time::timeout_at(deadline + grace, reply).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => self.already_stopped(),
            Err(_) => Err(MqttError::Timeout("shutdown did not finish".into())),
        }
    }

    fn already_stopped(&self) -> Result<(), MqttError> {
        if self.shared.status.borrow().state == LinkState::Stopped {
            Ok(())
        } else {
            Err(MqttError::Stopped)
        }
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
