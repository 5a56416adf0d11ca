//! Reading one request from a connection: the request line, the headers and
//! the body, each under a size limit, the head and the body each under a
//! deadline. Bytes read past the end of a request stay buffered for the next
//! one (pipelining).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use super::Limits;

mod parse;
pub use parse::parse_head;

/// Most header lines in one request.
pub const MAX_HEADER_COUNT: usize = 100;

/// HTTP version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// A parsed request. The body has been read in full (at most `Limits::max_body`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path part of the target, as sent (not percent-decoded).
    pub path: String,
    /// What follows `?` in the target, if anything.
    pub query: Option<String>,
    pub version: Version,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of this name (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        super::find_header(&self.headers, name)
    }

    /// A query parameter, percent-decoded (`+` is kept as it is).
    #[must_use]
    pub fn query_param(&self, name: &str) -> Option<Vec<u8>> {
        self.query
            .as_deref()?
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| percent_decode(v))
    }

    #[must_use]
    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    /// Whether the client asked to keep the connection open.
    #[must_use]
    pub fn keep_alive(&self) -> bool {
        let connection = self.header("Connection").unwrap_or("");
        let has = |token: &str| {
            connection
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        match self.version {
            Version::Http11 => !has("close"),
            Version::Http10 => has("keep-alive"),
        }
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Why no request could be read. `status()` says what to answer, if anything.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("connection closed")]
    Closed,
    #[error("no request within the deadline")]
    Idle,
    #[error("connection closed in the middle of a request")]
    Truncated,
    #[error("request not complete within the deadline")]
    Timeout,
    #[error("request line over {0} bytes")]
    LineTooLong(usize),
    #[error("request headers over {0} bytes or {MAX_HEADER_COUNT} lines")]
    HeadersTooLarge(usize),
    #[error("request body over {0} bytes")]
    BodyTooLarge(usize),
    #[error("a body without Content-Length")]
    LengthRequired,
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    #[error("reading the request: {0}")]
    Io(#[from] io::Error),
}

impl RequestError {
    /// The status to answer with, or `None` to close without answering.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Closed | Self::Idle | Self::Truncated | Self::Io(_) => None,
            Self::Timeout => Some(408),
            Self::LineTooLong(_) => Some(414),
            Self::HeadersTooLarge(_) => Some(431),
            Self::BodyTooLarge(_) => Some(413),
            Self::LengthRequired => Some(411),
            Self::Malformed(_) => Some(400),
        }
    }
}

/// The reading side of a connection, with what was read but not yet used.
#[derive(Debug)]
pub struct RequestReader {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RequestReader {
    #[must_use]
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// The socket, for writing the answer.
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Read the next request: head before `deadline`, then the body within
    /// another `limits.head_deadline`.
    ///
    /// # Errors
    /// See [`RequestError`]; after an error the connection must be closed.
    pub fn next_request(
        &mut self,
        deadline: Instant,
        limits: &Limits,
    ) -> Result<Request, RequestError> {
        let head_len = loop {
            skip_leading_blank_lines(&mut self.buf);
            if let Some(len) = check_head(&self.buf, limits)? {
                break len;
            }
            let was_empty = self.buf.is_empty();
            match self.fill(deadline) {
                Ok(()) => {}
                Err(RequestError::Closed) if !was_empty => return Err(RequestError::Truncated),
                Err(RequestError::Timeout) if was_empty => return Err(RequestError::Idle),
                Err(e) => return Err(e),
            }
        };
        let mut request = parse_head(&self.buf[..head_len])?;
        self.buf.drain(..head_len);
        let body_len = body_length(&request, limits)?;
        if body_len > self.buf.len() && expects_continue(&request) {
            // The client waits for this before it sends the body.
            self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let body_deadline = Instant::now() + limits.head_deadline;
        while self.buf.len() < body_len {
            match self.fill(body_deadline) {
                Err(RequestError::Closed) => return Err(RequestError::Truncated),
                other => other?,
            }
        }
        request.body = self.buf.drain(..body_len).collect();
        Ok(request)
    }

    /// Read once more into the buffer, waiting no later than `deadline`.
    fn fill(&mut self, deadline: Instant) -> Result<(), RequestError> {
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(RequestError::Timeout)?;
        self.stream.set_read_timeout(Some(left))?;
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(RequestError::Closed),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(RequestError::Timeout)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(RequestError::Io(e)),
        }
    }
}

/// RFC 9112 2.2: a server should ignore empty lines before the request line.
fn skip_leading_blank_lines(buf: &mut Vec<u8>) {
    let blank = buf
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    if blank > 0 {
        buf.drain(..blank);
    }
}

/// The length of the head (through its blank line) once it is all buffered;
/// an error as soon as a limit is passed, without waiting for the rest.
fn check_head(buf: &[u8], limits: &Limits) -> Result<Option<usize>, RequestError> {
    let Some(line_end) = buf.iter().position(|&b| b == b'\n') else {
        return if buf.len() > limits.max_request_line {
            Err(RequestError::LineTooLong(limits.max_request_line))
        } else {
            Ok(None)
        };
    };
    if line_end > limits.max_request_line {
        return Err(RequestError::LineTooLong(limits.max_request_line));
    }
    let rest = &buf[line_end..];
    // The first blank line, CRLF or bare LF.
    let crlf = rest.windows(3).position(|w| w == b"\n\r\n").map(|i| i + 3);
    let lf = rest.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let end = match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match end {
        Some(n) if n > limits.max_headers_bytes => {
            Err(RequestError::HeadersTooLarge(limits.max_headers_bytes))
        }
        Some(n) => Ok(Some(line_end + n)),
        None if rest.len() > limits.max_headers_bytes => {
            Err(RequestError::HeadersTooLarge(limits.max_headers_bytes))
        }
        None => Ok(None),
    }
}

/// Whether the client waits for `100 Continue` before sending the body.
#[must_use]
pub fn expects_continue(request: &Request) -> bool {
    request.version == Version::Http11
        && request
            .header("Expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

/// The body length the head announces, within the limit.
fn body_length(request: &Request, limits: &Limits) -> Result<usize, RequestError> {
    let mut lengths = request
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Content-Length"))
        .map(|(_, v)| v);
    let first = lengths.next();
    if lengths.any(|v| Some(v) != first) {
        return Err(RequestError::Malformed("conflicting Content-Length"));
    }
    if request.header("Transfer-Encoding").is_some() {
        return Err(if first.is_some() {
            RequestError::Malformed("both Content-Length and Transfer-Encoding")
        } else {
            RequestError::LengthRequired
        });
    }
    let Some(text) = first else { return Ok(0) };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RequestError::Malformed("bad Content-Length"));
    }
    match text.parse::<usize>() {
        Ok(n) if n <= limits.max_body => Ok(n),
        _ => Err(RequestError::BodyTooLarge(limits.max_body)),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
