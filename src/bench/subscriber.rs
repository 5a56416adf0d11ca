//! An MQTT subscriber for the benchmark: counts frames on the frame topic
//! and how old each was on arrival (capture wall time in the payload to the
//! wall time it arrived here).

use color_eyre::eyre;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};
use serde::Deserialize;

use tars_mqtt::BrokerUrl;

/// One frame as the subscriber saw it.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub seq: u64,
    /// Capture to arrival, in ms.
    pub age_ms: f64,
    pub at: SystemTime,
}

#[derive(Deserialize)]
struct Meta {
    seq: u64,
    timestamp: f64,
}

/// A running subscriber.
#[derive(Debug)]
pub struct Subscriber {
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    client: AsyncClient,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Connect to `url`, subscribe to `topic`, and resolve once subscribed.
    ///
    /// # Errors
    /// Bad URL, or no SUBACK within 5 s.
    pub async fn start(url: &str, topic: &str) -> eyre::Result<Self> {
        let url = BrokerUrl::parse(url).map_err(|e| eyre::eyre!("--mqtt-url: {e}"))?;
        let id = format!("tars-bench-{}", std::process::id());
        let mut options = MqttOptions::new(id, url.host.clone(), url.port);
        options.set_max_packet_size(16 << 20, 16 << 20);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let task = {
            let (client, arrivals, topic) =
                (client.clone(), Arc::clone(&arrivals), topic.to_owned());
            tokio::spawn(async move {
                let mut ready = Some(ready_tx);
                loop {
                    match eventloop.poll().await {
                        Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                            let _ = client.try_subscribe(topic.clone(), QoS::AtMostOnce);
                        }
                        Ok(Event::Incoming(Incoming::SubAck(_))) => {
                            if let Some(r) = ready.take() {
                                let _ = r.send(());
                            }
                        }
                        Ok(Event::Incoming(Incoming::Publish(p))) => {
                            let now = SystemTime::now();
                            if let Ok(meta) = serde_json::from_slice::<Meta>(&p.payload) {
                                let now_s = now
                                    .duration_since(SystemTime::UNIX_EPOCH)
                                    .map_or(0.0, |d| d.as_secs_f64());
                                arrivals
                                    .lock()
                                    .unwrap_or_else(PoisonError::into_inner)
                                    .push(Arrival {
                                        seq: meta.seq,
                                        age_ms: (now_s - meta.timestamp) * 1e3,
                                        at: now,
                                    });
                            }
                        }
                        Ok(_) => {}
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            })
        };
        tokio::time::timeout(Duration::from_secs(5), ready_rx)
            .await
            .map_err(|_| eyre::eyre!("MQTT subscriber: no SUBACK within 5 s"))?
            .map_err(|_| eyre::eyre!("MQTT subscriber stopped"))?;
        Ok(Self {
            arrivals,
            client,
            task,
        })
    }

    /// Everything received so far (and forget it).
    #[must_use]
    pub fn take(&self) -> Vec<Arrival> {
        std::mem::take(&mut *self.arrivals.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Disconnect.
    pub async fn stop(self) {
        let _ = self.client.try_disconnect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.task.abort();
    }
}
