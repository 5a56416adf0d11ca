//! What a browser can be made to send, through the real binary: control
//! from another site's page, a body sent as a plain form, and DNS rebinding
//! (a foreign host name pointed at the robot) on every endpoint.

use crate::common;

use std::net::SocketAddr;

use std::time::Duration;

use common::{HttpResponse, Running, eventually, raw_request, status_json};

fn demo(args: &[&str]) -> (Running, SocketAddr) {
    let mut all = vec!["--demo", "--quality", "80"];
    all.extend_from_slice(args);
    let mut svc = Running::headless(&all, &[]);
    let addr = svc.http_addr();
    (svc, addr)
}

fn post(addr: SocketAddr, host: &str, extra: &str, body: &str) -> HttpResponse {
    let request = format!(
        "POST /control HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    raw_request(addr, request.as_bytes())
}

fn get(addr: SocketAddr, host: &str, path: &str, extra: &str) -> HttpResponse {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n");
    raw_request(addr, request.as_bytes())
}

fn quality(addr: SocketAddr) -> u64 {
    status_json(addr)["encoder"]["quality"]
        .as_u64()
        .expect("quality")
}

fn text(r: &HttpResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

#[test]
fn control_takes_only_json_from_the_services_own_pages() {
    let (_svc, addr) = demo(&[]);
    eventually(Duration::from_secs(5), || {
        (quality(addr) == 80).then_some(())
    })
    .expect("status up");
    let host = addr.to_string();
    let body = r#"{"quality":41}"#;
    // What a form on any page can send without asking: text/plain.
    let r = post(addr, &host, "Content-Type: text/plain\r\n", body);
    assert_eq!(r.status, 415, "{}", text(&r));
    assert!(text(&r).contains("application/json"));
    let r = post(addr, &host, "", body);
    assert_eq!(r.status, 415, "no Content-Type: {}", text(&r));
    // Another site's page, even with JSON (a fetch that skipped preflight).
    let r = post(
        addr,
        &host,
        "Content-Type: application/json\r\nOrigin: http://evil.example\r\n",
        body,
    );
    assert_eq!(r.status, 403, "{}", text(&r));
    let r = post(
        addr,
        &host,
        "Content-Type: application/json\r\nOrigin: null\r\n",
        body,
    );
    assert_eq!(r.status, 403, "{}", text(&r));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(quality(addr), 80, "nothing applied");
    // The service's own page, and a script (no Origin).
    let own = format!("Content-Type: application/json\r\nOrigin: http://{host}\r\n");
    let r = post(addr, &host, &own, body);
    assert_eq!(r.status, 200, "{}", text(&r));
    let r = post(
        addr,
        &host,
        "Content-Type: application/json; charset=utf-8\r\n",
        r#"{"quality":42}"#,
    );
    assert_eq!(r.status, 200, "{}", text(&r));
}

#[test]
fn foreign_host_names_are_refused_on_every_endpoint_without_auth() {
    let (_svc, addr) = demo(&["--http-allowed-hosts", "camera.example.org, proxy.lan"]);
    let port = addr.port();
    for path in [
        "/",
        "/stream",
        "/snapshot",
        "/status",
        "/events",
        "/metrics",
        "/control",
        "/nope",
    ] {
        for host in [
            format!("evil.example:{port}"),
            "rebind.attacker.test".to_owned(),
        ] {
            let r = get(addr, &host, path, "");
            assert_eq!(r.status, 403, "{host} {path}: {}", text(&r));
            assert!(text(&r).contains("--http-allowed-hosts"), "{}", text(&r));
        }
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "camera.example.org".to_owned(),
        format!("PROXY.lan:{port}"),
    ] {
        let r = get(addr, &host, "/status", "");
        assert_eq!(r.status, 200, "{host}: {}", text(&r));
    }
    let counted = eventually(Duration::from_secs(3), || {
        (status_json(addr)["stream"]["host_refused"].as_u64() >= Some(16)).then_some(())
    });
    assert!(counted.is_some(), "{}", status_json(addr)["stream"]);
}

#[test]
fn with_authentication_any_host_name_may_be_used() {
    let (_svc, addr) = demo(&["--http-token", "s3cret-token"]);
    let r = get(addr, "camera.anywhere.example", "/status", "");
    assert_eq!(r.status, 401);
    let r = get(
        addr,
        "camera.anywhere.example",
        "/status",
        "Authorization: Bearer s3cret-token\r\n",
    );
    assert_eq!(r.status, 200, "{}", text(&r));
}
