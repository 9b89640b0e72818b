//! Which addresses a webhook may be sent to (SSRF defence).
//!
//! A craftsman (or whoever holds an admin key) chooses a webhook's URL, and the
//! gateway then makes requests to it from inside the operator's network. Without a
//! check, `http://169.254.169.254/…` reads the cloud's instance metadata and
//! `http://localhost:…` reaches services that trust the loopback. So a webhook may
//! only go to public addresses, checked twice:
//!
//! - [`TargetPolicy::check_url`] before sending: the scheme, no userinfo, and an IP
//!   literal host (which never goes through DNS);
//! - [`PolicyResolver`] when connecting: a host name is resolved by us and its
//!   non-public addresses dropped, so a name that resolves to `127.0.0.1` (or that
//!   changes its answer between the check and the connect: DNS rebinding) is
//!   refused at the moment it would be used.
//!
//! An operator whose craftsmen run their ERP on the same network can allow private
//! targets (`allow_private`), which turns both checks off.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a webhook target was refused. Messages name the host, never the whole URL
/// (its query may carry a token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not a URL at all.
    #[error("invalid webhook URL: {0}")]
    Invalid(String),
    /// Not `http` or `https`.
    #[error("webhook URL scheme {0:?} is not allowed (use https or http)")]
    Scheme(String),
    /// `https:` with no host.
    #[error("webhook URL has no host")]
    NoHost,
    /// `https://user:password@host/`: credentials belong in the signature, and a
    /// URL with them would leak them into every log that shows it.
    #[error("webhook URL must not contain a user name or password")]
    Userinfo,
    /// An IP literal that is not public.
    #[error("webhook host {0} is not a public address")]
    NotPublic(IpAddr),
    /// A name whose addresses are all non-public.
    #[error("webhook host {host} resolves only to non-public addresses ({addresses})")]
    NoPublicAddress {
        /// The name.
        host: String,
        /// What it resolved to, for the operator.
        addresses: String,
    },
    /// The name did not resolve.
    #[error("could not resolve webhook host {host}: {error}")]
    Resolve {
        /// The name.
        host: String,
        /// The resolver's error.
        error: String,
    },
}

/// Where webhooks may go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Allow loopback, private, link-local and other non-public addresses.
    pub allow_private: bool,
}

impl TargetPolicy {
    /// Parses a webhook URL and checks what can be checked without DNS: `http` or
    /// `https`, a host, no userinfo, and (unless private targets are allowed) an IP
    /// literal host that is public. Host names are checked when connecting, by
    /// [`PolicyResolver`].
    pub fn check_url(&self, url: &str) -> Result<Url, TargetError> {
        let parsed = Url::parse(url.trim()).map_err(|e| TargetError::Invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(TargetError::Scheme(parsed.scheme().to_owned()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(TargetError::Userinfo);
        }
        // The URL parser has already turned `http://2130706433/`, `http://0x7f.1/`
        // and other spellings of an IPv4 address into dotted form.
        let host = match parsed.host_str() {
            None | Some("") => return Err(TargetError::NoHost),
            Some(host) => host,
        };
        // An IP literal: IPv6 comes bracketed; a name never parses as an address.
        let ip = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok();
        if let Some(ip) = ip
            && !self.allow_private
            && !is_public(ip)
        {
            return Err(TargetError::NotPublic(ip));
        }
        Ok(parsed)
    }

    /// The DNS resolver that enforces this policy at connect time.
    pub fn resolver(&self) -> PolicyResolver {
        PolicyResolver {
            allow_private: self.allow_private,
        }
    }
}

/// A [`Resolve`] for reqwest that resolves with the system resolver (like reqwest's
/// default, on a blocking thread) and keeps only public addresses, unless private
/// targets are allowed. When none is left the connection fails with a
/// [`TargetError`] naming the host, which the webhook channel takes as permanent.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyResolver {
    allow_private: bool,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let lookup = host.clone();
            let resolved = tokio::task::spawn_blocking(move || {
                (lookup.as_str(), 0)
                    .to_socket_addrs()
                    .map(Iterator::collect::<Vec<SocketAddr>>)
            })
            .await
            .map_err(|e| TargetError::Resolve {
                host: host.clone(),
                error: e.to_string(),
            })?
            .map_err(|e| TargetError::Resolve {
                host: host.clone(),
                error: e.to_string(),
            })?;
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                let addresses = resolved
                    .iter()
                    .map(|a| a.ip().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(TargetError::NoPublicAddress { host, addresses }.into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is a public unicast address a webhook may be sent to. Everything
/// else is refused: loopback, RFC 1918 and unique-local private ranges, link-local
/// (where cloud metadata lives), CGNAT, "this network", broadcast, multicast,
/// documentation and benchmarking ranges, reserved space, and IPv6 forms that
/// embed a non-public IPv4 address (mapped, compatible, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", RFC 791 (includes 0.0.0.0)
        || a == 10 // private, RFC 1918
        || (a == 100 && (64..128).contains(&b)) // CGNAT shared space, RFC 6598
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local, cloud metadata, RFC 3927
        || (a == 172 && (16..32).contains(&b)) // private, RFC 1918
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, RFC 6890
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1, RFC 5737
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast, RFC 7526
        || (a == 192 && b == 168) // private, RFC 1918
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, RFC 2544
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2, RFC 5737
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3, RFC 5737
        || a >= 224; // multicast (224/4), reserved (240/4), broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded_v4 =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // Forms that carry an IPv4 address are as public as that address.
    if s[..5] == [0; 5] && s[5] == 0xffff {
        // ::ffff:a.b.c.d, IPv4-mapped.
        return is_public_v4(embedded_v4(s[6], s[7]));
    }
    if s[..6] == [0; 6] {
        // ::a.b.c.d, IPv4-compatible (deprecated); also :: and ::1, refused as
        // 0.0.0.0/8.
        return is_public_v4(embedded_v4(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // 64:ff9b::/96, the well-known NAT64 prefix, RFC 6052.
        return is_public_v4(embedded_v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        // 2002::/16, 6to4: the IPv4 address is in the next 32 bits, RFC 3056.
        return is_public_v4(embedded_v4(s[1], s[2]));
    }
    // Only global unicast (2000::/3) is public; that leaves out unspecified,
    // loopback, unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10,
    // multicast ff00::/8, discard-only 100::/64, local-use NAT64 64:ff9b:1::/48…
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    let refused = match s[0] {
        // 2001::/23, IETF protocol assignments (Teredo, ORCHID…), RFC 2928;
        // 2001:db8::/32, documentation, RFC 3849.
        0x2001 => s[1] < 0x0200 || s[1] == 0x0db8,
        // 3fff::/20, documentation, RFC 9637.
        0x3fff => s[1] < 0x1000,
        _ => false,
    };
    global_unicast && !refused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn non_public_ipv4_ranges_are_refused() {
        for refused in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.8.9.10",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(ip(refused)), "{refused} should be refused");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.3.1",
            "192.169.0.1",
            "198.20.0.1",
            "203.0.114.1",
            "223.255.255.254",
            "36.86.63.182",
        ] {
            assert!(is_public(ip(public)), "{public} should be public");
        }
    }

    #[test]
    fn non_public_ipv6_ranges_are_refused() {
        for refused in [
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd12:3456:789a::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "2001:db8::1",
            "2001::1",
            "2001:10::1",
            "3fff::1",
            "3fff:fff::1",
            "64:ff9b:1::1",
            // IPv4 inside IPv6: the inner address decides.
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::192.168.0.1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
        ] {
            assert!(!is_public(ip(refused)), "{refused} should be refused");
        }
        for public in [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2400:cb00::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip(public)), "{public} should be public");
        }
    }

    #[test]
    fn check_url_takes_public_http_urls() {
        let policy = TargetPolicy::default();
        for good in [
            "https://erp.example.id/hooks/jembatan?key=1",
            "http://erp.example.id:8080/",
            "https://8.8.8.8/hook",
            "https://[2606:4700:4700::1111]/hook",
            // Names are checked when connecting, not here.
            "http://localhost/",
        ] {
            assert!(policy.check_url(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn check_url_refuses_what_it_can_see() {
        let policy = TargetPolicy::default();
        let cases = [
            ("not a url", "invalid webhook URL"),
            ("ftp://example.id/", "scheme \"ftp\""),
            ("file:///etc/passwd", "scheme \"file\""),
            ("javascript:alert(1)", "scheme \"javascript\""),
            ("https://user:pw@example.id/", "user name or password"),
            ("https://user@example.id/", "user name or password"),
            (
                "http://127.0.0.1:8080/",
                "127.0.0.1 is not a public address",
            ),
            (
                "http://169.254.169.254/latest/meta-data/",
                "169.254.169.254",
            ),
            ("http://[::1]/", "::1 is not a public"),
            ("http://[::ffff:7f00:1]/", "not a public"),
            ("http://[fd00::1]/", "not a public"),
            // Other spellings of loopback are normalized by the URL parser.
            ("http://2130706433/", "127.0.0.1 is not"),
            ("http://0x7f.1/", "127.0.0.1 is not"),
            ("http://0/", "0.0.0.0 is not"),
        ];
        for (url, expected) in cases {
            let err = policy.check_url(url).unwrap_err().to_string();
            assert!(err.contains(expected), "{url}: {err}");
        }
    }

    #[test]
    fn error_names_the_host_not_the_query() {
        let err = TargetPolicy::default()
            .check_url("http://10.1.2.3/hook?token=s3cr3t")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn allow_private_lets_private_literals_through() {
        let policy = TargetPolicy {
            allow_private: true,
        };
        assert!(policy.check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(policy.check_url("http://[::1]/").is_ok());
        // But the URL rules stay.
        assert!(policy.check_url("ftp://127.0.0.1/").is_err());
    }

    #[tokio::test]
    async fn the_resolver_drops_non_public_addresses() {
        let refused = TargetPolicy::default()
            .resolver()
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost refused");
        let err = refused
            .downcast_ref::<TargetError>()
            .expect("a TargetError");
        assert!(
            matches!(err, TargetError::NoPublicAddress { host, .. } if host == "localhost"),
            "{err}"
        );
        assert!(err.to_string().contains("localhost"));

        let allowed: Vec<SocketAddr> = TargetPolicy {
            allow_private: true,
        }
        .resolver()
        .resolve("localhost".parse().unwrap())
        .await
        .expect("localhost allowed")
        .collect();
        assert!(allowed.iter().all(|a| a.ip().is_loopback()), "{allowed:?}");
        assert!(!allowed.is_empty());
    }
}
