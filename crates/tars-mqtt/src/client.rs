//! The cloneable handle any task uses to publish,
//! subscribe and read the status. It never waits on the network: every
//! publish is a `try_publish` on the current connection's request channel,
//! or fails at once.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rumqttc::{QoS, SubscribeFilter};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};

use super::dedup::seq_key;
use super::error::MqttError;
use super::shared::{Command, Message, Shared, Subscription, publish_on, unix_now};
use super::status::{ClientStatus, HealthStatus, LinkState};
use super::topic;

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

    /// True while a connection is up (CONNACK received, not yet lost).
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
