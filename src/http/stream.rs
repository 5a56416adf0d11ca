//! `/stream`: the MJPEG stream. The connection's thread waits on the frame
//! hub and writes the newest frame; a client that accepts no bytes for
//! `client_timeout` is dropped and its slot freed.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::response::Response;
use super::routes::{Exchange, Outcome};
use super::{BOUNDARY, HttpContext, StreamCounters};

/// Kernel send buffer of a stream socket: a few frames, so that a client
/// that stops reading is noticed after a few frames, not after megabytes.
const SEND_BUFFER_BYTES: usize = 256 * 1024;

/// Holds a `/stream` slot; gives it back however the stream ends.
struct ClientSlot<'a>(&'a StreamCounters);

impl Drop for ClientSlot<'_> {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

pub fn serve(exchange: &Exchange<'_>, ctx: &HttpContext, socket: &mut TcpStream) -> Outcome {
    let counters = &ctx.counters;
    let max = ctx.limits.max_clients;
    let taken = counters
        .clients
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < max).then_some(n + 1)
        });
    if taken.is_err() {
        counters.rejected.fetch_add(1, Ordering::Relaxed);
        return Outcome::Reply(
            Response::text(503, format!("too many stream clients (max {max})\n"))
                .with_header("Retry-After", "5"),
        );
    }
    let _slot = ClientSlot(counters);
    let _ = socket2::SockRef::from(&*socket).set_send_buffer_size(SEND_BUFFER_BYTES);
    let peer = exchange.peer;
    match frames(socket, ctx, exchange.request.is_head()) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            counters.dropped_stalled.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                "http {peer}: /stream client took no bytes for {:?}: dropped",
                ctx.limits.client_timeout
            );
        }
        Err(e) => tracing::debug!("http {peer}: /stream ended: {e}"),
    }
    Outcome::Took
}

/// Write the stream's head, then each newer frame until the server stops.
fn frames(out: &mut TcpStream, ctx: &HttpContext, head: bool) -> io::Result<()> {
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
    let counters = &ctx.counters;
    let mut last_seq = 0;
    // The "no signal" picture is sent once each time the source fails.
    let mut showed_no_signal = false;
    while !ctx.stopping() {
        let Some(frame) = ctx.hub.wait_newer(last_seq, Duration::from_millis(200)) else {
            match ctx.hub.no_signal() {
                Some(lost) if !showed_no_signal => {
                    write_part(out, &lost.jpeg, last_seq, "X-No-Signal: 1\r\n")?;
                    showed_no_signal = true;
                }
                Some(_) => {}
                None => showed_no_signal = false,
            }
            continue;
        };
        showed_no_signal = false;
        write_part(
            out,
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
