//! The whole service (the real binary) against a real broker (a child
//! process): frame payloads, rate, health over the service's life, and camera
//! failures reaching health. Each scenario runs on the embedded broker, and
//! on Mosquitto when ignored tests are run (`.ci/run`).

use crate::common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use common::args::Args;
use common::broker::{BrokerKind, Observer, free_port, retained, start_broker, start_broker_on};
use common::{Running, eventually, get, status_json};

const WAIT: Duration = Duration::from_secs(10);

fn service(url: &str, name: &str, extra: &[&str]) -> Running {
    let args = Args::mqtt(url, name)
        .set("--reconnect-max", "1")
        .and(&["--heartbeat-interval", "0.3"])
        .and(extra);
    Running::headless(&args, &[])
}

async fn frames_carry_every_field_at_the_asked_rate(kind: BrokerKind) {
    let broker = start_broker(kind);
    let mut obs = Observer::connect(broker.port, &["camera/frame"]).await;
    let mut svc = service(
        &broker.url(),
        "cam-frames",
        &["--mqtt-rate", "5", "--quality", "60"],
    );
    let first = obs
        .next(WAIT, |m| m.topic == "camera/frame")
        .await
        .expect("a frame");
    let v = first.json();
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(v["frame"].as_str().expect("frame is a string"))
        .expect("base64");
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
    assert_eq!(v["width"], 160);
    assert_eq!(v["height"], 120);
    assert_eq!(v["quality"], 60);
    assert_eq!(v["mqtt_rate"], 5.0);
    assert_eq!(v["backend"], "test-pattern");
    assert_eq!(v["consecutive_failures"], 0);
    assert!(v["timestamp"].as_f64().expect("timestamp") > 1.7e9);
    let mut seqs = vec![v["seq"].as_u64().expect("seq")];
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        if let Some(m) = obs
            .next(Duration::from_millis(500), |m| m.topic == "camera/frame")
            .await
        {
            seqs.push(m.json()["seq"].as_u64().expect("seq"));
        }
    }
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq rises, never repeats: {seqs:?}"
    );
    // 5 Hz over ~3 s: about 15 more frames (loose bounds: shared CI machine).
    let n = seqs.len() - 1;
    assert!((10..=18).contains(&n), "{n} frames in 3 s at 5 Hz");
    let addr = svc.http_addr();
    let status = status_json(addr);
    assert!(status["mqtt"]["frames_published"].as_u64().expect("count") >= 10);
    assert_eq!(status["mqtt"]["state"], "connected");
}

async fn rate_zero_sends_no_frames_but_heartbeats_go_on(kind: BrokerKind) {
    let broker = start_broker(kind);
    let mut obs =
        Observer::connect(broker.port, &["camera/frame", "system/keepalive/cam-zero"]).await;
    let _svc = service(&broker.url(), "cam-zero", &["--mqtt-rate", "0"]);
    let mut beats = 0;
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Some(m) = obs.next(Duration::from_millis(500), |_| true).await {
            assert_ne!(m.topic, "camera/frame", "rate 0 publishes no frame");
            beats += 1;
        }
    }
    assert!(beats >= 4, "heartbeats every 0.3 s go on: {beats}");
}

async fn sigterm_leaves_stopped_and_kill_leaves_offline(kind: BrokerKind) {
    let broker = start_broker(kind);
    let mut obs = Observer::connect(broker.port, &["system/health/cam-life"]).await;
    let mut svc = service(&broker.url(), "cam-life", &[]);
    obs.event("ready", "at start").await;
    svc.signal("TERM");
    assert!(
        svc.wait_exit(Duration::from_secs(3))
            .expect("exits")
            .success()
    );
    let v = retained(broker.port, "system/health/cam-life").await;
    assert_eq!(v["event"], "stopped");
    assert_eq!(v["ok"], false);

    let mut svc = service(&broker.url(), "cam-life", &[]);
    obs.event("ready", "after the restart").await;
    svc.signal("KILL");
    svc.wait_exit(Duration::from_secs(3)).expect("killed");
    obs.event("offline", "last will").await;
    let v = retained(broker.port, "system/health/cam-life").await;
    assert_eq!(v["event"], "offline", "a crash shows as down: {v}");
    assert_eq!(v["ok"], false);
}

async fn broker_down_at_start_then_up(kind: BrokerKind) {
    let port = free_port();
    let url = format!("mqtt://127.0.0.1:{port}");
    let mut svc = service(&url, "cam-late", &["--mqtt-rate", "2"]);
    let addr = svc.http_addr();
    // HTTP serves with no broker; the status says it is waiting.
    eventually(WAIT, || {
        (get(addr, "/snapshot").status == 200).then_some(())
    })
    .expect("snapshot without broker");
    let waiting = eventually(WAIT, || {
        let v = status_json(addr);
        (v["mqtt"]["state"] == "waiting").then_some(v)
    })
    .expect("waiting");
    assert!(
        waiting["mqtt"]["dropped"].as_u64().expect("dropped") > 0
            || waiting["mqtt"]["last_error"].is_string()
    );
    let broker = start_broker_on(kind, port);
    let mut obs = Observer::connect(broker.port, &["camera/frame"]).await;
    obs.next(WAIT, |m| m.topic == "camera/frame")
        .await
        .expect("frames once the broker is up");
    assert_eq!(
        retained(broker.port, "system/health/cam-late").await["event"],
        "ready"
    );
}

async fn camera_failures_reach_health_and_recover(kind: BrokerKind) {
    let broker = start_broker(kind);
    let mut obs = Observer::connect(broker.port, &["system/health/cam-fail", "camera/frame"]).await;
    // 20 good frames, 2 read timeouts (each: camera_error at once, close and
    // re-open), two failed re-opens (backoff 0.5, 1, 2 and 4 s: failing for
    // long enough to be asked about on a slow machine), then good again.
    let mut svc = service(
        &broker.url(),
        "cam-fail",
        &[
            "--mqtt-rate",
            "10",
            "--fail-schedule",
            "ok*20,timeout*2,open-fail*2,ok*",
        ],
    );
    let addr = svc.http_addr();
    // A viewer connected before the failure sees a "no signal" picture.
    let viewer = common::no_signal_viewer(addr);
    let err = obs.event("camera_error", "while failing").await;
    let v = err.json();
    assert_eq!(v["ok"], false);
    assert!(v["err"].as_str().expect("err").contains("no frame"), "{v}");
    // While failing, /snapshot says so instead of serving a stale picture.
    let snap = tokio::task::spawn_blocking(move || get(addr, "/snapshot"))
        .await
        .expect("join");
    assert_eq!(snap.status, 503);
    assert!(String::from_utf8_lossy(&snap.body).starts_with("no signal: "));
    let part = viewer
        .await
        .expect("join")
        .expect("a no-signal part on /stream");
    assert_eq!(
        &part.jpeg[..2],
        &[0xFF, 0xD8],
        "the no-signal picture is a JPEG"
    );
    let ok = obs.event("camera_ok", "after the failures").await;
    assert_eq!(ok.json()["ok"], true);
    let frame = obs
        .next(WAIT, |m| m.topic == "camera/frame")
        .await
        .expect("frames flow again");
    // The first frame after the run carries its length; later ones carry 0.
    let run = frame.json()["consecutive_failures"]
        .as_u64()
        .expect("count");
    assert!(run == 0 || run >= 3, "failures before this frame: {run}");
    // The status snapshot is refreshed every 250 ms: wait for it to catch up.
    let status = eventually(WAIT, || {
        let v = status_json(addr);
        (v["capture"]["consecutive_failures"] == 0).then_some(v)
    })
    .expect("status shows the recovery");
    assert!(
        status["capture"]["total_failures"].as_u64().expect("total") >= 3,
        "{status}"
    );
    assert!(
        status["capture"]["reopens"].as_u64().expect("reopens") >= 1,
        "{status}"
    );
    assert_eq!(
        retained(broker.port, "system/health/cam-fail").await["event"],
        "camera_ok"
    );
}

crate::on_both_brokers!(
    frames_carry_every_field_at_the_asked_rate,
    rate_zero_sends_no_frames_but_heartbeats_go_on,
    sigterm_leaves_stopped_and_kill_leaves_offline,
    broker_down_at_start_then_up,
    camera_failures_reach_health_and_recover,
);
