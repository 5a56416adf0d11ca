//! Test helpers: real MQTT brokers as child processes (so a test can kill -9
//! and restart them on the same port), and a small observer client built on
//! rumqttc. Ports are free loopback ports, never fixed ones.
#![allow(dead_code)] // each test binary uses a different part

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};
use tars_camera::mqtt::{BrokerUrl, ClientConfig, ClientStatus, LinkState};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Which broker to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    /// This crate's embedded rumqttd, through `tars-camera broker`.
    Embedded,
    /// `mosquitto -p PORT` (must be installed).
    Mosquitto,
}

/// A free loopback port for a broker, outside the kernel's ephemeral range.
///
/// A test restarts its broker on the same port, so the port is free for a
/// moment. A port from `bind(0)` lies in the ephemeral range, where any
/// outgoing connection may take it as its source port in that moment; worst
/// of all, the client reconnecting to it can get it and connect to itself
/// (TCP self-connect), and the broker then cannot bind. Ports below the
/// range are never handed out that way.
pub fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<u16>().ok())
        })
        .unwrap_or(32768);
    let floor = low.saturating_sub(12_000).max(1024);
    for _ in 0..200 {
        let port = fastrand::u16(floor..low);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A broker child process on a fixed port for its whole life.
pub struct BrokerProcess {
    pub kind: BrokerKind,
    pub port: u16,
    child: Option<Child>,
}

impl BrokerProcess {
    /// Starts a broker on a free port and waits until it accepts.
    pub fn start(kind: BrokerKind) -> BrokerProcess {
        BrokerProcess::start_on(kind, free_port())
    }

    /// Starts a broker on `port` and waits until it accepts.
    pub fn start_on(kind: BrokerKind, port: u16) -> BrokerProcess {
        let mut broker = BrokerProcess {
            kind,
            port,
            child: None,
        };
        broker.restart();
        broker
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// kill -9 and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts the broker on the same port and waits until it accepts.
    pub fn restart(&mut self) {
        self.kill();
        let port = self.port.to_string();
        let mut command = match self.kind {
            BrokerKind::Embedded => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_tars-camera"));
                c.args(["broker", "--host", "127.0.0.1", "--port", &port]);
                c
            }
            BrokerKind::Mosquitto => {
                let mut c = Command::new(mosquitto_path());
                c.args(["-p", &port]);
                c
            }
        };
        // The port was just freed by the killed broker; retry the start a
        // few times in case the old socket still lingers.
        let deadline = Instant::now() + Duration::from_secs(10);
        for _ in 0..20 {
            let mut child = command
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {:?} broker: {e}", self.kind));
            if wait_listening(self.addr(), &mut child, deadline) {
                self.child = Some(child);
                return;
            }
            let _ = child.kill();
            let _ = child.wait();
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{:?} broker did not start on port {port}", self.kind);
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn mosquitto_path() -> &'static str {
    if std::path::Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    }
}

/// True once `addr` accepts TCP; false if the child exits or time runs out.
fn wait_listening(addr: SocketAddr, child: &mut Child, deadline: Instant) -> bool {
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// One message the observer saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub topic: String,
    pub payload: Bytes,
    pub retain: bool,
    pub at: Instant,
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
        let (ready_tx, mut ready_rx) = mpsc::channel(1);
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
                        let _ = ready_tx.try_send(());
                    }
                    Ok(Event::Incoming(Incoming::Publish(p))) => {
                        let seen = Seen {
                            topic: p.topic,
                            payload: p.payload,
                            retain: p.retain,
                            at: Instant::now(),
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
        tokio::time::timeout(Duration::from_secs(10), ready_rx.recv())
            .await
            .expect("observer subscribed in time");
        Observer {
            client,
            messages,
            task,
        }
    }

    /// The next message matching `pred`, skipping others; `None` on timeout.
    pub async fn next(&mut self, timeout: Duration, pred: impl Fn(&Seen) -> bool) -> Option<Seen> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.messages.recv()).await {
                Ok(Some(seen)) if pred(&seen) => return Some(seen),
                Ok(Some(_)) => {}
                _ => return None,
            }
        }
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
    match tokio::time::timeout(timeout, rx.wait_for(pred)).await {
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
                super::$scenario($crate::broker::BrokerKind::Embedded).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs mosquitto; .ci/run runs them"]
            async fn mosquitto() {
                super::$scenario($crate::broker::BrokerKind::Mosquitto).await;
            }
        }
    )*};
}
