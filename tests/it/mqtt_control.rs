//! Control over MQTT through the real binary and a real broker (embedded;
//! Mosquitto when ignored tests run): results on the result topic, the same
//! id applied once, retained requests ignored, bad payloads counted, and
//! the subscription back after a broker restart.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use common::args::Args;
use common::broker::{BrokerKind, Observer, Seen, service_ready, start_broker};
use common::{Running, eventually, status_json};

const WAIT: Duration = Duration::from_secs(10);
const RESULT: &str = "camera/control/result";

fn service(url: &str, name: &str) -> (Running, SocketAddr) {
    let args = Args::mqtt(url, name).and(&["--quality", "80"]);
    let mut svc = Running::headless(&args, &[]);
    let addr = svc.http_addr();
    svc.wait_line("MQTT control on camera/control", WAIT);
    (svc, addr)
}

fn quality(addr: SocketAddr) -> u64 {
    status_json(addr)["encoder"]["quality"]
        .as_u64()
        .expect("quality")
}

fn control_counter(addr: SocketAddr, name: &str) -> u64 {
    status_json(addr)["mqtt"]["control"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("mqtt.control.{name} in the status"))
}

/// Send `payload` on the control topic, not retained; the next result.
async fn request(obs: &mut Observer, payload: impl Into<Vec<u8>>) -> Seen {
    let payload = payload.into();
    obs.publish("camera/control", payload.clone(), false).await;
    obs.next(WAIT, |m| m.topic == RESULT)
        .await
        .unwrap_or_else(|| panic!("no result for {}", String::from_utf8_lossy(&payload)))
}

/// Wait until the service's client is connected. A test that then publishes
/// a request waits for [`service_ready`] instead: the subscription is sent
/// after the CONNACK, and only `ready` says the broker has it.
fn wait_connected(addr: SocketAddr) {
    eventually(WAIT, || {
        (status_json(addr)["mqtt"]["state"] == "connected").then_some(())
    })
    .expect("service connected");
}

async fn requests_results_dedup_retained_and_bad_payloads(kind: BrokerKind) {
    let broker = start_broker(kind);
    let mut obs = Observer::connect(broker.port, &[RESULT]).await;
    // A retained request waiting on the broker: applying it would re-apply
    // it on every reconnect, so the service must ignore it.
    obs.publish("camera/control", r#"{"id":"ret-1","quality":10}"#, true)
        .await;
    let (_svc, addr) = service(&broker.url(), "cam-ctl");
    wait_connected(addr);
    eventually(WAIT, || {
        (control_counter(addr, "retained_ignored") == 1).then_some(())
    })
    .expect("the retained request is seen and ignored");
    assert_eq!(quality(addr), 80, "the retained request did not apply");

    let result = request(&mut obs, r#"{"id":"req-1","quality":42,"paused":true}"#).await;
    assert!(!result.retain, "results are not retained");
    let r = result.json();
    assert_eq!(r["id"], "req-1");
    assert_eq!(r["ok"], true);
    assert_eq!(r["applied"]["quality"], 42);
    assert_eq!(r["applied"]["paused"], true);
    assert!(r["timestamp"].as_f64().expect("timestamp") > 1.0e9);
    eventually(WAIT, || (quality(addr) == 42).then_some(())).expect("quality 42");
    assert_eq!(status_json(addr)["mqtt"]["paused"], true);

    // The same id again (a different body, to tell): applied once.
    obs.publish("camera/control", r#"{"id":"req-1","quality":43}"#, false)
        .await;
    // A new id after it: its result proves the one before was dropped, not late.
    let next = request(&mut obs, r#"{"id":"req-2","quality":44}"#).await;
    assert_eq!(
        next.json()["id"],
        "req-2",
        "req-1 twice gave a second result"
    );
    eventually(WAIT, || (quality(addr) == 44).then_some(())).expect("quality 44");

    // A bad payload: an error result, counted, and the client carries on.
    let bad = request(&mut obs, r#"{"id":"bad-1","quality":101}"#).await;
    let b = bad.json();
    assert_eq!(b["id"], "bad-1");
    assert_eq!(b["ok"], false);
    assert_eq!(b["error"], "quality: must be 1 to 100 (got 101)");
    assert!(b.get("applied").is_none());
    let garbage = request(&mut obs, "not json at all").await;
    assert_eq!(garbage.json()["ok"], false);
    assert!(garbage.json()["id"].is_null());
    eventually(WAIT, || {
        (control_counter(addr, "rejected") == 2).then_some(())
    })
    .expect("two rejected counted");
    assert_eq!(quality(addr), 44, "a refused request changes nothing");

    // Without ids, the same request sent again on purpose applies each time
    // (what a Home Assistant switch sends: pause, resume, pause).
    for paused in [true, false, true] {
        let r = request(&mut obs, format!(r#"{{"paused":{paused}}}"#)).await;
        assert_eq!(r.json()["ok"], true);
        assert_eq!(r.json()["applied"]["paused"], paused);
    }
    eventually(WAIT, || {
        (status_json(addr)["mqtt"]["paused"] == true).then_some(())
    })
    .expect("paused at the end");

    // The retained request left before the service started: ignored, counted.
    assert!(control_counter(addr, "retained_ignored") >= 1);
    // Clear the retained request.
    obs.publish("camera/control", Vec::new(), true).await;
}

async fn subscription_survives_a_broker_restart(kind: BrokerKind) {
    let mut broker = start_broker(kind);
    let (_svc, addr) = service(&broker.url(), "cam-ctl-restart");
    wait_connected(addr);
    broker.kill();
    eventually(WAIT, || {
        (status_json(addr)["mqtt"]["state"] != "connected").then_some(())
    })
    .expect("the service saw the broker go");
    broker.restart().expect("broker restarts");
    let mut obs = Observer::connect(broker.port, &[RESULT]).await;
    service_ready(broker.port, "cam-ctl-restart").await;
    let r = request(&mut obs, r#"{"id":"after-restart","quality":33}"#).await;
    assert_eq!(r.json()["id"], "after-restart");
    eventually(WAIT, || (quality(addr) == 33).then_some(())).expect("quality 33");
}

#[test]
fn an_empty_control_topic_turns_control_off() {
    let mut svc = Running::headless(&["--demo", "--control-topic", ""], &[]);
    let addr = svc.http_addr();
    assert_eq!(status_json(addr)["mqtt"]["control"]["topic"], "");
    let out = common::command()
        .args(["--demo", "--no-tui", "--control-topic", "camera/#"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--control-topic"));
}

/// A 9 MB retained message on the control topic (over the 8 MiB packet
/// limit): delivered on every (re)subscribe, it must not drop the link; the
/// client drops it unhandled and counts it.
async fn a_retained_oversize_request_does_not_keep_the_camera_off_mqtt(kind: BrokerKind) {
    let broker = start_broker(kind);
    let obs = Observer::connect(broker.port, &[RESULT]).await;
    let huge = format!(r#"{{"quality":"{}"}}"#, "x".repeat(9_000_000));
    obs.publish("camera/control", huge, true).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = tokio::task::spawn_blocking({
        let url = broker.url();
        move || {
            let (svc, addr) = service(&url, "cam-ctl-oversize");
            wait_connected(addr);
            let published = |a| {
                status_json(a)["mqtt"]["frames_published"]
                    .as_u64()
                    .unwrap_or(0)
            };
            let before = published(addr);
            // Long enough for several reconnects, were there a loop.
            std::thread::sleep(Duration::from_secs(4));
            let s = status_json(addr);
            drop(svc);
            (s, before)
        }
    })
    .await
    .expect("service");
    let (s, before) = status;
    assert_eq!(s["mqtt"]["state"], "connected", "{}", s["mqtt"]);
    assert_eq!(s["mqtt"]["reconnects"], 0, "{}", s["mqtt"]);
    assert_eq!(s["mqtt"]["inbound_too_large"], 1, "{}", s["mqtt"]);
    let after = s["mqtt"]["frames_published"].as_u64().unwrap_or(0);
    assert!(
        after > before + 5,
        "frames still published: {before} -> {after}"
    );
    // Clear the retained request.
    obs.publish("camera/control", Vec::new(), true).await;
}

crate::on_both_brokers!(
    requests_results_dedup_retained_and_bad_payloads,
    subscription_survives_a_broker_restart,
    a_retained_oversize_request_does_not_keep_the_camera_off_mqtt,
);

/// VmRSS of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// 100 requests of 5 MB each: each refused unread with a short error, the
/// log and `/events` stay small, and the service's memory stays where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_rejected_requests_leave_memory_and_logs_bounded() {
    const COUNT: u64 = 100;
    let broker = start_broker(BrokerKind::Embedded);
    let mut obs = Observer::connect(broker.port, &[RESULT]).await;
    let (svc, addr) = tokio::task::spawn_blocking({
        let url = broker.url();
        move || {
            let (svc, addr) = service(&url, "cam-ctl-huge");
            wait_connected(addr);
            (svc, addr)
        }
    })
    .await
    .expect("service");
    service_ready(broker.port, "cam-ctl-huge").await;
    let pid = svc.child.id();
    // One ordinary request first, so the start figure is of a working service.
    let r = request(&mut obs, r#"{"id":"warm","quality":70}"#).await;
    assert_eq!(r.json()["ok"], true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let filler = "x".repeat(5_000_000);
    let started = std::time::Instant::now();
    let mut answered = 0u64;
    for i in 0..COUNT {
        // Each its own id: the same id twice is applied (and answered) once.
        let huge = format!(r#"{{"id":"big-{i}","quality":"{filler}"}}"#);
        obs.publish("camera/control", huge, false).await;
        // Paced: each result comes back before the next goes out.
        let r = obs
            .next(WAIT, |m| m.topic == RESULT)
            .await
            .unwrap_or_else(|| panic!("no result for request {i}"));
        let r = r.json();
        assert_eq!(r["ok"], false);
        let error = r["error"].as_str().unwrap_or_default();
        assert!(error.starts_with("request too large: 50000"), "{error}");
        answered += 1;
        if [0, 1, 9, 49].contains(&i) {
            eprintln!("after {} requests: RSS {} KiB", i + 1, rss_kib(pid));
        }
    }
    assert!(started.elapsed() < Duration::from_secs(120));
    let after = rss_kib(pid);
    let (status, events) = tokio::task::spawn_blocking(move || {
        eventually(WAIT, || {
            (status_json(addr)["mqtt"]["control"]["oversize"] == COUNT).then_some(())
        })
        .expect("all counted");
        (status_json(addr), common::get(addr, "/events").body.len())
    })
    .await
    .expect("status");
    eprintln!(
        "{COUNT} requests of 5 MB in {:.1} s: RSS {before} KiB -> {after} KiB; /events {events} bytes",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(answered, COUNT);
    assert_eq!(status["mqtt"]["control"]["oversize"], COUNT);
    assert!(
        after < before + 10 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    assert!(events < 300 * 1024, "/events is {events} bytes");
    drop(svc);
}
