//! Reconnect behaviour against fake brokers (tiny TCP servers in the test):
//! one that kicks the client right after CONNACK, one that refuses the
//! credentials. No real broker needed. (The behaviour against real brokers,
//! killed and restarted, is tested by the camera service's tests, which
//! start them as child processes.)

use std::time::{Duration, Instant};

use tars_mqtt::{self as mqtt, BrokerUrl, ClientConfig, LinkState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// True when the tests run under an emulator (the workspace's test runner
/// variable names it), whose every connection set-up takes tens of ms.
fn under_emulator() -> bool {
    std::env::var_os("TARS_CAMERA_TEST_RUNNER").is_some_and(|r| !r.is_empty())
}

/// A loopback port where nothing listens, below the ephemeral range (a
/// connection to a free ephemeral port can be given that same port as its
/// source and connect to itself).
fn closed_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let floor = low.saturating_sub(12_000).max(1024);
    (0..200)
        .map(|_| fastrand::u16(floor..low))
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free loopback port")
}

/// Accepts connections, reads the CONNECT, answers CONNACK with `code`,
/// closes. Reports the time of each accept.
async fn fake_broker(code: u8) -> (u16, mpsc::UnboundedReceiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            if tx.send(Instant::now()).is_err() {
                return;
            }
            let mut buf = [0u8; 512];
            let _ = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await;
            let _ = socket.write_all(&[0x20, 0x02, 0x00, code]).await;
            let _ = socket.shutdown().await;
        }
    });
    (port, rx)
}

fn config(url: &str) -> ClientConfig {
    let mut c = ClientConfig::new(BrokerUrl::parse(url).expect("url"), "kicked", "kicked");
    c.reconnect_min = Duration::from_millis(100);
    c.reconnect_max = Duration::from_secs(3);
    c.connect_timeout = Duration::from_secs(2);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kicking_broker_gets_backoff_not_a_storm() {
    let (port, mut accepts) = fake_broker(0).await;
    let (client, status) = mqtt::connect(config(&format!("mqtt://127.0.0.1:{port}")));
    let mut times = Vec::new();
    for _ in 0..6 {
        let at = tokio::time::timeout(Duration::from_secs(10), accepts.recv())
            .await
            .expect("next attempt in time")
            .expect("server alive");
        times.push(at);
    }
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    // Bases 0.1, 0.2, 0.4, 0.8, 1.6 s with ±20 % jitter: each gap at least
    // ~1.33× the one before, never shorter than 80 % of the minimum. Each
    // gap also holds one connection's set-up, a few ms natively and tens
    // of ms under an emulator: that much is allowed.
    assert!(gaps[0] >= 0.08, "{gaps:?}");
    let setup_s = if under_emulator() { 0.06 } else { 0.0 };
    for w in gaps.windows(2) {
        assert!(w[1] + setup_s > w[0] * 1.2, "gaps do not grow: {gaps:?}");
    }
    let s = status.borrow().clone();
    assert!(s.reconnects >= 4, "{s:?}");
    assert!(
        s.attempt >= 6,
        "attempt counter not reset by a short link: {s:?}"
    );
    drop(client);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_classified_and_the_password_never_shows() {
    let (port, _accepts) = fake_broker(0x04).await;
    let url = format!("mqtt://tars:hunter2@127.0.0.1:{port}");
    let (client, mut status) = mqtt::connect(config(&url));
    let s = tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| s.last_error.is_some() && s.state == LinkState::Waiting),
    )
    .await
    .expect("in time")
    .expect("open")
    .clone();
    let error = s.last_error.clone().unwrap_or_default();
    assert!(error.contains("bad credentials"), "{error}");
    let shown = [
        format!("{s:?}"),
        serde_json::to_string(&s).expect("json"),
        format!("{client:?}"),
    ];
    for text in &shown {
        assert!(!text.contains("hunter2"), "{text}");
    }
    assert!(s.broker.contains("tars:***@"), "{}", s.broker);

    // Nothing listening: refused.
    let port = closed_port();
    let (_client, mut status) =
        mqtt::connect(config(&format!("mqtt://u:hunter2@127.0.0.1:{port}")));
    let s = tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| s.last_error.is_some()),
    )
    .await
    .expect("in time")
    .expect("open")
    .clone();
    let error = s.last_error.unwrap_or_default();
    assert!(error.contains("refused"), "{error}");
    assert!(!error.contains("hunter2"));
}
