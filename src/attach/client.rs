//! A small blocking HTTP/1.1 client for the attached UI: one request per
//! connection, every step under a timeout, the body read by its
//! `Content-Length` (bounded).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use base64::Engine as _;

use crate::http::Secret;

/// Connecting gives up after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Each read or write gives up after this.
const IO_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest body accepted (a snapshot or the status).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not an HTTP response: {0}")]
    Protocol(&'static str),
    #[error("the service's address must be HOST:PORT or http://HOST:PORT (got '{0}')")]
    Url(String),
}

/// The credentials sent with every request.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// `USER:PASSWORD` for Basic.
    pub basic: Option<Secret>,
    pub token: Option<Secret>,
}

impl Credentials {
    fn header(&self) -> Option<String> {
        if let Some(t) = &self.token {
            return Some(format!("Bearer {}", t.expose()));
        }
        self.basic.as_ref().map(|b| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(b.expose())
            )
        })
    }
}

/// A response: status, headers, body.
pub type Reply = crate::stream_client::Response;

/// Where the service is: `http://HOST:PORT` or `HOST:PORT` (a trailing `/`
/// is allowed; no port means 80).
#[derive(Debug, Clone)]
pub struct Target {
    /// As given, without the trailing slash (shown in the title).
    pub url: String,
    host: String,
    credentials: Credentials,
}

impl Target {
    /// # Errors
    /// Not `http://HOST:PORT` or `HOST:PORT` (another scheme, a path).
    pub fn parse(url: &str, credentials: Credentials) -> Result<Self, ClientError> {
        let given = url.trim().trim_end_matches('/');
        let with_scheme = if given.contains("://") {
            given.to_owned()
        } else {
            format!("http://{given}")
        };
        let host = with_scheme
            .strip_prefix("http://")
            .filter(|h| !h.is_empty() && !h.contains('/'))
            .ok_or_else(|| ClientError::Url(url.to_owned()))?;
        let with_port = if host
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            host.to_owned()
        } else {
            format!("{host}:80")
        };
        Ok(Self {
            url: with_scheme.clone(),
            host: with_port,
            credentials,
        })
    }

    fn addr(&self) -> Result<SocketAddr, ClientError> {
        self.host
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| ClientError::Url(self.url.clone()))
    }

    /// `GET path`.
    ///
    /// # Errors
    /// Connection, timeout or a malformed response.
    pub fn get(&self, path: &str) -> Result<Reply, ClientError> {
        self.request("GET", path, None)
    }

    /// `POST path` with a JSON body.
    ///
    /// # Errors
    /// Connection, timeout or a malformed response.
    pub fn post_json(&self, path: &str, body: &str) -> Result<Reply, ClientError> {
        self.request("POST", path, Some(body))
    }

    fn request(&self, method: &str, path: &str, body: Option<&str>) -> Result<Reply, ClientError> {
        let socket = TcpStream::connect_timeout(&self.addr()?, CONNECT_TIMEOUT)?;
        socket.set_read_timeout(Some(IO_TIMEOUT))?;
        socket.set_write_timeout(Some(IO_TIMEOUT))?;
        let _ = socket.set_nodelay(true);
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: tars-camera-attach\r\n",
            self.host
        );
        if let Some(auth) = self.credentials.header() {
            head.push_str(&format!("Authorization: {auth}\r\n"));
        }
        if let Some(body) = body {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        head.push_str(body.unwrap_or(""));
        (&socket).write_all(head.as_bytes())?;
        read_reply(BufReader::new(socket))
    }
}

fn read_reply(mut reader: impl BufRead) -> Result<Reply, ClientError> {
    Ok(crate::stream_client::read_response(&mut reader, MAX_BODY)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_replies() {
        let t = Target::parse("http://127.0.0.1:8080/", Credentials::default()).expect("url");
        assert_eq!(t.url, "http://127.0.0.1:8080");
        assert!(Target::parse("https://x:1", Credentials::default()).is_err());
        assert!(Target::parse("http://x:1/status", Credentials::default()).is_err());
        let bare = Target::parse("robot.local:8080", Credentials::default()).expect("no scheme");
        assert_eq!(
            (bare.url.as_str(), bare.host.as_str()),
            ("http://robot.local:8080", "robot.local:8080")
        );
        let ip = Target::parse(" 127.0.0.1:9000/ ", Credentials::default()).expect("no scheme");
        assert_eq!(ip.url, "http://127.0.0.1:9000");
        assert!(Target::parse("ftp://x:1", Credentials::default()).is_err());
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Frame-Seq: 9\r\n\r\nhi";
        let r = read_reply(&raw[..]).expect("reply");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hi"[..]));
        assert_eq!(r.header("x-frame-seq"), Some("9"));
        assert!(read_reply(&b"SSH-2.0\r\n"[..]).is_err());
    }
}
