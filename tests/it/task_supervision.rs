//! No silent death: each long-running task of the service, killed by a
//! panic, is logged at error, counted and shown in `/status`, and runs
//! again; the MQTT link's task, which cannot be rebuilt in place, stops the
//! service with an error instead.

use crate::common;

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use std::sync::OnceLock;

use common::{eventually, get, post, status_json};
use tars_camera::events::EventLog;
use tars_camera::service::Service;
use tracing_subscriber::layer::SubscriberExt as _;

/// The log of this test process, fed by `tracing` and served on `/events`.
fn event_log() -> EventLog {
    static LOG: OnceLock<EventLog> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = EventLog::new(500);
        let subscriber = tracing_subscriber::registry().with(log.layer());
        let _ = tracing::subscriber::set_global_default(subscriber);
        log
    })
    .clone()
}

struct InProcess {
    rt: tokio::runtime::Runtime,
    service: Option<Service>,
    addr: SocketAddr,
}

impl InProcess {
    fn start(args: &[&str]) -> Self {
        let mut argv = vec!["--no-tui", "--demo", "--fps", "10", "--mqtt-rate", "10"];
        argv.extend_from_slice(args);
        let (config, listener) = common::test_config(&argv);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let service = rt
            .block_on(Service::start_logged(config, listener, None, event_log()))
            .expect("start");
        let addr = service.http_addr;
        Self {
            rt,
            service: Some(service),
            addr,
        }
    }

    fn service(&self) -> &Service {
        self.service.as_ref().expect("running")
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(s) = self.service.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

/// The `/status` record of task `name`, once it shows `panics` panics and
/// runs again.
fn restarted(addr: SocketAddr, name: &str, panics: u64) -> Option<serde_json::Value> {
    eventually(Duration::from_secs(5), || {
        let s = status_json(addr);
        let task = s["tasks"]["tasks"]
            .as_array()?
            .iter()
            .find(|t| t["name"] == name)?
            .clone();
        (task["panics"] == panics && task["state"] == "running").then_some(task)
    })
}

fn frames_published(addr: SocketAddr) -> u64 {
    status_json(addr)["mqtt"]["frames_published"]
        .as_u64()
        .expect("frames_published")
}

#[test]
fn every_task_killed_is_counted_shown_and_runs_again() {
    let svc = InProcess::start(&["--ha-discovery", "true"]);
    let addr = svc.addr;
    let tasks = svc.service().supervisor();
    // The MQTT link is up and frames flow before anything is killed.
    assert!(
        eventually(Duration::from_secs(10), || (frames_published(addr) > 2)
            .then_some(()))
        .is_some(),
        "no MQTT frames at the start"
    );
    let names = [
        "control",
        "frame publisher",
        "camera health",
        "no signal",
        "status",
        "mqtt control",
        "home assistant",
        "http accept",
    ];
    let started = Instant::now();
    for (i, name) in names.iter().enumerate() {
        tasks.inject_fault(name);
        if *name == "http accept" {
            // The accept thread looks for the fault at its next connection.
            let _ = TcpStream::connect(addr);
        }
        let task = restarted(addr, name, 1).unwrap_or_else(|| {
            panic!(
                "{name} not shown as restarted: {}",
                status_json(addr)["tasks"]
            )
        });
        assert_eq!(task["restarts"], 1, "{name}: {task}");
        let why = task["last_failure"].as_str().unwrap_or_default();
        assert!(why.contains("fault injected"), "{name}: {task}");
        let s = status_json(addr);
        assert_eq!(s["tasks"]["failures"], i + 1, "{}", s["tasks"]);
    }
    assert!(started.elapsed() < Duration::from_secs(30));

    // Each works again: frames are published, requests applied, /events
    // tells the story at error level.
    let before = frames_published(addr);
    assert!(
        eventually(Duration::from_secs(5), || (frames_published(addr)
            > before + 2)
            .then_some(()))
        .is_some(),
        "no MQTT frames after the publisher restarted"
    );
    let r = post(addr, "/control", r#"{"quality": 61}"#, None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let events = get(addr, "/events");
    let text = String::from_utf8_lossy(&events.body);
    for name in names {
        assert!(
            text.contains(&format!("task {name} panicked")),
            "{name} not logged: {text}"
        );
    }
    assert!(text.contains(r#""level":"ERROR""#), "{text}");
}

#[test]
fn the_mqtt_link_task_dying_stops_the_service_with_an_error() {
    let mut svc = InProcess::start(&[]);
    let service = svc.service.take().expect("service");
    let tasks = service.supervisor();
    let outcome = svc.rt.block_on(async move {
        let signals = tars_camera::signals::Termination::catch().expect("signals");
        let run = tokio::spawn(tars_camera::headless::run(service, signals));
        tokio::time::sleep(Duration::from_millis(300)).await;
        tasks.inject_fault("mqtt link and heartbeat");
        tokio::time::timeout(Duration::from_secs(5), run).await
    });
    let result = outcome
        .expect("the service stops within 5 s")
        .expect("runner did not panic");
    let err = result.expect_err("an error, so the process exits non-zero");
    assert!(err.to_string().contains("mqtt link and heartbeat"), "{err}");
}
