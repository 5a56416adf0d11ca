//! Responses with a known length: status, headers, body from shared bytes.

use std::io::{self, Write};

use bytes::Bytes;

/// A complete response (the MJPEG stream writes its own).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

impl Response {
    #[must_use]
    pub fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type", content_type.to_owned())],
            body: body.into(),
        }
    }

    /// Plain UTF-8 text.
    #[must_use]
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self::new(status, "text/plain; charset=utf-8", body.into())
    }

    /// JSON, never cached.
    #[must_use]
    pub fn json(body: String) -> Self {
        Self::new(200, "application/json", body).with_header("Cache-Control", "no-store")
    }

    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of a header set on this response.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        super::find_header(&self.headers, name)
    }

    /// Write it; `head_only` leaves the body out but keeps its length.
    ///
    /// # Errors
    /// The socket failed or timed out.
    pub fn write_to(
        &self,
        out: &mut impl Write,
        head_only: bool,
        keep_alive: bool,
    ) -> io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: {}\r\n\r\n",
            self.body.len(),
            if keep_alive { "keep-alive" } else { "close" }
        ));
        out.write_all(head.as_bytes())?;
        if !head_only {
            out.write_all(&self.body)?;
        }
        out.flush()
    }
}

/// The reason phrase of the statuses this server sends.
#[must_use]
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_keeps_the_length_and_drops_the_body() {
        let r = Response::text(404, "nope\n").with_header("X-A", "1");
        let mut full = Vec::new();
        r.write_to(&mut full, false, true).expect("write");
        let full = String::from_utf8(full).expect("utf8");
        assert!(full.starts_with("HTTP/1.1 404 Not Found\r\n"), "{full}");
        assert!(full.contains("X-A: 1\r\n") && full.contains("Content-Length: 5\r\n"));
        assert!(full.contains("Connection: keep-alive\r\n") && full.ends_with("\r\n\r\nnope\n"));
        let mut head = Vec::new();
        r.write_to(&mut head, true, false).expect("write");
        let head = String::from_utf8(head).expect("utf8");
        assert!(head.contains("Content-Length: 5\r\n") && head.ends_with("close\r\n\r\n"));
    }
}
