//! Ending a connection cleanly: DISCONNECT (so the broker drops the last
//! will), and at shutdown health `stopped` acked before it, all bounded.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rumqttc::AsyncClient;
use tokio::sync::mpsc;

use super::error::MqttError;
use super::shared::unix_now;
use super::status::HealthStatus;
use super::task::{EventResult, LinkStats, Task};

impl Task {
    /// Sends DISCONNECT and waits (bounded) until it is written.
    pub(crate) async fn disconnect(
        &mut self,
        client: &AsyncClient,
        events: &mut mpsc::Receiver<EventResult>,
        stats: &mut LinkStats,
        deadline: Instant,
    ) {
        if client.try_disconnect().is_err() {
            return;
        }
        let deadline = tokio::time::Instant::from_std(deadline);
        while !stats.disconnect_sent {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(Ok(event))) => self.on_event(event, stats),
                _ => return,
            }
        }
    }

    /// Publishes `stopped`, waits for every QoS ≥ 1 publish to be acked, then
    /// disconnects, all before `deadline`.
    pub(crate) async fn shutdown(
        &mut self,
        client: &AsyncClient,
        events: &mut mpsc::Receiver<EventResult>,
        stats: &mut LinkStats,
        deadline: Instant,
    ) -> Result<(), MqttError> {
        self.shared.stopping.store(true, Ordering::Relaxed);
        let stopped = HealthStatus {
            ok: false,
            event: "stopped".into(),
            err: None,
            timestamp: unix_now(),
        };
        let published = {
            let mut inner = self.shared.lock();
            inner.health = Some(stopped.clone());
            self.shared.publish_health_locked(&mut inner, &stopped)
        };
        // Leave a little of the budget for DISCONNECT.
        let margin = Duration::from_millis(100);
        let ack_deadline = deadline
            .checked_sub(margin)
            .unwrap_or(deadline)
            .max(Instant::now());
        let mut acked = false;
        while published.is_ok() {
            let enqueued_acked = self
                .shared
                .lock()
                .link
                .as_ref()
                .map_or(0, |l| l.enqueued_acked);
            if stats.written_acked >= enqueued_acked && stats.outstanding.is_empty() {
                acked = true;
                break;
            }
            let wait = tokio::time::timeout_at(ack_deadline.into(), events.recv()).await;
            match wait {
                Ok(Some(Ok(event))) => self.on_event(event, stats),
                Ok(Some(Err(e))) => {
                    return Err(MqttError::from_connection(&e, self.shared.max_packet_bytes));
                }
                Ok(None) => return Err(MqttError::Lost("event loop ended".into())),
                Err(_) => break,
            }
        }
        self.disconnect(client, events, stats, deadline).await;
        published?;
        if acked {
            Ok(())
        } else {
            Err(MqttError::Timeout("no PUBACK for health `stopped`".into()))
        }
    }
}
