//! Events of the connection on the task: acks and writes are counted;
//! inbound messages go through dedup, the heartbeat round trip, the health
//! guard, then the subscription handlers.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use rumqttc::{Event, Incoming, Outgoing, Publish, SubscribeReasonCode};
use serde::Deserialize;

use super::dedup::message_identity;
use super::shared::{Handler, Message, call_handlers, unix_now};
use super::status::HealthStatus;
use super::task::{LinkStats, Task};
use super::topic;

/// Topics remembered as having sent an oversize message (logged once each).
const TOO_LARGE_TOPICS_KEPT: usize = 32;

#[derive(Deserialize)]
struct SeqOnly {
    seq: u64,
}

#[derive(Deserialize)]
struct HealthFields {
    ok: bool,
    event: String,
}

impl Task {
    /// One event of the current connection's event loop.
    pub(crate) fn on_event(&mut self, event: Event, stats: &mut LinkStats) {
        match event {
            Event::Incoming(Incoming::Publish(publish)) => {
                self.shared.received.fetch_add(1, Ordering::Relaxed);
                self.on_publish(publish);
            }
            Event::Incoming(Incoming::PubAck(ack)) => {
                stats.outstanding.remove(&ack.pkid);
            }
            Event::Incoming(Incoming::PubComp(comp)) => {
                stats.outstanding.remove(&comp.pkid);
            }
            Event::Incoming(Incoming::SubAck(ack))
                if ack.return_codes.contains(&SubscribeReasonCode::Failure) =>
            {
                tracing::warn!("MQTT broker refused a subscription");
            }
            Event::Outgoing(Outgoing::Publish(pkid)) => {
                stats.written += 1;
                self.shared.published.fetch_add(1, Ordering::Relaxed);
                if pkid != 0 {
                    stats.written_acked += 1;
                    stats.outstanding.insert(pkid);
                }
            }
            Event::Outgoing(Outgoing::Disconnect) => stats.disconnect_sent = true,
            _ => {}
        }
    }

    pub(crate) fn on_publish(&mut self, publish: Publish) {
        if publish.payload.len() > self.shared.max_packet_bytes {
            self.drop_too_large(&publish);
            return;
        }
        let now = Instant::now();
        let dup = publish.dup;
        let message = Message {
            topic: publish.topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
        };
        if message.topic == self.shared.health_topic {
            self.guard_health(&message);
        }
        // A message that names itself (`id`, `seq`) is handled once per
        // name. One known only by its payload is a duplicate when the broker
        // delivers it again (DUP, after a reconnect): the same command sent
        // twice on purpose (pause, resume, pause) is handled each time.
        let (key, named) = message_identity(&message.topic, &message.payload);
        let fresh = self.inbound.first_seen(key, now);
        if !fresh && (named || dup) {
            self.shared.deduplicated.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if message.topic == self.shared.keepalive_topic {
            self.heartbeat_returned(&message, now);
        }
        let handlers: Vec<Handler> = self
            .shared
            .lock()
            .subs
            .iter()
            .filter(|s| topic::matches(&s.filter, &message.topic))
            .map(|s| Arc::clone(&s.handler))
            .collect();
        // Called without holding the lock: a handler may publish.
        call_handlers(&handlers, &message);
    }

    /// A message over the packet limit is never handled (nor hashed for
    /// dedup). Logged once per topic while they keep coming: a retained
    /// one comes back after every reconnect.
    fn drop_too_large(&mut self, publish: &Publish) {
        let total = self
            .shared
            .inbound_too_large
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        if self.too_large_topics.len() >= TOO_LARGE_TOPICS_KEPT {
            self.too_large_topics.clear();
        }
        if self.too_large_topics.insert(publish.topic.clone()) {
            let topic: String = publish.topic.chars().take(64).collect();
            let cut = if topic.len() < publish.topic.len() {
                "…"
            } else {
                ""
            };
            tracing::warn!(
                "MQTT: dropped a {}-byte{} message on {topic}{cut} (limit {} bytes; {total} dropped so far){}",
                publish.payload.len(),
                if publish.retain { " retained" } else { "" },
                self.shared.max_packet_bytes,
                if publish.retain {
                    "; clear it with an empty retained message on that topic"
                } else {
                    ""
                },
            );
        }
    }

    fn heartbeat_returned(&mut self, message: &Message, now: Instant) {
        let Ok(SeqOnly { seq }) = serde_json::from_slice(&message.payload) else {
            return;
        };
        if let Some(rtt) = self.rtt.returned(seq, now) {
            let rtt_ms = rtt.as_secs_f64() * 1000.0;
            self.shared
                .status
                .send_modify(|s| s.heartbeat.round_trip_ms = Some(rtt_ms));
        }
    }

    /// A live (not retained) `offline` on our health topic while we are
    /// connected is stale: the last will of an earlier connection of ours
    /// that the broker fired late (rumqttd can do this when a client
    /// reconnects at once), or of another instance. Re-assert our health so
    /// the retained value is true again.
    fn guard_health(&mut self, message: &Message) {
        if message.retain {
            return;
        }
        let Ok(fields) = serde_json::from_slice::<HealthFields>(&message.payload) else {
            return;
        };
        if fields.ok || fields.event != "offline" {
            return;
        }
        let mut inner = self.shared.lock();
        if inner.link.is_none() || self.shared.stopping.load(Ordering::Relaxed) {
            return;
        }
        let current = inner
            .health
            .clone()
            .filter(|h| !h.ok)
            .unwrap_or(HealthStatus {
                ok: true,
                event: "ready".into(),
                err: None,
                timestamp: 0.0,
            });
        let again = HealthStatus {
            timestamp: unix_now(),
            ..current
        };
        tracing::info!("stale `offline` on the health topic; republishing health");
        if let Err(e) = self.shared.publish_health_locked(&mut inner, &again) {
            tracing::warn!(error = %e, "health not republished");
        }
    }
}
