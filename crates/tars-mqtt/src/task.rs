//! The task that owns the connection: one fresh rumqttc `AsyncClient` +
//! `EventLoop` per attempt (so nothing queued survives a lost link), backoff
//! between attempts, health `ready` and re-subscription on every CONNACK, the
//! heartbeat, and a clean shutdown.
//!
//! `EventLoop::poll` is not cancel-safe (it can be inside a write), so it runs
//! in its own poller task that forwards events over a channel; this task
//! `select!`s on that channel. On loss the poller and its event loop are
//! dropped whole.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, Incoming, MqttOptions, NetworkOptions, QoS,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until};

use super::config::ClientConfig;
use super::error::MqttError;
use super::heartbeat::{Heartbeat, RoundTrips, Schedule};
use super::shared::{Command, Shared, unix_ms, unix_now};
use super::status::LinkState;
use crate::backoff::Backoff;

type Reply = Option<oneshot::Sender<Result<(), MqttError>>>;
pub(crate) type EventResult = Result<Event, ConnectionError>;

/// How one connection attempt ended.
enum Outcome {
    Failed(MqttError),
    Lost { error: MqttError, stable: bool },
    Reconnect,
    Shutdown(Reply, Result<(), MqttError>),
}

/// Status refresh period (a UI countdown stays live).
const TICK: Duration = Duration::from_millis(250);
/// Time allowed for DISCONNECT to go out on `reconnect_now`.
const DISCONNECT_WAIT: Duration = Duration::from_millis(300);

/// The connection owner: one per client, spawned by [`super::connect`].
pub(crate) struct Task {
    pub(super) shared: Arc<Shared>,
    pub(super) options: Result<MqttOptions, MqttError>,
    pub(super) network: NetworkOptions,
    pub(super) capacity: usize,
    pub(super) backoff: Backoff,
    pub(super) stable_after: Duration,
    pub(super) schedule: Schedule,
    pub(super) rtt: RoundTrips,
    pub(super) inbound: super::dedup::DedupCache,
    /// Topics an oversize message came on (see `drop_too_large`).
    pub(super) too_large_topics: std::collections::HashSet<String>,
    pub(super) started: Instant,
    pub(super) heartbeat_seq: u64,
    pub(super) attempt: u32,
    pub(super) connections: u64,
    pub(super) commands: mpsc::Receiver<Command>,
}

/// Per-connection bookkeeping of what actually went out.
#[derive(Default)]
pub(crate) struct LinkStats {
    pub written: u64,
    pub written_acked: u64,
    pub outstanding: HashSet<u16>,
    pub disconnect_sent: bool,
}

/// Aborts the poller (dropping its event loop and socket) when dropped.
struct Poller(JoinHandle<()>);

impl Drop for Poller {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn poll_loop(mut eventloop: EventLoop, events: mpsc::Sender<EventResult>) {
    loop {
        let event = eventloop.poll().await;
        let failed = event.is_err();
        // After an error we stop: rumqttc would otherwise reconnect by itself
        // (and replay what was queued) on the next poll.
        if events.send(event).await.is_err() || failed {
            return;
        }
    }
}

impl Task {
    /// The task for `config`, sharing `shared` with the handles and taking
    /// their commands from `commands`.
    pub(super) fn new(
        config: &ClientConfig,
        shared: Arc<Shared>,
        commands: mpsc::Receiver<Command>,
    ) -> Self {
        Self {
            shared,
            options: super::options::mqtt_options(config),
            network: super::options::network_options(config),
            capacity: config.request_capacity.max(1),
            backoff: Backoff::new(
                config.reconnect_min,
                config.reconnect_max,
                config.reconnect_jitter,
                fastrand::u64(..),
            ),
            stable_after: config.stable_after,
            schedule: Schedule::new(config.heartbeat_interval),
            rtt: RoundTrips::default(),
            inbound: super::dedup::DedupCache::new(config.dedup_ttl, config.dedup_capacity),
            too_large_topics: std::collections::HashSet::new(),
            started: Instant::now(),
            heartbeat_seq: 0,
            attempt: 1,
            connections: 0,
            commands,
        }
    }

    pub async fn run(mut self) {
        let (reply, result) = loop {
            let outcome = match self.options.clone() {
                Ok(options) => self.connect_once(options).await,
                Err(e) => Outcome::Failed(e),
            };
            let delay = match outcome {
                Outcome::Shutdown(reply, result) => break (reply, result),
                Outcome::Failed(error) => {
                    tracing::debug!(%error, attempt = self.attempt, "MQTT connect failed");
                    self.set_error(&error);
                    self.attempt += 1;
                    self.backoff.next_delay()
                }
                Outcome::Lost { error, stable } => {
                    tracing::warn!(%error, "MQTT link lost");
                    self.set_error(&error);
                    if stable {
                        self.backoff.reset();
                        self.attempt = 1;
                    } else {
                        self.attempt += 1;
                    }
                    self.backoff.next_delay()
                }
                Outcome::Reconnect => Duration::ZERO,
            };
            if let Some((reply, result)) = self.wait(delay).await {
                break (reply, result);
            }
        };
        self.shared.stopping.store(true, Ordering::Relaxed);
        let shared = self.shared.clone();
        self.shared.status.send_modify(|s| {
            s.state = LinkState::Stopped;
            s.since_unix_ms = unix_ms();
            s.next_attempt_in_ms = None;
            s.heartbeat.next_due_in_ms = None;
            shared.overlay_counters(s);
        });
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
    }

    fn set_error(&self, error: &MqttError) {
        let text = error.to_string();
        self.shared
            .status
            .send_modify(|s| s.last_error = Some(text));
    }

    /// Backs off for `delay`, counting down in the status. `Some` on shutdown.
    async fn wait(&mut self, delay: Duration) -> Option<(Reply, Result<(), MqttError>)> {
        let deadline = Instant::now() + delay;
        let attempt = self.attempt;
        let mut first = true;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let shared = self.shared.clone();
            self.shared.status.send_modify(|s| {
                if first {
                    s.state = LinkState::Waiting;
                    s.since_unix_ms = unix_ms();
                    s.attempt = attempt;
                }
                s.next_attempt_in_ms = Some(u64::try_from(left.as_millis()).unwrap_or(u64::MAX));
                shared.overlay_counters(s);
            });
            first = false;
            if left.is_zero() {
                return None;
            }
            tokio::select! {
                () = sleep(left.min(TICK)) => {}
                command = self.commands.recv() => match command {
                    Some(Command::ReconnectNow) => return None,
                    Some(Command::Shutdown { done, .. }) => {
                        return Some((Some(done), Err(MqttError::NotConnected)));
                    }
                    None => return Some((None, Err(MqttError::NotConnected))),
                },
            }
        }
    }

    async fn connect_once(&mut self, options: MqttOptions) -> Outcome {
        let attempt = self.attempt;
        self.shared.status.send_modify(|s| {
            s.state = LinkState::Connecting;
            s.since_unix_ms = unix_ms();
            s.attempt = attempt;
            s.next_attempt_in_ms = None;
        });
        let (client, mut eventloop) = AsyncClient::new(options, self.capacity);
        eventloop.set_network_options(self.network.clone());
        let (tx, mut events) = mpsc::channel(64);
        let _poller = Poller(tokio::spawn(poll_loop(eventloop, tx)));
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(Ok(Event::Incoming(Incoming::ConnAck(_)))) => break,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Outcome::Failed(MqttError::from_connection(&e, self.shared.max_packet_bytes)),
                    None => return Outcome::Failed(MqttError::Lost("event loop ended".into())),
                },
                command = self.commands.recv() => match command {
                    Some(Command::ReconnectNow) => {}
                    Some(Command::Shutdown { done, .. }) => {
                        return Outcome::Shutdown(Some(done), Err(MqttError::NotConnected));
                    }
                    None => return Outcome::Shutdown(None, Err(MqttError::NotConnected)),
                },
            }
        }
        let mut stats = LinkStats::default();
        self.on_connack(client.clone());
        let outcome = self.connected(&client, &mut events, &mut stats).await;
        // Tear down: the handle sees no link; what was queued but never
        // written is lost with the event loop and counted as dropped.
        let lost = self
            .shared
            .lock()
            .link
            .take()
            .map_or(0, |link| link.enqueued.saturating_sub(stats.written));
        self.shared.dropped.fetch_add(lost, Ordering::Relaxed);
        self.schedule.pause();
        self.rtt.clear();
        self.shared
            .status
            .send_modify(|s| s.heartbeat.next_due_in_ms = None);
        outcome
    }

    async fn connected(
        &mut self,
        client: &AsyncClient,
        events: &mut mpsc::Receiver<EventResult>,
        stats: &mut LinkStats,
    ) -> Outcome {
        let stable_at = tokio::time::Instant::now() + self.stable_after;
        let mut stable = false;
        let mut tick = tokio::time::interval(TICK);
        loop {
            let beat_due = self.schedule.next_due();
            let beat_at = beat_due.map_or_else(|| stable_at, tokio::time::Instant::from_std);
            tokio::select! {
                event = events.recv() => match event {
                    Some(Ok(event)) => self.on_event(event, stats),
                    Some(Err(e)) => {
                        return Outcome::Lost { error: MqttError::from_connection(&e, self.shared.max_packet_bytes), stable };
                    }
                    None => {
                        let error = MqttError::Lost("event loop ended".into());
                        return Outcome::Lost { error, stable };
                    }
                },
                () = sleep_until(beat_at), if beat_due.is_some() => self.beat(),
                () = sleep_until(stable_at), if !stable => {
                    stable = true;
                    self.backoff.reset();
                    self.attempt = 1;
                    self.shared.status.send_modify(|s| s.attempt = 1);
                }
                _ = tick.tick() => self.refresh_status(),
                command = self.commands.recv() => match command {
                    Some(Command::ReconnectNow) => {
                        let deadline = Instant::now() + DISCONNECT_WAIT;
                        self.disconnect(client, events, stats, deadline).await;
                        self.set_error(&MqttError::Lost("reconnect requested".into()));
                        return Outcome::Reconnect;
                    }
                    Some(Command::Shutdown { deadline, done }) => {
                        let result = self.shutdown(client, events, stats, deadline).await;
                        return Outcome::Shutdown(Some(done), result);
                    }
                    None => {
                        let deadline = Instant::now() + super::config::DEFAULT_SHUTDOWN_TIMEOUT;
                        let result = self.shutdown(client, events, stats, deadline).await;
                        return Outcome::Shutdown(None, result);
                    }
                },
            }
        }
    }

    /// Publishes one heartbeat if it is due.
    fn beat(&mut self) {
        let now = Instant::now();
        if self.schedule.fire(now).is_none() {
            return;
        }
        let seq = self.heartbeat_seq + 1;
        let heartbeat = Heartbeat {
            ok: true,
            event: "heartbeat".into(),
            timestamp: unix_now(),
            seq,
            uptime_s: self.started.elapsed().as_secs_f64(),
        };
        let payload = match serde_json::to_vec(&heartbeat) {
            Ok(p) => p,
            Err(e) => return tracing::error!(error = %e, "heartbeat not serializable"),
        };
        let topic = self.shared.keepalive_topic.clone();
        match self
            .shared
            .publish_raw(&topic, payload, QoS::AtMostOnce, false)
        {
            Ok(()) => {
                self.heartbeat_seq = seq;
                self.rtt.sent(seq, now);
                let drift_ms = self.schedule.max_drift().as_secs_f64() * 1000.0;
                self.shared.status.send_modify(|s| {
                    s.heartbeat.sent = seq;
                    s.heartbeat.last_unix_ms = Some(unix_ms());
                    s.heartbeat.max_drift_ms = drift_ms;
                });
            }
            Err(e) => tracing::warn!(error = %e, "heartbeat not published"),
        }
        self.refresh_status();
    }

    fn refresh_status(&self) {
        let next_due = self.schedule.next_due().map(|due| {
            let left = due.saturating_duration_since(Instant::now());
            u64::try_from(left.as_millis()).unwrap_or(u64::MAX)
        });
        let shared = &self.shared;
        shared.status.send_if_modified(|s| {
            let before = (s.published, s.dropped, s.deduplicated, s.received);
            let due_before = s.heartbeat.next_due_in_ms;
            shared.overlay_counters(s);
            s.heartbeat.next_due_in_ms = next_due;
            before != (s.published, s.dropped, s.deduplicated, s.received) || due_before != next_due
        });
    }
}
