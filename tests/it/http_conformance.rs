//! RFC 9112 points through the real binary: the absolute form of a request
//! target, and `Expect: 100-continue` answered before the body is read.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Running, raw_request};

#[test]
fn absolute_form_targets_are_served() {
    let mut svc = Running::headless(&["--demo"], &[]);
    let addr = svc.http_addr();
    let r = raw_request(
        addr,
        format!("GET http://{addr}/status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // The authority stands for Host: a foreign one is refused as a Host would be.
    let r = raw_request(
        addr,
        format!(
            "GET http://evil.example/status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 403);
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let mut svc = Running::headless(&["--demo"], &[]);
    let addr = svc.http_addr();
    let body = r#"{"quality":66}"#;
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let head = format!(
        "POST /control HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("head");
    let started = Instant::now();
    let mut reader = BufReader::new(s.try_clone().expect("clone"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("interim answer");
    assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let mut blank = String::new();
    reader.read_line(&mut blank).expect("blank line");
    assert_eq!(blank, "\r\n");
    s.write_all(body.as_bytes()).expect("body");
    let mut rest = String::new();
    reader.read_to_string(&mut rest).expect("final answer");
    assert!(rest.starts_with("HTTP/1.1 200"), "{rest}");
    assert!(rest.contains(r#""quality":66"#), "{rest}");
}
