//! The MQTT broker inside this process (`--demo`).

use std::net::SocketAddr;

use super::StartError;

/// Start the broker inside this process on 127.0.0.1: port 1883, or a free
/// port when 1883 is taken. Blocks (off the runtime) until it accepts.
#[cfg(feature = "embedded-broker")]
pub async fn start_embedded() -> Result<SocketAddr, StartError> {
    let addr = tokio::task::spawn_blocking(|| {
        crate::broker::spawn_embedded_preferring("127.0.0.1", crate::broker::DEFAULT_PORT)
    })
    .await
    .map_err(|e| StartError::Broker(e.to_string()))?
    .map_err(|e| StartError::Broker(e.to_string()))?;
    if addr.port() == 1883 {
        tracing::info!("embedded MQTT broker on mqtt://{addr}");
    } else {
        tracing::info!("embedded MQTT broker on mqtt://{addr} (1883 was taken)");
    }
    Ok(addr)
}

#[cfg(not(feature = "embedded-broker"))]
pub async fn start_embedded() -> Result<SocketAddr, StartError> {
    Err(StartError::Broker(
        "this build has no embedded broker (feature embedded-broker); use --mqtt-url".into(),
    ))
}
