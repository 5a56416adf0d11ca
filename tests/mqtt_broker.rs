//! The embedded broker in-process, as `--demo` uses it.
#![cfg(feature = "embedded-broker")]

#[macro_use]
#[path = "common/broker.rs"]
mod broker;

use std::net::TcpListener;
use std::time::Instant;

use broker::{Observer, WAIT, config, connected, retained};
use tars_camera::mqtt::{self, broker as embedded};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_port_taken_falls_back_to_a_free_one() {
    // Hold 1883 (or find it held by something else already).
    let _hold = TcpListener::bind("127.0.0.1:1883");
    let addr = tokio::task::spawn_blocking(|| embedded::spawn_embedded("127.0.0.1", 1883))
        .await
        .expect("joined")
        .expect("broker started");
    assert_ne!(addr.port(), 1883);
    assert!(addr.ip().is_loopback());

    // It is a working broker: the client connects and `ready` is retained.
    let url = format!("mqtt://{addr}");
    let (client, mut status) = mqtt::connect(config(&url, "demo"));
    connected(&mut status).await;
    let value = retained(addr.port(), "system/health/demo").await;
    assert_eq!(value["event"], "ready");
    // Big frames pass its packet limits.
    let mut observer = Observer::connect(addr.port(), &["camera/frame"]).await;
    let frame = vec![7u8; 1 << 20];
    assert!(client.try_publish_frame("camera/frame", 1, frame.clone(), Instant::now()));
    let seen = observer.next(WAIT, |_| true).await.expect("1 MiB frame");
    assert_eq!(seen.payload.len(), frame.len());
    client
        .shutdown(mqtt::DEFAULT_SHUTDOWN_TIMEOUT)
        .await
        .expect("clean shutdown");
}

#[test]
fn a_taken_port_other_than_1883_is_an_error() {
    let hold = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = hold.local_addr().expect("addr").port();
    let err = embedded::spawn_embedded("127.0.0.1", port).expect_err("port taken");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
}
