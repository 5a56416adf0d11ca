//! `/stream`: the MJPEG stream. The connection's thread waits on the frame
//! hub and writes the newest frame; a client that accepts no bytes for
//! `client_timeout` is dropped and its slot freed.

use std::io::{self, IoSlice, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::connection::DeadlineWriter;
use super::exchange::{Exchange, Outcome};
use super::heads::{Registered, State};
use super::response::Response;
use super::{BOUNDARY, HttpContext, StreamCounters};
use crate::frame::Cursor;

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
    match frames(socket, ctx, exchange.request.is_head(), exchange.registered) {
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
/// Each part must be taken whole within the client timeout; while it goes
/// out, the connection may give way to a newcomer when every slot is taken.
fn frames(
    socket: &mut TcpStream,
    ctx: &HttpContext,
    head: bool,
    registered: Option<&Registered<'_>>,
) -> io::Result<()> {
    let timeout = ctx.limits.client_timeout;
    let set = |state| {
        if let Some(r) = registered {
            r.set(state);
        }
    };
    let response_head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary={BOUNDARY}\r\n\
         Cache-Control: no-store, no-cache, must-revalidate\r\nPragma: no-cache\r\n\
         X-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
    );
    DeadlineWriter::new(socket, timeout).write_all(response_head.as_bytes())?;
    if head {
        return Ok(());
    }
    let mut part = |jpeg: &[u8], seq: Option<u64>, extra: std::fmt::Arguments<'_>| {
        set(State::Writing);
        let written = write_part(&mut DeadlineWriter::new(socket, timeout), jpeg, seq, extra);
        set(State::Busy);
        written
    };
    let counters = &ctx.counters;
    let mut cursor = Cursor::default();
    // The "no signal" picture is sent once each time the source fails,
    // as soon as it is drawn.
    let mut showed_no_signal = false;
    while !ctx.stopping() {
        let Some(frame) = ctx.hub.next_frame(&mut cursor, Duration::from_millis(200)) else {
            match ctx.hub.no_signal() {
                Some(lost) if !showed_no_signal && !lost.jpeg.is_empty() => {
                    // No frame's sequence number: this picture is none of them.
                    part(&lost.jpeg, None, format_args!("X-No-Signal: 1\r\n"))?;
                    showed_no_signal = true;
                }
                Some(_) => {}
                None => showed_no_signal = false,
            }
            continue;
        };
        showed_no_signal = false;
        part(
            &frame.jpeg,
            Some(frame.seq),
            format_args!("X-Timestamp: {:.6}\r\n", frame.timestamp()),
        )?;
        counters.frames_served.fetch_add(1, Ordering::Relaxed);
        counters
            .bytes_served
            .fetch_add(frame.jpeg.len() as u64, Ordering::Relaxed);
    }
    Ok(())
}

/// One multipart part: headers, the JPEG (from the shared bytes, never
/// copied) and CRLF, handed to the kernel in one vectored write, so that a
/// part is one syscall and, on a fast link, one wake-up of the client rather
/// than one per header fragment.
fn write_part(
    out: &mut dyn Write,
    jpeg: &[u8],
    seq: Option<u64>,
    extra_headers: std::fmt::Arguments<'_>,
) -> io::Result<()> {
    let seq = seq
        .map(|n| format!("X-Frame-Seq: {n}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n{seq}{extra_headers}\r\n",
        jpeg.len()
    );
    write_all_vectored(
        out,
        &mut [
            IoSlice::new(head.as_bytes()),
            IoSlice::new(jpeg),
            IoSlice::new(b"\r\n"),
        ],
    )
}

/// `write_all` over several buffers: vectored writes until every byte is
/// taken (std's own is not stable yet).
fn write_all_vectored(out: &mut dyn Write, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !bufs.is_empty() {
        match out.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes at most `max` bytes a call, like a socket with a full buffer.
    struct Trickle {
        taken: Vec<u8>,
        max: usize,
        calls: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(self.max - n);
                self.taken.extend_from_slice(&b[..take]);
                n += take;
            }
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_part_is_one_write_and_survives_short_writes() {
        let jpeg = vec![0xAB_u8; 5000];
        let expected = format!(
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: 5000\r\nX-Frame-Seq: 9\r\nX-A: 1\r\n\r\n"
        );
        let mut whole = Trickle {
            taken: Vec::new(),
            max: usize::MAX,
            calls: 0,
        };
        write_part(&mut whole, &jpeg, Some(9), format_args!("X-A: 1\r\n")).expect("write");
        assert_eq!(whole.calls, 1);
        assert_eq!(&whole.taken[..expected.len()], expected.as_bytes());
        assert_eq!(
            &whole.taken[expected.len()..],
            [&jpeg[..], b"\r\n"].concat()
        );
        let mut short = Trickle {
            taken: Vec::new(),
            max: 333,
            calls: 0,
        };
        write_part(&mut short, &jpeg, Some(9), format_args!("X-A: 1\r\n")).expect("write");
        assert_eq!(short.taken, whole.taken);
        assert!(short.calls > 10, "{} calls", short.calls);
        let mut none = Trickle {
            taken: Vec::new(),
            max: usize::MAX,
            calls: 0,
        };
        write_part(&mut none, &jpeg, None, format_args!("X-No-Signal: 1\r\n")).expect("write");
        let head = String::from_utf8_lossy(&none.taken[..100]);
        assert!(!head.contains("X-Frame-Seq"), "{head}");
        assert!(head.contains("X-No-Signal: 1\r\n\r\n"), "{head}");
    }
}
