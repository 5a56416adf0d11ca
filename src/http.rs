//! HTTP: `/stream` (MJPEG), `/snapshot`, `/status`, over tiny_http.
//!
//! Each `/stream` client has its own thread that waits on the frame hub and
//! writes the newest frame; a slow or stalled client blocks only itself, never
//! capture, MQTT or other clients. Frames are written from the shared `Bytes`:
//! no copy per client. This module reads the hub and the status snapshot only.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tiny_http::{Header, Method, Request, Response, Server, StatusCode};
use tokio::sync::watch;

use crate::frame::FrameHub;
use crate::stats::Status;

/// Part boundary of the multipart stream.
pub const BOUNDARY: &str = "frame";

/// Counters the status reads; written by the client threads.
#[derive(Debug, Default)]
pub struct StreamCounters {
    pub clients: AtomicU32,
    pub frames_served: AtomicU64,
    pub bytes_served: AtomicU64,
    pub rejected: AtomicU64,
}

/// What the handlers read.
#[derive(Debug, Clone)]
pub struct HttpContext {
    pub hub: Arc<FrameHub>,
    pub status: watch::Receiver<Status>,
    pub counters: Arc<StreamCounters>,
    pub max_clients: u32,
}

/// Bind the listening socket (done before anything else starts, so a port in
/// use is reported at once).
///
/// # Errors
/// The address is in use or not available.
pub fn bind(host: IpAddr, port: u16) -> io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::new(host, port))
}

/// The running server.
pub struct HttpServer {
    server: Arc<Server>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl HttpServer {
    /// Serve on `listener` until `stop()`.
    ///
    /// # Errors
    /// The listener is unusable or a thread cannot start.
    pub fn start(listener: TcpListener, ctx: HttpContext) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        let server = Arc::new(Server::from_listener(listener, None).map_err(io::Error::other)?);
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (server, stop) = (Arc::clone(&server), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("http".into())
                .spawn(move || accept_loop(&server, &ctx, &stop))?
        };
        Ok(Self {
            server,
            stop,
            accept: Some(accept),
            addr,
        })
    }

    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting and end every stream (each notices within 200 ms).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.server.unblock();
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(server: &Server, ctx: &HttpContext, stop: &Arc<AtomicBool>) {
    for request in server.incoming_requests() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let (ctx, stop) = (ctx.clone(), Arc::clone(stop));
        // One short-lived thread per request: a client that never reads can
        // stall only its own thread.
        let spawned = std::thread::Builder::new()
            .name("http-client".into())
            .spawn(move || handle(request, &ctx, &stop));
        if let Err(e) = spawned {
            tracing::warn!("http: cannot start a client thread: {e}");
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    // Names and values here are ASCII constants and numbers, never client input.
    #[expect(clippy::expect_used, reason = "ASCII constants cannot fail")]
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("ASCII header")
}

fn text(status: u16, body: &str) -> Response<io::Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_status_code(StatusCode(status))
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
}

fn handle(request: Request, ctx: &HttpContext, stop: &AtomicBool) {
    let path = request.url().split('?').next().unwrap_or("").to_owned();
    let method = request.method().clone();
    let head = method == Method::Head;
    let known = matches!(path.as_str(), "/" | "/stream" | "/snapshot" | "/status");
    let result = if !known {
        request.respond(text(404, "not found: try /stream, /snapshot or /status\n"))
    } else if !(method == Method::Get || head) {
        request.respond(
            text(405, "method not allowed: use GET or HEAD\n")
                .with_header(header("Allow", "GET, HEAD")),
        )
    } else {
        match path.as_str() {
            "/stream" => stream(request, ctx, stop, head),
            "/snapshot" => snapshot(request, ctx),
            "/status" => {
                let body = serde_json::to_string_pretty(&*ctx.status.borrow())
                    .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
                request.respond(json(body))
            }
            _ => request.respond(index()),
        }
    };
    if let Err(e) = result {
        tracing::debug!("http {path}: {e}");
    }
}

fn json(body: String) -> Response<io::Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_header(header("Content-Type", "application/json"))
        .with_header(header("Cache-Control", "no-store"))
}

fn index() -> Response<io::Cursor<Vec<u8>>> {
    Response::from_string(
        "<!doctype html><title>tars-camera</title><body style=\"background:#111;color:#ddd;font-family:sans-serif\">\
         <h1>tars-camera</h1><p><a href=\"/stream\">/stream</a> · <a href=\"/snapshot\">/snapshot</a> · \
         <a href=\"/status\">/status</a></p><img src=\"/stream\" style=\"max-width:100%\"></body>",
    )
    .with_header(header("Content-Type", "text/html; charset=utf-8"))
}

/// HEAD gets the same headers without the body (tiny_http omits it).
fn snapshot(request: Request, ctx: &HttpContext) -> io::Result<()> {
    if let Some(lost) = ctx.hub.no_signal() {
        return request.respond(
            text(503, &format!("no signal: {}\n", lost.reason))
                .with_header(header("Retry-After", "1")),
        );
    }
    let Some(frame) = ctx.hub.latest() else {
        return request.respond(
            text(
                503,
                "no frame yet: the camera has not delivered a picture\n",
            )
            .with_header(header("Retry-After", "1")),
        );
    };
    let response = Response::new(
        StatusCode(200),
        vec![
            header("Content-Type", "image/jpeg"),
            header("Cache-Control", "no-store"),
            header("X-Frame-Seq", &frame.seq.to_string()),
            header("X-Timestamp", &format!("{:.6}", frame.timestamp())),
        ],
        io::Cursor::new(frame.jpeg.clone()),
        Some(frame.jpeg.len()),
        None,
    );
    request.respond(response)
}

/// Decrements the client count however the stream ends.
struct ClientSlot<'a>(&'a StreamCounters);

impl Drop for ClientSlot<'_> {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

fn stream(request: Request, ctx: &HttpContext, stop: &AtomicBool, head: bool) -> io::Result<()> {
    let counters = &ctx.counters;
    let taken = counters
        .clients
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < ctx.max_clients).then_some(n + 1)
        });
    if taken.is_err() {
        counters.rejected.fetch_add(1, Ordering::Relaxed);
        return request.respond(
            text(
                503,
                &format!("too many stream clients (max {})\n", ctx.max_clients),
            )
            .with_header(header("Retry-After", "5")),
        );
    }
    let _slot = ClientSlot(counters);
    let mut out = request.into_writer();
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary={BOUNDARY}\r\n\
         Cache-Control: no-store, no-cache, must-revalidate\r\nPragma: no-cache\r\n\
         X-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
    )?;
    out.flush()?;
    if head {
        return Ok(());
    }
    let mut last_seq = 0;
    // The "no signal" picture is sent once each time the source fails.
    let mut showed_no_signal = false;
    while !stop.load(Ordering::Relaxed) {
        let Some(frame) = ctx.hub.wait_newer(last_seq, Duration::from_millis(200)) else {
            match ctx.hub.no_signal() {
                Some(lost) if !showed_no_signal => {
                    write_part(&mut out, &lost.jpeg, last_seq, "X-No-Signal: 1\r\n")?;
                    showed_no_signal = true;
                }
                Some(_) => {}
                None => showed_no_signal = false,
            }
            continue;
        };
        showed_no_signal = false;
        write_part(
            &mut out,
            &frame.jpeg,
            frame.seq,
            &format!("X-Timestamp: {:.6}\r\n", frame.timestamp()),
        )?;
        last_seq = frame.seq;
        counters.frames_served.fetch_add(1, Ordering::Relaxed);
        counters
            .bytes_served
            .fetch_add(frame.jpeg.len() as u64, Ordering::Relaxed);
    }
    Ok(())
}

/// One multipart part: headers, the JPEG (written from the shared bytes), CRLF.
fn write_part(out: &mut dyn Write, jpeg: &[u8], seq: u64, extra_headers: &str) -> io::Result<()> {
    write!(
        out,
        "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nX-Frame-Seq: {seq}\r\n{extra_headers}\r\n",
        jpeg.len()
    )?;
    out.write_all(jpeg)?;
    out.write_all(b"\r\n")?;
    out.flush()
}
