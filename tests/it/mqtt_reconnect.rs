//! Reconnect against real brokers: killed and restarted, absent at start,
//! `reconnect_now`. Embedded broker by default, Mosquitto with --ignored.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::broker::{
    BrokerKind, Observer, RECONNECT_MAX, WAIT, config, connected, retained, start_broker,
    start_broker_on, wait_status,
};
use serde_json::json;
use tars_mqtt::{self as mqtt, LinkState, QoS};

crate::on_both_brokers!(
    survives_ten_broker_restarts,
    connects_when_the_broker_appears,
    reconnect_now_reconnects_and_stays_ready,
);

async fn survives_ten_broker_restarts(kind: BrokerKind) {
    let mut broker = start_broker(kind);
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
        broker.restart().expect("broker restart");
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
    let port = common::broker::free_port();
    let (client, mut status) = mqtt::connect(config(&format!("mqtt://127.0.0.1:{port}"), "late"));
    let waiting = wait_status(&mut status, WAIT, |s| {
        // From attempt 5 the wait (~0.8 s) spans several 250 ms updates.
        s.state == LinkState::Waiting && s.attempt >= 5 && s.next_attempt_in_ms > Some(500)
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
    let _broker = start_broker_on(kind, port);
    let appeared = Instant::now();
    connected(&mut status).await;
    assert!(appeared.elapsed() <= RECONNECT_MAX + Duration::from_secs(1));
}

async fn reconnect_now_reconnects_and_stays_ready(kind: BrokerKind) {
    let broker = start_broker(kind);
    let (client, mut status) = mqtt::connect(config(&broker.url(), "again"));
    connected(&mut status).await;
    let mut watcher = Observer::connect(broker.port, &["system/health/again"]).await;
    watcher.event("ready", "retained").await;
    client.reconnect_now();
    let s = wait_status(&mut status, WAIT, |s| {
        s.reconnects == 1 && s.state == LinkState::Connected
    })
    .await
    .expect("reconnected");
    assert_eq!(s.reconnects, 1);
    watcher.event("ready", "again").await;
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
