//! Test helpers: real MQTT brokers as child processes (so a test can kill -9
//! and restart them on the same port), and a small observer client built on
//! rumqttc. Ports are free loopback ports, never fixed ones.

use std::time::Duration;

use bytes::Bytes;
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};
use tars_mqtt::{BrokerUrl, ClientConfig, ClientStatus, LinkState};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use tars_camera::bench::broker_process::BrokerKind;

/// A free loopback port outside the ephemeral range; see the library's launcher.
pub fn free_port() -> u16 {
    tars_camera::bench::broker_process::free_port()
}

/// A broker child process; see the library's launcher.
pub type BrokerProcess = tars_camera::bench::broker_process::BrokerProcess;

/// Starts a broker of `kind` on a free port (this build's binary for the
/// embedded one) and waits until it accepts.
pub fn start_broker(kind: BrokerKind) -> BrokerProcess {
    BrokerProcess::start(kind, super::exe())
        .unwrap_or_else(|e| panic!("cannot start {kind:?} broker: {e}"))
}

/// Starts a broker of `kind` on `port` and waits until it accepts.
pub fn start_broker_on(kind: BrokerKind, port: u16) -> BrokerProcess {
    BrokerProcess::start_on(kind, super::exe(), port)
        .unwrap_or_else(|e| panic!("cannot start {kind:?} broker on {port}: {e}"))
}

/// One message the observer saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub topic: String,
    pub payload: Bytes,
    pub retain: bool,
}

impl Seen {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.payload).unwrap_or(serde_json::Value::Null)
    }
}

/// A plain rumqttc subscriber that follows broker restarts (re-subscribing
/// on every CONNACK) and hands every message to the test.
pub struct Observer {
    pub client: AsyncClient,
    messages: mpsc::UnboundedReceiver<Seen>,
    /// How many SUBACKs have arrived: one more after each re-subscription.
    subscribed: watch::Receiver<u32>,
    task: JoinHandle<()>,
}

impl Observer {
    /// Connects, subscribes `filters` and waits for the SUBACK.
    pub async fn connect(port: u16, filters: &[&str]) -> Observer {
        let id = format!("observer-{}", fastrand::u64(..));
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_max_packet_size(16 << 20, 16 << 20);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        let (tx, messages) = mpsc::unbounded_channel();
        let (suback_tx, mut subscribed) = watch::channel(0u32);
        let filters: Vec<String> = filters.iter().map(ToString::to_string).collect();
        let sub_client = client.clone();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                        for f in &filters {
                            let _ = sub_client.try_subscribe(f.clone(), QoS::AtLeastOnce);
                        }
                    }
                    Ok(Event::Incoming(Incoming::SubAck(_))) => {
                        suback_tx.send_modify(|n| *n += 1);
                    }
                    Ok(Event::Incoming(Incoming::Publish(p))) => {
                        let seen = Seen {
                            topic: p.topic,
                            payload: p.payload,
                            retain: p.retain,
                        };
                        if tx.send(seen).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    // rumqttc fails instantly while the broker is down.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), subscribed.wait_for(|n| *n > 0))
            .await
            .expect("observer subscribed in time")
            .expect("observer task alive");
        Observer {
            client,
            messages,
            subscribed,
            task,
        }
    }

    /// How many subscriptions the broker has acknowledged so far.
    pub fn subscriptions(&self) -> u32 {
        *self.subscribed.borrow()
    }

    /// Waits until more than `since` subscriptions have been acknowledged.
    pub async fn resubscribed(&mut self, since: u32) {
        tokio::time::timeout(WAIT, self.subscribed.wait_for(|n| *n > since))
            .await
            .expect("observer subscribed again in time")
            .expect("observer task alive");
    }

    /// The next message matching `pred`, skipping others; `None` on timeout.
    pub async fn next(&mut self, timeout: Duration, pred: impl Fn(&Seen) -> bool) -> Option<Seen> {
        let deadline = tokio::time::Instant::now() + super::patience(timeout);
        loop {
            match tokio::time::timeout_at(deadline, self.messages.recv()).await {
                Ok(Some(seen)) if pred(&seen) => return Some(seen),
                Ok(Some(_)) => {}
                _ => return None,
            }
        }
    }

    /// The next message whose `event` field is `event` (a health message),
    /// skipping others; panics naming `what` after [`WAIT`].
    pub async fn event(&mut self, event: &str, what: &str) -> Seen {
        self.event_within(WAIT, event, what).await
    }

    /// [`Observer::event`], waiting at most `timeout`.
    pub async fn event_within(&mut self, timeout: Duration, event: &str, what: &str) -> Seen {
        self.next(timeout, |m| m.json()["event"] == event)
            .await
            .unwrap_or_else(|| panic!("{what}: no {event:?} event within {timeout:?}"))
    }

    /// Everything received so far, without waiting.
    pub fn drain(&mut self) -> Vec<Seen> {
        let mut out = Vec::new();
        while let Ok(seen) = self.messages.try_recv() {
            out.push(seen);
        }
        out
    }

    pub async fn publish(&self, topic: &str, payload: impl Into<Vec<u8>>, retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await
            .expect("observer publish queued");
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---- helpers for client tests ----

pub const RECONNECT_MAX: Duration = Duration::from_secs(1);
pub const WAIT: Duration = Duration::from_secs(10);

/// Waits for the service `name`'s `ready` on its health topic (retained
/// or live). The service publishes it after its subscriptions, on the same
/// connection: a message published after this reaches them.
pub async fn service_ready(port: u16, name: &str) {
    let topic = format!("system/health/{name}");
    let mut watcher = Observer::connect(port, &[topic.as_str()]).await;
    watcher.event("ready", name).await;
}

pub fn config(url: &str, service: &str) -> ClientConfig {
    let url = BrokerUrl::parse(url).expect("test url");
    let mut c = ClientConfig::new(url, &format!("test-{service}"), service);
    c.heartbeat_interval = Duration::from_millis(500);
    c.reconnect_min = Duration::from_millis(100);
    c.reconnect_max = RECONNECT_MAX;
    c.connect_timeout = Duration::from_secs(2);
    c
}

pub async fn wait_status(
    rx: &mut watch::Receiver<ClientStatus>,
    timeout: Duration,
    pred: impl FnMut(&ClientStatus) -> bool,
) -> Option<ClientStatus> {
    match tokio::time::timeout(super::patience(timeout), rx.wait_for(pred)).await {
        Ok(Ok(status)) => Some(status.clone()),
        _ => None,
    }
}

pub async fn connected(rx: &mut watch::Receiver<ClientStatus>) -> ClientStatus {
    wait_status(rx, WAIT, |s| s.state == LinkState::Connected)
        .await
        .expect("connected in time")
}

/// The retained value on `topic`, as a fresh subscriber sees it. A fresh
/// subscriber is tried again (bounded) if nothing is retained yet: a publish
/// the client just queued may still be on its way to the broker.
pub async fn retained(port: u16, topic: &str) -> serde_json::Value {
    for _ in 0..5 {
        let mut fresh = Observer::connect(port, &[topic]).await;
        if let Some(seen) = fresh.next(Duration::from_secs(1), |m| m.retain).await {
            return seen.json();
        }
    }
    panic!("nothing retained on {topic}");
}

pub fn is_event(event: &'static str) -> impl Fn(&Seen) -> bool {
    move |m| m.json()["event"] == event
}

/// Runs each scenario `fn(BrokerKind)` against the embedded broker, and
/// against Mosquitto when ignored tests are run.
#[macro_export]
macro_rules! on_both_brokers {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[cfg(feature = "embedded-broker")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$scenario($crate::common::broker::BrokerKind::Embedded).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs mosquitto; .ci/run runs them"]
            async fn mosquitto() {
                super::$scenario($crate::common::broker::BrokerKind::Mosquitto).await;
            }
        }
    )*};
}

/// A loopback TCP forwarder in front of a broker that a test can hold shut:
/// while shut, connections are accepted and closed at once, as if the broker
/// were still down. It lets a test have its own subscribers back on a
/// restarted broker before the client under test gets through.
pub struct Gate {
    pub port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: JoinHandle<()>,
}

impl Gate {
    /// An open gate forwarding to `127.0.0.1:broker_port`.
    pub async fn new(broker_port: u16) -> Gate {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("gate binds loopback");
        let port = listener.local_addr().expect("gate address").port();
        let open = std::sync::Arc::new(AtomicBool::new(true));
        let flag = open.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    continue;
                }
                tokio::spawn(async move {
                    let addr = ("127.0.0.1", broker_port);
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(addr).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Gate { port, open, task }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    pub fn set_open(&self, open: bool) {
        self.open.store(open, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.task.abort();
    }
}
