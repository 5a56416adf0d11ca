//! The MQTT client against real brokers over loopback: the embedded broker
//! (a child process, so it can be killed and restarted) and Mosquitto (the
//! same scenarios, ignored by default: `.ci/run` runs them with --ignored).

#[path = "common/broker.rs"]
mod broker;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use broker::{BrokerKind, BrokerProcess, Observer, Seen};
use serde_json::json;
use tars_camera::mqtt::{self, BrokerUrl, ClientConfig, ClientStatus, LinkState, QoS};
use tokio::sync::watch;

const RECONNECT_MAX: Duration = Duration::from_secs(1);
const WAIT: Duration = Duration::from_secs(10);

fn config(url: &str, service: &str) -> ClientConfig {
    let url = BrokerUrl::parse(url).expect("test url");
    let mut c = ClientConfig::new(url, &format!("test-{service}"), service);
    c.heartbeat_interval = Duration::from_millis(500);
    c.reconnect_min = Duration::from_millis(100);
    c.reconnect_max = RECONNECT_MAX;
    c.connect_timeout = Duration::from_secs(2);
    c
}

async fn wait_status(
    rx: &mut watch::Receiver<ClientStatus>,
    timeout: Duration,
    pred: impl FnMut(&ClientStatus) -> bool,
) -> Option<ClientStatus> {
    match tokio::time::timeout(timeout, rx.wait_for(pred)).await {
        Ok(Ok(status)) => Some(status.clone()),
        _ => None,
    }
}

async fn connected(rx: &mut watch::Receiver<ClientStatus>) -> ClientStatus {
    wait_status(rx, WAIT, |s| s.state == LinkState::Connected)
        .await
        .expect("connected in time")
}

/// The retained value on `topic`, as a fresh subscriber sees it.
async fn retained(port: u16, topic: &str) -> serde_json::Value {
    let mut fresh = Observer::connect(port, &[topic]).await;
    let seen = fresh
        .next(Duration::from_secs(5), |m| m.retain)
        .await
        .expect("a retained message");
    seen.json()
}

fn is_event(event: &'static str) -> impl Fn(&Seen) -> bool {
    move |m| m.json()["event"] == event
}

macro_rules! on_both_brokers {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$scenario(super::BrokerKind::Embedded).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs mosquitto; .ci/run runs them"]
            async fn mosquitto() {
                super::$scenario(super::BrokerKind::Mosquitto).await;
            }
        }
    )*};
}

on_both_brokers!(
    ready_is_retained_and_bad_health_survives_reconnect,
    heartbeat_keeps_cadence_and_comes_back,
    survives_ten_broker_restarts,
    connects_when_the_broker_appears,
    big_payloads_pass_and_oversize_is_refused,
    shutdown_publishes_retained_stopped,
    killed_process_leaves_retained_offline,
    reconnect_now_reconnects_and_stays_ready,
    duplicates_are_handled_once,
);

async fn ready_is_retained_and_bad_health_survives_reconnect(kind: BrokerKind) {
    let mut broker = BrokerProcess::start(kind);
    let (client, mut status) = mqtt::connect(config(&broker.url(), "ready"));
    connected(&mut status).await;
    let ready = retained(broker.port, "system/health/ready").await;
    assert_eq!(ready["ok"], true);
    assert_eq!(ready["event"], "ready");
    assert!(ready["timestamp"].as_f64().is_some_and(|t| t > 1.0e9));

    client
        .set_health(false, "camera_error", Some("no frames".into()))
        .expect("published");
    let health = client.status().health.expect("health shown");
    assert_eq!((health.ok, health.event.as_str()), (false, "camera_error"));
    let mut watcher = Observer::connect(broker.port, &["system/health/ready"]).await;
    watcher
        .next(WAIT, is_event("camera_error"))
        .await
        .expect("camera_error retained");

    // The broker forgets everything; after the reconnect the client says
    // `ready` and then, since it is not ok, `camera_error` again.
    broker.kill();
    wait_status(&mut status, WAIT, |s| s.state != LinkState::Connected)
        .await
        .expect("link loss noticed");
    broker.restart();
    connected(&mut status).await;
    watcher
        .next(WAIT, is_event("ready"))
        .await
        .expect("ready after reconnect");
    let again = watcher
        .next(WAIT, is_event("camera_error"))
        .await
        .expect("camera_error republished");
    assert_eq!(again.json()["err"], "no frames");
    let value = retained(broker.port, "system/health/ready").await;
    assert_eq!(value["event"], "camera_error");
    assert_eq!(value["ok"], false);
}

async fn heartbeat_keeps_cadence_and_comes_back(kind: BrokerKind) {
    let broker = BrokerProcess::start(kind);
    let mut observer = Observer::connect(broker.port, &["system/keepalive/beat"]).await;
    let mut cfg = config(&broker.url(), "beat");
    cfg.heartbeat_interval = Duration::from_millis(400);
    let (client, mut status) = mqtt::connect(cfg);
    connected(&mut status).await;
    let mut beats = Vec::new();
    for _ in 0..7 {
        let seen = observer.next(WAIT, |_| true).await.expect("heartbeat");
        beats.push(seen.json());
    }
    for pair in beats.windows(2) {
        assert_eq!(pair[0]["event"], "heartbeat");
        assert_eq!(pair[0]["ok"], true);
        let seq0 = pair[0]["seq"].as_u64().expect("seq");
        assert_eq!(pair[1]["seq"].as_u64(), Some(seq0 + 1), "consecutive");
        let gap =
            pair[1]["timestamp"].as_f64().expect("ts") - pair[0]["timestamp"].as_f64().expect("ts");
        // The first beat goes out at CONNACK, the rest on the 400 ms grid.
        if seq0 >= 2 {
            assert!(
                (0.36..=0.44).contains(&gap),
                "gap {gap} s outside 400 ms ±10 %"
            );
        }
        let up0 = pair[0]["uptime_s"].as_f64().expect("uptime");
        assert!(pair[1]["uptime_s"].as_f64().expect("uptime") > up0);
    }
    let s = wait_status(&mut status, WAIT, |s| s.heartbeat.round_trip_ms.is_some())
        .await
        .expect("round trip measured");
    assert!(s.heartbeat.sent >= 7);
    assert_eq!(s.heartbeat.interval_ms, 400);
    assert!(s.heartbeat.last_unix_ms.is_some());
    assert!(s.heartbeat.next_due_in_ms.is_some_and(|ms| ms <= 400));
    drop(client);
}

async fn survives_ten_broker_restarts(kind: BrokerKind) {
    let mut broker = BrokerProcess::start(kind);
    let (client, mut status) = mqtt::connect(config(&broker.url(), "restart"));
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    client
        .subscribe("test/restart/+", QoS::AtLeastOnce, move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .expect("subscribed");
    connected(&mut status).await;
    let mut observer =
        Observer::connect(broker.port, &["camera/frame", "system/keepalive/restart"]).await;
    let mut seq = 0u64;
    let mut stale_seqs = Vec::new();
    for round in 1..=10u64 {
        let last_beat = client.status().heartbeat.sent;
        broker.kill();
        wait_status(&mut status, WAIT, |s| s.state != LinkState::Connected)
            .await
            .expect("link loss noticed");
        let captured_before = Instant::now();
        seq += 1;
        assert!(!client.try_publish_frame(
            "camera/frame",
            seq,
            b"offline".to_vec(),
            captured_before
        ));
        stale_seqs.push(seq);
        broker.restart();
        let restarted = Instant::now();
        let s = connected(&mut status).await;
        let took = restarted.elapsed();
        assert!(
            took <= RECONNECT_MAX + Duration::from_secs(1),
            "round {round}: {took:?}"
        );
        assert_eq!(s.reconnects, round);
        // A frame captured before this connection is never sent after it.
        seq += 1;
        assert!(!client.try_publish_frame("camera/frame", seq, b"stale".to_vec(), captured_before));
        stale_seqs.push(seq);
        // The observer reconnects on its own; wait until it hears heartbeats again.
        observer
            .next(WAIT, |m| {
                m.topic.starts_with("system/keepalive")
                    && m.json()["seq"].as_u64() > Some(last_beat)
            })
            .await
            .unwrap_or_else(|| panic!("round {round}: heartbeat resumed"));
        seq += 1;
        let fresh_seq = seq;
        assert!(client.try_publish_frame(
            "camera/frame",
            fresh_seq,
            b"fresh".to_vec(),
            Instant::now()
        ));
        let frame = observer
            .next(WAIT, |m| m.topic == "camera/frame")
            .await
            .unwrap_or_else(|| panic!("round {round}: fresh frame delivered"));
        assert_eq!(&frame.payload[..], b"fresh");
        // The subscription was renewed: the handler is called again.
        let before = calls.load(Ordering::SeqCst);
        observer
            .publish(
                &format!("test/restart/{round}"),
                json!({"id": round}).to_string(),
                false,
            )
            .await;
        let deadline = Instant::now() + WAIT;
        while calls.load(Ordering::SeqCst) == before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            calls.load(Ordering::SeqCst) > before,
            "round {round}: handler called"
        );
    }
    let s = client.status();
    assert!(s.dropped >= stale_seqs.len() as u64);
    assert!(
        observer
            .drain()
            .iter()
            .all(|m| &m.payload[..] != b"stale" && &m.payload[..] != b"offline")
    );
}

async fn connects_when_the_broker_appears(kind: BrokerKind) {
    let port = broker::free_port();
    let (client, mut status) = mqtt::connect(config(&format!("mqtt://127.0.0.1:{port}"), "late"));
    let waiting = wait_status(&mut status, WAIT, |s| {
        s.state == LinkState::Waiting && s.attempt >= 3
    })
    .await
    .expect("backing off");
    // The countdown is live: a later update of the same wait shows less time left.
    let left = waiting.next_attempt_in_ms.expect("countdown");
    let later = wait_status(&mut status, WAIT, |s| {
        s.state == LinkState::Waiting
            && s.attempt == waiting.attempt
            && s.next_attempt_in_ms.is_some_and(|ms| ms < left)
    })
    .await;
    assert!(later.is_some(), "countdown not updated");
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("refused")),
        "{waiting:?}"
    );
    assert!(!client.try_publish_frame("camera/frame", 1, b"x".to_vec(), Instant::now()));
    assert!(client.status().dropped >= 1);
    let _broker = BrokerProcess::start_on(kind, port);
    let appeared = Instant::now();
    connected(&mut status).await;
    assert!(appeared.elapsed() <= RECONNECT_MAX + Duration::from_secs(1));
}

async fn big_payloads_pass_and_oversize_is_refused(kind: BrokerKind) {
    let broker = BrokerProcess::start(kind);
    let mut observer = Observer::connect(broker.port, &["camera/frame"]).await;
    let mut cfg = config(&broker.url(), "big");
    cfg.max_packet_bytes = 2 * 1024 * 1024;
    let (client, mut status) = mqtt::connect(cfg);
    connected(&mut status).await;
    let frame: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    assert!(client.try_publish_frame("camera/frame", 1, frame.clone(), Instant::now()));
    let seen = observer
        .next(WAIT, |_| true)
        .await
        .expect("1 MB frame delivered");
    assert_eq!(seen.payload.len(), frame.len());
    assert!(seen.payload[..] == frame[..]);

    let dropped = client.status().dropped;
    assert!(!client.try_publish_frame("camera/frame", 2, vec![0u8; 3 << 20], Instant::now()));
    assert_eq!(client.status().dropped, dropped + 1);
    let err = client
        .publish_bytes("camera/other", vec![0u8; 3 << 20], QoS::AtMostOnce, false)
        .expect_err("too large");
    assert!(
        matches!(err, mqtt::MqttError::PacketTooLarge { .. }),
        "{err}"
    );
    // The link survived.
    assert!(client.try_publish_frame("camera/frame", 3, b"small".to_vec(), Instant::now()));
    let seen = observer.next(WAIT, |_| true).await.expect("small frame");
    assert_eq!(&seen.payload[..], b"small");
    assert_eq!(client.status().reconnects, 0);
}

async fn shutdown_publishes_retained_stopped(kind: BrokerKind) {
    let broker = BrokerProcess::start(kind);
    let (client, mut status) = mqtt::connect(config(&broker.url(), "stop"));
    connected(&mut status).await;
    let started = Instant::now();
    client
        .shutdown(mqtt::DEFAULT_SHUTDOWN_TIMEOUT)
        .await
        .expect("clean shutdown");
    assert!(started.elapsed() <= mqtt::DEFAULT_SHUTDOWN_TIMEOUT);
    assert_eq!(client.status().state, LinkState::Stopped);
    let value = retained(broker.port, "system/health/stop").await;
    assert_eq!(value["ok"], false);
    assert_eq!(value["event"], "stopped");
    assert!(value["timestamp"].as_f64().is_some());
    assert_eq!(
        client.publish_json("x/y", &json!({}), QoS::AtMostOnce, false),
        Err(mqtt::MqttError::Stopped)
    );
    assert!(!client.try_publish_frame("camera/frame", 1, b"x".to_vec(), Instant::now()));
    client
        .shutdown(mqtt::DEFAULT_SHUTDOWN_TIMEOUT)
        .await
        .expect("idempotent");
}

async fn killed_process_leaves_retained_offline(kind: BrokerKind) {
    let broker = BrokerProcess::start(kind);
    let mut observer = Observer::connect(broker.port, &["system/health/child"]).await;
    let mut child = std::process::Command::new(std::env::current_exe().expect("test exe"))
        .args(["--exact", "helper_child_client", "--ignored", "--nocapture"])
        .env("TARS_MQTT_CHILD_URL", broker.url())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("child started");
    let ready = observer.next(WAIT, is_event("ready")).await;
    if ready.is_none() {
        let _ = child.kill();
        panic!("child never said ready");
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    let offline = observer
        .next(WAIT, is_event("offline"))
        .await
        .expect("last will");
    assert_eq!(offline.json(), json!({"ok": false, "event": "offline"}));
    let value = retained(broker.port, "system/health/child").await;
    assert_eq!(value, json!({"ok": false, "event": "offline"}));
}

/// Not a test: the client process that `killed_process_leaves_retained_offline`
/// runs and kills. Does nothing without `TARS_MQTT_CHILD_URL`.
#[tokio::test]
#[ignore = "helper process for the last-will tests"]
async fn helper_child_client() {
    let Ok(url) = std::env::var("TARS_MQTT_CHILD_URL") else {
        return;
    };
    let (_client, mut status) = mqtt::connect(config(&url, "child"));
    // Bounded: the parent kills this process long before.
    let _ = wait_status(&mut status, Duration::from_secs(60), |s| {
        s.state == LinkState::Stopped
    })
    .await;
}

async fn reconnect_now_reconnects_and_stays_ready(kind: BrokerKind) {
    let broker = BrokerProcess::start(kind);
    let (client, mut status) = mqtt::connect(config(&broker.url(), "again"));
    connected(&mut status).await;
    let mut watcher = Observer::connect(broker.port, &["system/health/again"]).await;
    watcher
        .next(WAIT, is_event("ready"))
        .await
        .expect("retained ready");
    client.reconnect_now();
    let s = wait_status(&mut status, WAIT, |s| {
        s.reconnects == 1 && s.state == LinkState::Connected
    })
    .await
    .expect("reconnected");
    assert_eq!(s.reconnects, 1);
    watcher
        .next(WAIT, is_event("ready"))
        .await
        .expect("ready again");
    // A heartbeat round trip after the reconnect shows the link carries data.
    let sent = client.status().heartbeat.sent;
    let mut beats = Observer::connect(broker.port, &["system/keepalive/again"]).await;
    beats
        .next(WAIT, |m| m.json()["seq"].as_u64() > Some(sent))
        .await
        .expect("heartbeat");
    let value = retained(broker.port, "system/health/again").await;
    assert_eq!(value["event"], "ready", "{value}");
}

async fn duplicates_are_handled_once(kind: BrokerKind) {
    let broker = BrokerProcess::start(kind);
    let (client, mut status) = mqtt::connect(config(&broker.url(), "dedup"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    client
        .subscribe("test/dedup/#", QoS::AtLeastOnce, move |m| {
            let _ = tx.send(m.payload.clone());
        })
        .expect("subscribed");
    // Overlapping filters: some brokers deliver one copy per match.
    client
        .subscribe("test/+/x", QoS::AtMostOnce, |_| {})
        .expect("subscribed");
    connected(&mut status).await;
    let observer = Observer::connect(broker.port, &["unused/topic"]).await;
    // Wait until the subscription is live: a probe gets through.
    let deadline = Instant::now() + WAIT;
    loop {
        observer
            .publish("test/dedup/probe", b"probe".to_vec(), false)
            .await;
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            break;
        }
        assert!(Instant::now() < deadline, "subscription never live");
    }
    while rx.try_recv().is_ok() {}
    let dup_before = client.status().deduplicated;
    for payload in [
        json!({"id": "a", "n": 1}),
        json!({"id": "a", "n": 2}),
        json!({"id": "b"}),
    ] {
        observer
            .publish("test/dedup/x", payload.to_string(), false)
            .await;
    }
    observer
        .publish("test/dedup/x", json!({"id": "end"}).to_string(), false)
        .await;
    let mut got = Vec::new();
    loop {
        let payload = tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("messages")
            .expect("open");
        let v: serde_json::Value = serde_json::from_slice(&payload).expect("json");
        if v["id"] == "end" {
            break;
        }
        got.push(v);
    }
    assert_eq!(got, vec![json!({"id": "a", "n": 1}), json!({"id": "b"})]);
    let s = wait_status(&mut status, WAIT, |s| s.deduplicated > dup_before).await;
    assert!(s.is_some(), "duplicate counted");

    // Outbound: a frame seq is never published twice.
    assert!(client.try_publish_frame("camera/frame", 42, b"one".to_vec(), Instant::now()));
    let dup = client.status().deduplicated;
    assert!(!client.try_publish_frame("camera/frame", 42, b"two".to_vec(), Instant::now()));
    assert_eq!(client.status().deduplicated, dup + 1);
}
