//! Home Assistant MQTT discovery through the real binary and a real broker
//! (embedded; Mosquitto when ignored tests run): the retained discovery
//! messages, the bare JPEG topic, the state, a control sent as Home
//! Assistant renders it, the discovery sent again after a broker restart,
//! and the last will making the device unavailable.

use crate::common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use common::args::Args;
use common::broker::{BrokerKind, Observer, Seen, start_broker};
use common::{Running, eventually, status_json};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

fn service(url: &str, name: &str) -> (Running, SocketAddr) {
    let args = Args::mqtt(url, name).and(&["--mqtt-rate", "2", "--ha-discovery"]);
    let mut svc = Running::headless(&args, &[]);
    let addr = svc.http_addr();
    (svc, addr)
}

/// Discovery messages until all eight of the service's own are in, by
/// topic (the source's control entities, `control_*`, are left out). A
/// subscriber gets the retain flag only on messages the broker kept from
/// before it came. (`None`: either, when the two race.)
async fn discovery(obs: &mut Observer, kept: Option<bool>) -> BTreeMap<String, Value> {
    let mut seen = BTreeMap::new();
    while seen.len() < 8 {
        let m = obs
            .next(WAIT, |m| {
                m.topic.starts_with("homeassistant/") && !m.topic.contains("/control_")
            })
            .await
            .unwrap_or_else(|| panic!("8 discovery messages, got {:?}", seen.keys()));
        if let Some(kept) = kept {
            assert_eq!(m.retain, kept, "{} retained", m.topic);
        }
        seen.insert(m.topic.clone(), m.json());
    }
    seen
}

fn config<'a>(
    all: &'a BTreeMap<String, Value>,
    component: &str,
    object: &str,
    node: &str,
) -> &'a Value {
    let topic = format!("homeassistant/{component}/{node}/{object}/config");
    all.get(&topic)
        .unwrap_or_else(|| panic!("no {topic} in {:?}", all.keys()))
}

/// What Home Assistant's template `{"quality": {{ value | int }}}` renders
/// for `value`.
fn render(template: &str, value: &str) -> String {
    template
        .replace("{{ value | int }}", value)
        .replace("{{ value }}", value)
}

fn is_state(m: &Seen) -> bool {
    m.topic == "camera/frame/state"
}

async fn announce_camera_sensors_and_controls(kind: BrokerKind) {
    let mut broker = start_broker(kind);
    let node = "cam-ha";
    let mut obs = Observer::connect(
        broker.port,
        &["homeassistant/#", "camera/frame/jpeg", "camera/frame/state"],
    )
    .await;
    let (svc, addr) = service(&broker.url(), node);
    let all = discovery(&mut obs, Some(false)).await;
    // Retained: a subscriber that comes later gets them all.
    let mut late = Observer::connect(broker.port, &["homeassistant/#"]).await;
    assert_eq!(discovery(&mut late, Some(true)).await, all);
    let camera = config(&all, "camera", "camera", node);
    assert_eq!(camera["topic"], "camera/frame/jpeg");
    assert_eq!(
        camera["availability_topic"],
        format!("system/health/{node}")
    );
    assert_eq!(camera["device"]["identifiers"][0], node);
    for object in [
        "fps",
        "capture_failures",
        "stream_clients",
        "broker_round_trip",
    ] {
        assert_eq!(
            config(&all, "sensor", object, node)["state_topic"],
            "camera/frame/state"
        );
    }

    // The camera entity's topic carries a whole JPEG.
    let jpeg = obs
        .next(WAIT, |m| m.topic == "camera/frame/jpeg")
        .await
        .expect("a JPEG on camera/frame/jpeg");
    assert!(jpeg.payload.starts_with(&[0xFF, 0xD8]) && jpeg.payload.ends_with(&[0xFF, 0xD9]));

    // A number as Home Assistant sends it: its template rendered onto the
    // command topic, through the control path; the state follows at once.
    let quality = config(&all, "number", "jpeg_quality", node);
    let command = render(
        quality["command_template"].as_str().expect("template"),
        "37",
    );
    let topic = quality["command_topic"].as_str().expect("command topic");
    obs.publish(topic, command, false).await;
    let state = obs
        .next(WAIT, |m| is_state(m) && m.json()["quality"] == 37)
        .await
        .expect("the state shows quality 37");
    assert_eq!(state.json()["paused"], false);
    assert_eq!(status_json(addr)["encoder"]["quality"], 37);
    // The switch, twice on: pause, resume, pause all apply.
    let pause = config(&all, "switch", "pause", node);
    for payload in ["payload_on", "payload_off", "payload_on"] {
        let body = pause[payload].as_str().expect("payload").to_owned();
        obs.publish(topic, body, false).await;
        let want = payload == "payload_on";
        obs.next(WAIT, |m| is_state(m) && m.json()["paused"] == want)
            .await
            .unwrap_or_else(|| panic!("paused {want} in the state"));
    }

    // After a broker restart (retained messages gone with it) the discovery
    // is there again.
    broker.kill();
    broker.restart().expect("broker restarts");
    let mut obs = Observer::connect(broker.port, &["homeassistant/#", "system/health/#"]).await;
    let again = discovery(&mut obs, None).await;
    assert_eq!(again.len(), 8);

    // The process dies: the last will marks the device unavailable. The
    // availability template maps its event to "offline".
    eventually(WAIT, || {
        (status_json(addr)["mqtt"]["state"] == "connected").then_some(())
    })
    .expect("connected again");
    svc.signal("KILL");
    let will = obs
        .next(WAIT, |m| {
            m.topic == format!("system/health/{node}") && m.json()["event"] == "offline"
        })
        .await
        .expect("the last will");
    assert_eq!(will.json()["ok"], false);
    let template = camera["availability_template"].as_str().expect("template");
    assert!(template.contains("'offline'") && template.contains("value_json.event"));
}

#[cfg(feature = "embedded-broker")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_is_off_by_default() {
    let broker = start_broker(BrokerKind::Embedded);
    let mut obs = Observer::connect(broker.port, &["homeassistant/#", "camera/frame/#"]).await;
    let args = [
        "--source",
        "test-pattern",
        "--mqtt-url",
        &broker.url(),
        "--mqtt-rate",
        "5",
    ];
    let mut svc = Running::headless(&args, &[]);
    let addr = svc.http_addr();
    eventually(WAIT, || {
        (status_json(addr)["mqtt"]["frames_published"].as_u64() >= Some(3)).then_some(())
    })
    .expect("frames published");
    let seen: Vec<String> = obs.drain().into_iter().map(|m| m.topic).collect();
    assert!(seen.iter().any(|t| t == "camera/frame"), "{seen:?}");
    assert!(
        seen.iter().all(|t| t == "camera/frame"),
        "only the JSON frames without --ha-discovery: {seen:?}"
    );
}

#[test]
fn a_bad_prefix_is_refused_naming_where_it_came_from() {
    let (code, stderr) = common::run(
        &[
            "--demo",
            "--no-tui",
            "--ha-discovery",
            "--ha-prefix",
            "home/#",
        ],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--ha-prefix"), "{stderr}");
    let (code, stderr) = common::run(
        &["--demo", "--no-tui"],
        &[("CAMERA_HA_DISCOVERY", "true"), ("CAMERA_HA_PREFIX", "x/+")],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("CAMERA_HA_PREFIX"), "{stderr}");
}

/// The source's own controls (the test pattern's software brightness,
/// contrast, saturation) become entities; a command rendered from one's
/// template changes the control, and the state shows it.
async fn camera_controls_are_entities_that_work(kind: BrokerKind) {
    let broker = start_broker(kind);
    let node = "cam-ha-ctl";
    let mut obs = Observer::connect(
        broker.port,
        &["homeassistant/number/#", "camera/frame/state"],
    )
    .await;
    let (_svc, addr) = service(&broker.url(), node);
    let topic = format!("homeassistant/number/{node}/control_brightness/config");
    let entity = obs
        .next(WAIT, |m| m.topic == topic)
        .await
        .expect("a number entity for brightness")
        .json();
    assert_eq!(
        (entity["min"].as_i64(), entity["max"].as_i64()),
        (Some(-100), Some(100))
    );
    assert_eq!(entity["command_topic"], "camera/control");
    let command = render(entity["command_template"].as_str().expect("template"), "40");
    obs.publish("camera/control", command, false).await;
    let state = obs
        .next(WAIT, |m| {
            is_state(m) && m.json()["controls"]["brightness"] == 40
        })
        .await;
    assert!(state.is_some(), "the state shows brightness 40");
    let shown = tokio::task::spawn_blocking(move || {
        eventually(WAIT, || {
            let v: Value = serde_json::from_slice(&common::get(addr, "/controls").body).ok()?;
            (v["controls"][0]["value"] == 40).then_some(())
        })
    })
    .await
    .expect("join");
    assert!(shown.is_some(), "GET /controls shows brightness 40");
}

crate::on_both_brokers!(
    announce_camera_sensors_and_controls,
    camera_controls_are_entities_that_work
);
