//! One connection: read a request within the limits, check who asks, route,
//! answer; keep the connection for the next request when the client asks.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::HttpContext;
use super::exchange::{Exchange, Outcome};
use super::guard::{Failure, LOCKOUT, MAX_FAILURES};
use super::heads::State;
use super::request::{RequestError, RequestReader};
use super::response::Response;
use super::routes;

/// Requests served on one connection before it is closed.
const MAX_REQUESTS: u32 = 1000;
/// How long an answered bad request may keep sending before the close.
const LINGER: Duration = Duration::from_millis(500);

/// Serve `socket` until the client is done, breaks a rule, or the server stops.
pub fn serve(socket: TcpStream, peer: SocketAddr, ctx: &HttpContext) {
    if let Err(e) = socket.set_write_timeout(Some(ctx.limits.client_timeout)) {
        tracing::debug!("http {peer}: {e}");
        return;
    }
    let _ = socket.set_nodelay(true);
    let mut reader = RequestReader::new(socket);
    let registered = ctx.heads.register(reader.stream());
    let set = |state| {
        if let Some(r) = &registered {
            r.set(state);
        }
    };
    for served in 0..MAX_REQUESTS {
        if ctx.stopping() {
            return;
        }
        let deadline = Instant::now() + ctx.limits.head_deadline;
        set(State::Head);
        let read = reader.next_request(deadline, &ctx.limits);
        set(State::Busy);
        let request = match read {
            Ok(r) => r,
            Err(e) => {
                refuse(&mut reader, peer, ctx, &e, served == 0);
                return;
            }
        };
        if let Some(left) = ctx.guard.locked(peer.ip(), Instant::now()) {
            // Guessing: refused without looking at the credentials.
            ctx.counters.auth_locked.fetch_add(1, Ordering::Relaxed);
            let r = locked_out(left);
            let _ = r.write_to(
                &mut DeadlineWriter::new(reader.stream(), ctx.limits.client_timeout),
                false,
                false,
            );
            return;
        }
        let auth = ctx.auth.check(&request);
        note_auth(ctx, peer, &request, auth);
        let keep_alive = request.keep_alive() && served + 1 < MAX_REQUESTS;
        let head_only = request.is_head();
        let exchange = Exchange {
            request: &request,
            peer,
            auth,
            registered: registered.as_ref(),
        };
        let outcome = if !auth.allowed() {
            ctx.counters.unauthorized.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                "http {peer}: {} {}: not authorized",
                request.method,
                request.path
            );
            Outcome::Reply(unauthorized(ctx))
        } else if !ctx.auth.enabled() && !ctx.hosts.allows(request.header("host")) {
            ctx.counters.host_refused.fetch_add(1, Ordering::Relaxed);
            Outcome::Reply(wrong_host(request.header("host").unwrap_or("")))
        } else {
            routes::dispatch(&exchange, ctx, reader.stream())
        };
        let Outcome::Reply(response) = outcome else {
            // The handler wrote to the socket itself (the stream): done.
            return;
        };
        // The whole answer within the client timeout, not each write;
        // meanwhile the connection may give way to a newcomer.
        set(State::Writing);
        let mut out = DeadlineWriter::new(reader.stream(), ctx.limits.client_timeout);
        let written = response.write_to(&mut out, head_only, keep_alive);
        set(State::Busy);
        if let Err(e) = written {
            tracing::debug!("http {peer}: {} {}: {e}", request.method, request.path);
            return;
        }
        if !keep_alive {
            return;
        }
    }
}

/// Count a failed authentication that carried credentials (a guess), or
/// forget the failures of an address that authenticated.
fn note_auth(
    ctx: &HttpContext,
    peer: SocketAddr,
    request: &super::request::Request,
    auth: super::AuthOutcome,
) {
    if auth.authenticated() {
        ctx.guard.succeeded(peer.ip());
        return;
    }
    let carried =
        request.header("authorization").is_some() || request.query_param("token").is_some();
    if auth.allowed() || !carried {
        return;
    }
    if ctx.guard.failed(peer.ip(), Instant::now()) == Failure::LockedOut {
        tracing::warn!(
            "http {}: {MAX_FAILURES} wrong credentials in a row: refused for {} s",
            peer.ip(),
            LOCKOUT.as_secs()
        );
    }
}

/// 429 for an address locked out for guessing.
fn locked_out(left: Duration) -> Response {
    let secs = left.as_secs().max(1);
    Response::text(
        429,
        format!("too many wrong credentials from this address; try again in {secs} s\n"),
    )
    .with_header("Retry-After", secs.to_string())
}

/// Writes to a socket until a deadline for the whole of what is written
/// (a client that takes a few bytes now and then cannot stretch it).
pub(super) struct DeadlineWriter<'a> {
    socket: &'a mut TcpStream,
    deadline: Instant,
    budget: Duration,
}

impl<'a> DeadlineWriter<'a> {
    pub(super) fn new(socket: &'a mut TcpStream, budget: Duration) -> Self {
        Self {
            socket,
            deadline: Instant::now() + budget,
            budget,
        }
    }

    /// The time left, or a timeout error when none is.
    fn left(&self) -> std::io::Result<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| std::io::ErrorKind::TimedOut.into())
    }
}

impl Drop for DeadlineWriter<'_> {
    /// Other writes on the socket (an error answer, `100 Continue`) get a
    /// whole budget again, not what this one left.
    fn drop(&mut self) {
        let _ = self.socket.set_write_timeout(Some(self.budget));
    }
}

impl std::io::Write for DeadlineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.socket.set_write_timeout(Some(self.left()?))?;
        self.socket.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        self.socket.set_write_timeout(Some(self.left()?))?;
        self.socket.write_vectored(bufs)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.socket.flush()
    }
}

/// 403 for a host name the service does not answer to without
/// authentication (a page whose name was pointed at the robot).
fn wrong_host(host: &str) -> Response {
    Response::text(
        403,
        format!(
            "host name {} refused: without HTTP authentication only IP addresses, \
             localhost and this machine's names are served. Behind a reverse proxy, \
             add its name with --http-allowed-hosts (CAMERA_HTTP_ALLOWED_HOSTS)\n",
            crate::text::quote(host)
        ),
    )
}

/// 401 with the challenges a browser and a script understand.
fn unauthorized(ctx: &HttpContext) -> Response {
    ctx.auth.challenges().into_iter().fold(
        Response::text(401, "authentication required\n"),
        |r, challenge| r.with_header("WWW-Authenticate", challenge),
    )
}

/// Answer a request that could not be read (when an answer makes sense),
/// count it, and let the connection close.
fn refuse(
    reader: &mut RequestReader,
    peer: SocketAddr,
    ctx: &HttpContext,
    e: &RequestError,
    first: bool,
) {
    let counters = &ctx.counters;
    match e {
        RequestError::Timeout => {
            counters.head_timeouts.fetch_add(1, Ordering::Relaxed);
        }
        // A new connection that never sent a byte holds a slot as long as a slow one.
        RequestError::Idle if first => {
            counters.head_timeouts.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }
    tracing::debug!("http {peer}: {e}");
    let Some(status) = e.status() else { return };
    if status != 408 {
        counters.bad_requests.fetch_add(1, Ordering::Relaxed);
    }
    let socket = reader.stream();
    if Response::text(status, format!("{e}\n"))
        .write_to(socket, false, false)
        .is_ok()
    {
        linger(socket, LINGER);
    }
}

/// Half-close, then read and drop what the client still sends (for `budget`
/// at most), so that closing does not reset the connection before it reads
/// the answer.
pub(super) fn linger(socket: &mut TcpStream, budget: Duration) {
    let _ = socket.shutdown(std::net::Shutdown::Write);
    let until = Instant::now() + budget;
    let mut buf = [0u8; 4096];
    for _ in 0..64 {
        let Some(left) = until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        else {
            return;
        };
        if socket.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match socket.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
