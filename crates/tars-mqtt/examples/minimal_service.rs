//! A minimal robot service on the MQTT client: retained health, a heartbeat
//! every 5 s, and a command topic whose duplicates are handled once.
//!
//! ```text
//! cargo run -p tars-mqtt --example minimal_service -- mqtt://127.0.0.1:1883
//! mosquitto_sub -t 'system/#' -v                      # health and heartbeat
//! mosquitto_pub -t robot/greeter/say -m '{"id": 1, "text": "hi"}'  # twice: handled once
//! ```
//!
//! Ctrl-C publishes retained `stopped` and disconnects cleanly.

use std::time::Duration;

use tars_mqtt::{BrokerUrl, ClientConfig, DEFAULT_SHUTDOWN_TIMEOUT, QoS};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1);
    let url = BrokerUrl::parse(url.as_deref().unwrap_or("mqtt://127.0.0.1:1883"))?;
    let mut config = ClientConfig::new(url, "greeter", "greeter");
    config.heartbeat_interval = Duration::from_secs(5);
    let (client, mut status) = tars_mqtt::connect(config);

    // Handlers run on the connection task: keep them short. A message with
    // the same `id` (or `seq`, else the same payload) within the dedup TTL
    // reaches the handler once, even across a reconnect.
    let replies = client.clone();
    client.subscribe("robot/greeter/say", QoS::AtLeastOnce, move |m| {
        let text = String::from_utf8_lossy(&m.payload);
        println!("asked to say {text}");
        let _ = replies.publish_json("robot/greeter/said", &text, QoS::AtMostOnce, false);
    })?;

    // `ready` is published on every connect; a problem is reported once and
    // republished after each reconnect until it is cleared.
    println!("connecting to {}", status.borrow().broker);
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = async {
            let mut last = None;
            while status.changed().await.is_ok() {
                let s = status.borrow_and_update().clone();
                if last != Some(s.state) {
                    println!("{:?} (attempt {})", s.state, s.attempt);
                    last = Some(s.state);
                }
            }
        } => {}
    }
    client.set_health(true, "shutting_down", None).ok();
    client.shutdown(DEFAULT_SHUTDOWN_TIMEOUT).await?;
    Ok(())
}
