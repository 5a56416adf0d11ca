//! A small client of the service's HTTP side, for everything that reads it
//! from outside: the benchmark, the tests, and tools. Plain blocking sockets:
//! a `GET` with its status, headers and body, and the `/stream` multipart
//! reader that takes the stream part by part (boundary, headers,
//! `Content-Length` bytes).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Headers as sent (names as written), in order.
pub type Headers = Vec<(String, String)>;

/// Most header lines a response or part may have.
const MAX_HEADERS: usize = 100;
/// The largest body [`get`] reads.
const MAX_BODY: usize = 64 << 20;

/// The value of header `name` (any case).
pub use crate::http::find_header as header;

fn bad(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Header lines up to the blank line that ends them.
///
/// # Errors
/// The connection ended or failed first, or there are too many.
pub fn read_headers(reader: &mut impl BufRead) -> io::Result<Headers> {
    let mut headers = Vec::new();
    let mut line = String::new();
    for _ in 0..MAX_HEADERS {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Ok(headers);
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Err(bad(format!("more than {MAX_HEADERS} header lines")))
}

/// The status line's code and the headers of a response.
///
/// # Errors
/// The connection ended or failed first.
pub fn read_head(reader: &mut impl BufRead) -> io::Result<(u16, Headers)> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .filter(|_| line.starts_with("HTTP/1."))
        .ok_or_else(|| bad(format!("not an HTTP status line: {}", line.trim_end())))?;
    Ok((status, read_headers(reader)?))
}

/// A response read to its end.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Response {
    /// The value of header `name` (any case).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// `GET path` over a fresh connection (`Connection: close`), with `extra`
/// header lines (each ending in `\r\n`).
///
/// # Errors
/// Connection or protocol failure, or no answer within `timeout`.
pub fn get(addr: SocketAddr, path: &str, extra: &str, timeout: Duration) -> io::Result<Response> {
    let extra = format!("Connection: close\r\n{extra}");
    let socket = send_get(addr, path, &extra, timeout)?;
    read_response(&mut BufReader::new(socket), MAX_BODY)
}

/// A fresh connection to `addr` (reads time out after `timeout`) that has
/// sent `GET path` with the `extra` header lines.
fn send_get(addr: SocketAddr, path: &str, extra: &str, timeout: Duration) -> io::Result<TcpStream> {
    let mut socket = TcpStream::connect_timeout(&addr, timeout)?;
    socket.set_read_timeout(Some(timeout))?;
    write!(socket, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n")?;
    Ok(socket)
}

/// A whole response: the head, then `Content-Length` bytes (or, without
/// one, up to the end of the connection), at most `max_body` bytes.
///
/// # Errors
/// The connection ended or failed first, the head is not HTTP/1.x, or the
/// body is larger than `max_body`.
pub fn read_response(reader: &mut impl BufRead, max_body: usize) -> io::Result<Response> {
    let (status, headers) = read_head(reader)?;
    let too_large = || bad(format!("a body over {max_body} bytes"));
    let length = header(&headers, "Content-Length").map(str::parse::<usize>);
    let body = match length {
        Some(Ok(length)) if length > max_body => return Err(too_large()),
        Some(Ok(length)) => {
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
            body
        }
        Some(Err(_)) => return Err(bad("a Content-Length that is not a number")),
        None => {
            let mut body = Vec::new();
            let limit = u64::try_from(max_body)
                .unwrap_or(u64::MAX)
                .saturating_add(1);
            reader.take(limit).read_to_end(&mut body)?;
            if body.len() > max_body {
                return Err(too_large());
            }
            body
        }
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// One part of the multipart stream.
#[derive(Debug)]
pub struct Part {
    pub headers: Headers,
    pub jpeg: Vec<u8>,
    /// `X-Frame-Seq`, 0 when absent.
    pub seq: u64,
}

/// Read the next part into `body` (reused): the boundary line (after the
/// blank line that ends the previous part), headers, `Content-Length` bytes.
/// Returns the part's headers.
///
/// # Errors
/// The stream ended, or a part is framed wrongly.
pub fn read_part(reader: &mut impl BufRead, body: &mut Vec<u8>) -> io::Result<Headers> {
    let mut line = String::new();
    for _ in 0..3 {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    if !line.starts_with("--") {
        return Err(bad(format!(
            "expected a boundary, got {:?}",
            line.trim_end()
        )));
    }
    let headers = read_headers(reader)?;
    let len: usize = header(&headers, "Content-Length")
        .ok_or_else(|| bad("part without Content-Length"))?
        .parse()
        .map_err(|_| bad("Content-Length is not a number"))?;
    body.resize(len, 0);
    reader.read_exact(body)?;
    Ok(headers)
}

/// A `/stream` client that reads the multipart stream part by part.
#[derive(Debug)]
pub struct StreamClient {
    reader: BufReader<TcpStream>,
    pub status: u16,
    pub headers: Headers,
}

impl StreamClient {
    /// `GET /stream` (with `extra` header lines) and read the response head.
    ///
    /// # Errors
    /// Connection or protocol failure, or no answer within `timeout`.
    pub fn connect(addr: SocketAddr, extra: &str, timeout: Duration) -> io::Result<Self> {
        let socket = send_get(addr, "/stream", extra, timeout)?;
        let mut reader = BufReader::with_capacity(256 * 1024, socket);
        let (status, headers) = read_head(&mut reader)?;
        Ok(Self {
            reader,
            status,
            headers,
        })
    }

    /// The next part.
    ///
    /// # Errors
    /// The stream ended or is framed wrongly.
    pub fn next_part(&mut self) -> io::Result<Part> {
        let mut jpeg = Vec::new();
        let headers = read_part(&mut self.reader, &mut jpeg)?;
        let seq = header(&headers, "X-Frame-Seq")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(Part { headers, jpeg, seq })
    }

    /// The next part's headers, its body read into `body` (no allocation
    /// per part once `body` is large enough).
    ///
    /// # Errors
    /// The stream ended or is framed wrongly.
    pub fn next_part_into(&mut self, body: &mut Vec<u8>) -> io::Result<Headers> {
        read_part(&mut self.reader, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_read_by_their_length_and_bad_framing_is_an_error() {
        let stream = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\nX-Frame-Seq: 7\r\n\r\nabc\r\n--frame\r\nContent-Length: 2\r\n\r\nde\r\ngarbage\r\n";
        let mut reader = io::Cursor::new(&stream[..]);
        let mut body = Vec::new();
        let h = read_part(&mut reader, &mut body).expect("first part");
        assert_eq!(
            (body.as_slice(), header(&h, "x-frame-seq")),
            (&b"abc"[..], Some("7"))
        );
        read_part(&mut reader, &mut body).expect("second part");
        assert_eq!(body, b"de");
        let e = read_part(&mut reader, &mut body).expect_err("no boundary");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
