use base64::Engine as _;

use super::*;
use crate::http::request::parse_head;

fn request(auth: Option<&str>, query: &str) -> Request {
    let header = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    parse_head(format!("GET /status{query} HTTP/1.1\r\n{header}\r\n").as_bytes()).expect("head")
}

fn basic(credentials: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

fn config() -> AuthConfig {
    AuthConfig::new(
        Some("tars:pa:ss".parse().expect("secret")),
        Some("t0ken-XYZ".parse().expect("secret")),
    )
    .expect("valid")
}

#[test]
fn off_lets_everyone_in() {
    let open = AuthConfig::default();
    assert_eq!(open.check(&request(None, "")), AuthOutcome::Open);
    assert_eq!(open.mode(), "off");
    assert!(!AuthOutcome::Open.authenticated() && AuthOutcome::Open.allowed());
}

#[test]
fn each_way_in_and_each_wrong_secret() {
    let c = config();
    assert_eq!(c.mode(), "basic+token");
    let check = |auth: Option<&str>, query: &str| c.check(&request(auth, query));
    assert_eq!(check(Some(&basic("tars:pa:ss")), ""), AuthOutcome::Basic);
    assert_eq!(check(Some("Bearer t0ken-XYZ"), ""), AuthOutcome::Bearer);
    assert_eq!(check(Some("bearer  t0ken-XYZ"), ""), AuthOutcome::Bearer);
    assert_eq!(check(None, "?token=t0ken-XYZ"), AuthOutcome::QueryToken);
    assert_eq!(
        check(None, "?a=1&token=t0ken%2DXYZ"),
        AuthOutcome::QueryToken
    );
    for (auth, query) in [
        (None, ""),
        (Some(basic("tars:pa:sS")), ""),
        (Some(basic("tars:pa:ss ")), ""),
        (Some(basic("tars")), ""),
        (Some("Basic !!!".to_owned()), ""),
        (Some("Bearer t0ken-XY".to_owned()), ""),
        (Some("Bearer t0ken-XYZZ".to_owned()), ""),
        (Some("Token t0ken-XYZ".to_owned()), ""),
        (None, "?token="),
        (None, "?token=t0ken-xyz"),
        (None, "?tok=t0ken-XYZ"),
    ] {
        assert_eq!(
            check(auth.as_deref(), query),
            AuthOutcome::Denied,
            "{auth:?} {query}"
        );
    }
    // Basic credentials are not a token, nor the other way round.
    assert_eq!(check(Some(&basic("t0ken-XYZ")), ""), AuthOutcome::Denied);
    assert_eq!(check(None, "?token=tars:pa:ss"), AuthOutcome::Denied);
}

#[test]
fn bad_shapes_are_refused_without_quoting_the_secret() {
    for bad in ["nocolon", ":pw", "user:", ""] {
        let e = AuthConfig::new(Some(bad.parse().expect("secret")), None).expect_err(bad);
        assert_eq!(e, AuthConfigError::BasicFormat);
        assert!(bad.is_empty() || !e.to_string().contains(bad));
    }
    for bad in ["", "has space", "tab\there", "é"] {
        let e = AuthConfig::new(None, Some(bad.parse().expect("secret"))).expect_err(bad);
        assert_eq!(e, AuthConfigError::TokenFormat);
    }
    let c = config();
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("pa:ss") && !shown.contains("t0ken"),
        "{shown}"
    );
}

#[test]
fn equal_means_equal_bytes() {
    assert!(ct_eq(b"abc", b"abc"));
    assert!(!ct_eq(b"abd", b"abc"));
    assert!(!ct_eq(b"ab", b"abc"));
    assert!(!ct_eq(b"abcd", b"abc"));
    assert!(!ct_eq(b"", b"a"));
    // A missing byte never matches, even one equal to what padding would give.
    assert!(!ct_eq(b"a", b"a\x00"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Only the exact secrets get in, whatever bytes an `Authorization`
        /// header or a `token` parameter carries.
        #[test]
        fn only_the_exact_secrets_are_accepted(
            value in proptest::collection::vec(any::<u8>(), 0..80),
            token in "[!-~]{0,20}",
        ) {
            let c = config();
            let mut head = b"GET /status?token=".to_vec();
            head.extend_from_slice(token.as_bytes());
            head.extend_from_slice(b" HTTP/1.1\r\nAuthorization: ");
            head.extend_from_slice(&value);
            head.extend_from_slice(b"\r\n\r\n");
            if let Ok(r) = parse_head(&head) {
                let outcome = c.check(&r);
                let text = String::from_utf8_lossy(&value);
                let exact = text.trim() == basic("tars:pa:ss")
                    || text.trim().eq_ignore_ascii_case("bearer t0ken-XYZ")
                    || text.contains("t0ken-XYZ")
                    || token.starts_with("t0ken-XYZ");
                prop_assert!(!outcome.allowed() || exact, "{outcome:?} for {text:?} / {token:?}");
            }
        }

        #[test]
        fn constant_time_equality_is_equality(
            a in proptest::collection::vec(any::<u8>(), 0..40),
            b in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            prop_assert_eq!(ct_eq(&a, &b), a == b);
            prop_assert!(ct_eq(&a, &a));
        }
    }
}
