//! Where a webhook may point: `http(s)` URLs on public addresses. A
//! registry that calls any URL a namespace owner names would let them
//! reach what only the registry can reach (the cloud's metadata service at
//! `169.254.169.254`, databases and admin pages on the provider's private
//! network), so private, loopback, link-local and reserved addresses are
//! refused unless the operator allows them (`serve --webhook-allow-private`,
//! for registries and receivers on one private network, and for tests).
//!
//! The check happens twice: when a subscription is made (a clear error for
//! the owner), and as the delivery's own name resolution, so that the
//! connection goes to the very address that was checked (a name that
//! resolved to a public address once and to a private one later gains
//! nothing).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use super::error::{RegistryError, Result};

/// The longest URL a subscription may hold.
pub const MAX_URL_CHARS: usize = 2048;

/// Why an address is not called, in words for the error message; `None`
/// for a public address.
pub fn refused_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_private() => "a private address",
        _ if ip.is_link_local() => "a link-local address (cloud metadata services live there)",
        (0, _, _) => "an unspecified address",
        (100, 64..=127, _) => "a carrier-grade NAT address",
        (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => {
            "a reserved or documentation address"
        }
        (198, 18..=19, _) => "a benchmarking address",
        _ if ip.is_multicast() => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return refused_v4(v4);
    }
    let s = ip.segments();
    Some(match s[0] {
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_unspecified() => "an unspecified address",
        0xfc00..=0xfdff => "a private (unique local) address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xff00..=0xffff => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        // Teredo tunnels to an address we cannot see.
        0x2001 if s[1] == 0 => "a Teredo tunnel address",
        _ => return None,
    })
}

/// The IPv4 address inside an IPv6 one that carries it: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`)
/// and 6to4 (`2002:AABB:CCDD::/48`), so that none of them is a way around
/// the IPv4 rules.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(low(hi, lo)),
        // `::` and `::1` are themselves, not IPv4 addresses.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(low(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

fn refused(detail: String) -> RegistryError {
    RegistryError::bad_request("webhook_target_refused", detail)
}

/// Checks a subscription's URL: `http` or `https`, a host, no credentials,
/// no fragment, and (unless `allow_private`) a name that resolves only to
/// public addresses. Answers the URL as it will be called.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(refused(format!(
            "the URL is longer than {MAX_URL_CHARS} characters"
        )));
    }
    let url = url::Url::parse(raw).map_err(|e| {
        refused(format!(
            "\"{}\" is not a URL ({e}); write e.g. https://portal.example.de/hooks/gemeinwerk",
            raw.escape_default()
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refused(format!(
            "the scheme \"{}\" is not called; use https (or http)",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused(
            "credentials in the URL are refused (they would show in logs); the receiver checks the signature instead".into(),
        ));
    }
    if url.fragment().is_some() {
        return Err(refused("a URL with a fragment (#…) is refused".into()));
    }
    let Some(host) = url.host_str() else {
        return Err(refused("the URL names no host".into()));
    };
    if !allow_private {
        let port = url.port_or_known_default().unwrap_or(443);
        resolve_public(host, port).map_err(|e| refused(e.to_string()))?;
    }
    Ok(url)
}

/// Resolves `host` and answers its addresses if every one is public; a
/// name with one private address among public ones is refused as a whole
/// (which one the connection took would be chance).
pub fn resolve_public(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (bare, port)
            .to_socket_addrs()
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "the host \"{}\" does not resolve ({e})",
                        bare.escape_default()
                    ),
                )
            })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(std::io::Error::other(format!(
            "the host \"{}\" resolves to no address",
            bare.escape_default()
        )));
    }
    for a in &addrs {
        if let Some(kind) = refused_kind(a.ip()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "the host \"{}\" is {} ({}); the registry calls only public addresses \
                     unless its operator allows private ones (serve --webhook-allow-private)",
                    bare.escape_default(),
                    kind,
                    a.ip()
                ),
            ));
        }
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        refused_kind(s.parse().unwrap()).is_some()
    }

    #[test]
    fn private_loopback_link_local_and_reserved_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.178.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.2.10",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2001:db8::1",
            "2001:0:4136:e378::1",
        ] {
            assert!(refused(ip), "{ip} must be refused");
        }
        for ip in [
            "93.184.215.14",
            "172.32.0.1",
            "100.128.0.1",
            "2a00:1450:4001:82a::200e",
            "::ffff:93.184.215.14",
        ] {
            assert!(!refused(ip), "{ip} is public");
        }
    }

    #[test]
    fn urls_are_checked_for_scheme_credentials_and_address() {
        let code = |u: &str| check_url(u, false).unwrap_err().to_string();
        assert!(code("ftp://example.org/").contains("scheme"));
        assert!(code("https://user:pw@example.org/").contains("credentials"));
        assert!(code("http://127.0.0.1:9/").contains("loopback"));
        assert!(code("http://[::1]/").contains("loopback"));
        assert!(code("http://2130706433/").contains("loopback"));
        assert!(code("http://0x7f.1/").contains("loopback"));
        assert!(code("http://localhost:9/").contains("loopback"));
        assert!(code("http://169.254.169.254/latest/meta-data").contains("link-local"));
        assert!(code("nonsense").contains("not a URL"));
        assert!(check_url("http://127.0.0.1:9/hook", true).is_ok());
    }
}
