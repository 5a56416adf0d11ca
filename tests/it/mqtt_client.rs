//! The MQTT client against real brokers over loopback: health, heartbeat,
//! payload limits, dedup, shutdown and the last will. Each scenario runs on
//! the embedded broker (a child process) and on Mosquitto (ignored by
//! default: `.ci/run` runs them with --ignored).

use crate::common;

use std::time::{Duration, Instant};

use common::broker::{
    BrokerKind, Gate, Observer, WAIT, config, connected, is_event, retained, start_broker,
    wait_status,
};
use serde_json::json;
use tars_mqtt::{self as mqtt, LinkState, QoS};

crate::on_both_brokers!(
    ready_is_retained_and_bad_health_survives_reconnect,
    heartbeat_keeps_cadence_and_comes_back,
    big_payloads_pass_and_oversize_is_refused,
    retained_oversize_inbound_is_dropped_without_a_reconnect_loop,
    shutdown_publishes_retained_stopped,
    killed_process_leaves_retained_offline,
    duplicates_are_handled_once,
);

async fn ready_is_retained_and_bad_health_survives_reconnect(kind: BrokerKind) {
    let mut broker = start_broker(kind);
    let gate = Gate::new(broker.port).await;
    let (client, mut status) = mqtt::connect(config(&gate.url(), "ready"));
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
    watcher.event("camera_error", "retained").await;

    // The broker forgets everything; after the reconnect the client says
    // `ready` and then, since it is not ok, `camera_error` again. The client
    // is let through only once the watcher is subscribed again.
    let before = watcher.subscriptions();
    gate.set_open(false);
    broker.kill();
    wait_status(&mut status, WAIT, |s| s.state != LinkState::Connected)
        .await
        .expect("link loss noticed");
    broker.restart().expect("broker restart");
    watcher.resubscribed(before).await;
    gate.set_open(true);
    connected(&mut status).await;
    watcher.event("ready", "after reconnect").await;
    let again = watcher.event("camera_error", "republished").await;
    assert_eq!(again.json()["err"], "no frames");
    let value = retained(broker.port, "system/health/ready").await;
    assert_eq!(value["event"], "camera_error");
    assert_eq!(value["ok"], false);
}

async fn heartbeat_keeps_cadence_and_comes_back(kind: BrokerKind) {
    let broker = start_broker(kind);
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

async fn big_payloads_pass_and_oversize_is_refused(kind: BrokerKind) {
    let broker = start_broker(kind);
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

/// A retained message over the client's limit on a topic it subscribes to
/// (someone's mistake on the control topic) is dropped and counted: the link
/// stays up, later messages are handled, and a client that starts later
/// (the service restarted) is not locked out either.
async fn retained_oversize_inbound_is_dropped_without_a_reconnect_loop(kind: BrokerKind) {
    let broker = start_broker(kind);
    let mut publisher = Observer::connect(broker.port, &["camera/control"]).await;
    publisher
        .publish("camera/control", vec![b'x'; 3 << 20], true)
        .await;
    // Once it comes back to its sender, the broker holds it.
    publisher
        .next(WAIT, |m| m.payload.len() == 3 << 20)
        .await
        .expect("the big message stored");
    let mut observer = Observer::connect(broker.port, &["camera/frame"]).await;
    for round in 0..2u64 {
        let mut cfg = config(&broker.url(), &format!("inbound{round}"));
        cfg.max_packet_bytes = 1024 * 1024;
        let (client, mut status) = mqtt::connect(cfg);
        let handled = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&handled);
        client
            .subscribe("camera/control", QoS::AtLeastOnce, move |m| {
                seen.lock().expect("lock").push(m.payload.len());
            })
            .expect("subscribe");
        connected(&mut status).await;
        let dropped = wait_status(&mut status, WAIT, |s| s.inbound_too_large >= 1)
            .await
            .expect("the oversize message counted");
        assert_eq!(dropped.inbound_too_large, 1);
        publisher
            .publish("camera/control", format!("{{\"id\":\"r{round}\"}}"), false)
            .await;
        let got = common::eventually(WAIT, || {
            let h = handled.lock().expect("lock");
            (!h.is_empty()).then(|| h.clone())
        })
        .expect("a normal message after the oversize one is handled");
        assert!(got.iter().all(|&len| len < 1024), "{got:?}");
        // Frames still go out, on the first connection.
        assert!(client.try_publish_frame("camera/frame", 1, b"f".to_vec(), Instant::now()));
        observer.next(WAIT, |_| true).await.expect("a frame");
        // No loop: the message was dropped once and the link is up. (Under
        // heavy load the embedded broker has once reset a connection while
        // the big message was still being read; a loop would count the
        // message again at every reconnect.)
        let s = client.status();
        assert_eq!(
            (s.state, s.inbound_too_large),
            (LinkState::Connected, 1),
            "{s:?}"
        );
        assert!(s.reconnects <= 1, "{s:?}");
        drop(client);
    }
}

async fn shutdown_publishes_retained_stopped(kind: BrokerKind) {
    let broker = start_broker(kind);
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
    let broker = start_broker(kind);
    let mut observer = Observer::connect(broker.port, &["system/health/child"]).await;
    let mut child = common::command_of(&std::env::current_exe().expect("test exe"))
        .args([
            "--exact",
            &common::test_path(module_path!(), "helper_child_client"),
        ])
        .args(["--ignored", "--nocapture"])
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
    let offline = observer.event("offline", "last will").await;
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

async fn duplicates_are_handled_once(kind: BrokerKind) {
    let broker = start_broker(kind);
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
