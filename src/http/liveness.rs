//! Proof that the accept thread still turns: a watchdog connects to the
//! server from a port of its own, and the accept thread, recognising that
//! port, counts the connection and closes it (no connection thread, no
//! request, no other counter touched).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

/// Shared between the accept thread and the watchdog.
#[derive(Debug, Default)]
pub struct Liveness {
    /// The local port of the probe in flight (0: none).
    probe_port: AtomicU16,
    /// Probes the accept thread has taken.
    accepted: AtomicU64,
}

impl Liveness {
    /// Probes accepted so far; grows only while the accept thread runs.
    #[must_use]
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Called by the accept thread: true (and counted) when `peer` is the probe.
    pub(super) fn take_probe(&self, peer: SocketAddr, server: SocketAddr) -> bool {
        let port = self.probe_port.load(Ordering::Relaxed);
        let ours = port != 0 && peer.port() == port && peer.ip() == target(server).ip();
        if ours {
            self.accepted.fetch_add(1, Ordering::Relaxed);
        }
        ours
    }

    /// Connect to `server` once, from a port the accept thread will know,
    /// and close. The kernel completes the connection whether or not the
    /// accept thread runs: only [`Self::accepted`] tells.
    ///
    /// # Errors
    /// The socket could not be made, bound or connected.
    pub fn probe(&self, server: SocketAddr) -> io::Result<()> {
        let target = target(server);
        let socket = Socket::new(Domain::for_address(target), Type::STREAM, None)?;
        socket.bind(&SocketAddr::new(target.ip(), 0).into())?;
        let port = socket
            .local_addr()?
            .as_socket()
            .map_or(0, |a: SocketAddr| a.port());
        self.probe_port.store(port, Ordering::Relaxed);
        socket.connect_timeout(&target.into(), Duration::from_secs(1))
    }
}

/// Where a local client reaches the server (loopback for a wildcard bind).
fn target(server: SocketAddr) -> SocketAddr {
    let ip = match server.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, server.port())
}
