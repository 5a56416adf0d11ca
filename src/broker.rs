//! The embedded MQTT broker (rumqttd), for `--demo`, for the `broker`
//! subcommand and for tests: a machine with no broker still gets the whole
//! MQTT path.
//!
//! rumqttd is configured in code (no config files). It has no shutdown API
//! and `Broker::start` blocks, so it runs on its own named thread for the
//! life of the process. Its logs are chatty: add [`QUIET_LOG_DIRECTIVES`] to
//! the tracing filter.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use thiserror::Error;

/// Tracing directives that silence rumqttd. It logs routine events at ERROR
/// (every client that disconnects cleanly, every client-id takeover), so a
/// level filter cannot keep only its real problems; the ones that matter
/// here (cannot bind) are caught by [`spawn_embedded`] itself.
pub const QUIET_LOG_DIRECTIVES: &str = "rumqttd=off";

/// The port that falls back to a free one when taken.
pub const DEFAULT_PORT: u16 = 1883;

/// Largest MQTT packet the broker accepts (≥ the client's 8 MiB default).
pub const MAX_PACKET_BYTES: usize = 16 * 1024 * 1024;

/// How long to wait for the broker to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Error)]
pub enum BrokerError {
    #[error("cannot resolve broker host `{0}`")]
    Resolve(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("broker thread: {0}")]
    Thread(io::Error),
    #[error("broker on {0} is not accepting connections")]
    NotReady(SocketAddr),
    #[error("broker on {0} stopped")]
    Stopped(SocketAddr),
}

fn resolve(host: &str) -> Result<IpAddr, BrokerError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    (host, 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .map(|a| a.ip())
        .ok_or_else(|| BrokerError::Resolve(host.to_string()))
}

/// The address to listen on: `port` if free; a free port when `port` is 0,
/// or when it is 1883 and taken.
fn pick_addr(ip: IpAddr, port: u16, fallback: bool) -> Result<SocketAddr, BrokerError> {
    let addr = SocketAddr::new(ip, port);
    match TcpListener::bind(addr) {
        Ok(listener) => listener
            .local_addr()
            .map_err(|source| BrokerError::Bind { addr, source }),
        Err(e) if fallback && e.kind() == io::ErrorKind::AddrInUse => {
            let any = SocketAddr::new(ip, 0);
            let listener =
                TcpListener::bind(any).map_err(|source| BrokerError::Bind { addr: any, source })?;
            tracing::info!(taken = %addr, "port taken, the embedded broker uses a free port");
            listener
                .local_addr()
                .map_err(|source| BrokerError::Bind { addr, source })
        }
        Err(source) => Err(BrokerError::Bind { addr, source }),
    }
}

/// rumqttd settings: one v4 server on `addr`, big packets, retain and will.
fn config(addr: SocketAddr) -> Config {
    let connections = ConnectionSettings {
        connection_timeout_ms: 10_000,
        max_payload_size: MAX_PACKET_BYTES,
        // Per subscriber, the router buffers up to this many publishes for a
        // QoS 1 subscription (and `max_outgoing_packet_count` for QoS 0).
        // With 1.4 MB frames, 100/200 (rumqttd's examples) grew the broker to
        // ~240 MB RSS; 20/20 keeps it near 55 MB and lost no frame.
        max_inflight_count: 20,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = ServerSettings {
        name: "tars-v4".to_string(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    // Each topic keeps up to (count + 1) segments of about `size` bytes
    // (a segment may overrun by one packet): room for a few 1 MB frames.
    let router = RouterConfig {
        max_connections: 256,
        max_outgoing_packet_count: 20,
        max_segment_size: 4 * 1024 * 1024,
        max_segment_count: 2,
        ..RouterConfig::default()
    };
    Config {
        id: 0,
        router,
        v4: Some(HashMap::from([("1".to_string(), server)])),
        ..Config::default()
    }
}

fn start_thread(addr: SocketAddr) -> Result<JoinHandle<()>, BrokerError> {
    thread::Builder::new()
        .name("mqtt-broker".to_string())
        .spawn(move || {
            let mut broker = Broker::new(config(addr));
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded MQTT broker failed");
            }
        })
        .map_err(BrokerError::Thread)
}

/// One MQTT CONNECT/CONNACK/DISCONNECT exchange: the broker really serves
/// MQTT (a bare TCP probe would make rumqttd log an error).
fn probe(addr: SocketAddr) -> io::Result<()> {
    use std::io::{Read, Write};
    const CONNECT: [u8; 21] = [
        0x10, 19, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 10, 0, 7, b't', b'a', b'r', b's', b'-',
        b'p', b'b',
    ];
    let timeout = Duration::from_millis(300);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(&CONNECT)?;
    let mut connack = [0u8; 4];
    stream.read_exact(&mut connack)?;
    // Closing without DISCONNECT: rumqttd logs a clean DISCONNECT + close at
    // ERROR ("no-connection id … is already gone"), a bare close at info.
    if connack == [0x20, 2, 0, 0] {
        Ok(())
    } else {
        Err(io::Error::other("unexpected CONNACK"))
    }
}

/// Waits until the broker answers MQTT on `addr`.
fn wait_accepting(addr: SocketAddr, thread: &JoinHandle<()>) -> Result<(), BrokerError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if probe(addr).is_ok() {
            // The answer may come from another broker that holds the port
            // while ours failed to bind it: ours must still be running.
            thread::sleep(Duration::from_millis(50));
            if thread.is_finished() {
                return Err(BrokerError::Stopped(addr));
            }
            return Ok(());
        }
        if thread.is_finished() {
            return Err(BrokerError::Stopped(addr));
        }
        thread::sleep(Duration::from_millis(10));
    }
    Err(BrokerError::NotReady(addr))
}

/// Starts the broker on its own thread and returns once it accepts
/// connections. Port 0 gets a free port: the returned address is the real
/// one. The broker lives as long as the process.
pub fn spawn_embedded(host: &str, port: u16) -> Result<SocketAddr, BrokerError> {
    start_on(pick_addr(resolve(host)?, port, false)?)
}

/// As [`spawn_embedded`], but when `preferred` is taken (another broker on
/// 1883, say) a free port is used instead: `--demo` runs anywhere.
pub fn spawn_embedded_preferring(host: &str, preferred: u16) -> Result<SocketAddr, BrokerError> {
    let ip = resolve(host)?;
    match start_on(pick_addr(ip, preferred, true)?) {
        // Free when looked at, taken before the broker bound it (two
        // services starting at once): any free port then.
        Err(BrokerError::Stopped(lost)) => {
            tracing::info!(taken = %lost, "port taken meanwhile, the embedded broker uses a free port");
            start_on(pick_addr(ip, 0, false)?)
        }
        other => other,
    }
}

/// The embedded broker on `host:port` exactly (0: any free port); an
/// error naming the port when it is taken.
///
/// # Errors
/// The host does not resolve, the port is taken, or the broker failed.
pub fn spawn_embedded_on(host: &str, port: u16) -> Result<SocketAddr, BrokerError> {
    let ip = resolve(host)?;
    start_on(pick_addr(ip, port, false)?)
}

fn start_on(addr: SocketAddr) -> Result<SocketAddr, BrokerError> {
    let thread = start_thread(addr)?;
    wait_accepting(addr, &thread)?;
    tracing::info!(%addr, "embedded MQTT broker listening");
    Ok(addr)
}

/// Runs the broker on exactly `addr` until the process is killed. Calls
/// `ready` with the address once it accepts connections.
pub fn run_foreground(addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> Result<(), BrokerError> {
    let addr = pick_addr(addr.ip(), addr.port(), false).and_then(|picked| {
        if addr.port() == 0 || picked == addr {
            Ok(picked)
        } else {
            Err(BrokerError::Bind {
                addr,
                source: io::Error::from(io::ErrorKind::AddrInUse),
            })
        }
    })?;
    let thread = start_thread(addr)?;
    wait_accepting(addr, &thread)?;
    ready(addr);
    let _ = thread.join();
    Err(BrokerError::Stopped(addr))
}
