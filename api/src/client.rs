//! Who a request comes from, and what every response says about itself to browsers.
//!
//! The client's address is the connecting peer's, unless the peer is a trusted proxy
//! (`[server] trusted_proxies`): then it is the nearest address in the proxy's
//! `X-Forwarded-For` (or, when none arrives, `Forwarded`) that is not itself a trusted proxy,
//! read from the right, as each proxy appends the address it saw. What a client writes into
//! these headers itself stands to the left of what the proxies add, so it is never reached
//! while an untrusted address stands to its right; a peer that is not trusted is never read.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The client's address, as the rate limits and logs see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<[ipnet::IpNet]>);

impl TrustedProxies {
    fn trust(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client of a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trust(peer) {
            return canonical(peer);
        }
        let forwarded_for: Vec<&HeaderValue> = headers.get_all("x-forwarded-for").iter().collect();
        let hops: Vec<Option<IpAddr>> = if forwarded_for.is_empty() {
            headers
                .get_all(header::FORWARDED)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(forwarded_for_param)
                .collect()
        } else {
            forwarded_for
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|hop| parse_hop(hop.trim()))
                .collect()
        };
        let mut client = canonical(peer);
        for hop in hops.iter().rev() {
            match hop {
                Some(addr) if self.trust(*addr) => client = canonical(*addr),
                Some(addr) => return canonical(*addr),
                // `unknown`, an obfuscated name or garbage: the last proxy that told is the
                // client as far as anyone can tell.
                None => return client,
            }
        }
        client
    }
}

/// IPv4 in IPv6 (`::ffff:192.0.2.1`) as IPv4, so one client is one address.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, optionally quoted.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.split(']').next())
                .and_then(|h| h.parse().ok())
        })
}

/// The `for=` of one element of a `Forwarded` header (RFC 7239).
fn forwarded_for_param(element: &str) -> Option<IpAddr> {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
        .and_then(|(_, value)| parse_hop(value))
}

/// Middleware: puts the [`ClientAddr`] of each request in its extensions (the peer's
/// address is the server's `ConnectInfo`; a request without one, from a test calling the
/// router, has none).
pub(crate) async fn client_address(
    State(trusted): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = trusted.client(peer, request.headers());
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

/// The policy of every page: scripts, styles and images from samla itself only, no inline
/// script, no framing by other sites, forms posted to samla only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Middleware: the security headers every response carries (a handler's own are kept).
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(nets: &[&str]) -> TrustedProxies {
        TrustedProxies(nets.iter().map(|n| n.parse().expect("net")).collect())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).expect("value"));
        }
        h
    }

    #[test]
    fn forwarded_addresses_are_read_from_trusted_proxies_only() {
        let proxies = trusted(&["10.0.0.0/8", "127.0.0.1/32"]);
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // A trusted proxy: the address it appended.
        let h = headers(&[("x-forwarded-for", "192.0.2.7")]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &h), ip("192.0.2.7"));
        // What the client wrote itself stands left of what the proxy appended.
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 192.0.2.7")]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &h), ip("192.0.2.7"));
        // Two trusted proxies in a row; headers split over lines.
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "192.0.2.7, 10.9.9.9"),
        ]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &h), ip("192.0.2.7"));
        // An untrusted peer's header is ignored.
        let h = headers(&[("x-forwarded-for", "192.0.2.7")]);
        assert_eq!(proxies.client(ip("198.51.100.1"), &h), ip("198.51.100.1"));
        // Forwarded (RFC 7239), quoted IPv6 with a port, when no X-Forwarded-For arrives.
        let h = headers(&[(
            "forwarded",
            "for=203.0.113.9, for=\"[2001:db8::7]:4711\";proto=https",
        )]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &h), ip("2001:db8::7"));
        // `unknown`: the proxy that said so is the client.
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        // No header: the proxy.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        // IPv4 in IPv6 is the same client.
        assert_eq!(
            proxies.client(ip("::ffff:198.51.100.1"), &HeaderMap::new()),
            ip("198.51.100.1")
        );
    }
}
