//! Turns a [`ClientConfig`] into rumqttc options: last will, credentials,
//! packet limits, TLS with the ring provider.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{LastWill, MqttOptions, NetworkOptions, QoS, TlsConfiguration, Transport};
use serde_json::json;

use super::config::ClientConfig;
use super::error::MqttError;

/// The last will: retained `{"ok": false, "event": "offline"}` QoS 1.
pub(crate) fn last_will(config: &ClientConfig) -> LastWill {
    let payload = json!({"ok": false, "event": "offline"}).to_string();
    LastWill::new(config.health_topic(), payload, QoS::AtLeastOnce, true)
}

/// rumqttc accepts zero or whole seconds ≥ 1 (it panics otherwise).
fn keep_alive(d: Duration) -> Duration {
    if d.is_zero() {
        d
    } else {
        Duration::from_secs(d.as_secs().max(1))
    }
}

/// The options of every connection attempt. Fails only for TLS setup.
pub(crate) fn mqtt_options(config: &ClientConfig) -> Result<MqttOptions, MqttError> {
    let url = &config.url;
    let mut o = MqttOptions::new(config.client_id.clone(), url.host.clone(), url.port);
    o.set_keep_alive(keep_alive(config.keep_alive));
    // Inbound: whatever MQTT allows, so an oversize message is dropped by
    // the handler instead of dropping the link (see `max_packet_bytes`).
    o.set_max_packet_size(
        super::config::MAX_INBOUND_PACKET_BYTES,
        config.max_packet_bytes,
    );
    o.set_clean_session(true);
    o.set_last_will(last_will(config));
    if let Some(user) = &url.username {
        o.set_credentials(user.clone(), url.password().unwrap_or_default());
    }
    if url.is_tls() {
        let tls = match &config.tls {
            Some(tls) => tls.clone(),
            None => Arc::new(native_roots_config()?),
        };
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(tls)));
    }
    Ok(o)
}

pub(crate) fn network_options(config: &ClientConfig) -> NetworkOptions {
    let mut n = NetworkOptions::new();
    n.set_connection_timeout(config.connect_timeout.as_secs().max(1));
    n.set_tcp_nodelay(true);
    n
}

/// A rustls client config with the ring provider and the system's roots.
///
/// # Errors
/// No system root certificate could be loaded.
pub fn native_roots_config() -> Result<rustls::ClientConfig, MqttError> {
    let mut roots = rustls::RootCertStore::empty();
    let loaded = rustls_native_certs::load_native_certs();
    for cert in loaded.certs {
        // Skip the odd unparsable system certificate rather than fail.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        let why = loaded
            .errors
            .first()
            .map_or_else(|| "none installed".to_string(), ToString::to_string);
        return Err(MqttError::Tls(format!(
            "no system root certificates: {why}"
        )));
    }
    roots_config(roots)
}

/// A rustls client config with the ring provider that trusts `roots`.
///
/// # Errors
/// The provider offers no safe protocol version (never with ring).
pub fn roots_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, MqttError> {
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| MqttError::Tls(e.to_string()))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::BrokerUrl;

    #[test]
    fn options_carry_will_limits_and_credentials() {
        let url = BrokerUrl::parse("mqtt://u:p@127.0.0.1:1999").expect("valid");
        let mut cfg = ClientConfig::new(url, "cid", "camera");
        cfg.keep_alive = Duration::from_millis(300);
        let o = mqtt_options(&cfg).expect("options");
        assert_eq!(o.broker_address(), ("127.0.0.1".to_string(), 1999));
        assert_eq!(o.keep_alive(), Duration::from_secs(1));
        // Inbound: anything MQTT allows (an oversize message is dropped by
        // the handler, not by the link).
        assert_eq!(
            o.max_packet_size(),
            super::super::config::MAX_INBOUND_PACKET_BYTES
        );
        let will = o.last_will().expect("will");
        assert_eq!(will.topic, "system/health/camera");
        assert!(will.retain);
        assert_eq!(will.qos, QoS::AtLeastOnce);
        let v: serde_json::Value = serde_json::from_slice(&will.message).expect("json");
        assert_eq!(v, json!({"ok": false, "event": "offline"}));
        let login = o.credentials().expect("login");
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("u", "p")
        );
        assert!(matches!(o.transport(), Transport::Tcp));
    }

    #[test]
    fn mqtts_uses_rustls_with_given_config() {
        let url = BrokerUrl::parse("mqtts://broker.example.org").expect("valid");
        let mut cfg = ClientConfig::new(url, "cid", "camera");
        let tls = roots_config(rustls::RootCertStore::empty()).expect("tls config");
        cfg.tls = Some(Arc::new(tls));
        let o = mqtt_options(&cfg).expect("options");
        assert!(matches!(
            o.transport(),
            Transport::Tls(TlsConfiguration::Rustls(_))
        ));
        assert_eq!(o.broker_address().1, 8883);
    }
}
