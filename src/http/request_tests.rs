use super::*;

fn limits() -> Limits {
    Limits::default()
}

#[test]
fn a_simple_head_parses() {
    let r = parse_head(
        b"GET /status?pretty=1&token=a%2Bb+c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .expect("parses");
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/status"));
    assert_eq!(r.version, Version::Http11);
    assert_eq!(r.header("host"), Some("x"));
    assert!(!r.keep_alive());
    assert_eq!(r.query_param("token"), Some(b"a+b+c".to_vec()));
    assert_eq!(r.query_param("pretty"), Some(b"1".to_vec()));
    assert_eq!(r.query_param("nope"), None);
    let r = parse_head(b"HEAD / HTTP/1.0\r\n\r\n").expect("parses");
    assert!(r.is_head() && !r.keep_alive());
    let r = parse_head(b"GET / HTTP/1.1\n\n").expect("bare LF lines");
    assert!(r.keep_alive());
}

#[test]
fn absolute_form_targets_are_taken_and_their_authority_is_the_host() {
    let r =
        parse_head(b"GET http://127.0.0.1:8080/status?pretty=1 HTTP/1.1\r\nHost: other\r\n\r\n")
            .expect("absolute form");
    assert_eq!(r.path, "/status");
    assert_eq!(r.query.as_deref(), Some("pretty=1"));
    assert_eq!(r.header("host"), Some("127.0.0.1:8080"));
    assert_eq!(
        r.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("host"))
            .count(),
        1
    );
    let r = parse_head(b"GET HTTPS://robot.local HTTP/1.1\r\n\r\n").expect("no path");
    assert_eq!(
        (r.path.as_str(), r.header("host")),
        ("/", Some("robot.local"))
    );
}

#[test]
fn expect_continue_is_recognised_on_http_1_1_only() {
    let r = parse_head(b"POST /control HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n").expect("ok");
    assert!(expects_continue(&r));
    let r = parse_head(b"POST /control HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect("ok");
    assert!(!expects_continue(&r));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Any bytes: an answer, never a panic; what parses is consistent.
        #[test]
        fn any_bytes_parse_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let l = limits();
            let _ = check_head(&bytes, &l);
            if let Ok(r) = parse_head(&bytes) {
                prop_assert!(r.path.starts_with('/'));
                prop_assert!(r.headers.len() <= MAX_HEADER_COUNT);
                prop_assert!(!r.method.is_empty());
            } else if let Err(e) = parse_head(&bytes) {
                prop_assert!(matches!(e.status(), Some(400 | 431)), "{e}");
            }
        }

        /// Request-shaped input with arbitrary pieces: same.
        #[test]
        fn request_shaped_bytes_parse_or_are_refused(
            method in "[A-Z]{0,8}",
            target in "(http://[a-z0-9.:]{0,12})?/?[ -~]{0,30}",
            name in "[ -~]{0,12}",
            value in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut head = format!("{method} {target} HTTP/1.1\r\n{name}: ").into_bytes();
            head.extend_from_slice(&value);
            head.extend_from_slice(b"\r\n\r\n");
            match parse_head(&head) {
                Ok(r) => prop_assert!(r.path.starts_with('/')),
                Err(e) => prop_assert!(matches!(e.status(), Some(400 | 431)), "{e}"),
            }
        }
    }
}

#[test]
fn malformed_heads_are_400() {
    for head in [
        &b"GET /\r\n\r\n"[..],
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"G\x00T / HTTP/1.1\r\n\r\n",
        b"GET ftp://x/ HTTP/1.1\r\n\r\n",
        b"GET http:///status HTTP/1.1\r\n\r\n",
        b"GET http://user:pw@x/ HTTP/1.1\r\n\r\n",
        b"GET status HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        b"GET / HTTP/1.1 \r\n\r\n",
        b"GET / HTTP/1.10\r\n\r\n",
        b"GET /\xff HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
    ] {
        let e = parse_head(head).expect_err("malformed");
        assert_eq!(
            e.status(),
            Some(400),
            "{:?}: {e}",
            String::from_utf8_lossy(head)
        );
    }
}

#[test]
fn limits_are_found_before_the_head_is_complete() {
    let l = limits();
    let long_line = vec![b'A'; l.max_request_line + 1];
    assert_eq!(
        check_head(&long_line, &l).expect_err("too long").status(),
        Some(414)
    );
    let mut big = b"GET / HTTP/1.1\r\n".to_vec();
    while big.len() < l.max_headers_bytes + 100 {
        big.extend_from_slice(b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    assert_eq!(
        check_head(&big, &l).expect_err("too big").status(),
        Some(431)
    );
    assert_eq!(
        check_head(b"GET / HTTP/1.1\r\nHost: x\r\n", &l).expect("ok"),
        None
    );
    assert_eq!(
        check_head(b"GET / HTTP/1.1\r\n\r\nGET", &l).expect("ok"),
        Some(18)
    );
    let many: String = (0..=MAX_HEADER_COUNT)
        .map(|i| format!("X-{i}: 1\r\n"))
        .collect();
    let head = format!("GET / HTTP/1.1\r\n{many}\r\n");
    assert_eq!(
        parse_head(head.as_bytes()).expect_err("many").status(),
        Some(431)
    );
}

#[test]
fn body_length_is_checked() {
    let l = limits();
    let with =
        |h: &str| parse_head(format!("POST /x HTTP/1.1\r\n{h}\r\n").as_bytes()).expect("head");
    assert_eq!(body_length(&with(""), &l).expect("none"), 0);
    assert_eq!(
        body_length(&with("Content-Length: 12\r\n"), &l).expect("12"),
        12
    );
    let too_big = format!("Content-Length: {}\r\n", l.max_body + 1);
    assert_eq!(
        body_length(&with(&too_big), &l).expect_err("big").status(),
        Some(413)
    );
    let huge = body_length(&with("Content-Length: 99999999999999999999999\r\n"), &l);
    assert_eq!(huge.expect_err("huge").status(), Some(413));
    let chunked = body_length(&with("Transfer-Encoding: chunked\r\n"), &l);
    assert_eq!(chunked.expect_err("chunked").status(), Some(411));
    let both = with("Content-Length: 1\r\nContent-Length: 2\r\n");
    assert_eq!(body_length(&both, &l).expect_err("two").status(), Some(400));
    let sign = with("Content-Length: +1\r\n");
    assert_eq!(
        body_length(&sign, &l).expect_err("sign").status(),
        Some(400)
    );
}
