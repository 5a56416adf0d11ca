//! HTTP: the console page (`/`), `/stream` (MJPEG), `/snapshot`, `/status`,
//! `/status/events`, `/events`, `POST /control`, on a small server of its own (std threads and sockets) that stays bounded whatever clients do.
//!
//! One accept thread; each admitted connection gets a thread, and at most
//! `max_connections` are admitted: when all are taken, the connection that
//! has waited longest (over 100 ms) for a request head is closed to make room,
//! else the newcomer gets 503 from one extra thread. A request's head must
//! arrive within 5 s and stay within the size limits
//! (414 / 431 / 413); a `/stream` client that accepts no bytes for
//! `client_timeout` is dropped. A slow or stalled client blocks only its own
//! thread, never capture, MQTT or other clients. Frames are written from the
//! shared `Bytes`: no copy per client. This module reads the hub and the
//! status snapshot only.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::control::Command;
use crate::events::EventLog;
use crate::frame::FrameHub;
use crate::metrics::Metrics;
use crate::stats::{Status, StreamStatus};

pub mod auth;
pub mod browser;
mod connection;
mod console;
mod control;
mod exchange;
pub mod guard;
mod heads;
pub mod liveness;
pub mod request;
pub mod response;
mod routes;
mod server;
mod status_events;
mod stream;

pub use auth::{AuthConfig, AuthOutcome, Secret};
pub use exchange::Exchange;
pub use server::HttpServer;

/// Part boundary of the multipart stream.
pub const BOUNDARY: &str = "frame";

/// How long a client may take to send a request's head (and then its body).
pub const HEAD_DEADLINE: Duration = Duration::from_secs(5);

/// The bounds every connection lives within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; more get 503.
    pub max_connections: u32,
    /// Concurrent `/stream` clients (within `max_connections`).
    pub max_clients: u32,
    /// A client that accepts no bytes this long is dropped.
    pub client_timeout: Duration,
    /// The head of a request must arrive within this.
    pub head_deadline: Duration,
    /// Request line (method, target, version), bytes: 414 beyond.
    pub max_request_line: usize,
    /// Header lines together, bytes: 431 beyond.
    pub max_headers_bytes: usize,
    /// Request body, bytes: 413 beyond.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 64,
            max_clients: 16,
            client_timeout: Duration::from_secs(10),
            head_deadline: HEAD_DEADLINE,
            max_request_line: 8 * 1024,
            max_headers_bytes: 16 * 1024,
            max_body: 64 * 1024,
        }
    }
}

/// The first header called `name` (any case) among `headers`.
#[must_use]
pub fn find_header<'a, K: AsRef<str>>(headers: &'a [(K, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Counters the status reads; written by the connection threads.
#[derive(Debug, Default)]
pub struct StreamCounters {
    /// `/stream` clients now.
    pub clients: AtomicU32,
    /// `/status/events` watchers now (at most `max_clients`).
    pub watchers: AtomicU32,
    pub frames_served: AtomicU64,
    pub bytes_served: AtomicU64,
    /// `/stream` requests refused beyond `max_clients`.
    pub rejected: AtomicU64,
    /// Connections open now.
    pub connections: AtomicU32,
    /// Connections refused beyond `max_connections`.
    pub refused_connections: AtomicU64,
    /// `/stream` clients dropped for taking no bytes for `client_timeout`.
    pub dropped_stalled: AtomicU64,
    /// Connections closed for not sending a complete request head in time
    /// (or, when every slot is taken, for being the slowest to send one).
    pub head_timeouts: AtomicU64,
    /// Requests answered 4xx for being malformed or over a size limit.
    pub bad_requests: AtomicU64,
    /// Requests answered 401.
    pub unauthorized: AtomicU64,
    /// Requests refused for their `Host` (not a name the service answers
    /// to without authentication).
    pub host_refused: AtomicU64,
    /// Requests refused (429) from an address locked out for guessing.
    pub auth_locked: AtomicU64,
    /// Requests answered, by route (in [`routes::paths`] order), then
    /// unknown paths.
    pub requests: [AtomicU64; routes::COUNT + 1],
    /// `POST /control` requests applied, and refused.
    pub control_applied: AtomicU64,
    pub control_refused: AtomicU64,
}

impl StreamCounters {
    /// The `stream` section of the status. The rates are computed by the caller.
    #[must_use]
    pub fn status(&self, address: String, limits: &Limits, auth: &AuthConfig) -> StreamStatus {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StreamStatus {
            address,
            clients: self.clients.load(Ordering::Relaxed),
            max_clients: limits.max_clients,
            watchers: self.watchers.load(Ordering::Relaxed),
            frames_served: load(&self.frames_served),
            bytes_served: load(&self.bytes_served),
            frames_per_s: 0.0,
            bytes_per_s: 0.0,
            rejected: load(&self.rejected),
            connections: self.connections.load(Ordering::Relaxed),
            max_connections: limits.max_connections,
            refused_connections: load(&self.refused_connections),
            client_timeout_s: limits.client_timeout.as_secs_f64(),
            dropped_stalled: load(&self.dropped_stalled),
            head_timeouts: load(&self.head_timeouts),
            bad_requests: load(&self.bad_requests),
            unauthorized: load(&self.unauthorized),
            host_refused: load(&self.host_refused),
            auth_locked: load(&self.auth_locked),
            auth: auth.mode().to_owned(),
            requests: routes::paths()
                .chain(std::iter::once("other"))
                .zip(&self.requests)
                .map(|(path, n)| (path.to_owned(), load(n)))
                .collect(),
            control_applied: load(&self.control_applied),
            control_refused: load(&self.control_refused),
        }
    }
}

/// What the handlers read.
#[derive(Debug, Clone)]
pub struct HttpContext {
    pub hub: Arc<FrameHub>,
    pub status: watch::Receiver<Status>,
    pub counters: Arc<StreamCounters>,
    pub limits: Limits,
    pub auth: Arc<AuthConfig>,
    /// The service's command channel, for `POST /control` (none: 503).
    pub commands: Option<mpsc::Sender<Command>>,
    /// Recent log lines, for `/events`.
    pub events: EventLog,
    /// Whether `{"save": true}` has a config file to write into (the
    /// console offers saving only then).
    pub saves: bool,
    /// Set when the server stops; streams end within 200 ms.
    stop: Arc<AtomicBool>,
    /// Connections waiting for a request head, the first to go when full.
    heads: Arc<heads::Heads>,
    /// Watchdog probes the accept thread has taken.
    pub liveness: Arc<liveness::Liveness>,
    /// `/metrics`, read from the status.
    pub metrics: Arc<Metrics>,
    /// Where the accept thread reports a failure (and is restarted).
    pub supervisor: Arc<crate::supervise::Supervisor>,
    /// Host names answered without authentication.
    pub hosts: Arc<browser::HostPolicy>,
    /// Addresses guessing credentials, refused for a while.
    pub guard: Arc<guard::AuthGuard>,
}

impl HttpContext {
    #[must_use]
    pub fn new(
        hub: Arc<FrameHub>,
        status: watch::Receiver<Status>,
        counters: Arc<StreamCounters>,
        limits: Limits,
        auth: AuthConfig,
    ) -> Self {
        let status_for_metrics = status.clone();
        Self {
            hub,
            status,
            counters,
            limits,
            auth: Arc::new(auth),
            commands: None,
            events: EventLog::default(),
            saves: false,
            stop: Arc::new(AtomicBool::new(false)),
            heads: Arc::default(),
            liveness: Arc::default(),
            metrics: Arc::new(Metrics::new(status_for_metrics)),
            supervisor: crate::supervise::Supervisor::new(),
            hosts: Arc::new(browser::HostPolicy::new(&[])),
            guard: Arc::default(),
        }
    }

    /// Answer these host names too without authentication (a reverse
    /// proxy's), besides IP literals, `localhost` and this machine's names.
    #[must_use]
    pub fn with_allowed_hosts(mut self, extra: &[String]) -> Self {
        self.hosts = Arc::new(browser::HostPolicy::new(extra));
        self
    }

    /// Report failures of the accept thread to this supervisor.
    #[must_use]
    pub fn with_supervisor(mut self, supervisor: Arc<crate::supervise::Supervisor>) -> Self {
        self.supervisor = supervisor;
        self
    }

    /// Take `POST /control` requests onto this command channel.
    #[must_use]
    pub fn with_commands(mut self, commands: mpsc::Sender<Command>) -> Self {
        self.commands = Some(commands);
        self
    }

    /// Serve these log lines on `/events`.
    #[must_use]
    pub fn with_events(mut self, events: EventLog) -> Self {
        self.events = events;
        self
    }

    /// Tell clients that `{"save": true}` has a config file to write into.
    #[must_use]
    pub fn with_config_file(mut self, present: bool) -> Self {
        self.saves = present;
        self
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Bind the listening socket (done before anything else starts, so a port in
/// use is reported at once).
///
/// # Errors
/// The address is in use or not available.
pub fn bind(host: IpAddr, port: u16) -> io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::new(host, port))
}

/// The one warning for a camera open to the network.
#[must_use]
pub fn exposure_warning(addr: SocketAddr, auth: &AuthConfig) -> Option<String> {
    (!addr.ip().is_loopback() && !auth.enabled()).then(|| {
        format!(
            "HTTP on {addr} has no authentication: anyone who can reach this address can watch \
             the camera. Set --http-auth USER:PASSWORD (CAMERA_HTTP_AUTH) for a browser login, \
             or --http-token TOKEN (CAMERA_HTTP_TOKEN) for scripts, or bind --http-host 127.0.0.1"
        )
    })
}
