//! The TARS robot's MQTT client. Knows nothing about cameras: any service of
//! the robot can use it.
//!
//! [`connect`] returns a cloneable [`Client`] handle and a status receiver,
//! and spawns the task that owns the connection. The handle never waits on
//! the network: frames are offered only while connected and are dropped (and
//! counted) otherwise, so a reconnect never sends a stale burst.
//!
//! What every service gets:
//! - retained health on `system/health/<service>` (`ready` on every
//!   connect, `stopped` on [`Client::shutdown`], `offline` as the last will);
//! - a heartbeat on `system/keepalive/<service>`;
//! - subscriptions that survive reconnects, with inbound duplicates handled
//!   once;
//! - reconnects with jittered exponential backoff, and a live
//!   [`ClientStatus`] for a UI or a status page.
//!
//! ```no_run
//! # async fn run() -> Result<(), tars_mqtt::MqttError> {
//! use tars_mqtt::{BrokerUrl, ClientConfig, QoS};
//!
//! let url = BrokerUrl::parse("mqtt://127.0.0.1:1883").expect("a valid URL");
//! let (client, _status) = tars_mqtt::connect(ClientConfig::new(url, "my-robot-part", "part"));
//! client.subscribe("robot/command", QoS::AtLeastOnce, |m| {
//!     println!("{} bytes on {}", m.payload.len(), m.topic);
//! })?;
//! client.set_health(true, "working", None).ok();
//! client.shutdown(tars_mqtt::DEFAULT_SHUTDOWN_TIMEOUT).await
//! # }
//! ```
//!
//! Modules:
//! - [`url`]: `mqtt://` / `mqtts://` broker URLs, password never printed.
//! - [`config`]: [`ClientConfig`] and its defaults.
//! - [`client`]: the [`Client`] handle.
//! - `task`: the connection owner (backoff, health, heartbeat, shutdown).
//! - [`dedup`], [`heartbeat`], [`topic`], [`backoff`]: pure logic,
//!   unit-tested.

// No function over 80 lines (clippy.toml at the workspace root sets the count).
#![warn(clippy::too_many_lines)]
#![warn(missing_docs)]

pub mod backoff;
pub mod client;
pub mod config;
mod connack;
pub mod dedup;
mod error;
pub mod heartbeat;
mod inbound;
mod options;
mod shared;
mod shutdown;
mod status;
mod task;
pub mod topic;
pub mod url;

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

pub use client::Client;
pub use config::{ClientConfig, DEFAULT_SHUTDOWN_TIMEOUT};
pub use error::MqttError;
pub use options::{native_roots_config, roots_config};
pub use rumqttc::QoS;
pub use shared::Message;
pub use status::{ClientStatus, HealthStatus, HeartbeatStatus, LinkState};
use tokio::sync::{mpsc, watch};
pub use url::{BrokerUrl, Scheme, UrlError};

/// Starts the client: returns the handle and the status receiver, and spawns
/// the connection task on the current tokio runtime (call it inside one).
/// Connecting starts at once; failures are retried with backoff forever,
/// until [`Client::shutdown`].
#[must_use]
pub fn connect(config: ClientConfig) -> (Client, watch::Receiver<ClientStatus>) {
    let (client, status, task) = start(config);
    tokio::spawn(task);
    (client, status)
}

/// As [`connect`], but the connection task (link, backoff, heartbeat) is
/// returned for the caller to run, so it can watch it end.
pub fn start(
    config: ClientConfig,
) -> (
    Client,
    watch::Receiver<ClientStatus>,
    impl std::future::Future<Output = ()> + Send + 'static,
) {
    let status = ClientStatus {
        broker: config.url.redacted(),
        client_id: config.client_id.clone(),
        attempt: 1,
        since_unix_ms: shared::unix_ms(),
        heartbeat: HeartbeatStatus {
            interval_ms: u64::try_from(config.heartbeat_interval.as_millis()).unwrap_or(u64::MAX),
            ..HeartbeatStatus::default()
        },
        ..ClientStatus::default()
    };
    let (status_tx, status_rx) = watch::channel(status);
    let shared = Arc::new(shared::Shared {
        health_topic: config.health_topic(),
        keepalive_topic: config.keepalive_topic(),
        max_packet_bytes: config.max_packet_bytes,
        inner: Mutex::new(shared::Inner {
            link: None,
            subs: Vec::new(),
            sent_frames: dedup::DedupCache::new(config.dedup_ttl, config.dedup_capacity),
            health: None,
        }),
        published: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        deduplicated: AtomicU64::new(0),
        received: AtomicU64::new(0),
        inbound_too_large: AtomicU64::new(0),
        stopping: AtomicBool::new(false),
        status: status_tx,
    });
    let (commands_tx, commands_rx) = mpsc::channel(8);
    let task = task::Task::new(&config, Arc::clone(&shared), commands_rx);
    let client = Client {
        shared,
        commands: commands_tx,
    };
    (client, status_rx, task.run())
}
