//! A new connection's CONNACK: the link installed, every subscription
//! renewed, `ready` (and a remembered failing health) published, the
//! heartbeat resumed.

use std::time::Instant;

use rumqttc::{AsyncClient, QoS, SubscribeFilter};

use super::shared::{Link, unix_ms, unix_now};
use super::status::{HealthStatus, LinkState};
use super::task::Task;

impl Task {
    /// CONNACK: install the link, subscribe everything, publish `ready` (and
    /// the remembered health if it is not ok), start the heartbeat.
    pub(super) fn on_connack(&mut self, client: AsyncClient) {
        let now = Instant::now();
        self.connections += 1;
        let ready = HealthStatus {
            ok: true,
            event: "ready".into(),
            err: None,
            timestamp: unix_now(),
        };
        {
            let mut inner = self.shared.lock();
            let mut filters: Vec<SubscribeFilter> = vec![
                SubscribeFilter::new(self.shared.keepalive_topic.clone(), QoS::AtMostOnce),
                SubscribeFilter::new(self.shared.health_topic.clone(), QoS::AtMostOnce),
            ];
            for sub in &inner.subs {
                if !filters
                    .iter()
                    .any(|f| f.path == sub.filter && f.qos == sub.qos)
                {
                    filters.push(SubscribeFilter::new(sub.filter.clone(), sub.qos));
                }
            }
            if let Err(e) = client.try_subscribe_many(filters) {
                tracing::warn!(error = %e, "MQTT subscribe could not be queued");
            }
            inner.link = Some(Link {
                client,
                connected_at: now,
                enqueued: 0,
                enqueued_acked: 0,
            });
            if let Err(e) = self.shared.publish_health_locked(&mut inner, &ready) {
                tracing::warn!(error = %e, "MQTT health `ready` not published");
            }
            if let Some(health) = inner.health.clone().filter(|h| !h.ok) {
                let again = HealthStatus {
                    timestamp: unix_now(),
                    ..health
                };
                if let Err(e) = self.shared.publish_health_locked(&mut inner, &again) {
                    tracing::warn!(error = %e, "MQTT health not republished");
                }
            }
        }
        self.schedule.resume(now);
        let reconnect = u64::from(self.connections > 1);
        self.shared.status.send_modify(|s| {
            s.state = LinkState::Connected;
            s.since_unix_ms = unix_ms();
            s.next_attempt_in_ms = None;
            s.reconnects += reconnect;
        });
        tracing::info!(connections = self.connections, "MQTT connected");
    }
}
