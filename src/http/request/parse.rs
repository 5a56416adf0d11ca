//! A request head (request line, headers, blank line) parsed: `httparse`
//! for the syntax, then this server's own rules.

use super::{MAX_HEADER_COUNT, Request, RequestError, Version};

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parse a complete head (request line, headers, blank line) with
/// `httparse` (the parser of hyper), then this server's own rules: HTTP/1.0
/// or 1.1 only, one space between the parts of the request line, UTF-8,
/// no control characters, no folded lines, an origin- or absolute-form
/// target.
///
/// # Errors
/// `Malformed` for anything that is not HTTP/1.0 or 1.1; `HeadersTooLarge`
/// for too many header lines.
pub fn parse_head(head: &[u8]) -> Result<Request, RequestError> {
    let text = std::str::from_utf8(head).map_err(|_| RequestError::Malformed("not UTF-8"))?;
    if text
        .bytes()
        .any(|b| b == 0 || (b < 0x20 && b != b'\r' && b != b'\n' && b != b'\t'))
    {
        return Err(RequestError::Malformed("control character"));
    }
    let line = text.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    // httparse takes runs of spaces between the parts; RFC 9112 says one.
    if line.split(' ').count() != 3 {
        return Err(RequestError::Malformed(
            "request line is not METHOD TARGET VERSION",
        ));
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADER_COUNT];
    let mut parsed = httparse::Request::new(&mut slots);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(RequestError::Malformed("incomplete head")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(RequestError::HeadersTooLarge(MAX_HEADER_COUNT));
        }
        Err(httparse::Error::Version) => {
            return Err(RequestError::Malformed("only HTTP/1.0 and HTTP/1.1"));
        }
        Err(httparse::Error::HeaderName) => return Err(RequestError::Malformed("bad header name")),
        Err(httparse::Error::Token) => return Err(RequestError::Malformed("bad method")),
        Err(_) => return Err(RequestError::Malformed("not an HTTP/1.1 request head")),
    }
    let (Some(method), Some(target), Some(minor)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(RequestError::Malformed(
            "request line is not METHOD TARGET VERSION",
        ));
    };
    if !is_token(method) {
        return Err(RequestError::Malformed("bad method"));
    }
    if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(RequestError::Malformed("target must be a path"));
    }
    let version = match minor {
        1 => Version::Http11,
        0 => Version::Http10,
        _ => return Err(RequestError::Malformed("only HTTP/1.0 and HTTP/1.1")),
    };
    // RFC 9112 3.2.2: a server must accept the absolute form (sent to
    // proxies, allowed to servers); its authority stands for `Host`.
    let (authority, target) = split_absolute(target)?;
    let mut headers = Vec::with_capacity(parsed.headers.len());
    for h in parsed.headers.iter() {
        if !is_token(h.name) {
            return Err(RequestError::Malformed("bad header name"));
        }
        let value =
            std::str::from_utf8(h.value).map_err(|_| RequestError::Malformed("not UTF-8"))?;
        headers.push((h.name.to_owned(), value.trim().to_owned()));
    }
    if let Some(authority) = authority {
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("host"));
        headers.push(("Host".to_owned(), authority.to_owned()));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    Ok(Request {
        method: method.to_owned(),
        path,
        query,
        version,
        headers,
        body: Vec::new(),
    })
}

/// `http://host:port/path?q` → (`Some("host:port")`, `/path?q`); an
/// origin-form target (`/path`) is returned as it is.
fn split_absolute(target: &str) -> Result<(Option<&str>, &str), RequestError> {
    if target.starts_with('/') {
        return Ok((None, target));
    }
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| {
            target
                .get(..scheme.len())
                .filter(|s| s.eq_ignore_ascii_case(scheme))
                .map(|_| &target[scheme.len()..])
        })
        .ok_or(RequestError::Malformed("target must be a path"))?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // No user info (RFC 9110 4.2.4), and a host to name.
    if authority.is_empty() || authority.contains('@') {
        return Err(RequestError::Malformed("bad authority in the target"));
    }
    Ok(match &rest[end..] {
        "" => (Some(authority), "/"),
        path if path.starts_with('?') => (Some(authority), "/"),
        path => (Some(authority), path),
    })
}
