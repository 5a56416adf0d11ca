//! Control over MQTT: requests on the control topic (the JSON of
//! `POST /control`, plus an optional `"id"`), a result for each on
//! `<topic>/result` (QoS 1, not retained).
//!
//! The subscription handler runs on the MQTT connection task, so it only
//! queues the message; a task of its own parses it, hands it to the command
//! channel, waits for the outcome and publishes the result. A repeated `id`
//! never reaches the handler: the client's inbound dedup drops it. Retained
//! requests are ignored (they would re-apply on every reconnect).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};

use super::request::{self, ControlError};
use super::{Command, Reply};
use tars_mqtt::{Client, Message, MqttError, QoS};

/// Requests waiting for the control task; more are dropped and counted.
const QUEUE: usize = 32;
/// The largest request taken (as `POST /control`'s body); a larger one is
/// refused unread, with an error result, counted and logged once per burst.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// How long a request waits for the service to apply it.
const APPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// What control over MQTT has seen, for `/status`.
#[derive(Debug, Default)]
pub struct MqttControlCounters {
    pub applied: AtomicU64,
    /// Bad payloads and requests the service could not apply.
    pub rejected: AtomicU64,
    pub retained_ignored: AtomicU64,
    /// Requests dropped because the control queue was full.
    pub dropped: AtomicU64,
    /// Requests over `MAX_REQUEST_BYTES`, refused unread (also in `rejected`).
    pub oversize: AtomicU64,
}

/// The `mqtt.control` section of the status.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MqttControlStatus {
    /// The control topic; empty when control over MQTT is off.
    pub topic: String,
    pub applied: u64,
    pub rejected: u64,
    pub retained_ignored: u64,
    pub dropped: u64,
    pub oversize: u64,
}

impl MqttControlCounters {
    #[must_use]
    pub fn status(&self, topic: &str) -> MqttControlStatus {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MqttControlStatus {
            topic: topic.to_owned(),
            applied: load(&self.applied),
            rejected: load(&self.rejected),
            retained_ignored: load(&self.retained_ignored),
            dropped: load(&self.dropped),
            oversize: load(&self.oversize),
        }
    }
}

/// The topic results go to.
#[must_use]
pub fn result_topic(control_topic: &str) -> String {
    format!("{control_topic}/result")
}

/// Subscribe to `topic` (now and after every reconnect) and return the
/// worker that applies what arrives, for the caller to run (and run again
/// should it fail). Call inside the runtime.
///
/// # Errors
/// The topic is not valid, or the client is stopping.
pub fn start(
    mqtt: &Client,
    topic: &str,
    commands: mpsc::Sender<Command>,
    counters: Arc<MqttControlCounters>,
) -> Result<Worker, MqttError> {
    let (tx, rx) = mpsc::channel::<Queued>(QUEUE);
    let queue_counters = Arc::clone(&counters);
    let oversize_burst = crate::text::Burst::new(Duration::from_secs(10));
    mqtt.subscribe(topic, QoS::AtLeastOnce, move |message| {
        if message.payload.len() > MAX_REQUEST_BYTES {
            queue_counters.oversize.fetch_add(1, Ordering::Relaxed);
            if let Some(skipped) = oversize_burst.admit() {
                tracing::warn!(
                    "MQTT control: refused a request of {} bytes on {} (max {MAX_REQUEST_BYTES}){}",
                    message.payload.len(),
                    crate::text::quote(&message.topic),
                    if skipped > 0 { format!("; {skipped} more since the last line") } else { String::new() }
                );
            }
            if !message.retain && tx.try_send(Queued::TooLarge(message.payload.len())).is_err() {
                queue_counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        if message.retain {
            queue_counters
                .retained_ignored
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "MQTT control: ignored a retained request on {} (clear it with an empty retained message)",
                message.topic
            );
            return;
        }
        if tx.try_send(Queued::Request(message.clone())).is_err() {
            queue_counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    })?;
    tracing::info!(
        "MQTT control on {topic}, results on {}",
        result_topic(topic)
    );
    Ok(Worker {
        mqtt: mqtt.clone(),
        result_topic: result_topic(topic),
        commands,
        counters,
        queue: Arc::new(tokio::sync::Mutex::new(rx)),
    })
}

/// Applies the requests queued by the subscription; cheap to clone (a
/// clone runs on the same queue, one at a time).
#[derive(Debug, Clone)]
pub struct Worker {
    mqtt: Client,
    result_topic: String,
    commands: mpsc::Sender<Command>,
    counters: Arc<MqttControlCounters>,
    queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Queued>>>,
}

/// What the subscription hands the worker.
#[derive(Debug)]
enum Queued {
    Request(Message),
    /// A request over `MAX_REQUEST_BYTES` (its size): answered with an error.
    TooLarge(usize),
}

impl Worker {
    /// Apply requests until the subscription goes away.
    pub async fn run(self) {
        let mut queue = Arc::clone(&self.queue).lock_owned().await;
        while let Some(queued) = queue.recv().await {
            let (id, outcome) = match queued {
                // An empty payload is how a retained request is cleared: not a request.
                Queued::Request(message) if message.payload.is_empty() => continue,
                Queued::Request(message) => {
                    (id_of(&message.payload), self.handle(&message.payload).await)
                }
                Queued::TooLarge(bytes) => (Value::Null, Err(ControlError::TooLarge(bytes))),
            };
            let mut result = Map::new();
            result.insert("id".into(), id);
            match outcome {
                Ok(applied) => {
                    self.counters.applied.fetch_add(1, Ordering::Relaxed);
                    let shown = Value::Object(applied.clone()).to_string();
                    tracing::info!("MQTT control applied: {shown}");
                    result.insert("ok".into(), Value::from(true));
                    result.insert("applied".into(), Value::Object(applied));
                }
                Err(e) => {
                    self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                    if !matches!(e, ControlError::TooLarge(_)) {
                        tracing::info!("MQTT control refused: {e}");
                    }
                    result.insert("ok".into(), Value::from(false));
                    result.insert("error".into(), Value::from(e.to_string()));
                }
            }
            result.insert("timestamp".into(), json!(unix_now()));
            if let Err(e) =
                self.mqtt
                    .publish_json(&self.result_topic, &result, QoS::AtLeastOnce, false)
            {
                tracing::warn!("MQTT control: result not published: {e}");
            }
        }
    }

    async fn handle(&self, payload: &[u8]) -> Result<Map<String, Value>, ControlError> {
        let (control, _) = request::parse(payload, true)?;
        let (tx, rx) = oneshot::channel();
        let tx = std::sync::Mutex::new(Some(tx));
        let reply = Reply::new(move |outcome| {
            if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send(outcome);
            }
        });
        self.commands
            .try_send(Command::Apply(control, reply))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => ControlError::Busy,
                mpsc::error::TrySendError::Closed(_) => ControlError::Stopped,
            })?;
        match tokio::time::timeout(APPLY_TIMEOUT, rx).await {
            Ok(Ok(outcome)) => outcome.map(|a| a.applied),
            Ok(Err(_)) => Err(ControlError::Stopped),
            Err(_) => Err(ControlError::Busy),
        }
    }
}

#[derive(Deserialize)]
struct IdOnly {
    id: Value,
}

/// The request's `id`, or null (also for a payload that is not JSON); a
/// string id is echoed cut to 64 bytes (then `…`).
fn id_of(payload: &[u8]) -> Value {
    serde_json::from_slice::<IdOnly>(payload)
        .map(|i| i.id)
        .ok()
        .filter(|id| !id.is_object() && !id.is_array())
        .map_or(Value::Null, |id| match id {
            Value::String(s) => Value::from(crate::text::quote(&s)),
            other => other,
        })
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_echoed_when_there_is_one() {
        assert_eq!(id_of(br#"{"id":"a","quality":5}"#), Value::from("a"));
        assert_eq!(id_of(br#"{"id":7}"#), Value::from(7));
        assert_eq!(id_of(br#"{"quality":5}"#), Value::Null);
        assert_eq!(id_of(b"not json"), Value::Null);
        assert_eq!(id_of(br#"{"id":[1]}"#), Value::Null);
        let long = format!(r#"{{"id":"{}"}}"#, "i".repeat(100_000));
        let id = id_of(long.as_bytes());
        assert_eq!(id.as_str().map(str::len), Some(64 + '…'.len_utf8()));
        assert_eq!(result_topic("camera/control"), "camera/control/result");
    }
}
