//! Errors of the MQTT client, by cause, so callers can branch on them.
//!
//! No variant ever carries the broker password: connection errors are built
//! from rumqttc's error text, which does not contain credentials.

use std::io;

use rumqttc::{ConnectReturnCode, ConnectionError, StateError};
use thiserror::Error;

/// What went wrong talking to the broker.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MqttError {
    /// The broker actively refused: nothing listening on the port, or a
    /// CONNACK refusal other than credentials.
    #[error("connection refused: {0}")]
    Refused(String),
    /// DNS failure, timeout or no route to the host.
    #[error("broker unreachable: {0}")]
    Unreachable(String),
    /// CONNACK "bad user name or password" or "not authorized".
    #[error("bad credentials: {0}")]
    BadCredentials(String),
    /// The packet exceeds the configured maximum packet size.
    #[error("packet too large: {size} bytes, limit {max} bytes")]
    PacketTooLarge {
        /// The packet's size.
        size: usize,
        /// The limit (`ClientConfig::max_packet_bytes`).
        max: usize,
    },
    /// TLS setup or handshake failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The link was up and then lost (reset, closed by the broker, protocol error).
    #[error("connection lost: {0}")]
    Lost(String),
    /// No connection right now; nothing was queued.
    #[error("not connected")]
    NotConnected,
    /// The request queue of the current connection is full; nothing was queued.
    #[error("request queue full")]
    QueueFull,
    /// `shutdown()` ran; the client does nothing more.
    #[error("client stopped")]
    Stopped,
    /// A bounded wait ran out (e.g. the PUBACK of `stopped` at shutdown).
    #[error("timed out: {0}")]
    Timeout(String),
    /// A topic or filter that MQTT does not allow.
    #[error("invalid topic or filter `{0}`")]
    InvalidTopic(String),
    /// The value could not be serialized to JSON.
    #[error("JSON serialization: {0}")]
    Serialize(String),
}

impl MqttError {
    /// Classifies an error of `EventLoop::poll`; `max_packet_bytes` is the
    /// configured limit, reported when an incoming packet exceeds it.
    #[must_use]
    pub fn from_connection(err: &ConnectionError, max_packet_bytes: usize) -> MqttError {
        match err {
            ConnectionError::Io(e) => from_io(e),
            ConnectionError::NetworkTimeout => {
                MqttError::Unreachable("no answer within the connect timeout".into())
            }
            ConnectionError::FlushTimeout => MqttError::Lost("write timed out".into()),
            ConnectionError::ConnectionRefused(code) => from_connack(*code),
            ConnectionError::Tls(e) => match e {
                rumqttc::TlsError::Io(io) if !is_tls_io(io) => from_io(io),
                other => MqttError::Tls(other.to_string()),
            },
            ConnectionError::MqttState(StateError::Io(e)) => from_io(e),
            ConnectionError::MqttState(StateError::Deserialization(
                rumqttc::Error::PayloadSizeLimitExceeded(size),
            )) => MqttError::PacketTooLarge {
                size: *size,
                max: max_packet_bytes,
            },
            ConnectionError::MqttState(StateError::Deserialization(
                rumqttc::Error::OutgoingPacketTooLarge { pkt_size, max },
            )) => MqttError::PacketTooLarge {
                size: *pkt_size,
                max: *max,
            },
            ConnectionError::MqttState(StateError::ConnectionAborted) => {
                MqttError::Lost("closed by the broker".into())
            }
            ConnectionError::MqttState(e) => MqttError::Lost(e.to_string()),
            other => MqttError::Lost(other.to_string()),
        }
    }

    /// True for errors of the connection itself (as opposed to one request).
    #[must_use]
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            MqttError::Refused(_)
                | MqttError::Unreachable(_)
                | MqttError::BadCredentials(_)
                | MqttError::Tls(_)
                | MqttError::Lost(_)
        )
    }
}

fn is_tls_io(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData
}

fn from_io(e: &io::Error) -> MqttError {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => MqttError::Refused(e.to_string()),
        K::TimedOut | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
            MqttError::Unreachable(e.to_string())
        }
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            MqttError::Lost(e.to_string())
        }
        _ if is_dns_failure(e) => MqttError::Unreachable(e.to_string()),
        _ => MqttError::Lost(e.to_string()),
    }
}

/// tokio's `lookup_host` reports resolver failures with an uncategorized kind.
fn is_dns_failure(e: &io::Error) -> bool {
    let text = e.to_string();
    text.contains("lookup") || text.contains("resolve") || text.contains("Name or service")
}

fn from_connack(code: ConnectReturnCode) -> MqttError {
    match code {
        ConnectReturnCode::BadUserNamePassword => {
            MqttError::BadCredentials("bad user name or password".into())
        }
        ConnectReturnCode::NotAuthorized => MqttError::BadCredentials("not authorized".into()),
        ConnectReturnCode::ServiceUnavailable => {
            MqttError::Refused("broker says service unavailable".into())
        }
        ConnectReturnCode::BadClientId => MqttError::Refused("client id rejected".into()),
        ConnectReturnCode::RefusedProtocolVersion => {
            MqttError::Refused("protocol version rejected".into())
        }
        ConnectReturnCode::Success => MqttError::Lost("unexpected CONNACK".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_causes() {
        let refused = ConnectionError::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(matches!(
            MqttError::from_connection(&refused, 10),
            MqttError::Refused(_)
        ));
        let timeout = ConnectionError::NetworkTimeout;
        assert!(matches!(
            MqttError::from_connection(&timeout, 10),
            MqttError::Unreachable(_)
        ));
        let dns = ConnectionError::Io(io::Error::other(
            "failed to lookup address information: Name or service not known",
        ));
        assert!(matches!(
            MqttError::from_connection(&dns, 10),
            MqttError::Unreachable(_)
        ));
        for code in [
            ConnectReturnCode::BadUserNamePassword,
            ConnectReturnCode::NotAuthorized,
        ] {
            let e = ConnectionError::ConnectionRefused(code);
            assert!(matches!(
                MqttError::from_connection(&e, 10),
                MqttError::BadCredentials(_)
            ));
        }
        let unavailable = ConnectionError::ConnectionRefused(ConnectReturnCode::ServiceUnavailable);
        assert!(matches!(
            MqttError::from_connection(&unavailable, 10),
            MqttError::Refused(_)
        ));
        let aborted = ConnectionError::MqttState(StateError::ConnectionAborted);
        assert!(matches!(
            MqttError::from_connection(&aborted, 10),
            MqttError::Lost(_)
        ));
        let big = ConnectionError::MqttState(StateError::Deserialization(
            rumqttc::Error::OutgoingPacketTooLarge {
                pkt_size: 20,
                max: 10,
            },
        ));
        assert_eq!(
            MqttError::from_connection(&big, 10),
            MqttError::PacketTooLarge { size: 20, max: 10 }
        );
    }
}
