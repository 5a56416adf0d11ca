//! Addresses a viewer can open: the bound address when it is a real one
//! (loopback included); for a wildcard bind (`0.0.0.0`, `::`), this host's
//! outbound address and `localhost` instead of an address no browser can
//! reach.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

/// This host's address on the network (the one its default route uses), if
/// it has one. Connecting a UDP socket sends nothing; it only picks a route.
fn outbound_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

/// `http://host:port/` for each address a viewer can open, the network
/// one first.
#[must_use]
pub fn viewer_urls(bound: SocketAddr) -> Vec<String> {
    let port = bound.port();
    let url = |ip: IpAddr| SocketAddr::new(ip, port);
    let ip = bound.ip();
    if !ip.is_unspecified() {
        return vec![format!("http://{}/", url(ip))];
    }
    let mut urls = Vec::new();
    if let Some(ip) = outbound_ip() {
        urls.push(format!("http://{}/", url(ip)));
    }
    urls.push(format!("http://localhost:{port}/"));
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_bind_is_shown_as_addresses_one_can_open() {
        let urls = viewer_urls("0.0.0.0:8080".parse().expect("addr"));
        assert!(urls.iter().all(|u| !u.contains("0.0.0.0")), "{urls:?}");
        assert_eq!(
            urls.last().map(String::as_str),
            Some("http://localhost:8080/")
        );
        let urls = viewer_urls("127.0.0.1:81".parse().expect("addr"));
        assert_eq!(urls, ["http://127.0.0.1:81/"]);
        let urls = viewer_urls("192.168.1.20:8080".parse().expect("addr"));
        assert_eq!(urls, ["http://192.168.1.20:8080/"]);
    }
}
