//! The MQTT broker inside this process (`--demo`).

use std::net::SocketAddr;

use super::StartError;

/// Start the broker inside this process on 127.0.0.1: on `port` exactly
/// (0: any free port), or, with no port given, on 1883 or a free port when
/// 1883 is taken. Blocks (off the runtime) until it accepts.
#[cfg(feature = "embedded-broker")]
pub async fn start_embedded(port: Option<u16>) -> Result<SocketAddr, StartError> {
    let addr = tokio::task::spawn_blocking(move || match port {
        Some(p) => crate::broker::spawn_embedded_on("127.0.0.1", p),
        None => crate::broker::spawn_embedded_preferring("127.0.0.1", crate::broker::DEFAULT_PORT),
    })
    .await
    .map_err(|e| StartError::Broker(e.to_string()))?
    .map_err(|e| match port {
        Some(p) => StartError::Broker(format!("--broker-port {p}: {e}")),
        None => StartError::Broker(e.to_string()),
    })?;
    if port.is_some() || addr.port() == crate::broker::DEFAULT_PORT {
        tracing::info!("embedded MQTT broker on mqtt://{addr}");
    } else {
        tracing::info!("embedded MQTT broker on mqtt://{addr} (1883 was taken)");
    }
    Ok(addr)
}

#[cfg(not(feature = "embedded-broker"))]
pub async fn start_embedded(_port: Option<u16>) -> Result<SocketAddr, StartError> {
    Err(StartError::Broker(
        "this build has no embedded broker (feature embedded-broker); use --mqtt-url".into(),
    ))
}
