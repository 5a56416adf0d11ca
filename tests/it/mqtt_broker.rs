//! The embedded broker in-process, as `--demo` uses it.
#![cfg(feature = "embedded-broker")]

use crate::common;

use std::net::TcpListener;
use std::time::Instant;

use common::broker::{Observer, WAIT, config, connected, retained};
use tars_camera::broker as embedded;
use tars_mqtt as mqtt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_preferred_port_falls_back_to_a_free_one() {
    // Hold a free port, as another broker would hold 1883.
    let hold = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = hold.local_addr().expect("addr").port();
    let addr = tokio::task::spawn_blocking(move || {
        embedded::spawn_embedded_preferring("127.0.0.1", taken)
    })
    .await
    .expect("joined")
    .expect("broker started");
    assert_ne!(addr.port(), taken);
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
fn an_exact_port_taken_is_an_error() {
    let hold = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = hold.local_addr().expect("addr").port();
    let err = embedded::spawn_embedded("127.0.0.1", port).expect_err("port taken");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
}
