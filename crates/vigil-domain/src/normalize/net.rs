//! IP addresses, time windows of observations, and which addresses cannot tell
//! people apart.
//!
//! An IP address identifies a subscriber only together with a time (dynamic
//! addresses are re-assigned), and behind carrier-grade NAT (CGNAT), proxies
//! and VPN exits only with a port too — or not at all. So an observation is
//! `ip + optional port + first/last seen`, two observations can link people
//! only when their windows overlap, and some addresses never link anyone.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// Parses an address to its canonical form: IPv4 dotted quad, IPv6 in RFC
/// 5952 text, IPv4-mapped IPv6 (`::ffff:192.0.2.1`) as the IPv4 address it
/// is, brackets (`[2001:db8::1]`) dropped. Octal-looking IPv4 parts
/// (`010.0.0.1`) and zone ids are rejected: they are ambiguous.
pub fn parse_ip(raw: &str) -> Option<IpAddr> {
    let t = raw.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(t);
    t.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The first and last time something was seen, inclusive. Serialised as
/// RFC 3339 strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimeWindow {
    #[serde(with = "time::serde::rfc3339")]
    pub first: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last: OffsetDateTime,
}

impl TimeWindow {
    /// A window; the two ends are swapped if given in the wrong order, since
    /// both orders describe the same interval.
    pub fn new(a: OffsetDateTime, b: OffsetDateTime) -> Self {
        if a <= b {
            Self { first: a, last: b }
        } else {
            Self { first: b, last: a }
        }
    }

    /// A single instant.
    pub fn at(t: OffsetDateTime) -> Self {
        Self { first: t, last: t }
    }

    /// The time between the two windows; zero when they overlap.
    pub fn gap(&self, other: &TimeWindow) -> Duration {
        if self.last < other.first {
            other.first - self.last
        } else if other.last < self.first {
            self.first - other.last
        } else {
            Duration::ZERO
        }
    }

    /// True when the windows overlap or are at most `tolerance` apart. The
    /// tolerance absorbs clock skew between sources and the granularity of
    /// logs (a provider answering "assigned on that day").
    pub fn overlaps(&self, other: &TimeWindow, tolerance: Duration) -> bool {
        self.gap(other) <= tolerance
    }
}

/// One sighting of an address: the address, the source port when the source
/// gave one, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpObservation {
    pub ip: IpAddr,
    pub port: Option<u16>,
    pub window: TimeWindow,
}

impl IpObservation {
    /// True when both observations name the same address at overlapping
    /// times and, where both give a port, the same port.
    pub fn coincides(&self, other: &IpObservation, tolerance: Duration) -> bool {
        self.ip == other.ip
            && match (self.port, other.port) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
            && self.window.overlaps(&other.window, tolerance)
    }
}

/// An IPv4 or IPv6 network in CIDR form (`100.64.0.0/10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpRange {
    /// Parses `a.b.c.d/n`, `x::/n` or a bare address (a /32 or /128).
    pub fn parse(s: &str) -> Option<Self> {
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr = parse_ip(a)?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Where an address is routed: decides whether equal values in two cases can
/// mean the same connection at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpScope {
    /// Globally routed.
    Public,
    /// RFC 5737 / RFC 3849 documentation ranges. Treated like public
    /// addresses, because test data and training material use them.
    Documentation,
    /// Carrier-grade NAT, 100.64.0.0/10 (RFC 6598): one address, many
    /// subscribers at once.
    Cgnat,
    /// RFC 1918 private IPv4 or IPv6 unique-local: the same value exists in
    /// every home network.
    Private,
    Loopback,
    LinkLocal,
    /// Multicast, broadcast, unspecified and other reserved values.
    Reserved,
}

impl IpScope {
    /// True when equal values seen in two unrelated sources can be the same
    /// connection (public and documentation addresses, and CGNAT with a port).
    pub fn globally_unique(self) -> bool {
        matches!(self, Self::Public | Self::Documentation)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Documentation => "documentation",
            Self::Cgnat => "carrier-grade NAT (100.64.0.0/10)",
            Self::Private => "private",
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::Reserved => "reserved",
        }
    }
}

/// The scope of an address (IPv4-mapped IPv6 is judged as IPv4).
pub fn ip_scope(ip: IpAddr) -> IpScope {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4_scope(v4),
        IpAddr::V6(v6) => v6_scope(v6),
    }
}

fn v4_scope(ip: Ipv4Addr) -> IpScope {
    let o = ip.octets();
    if o[0] == 100 && (o[1] & 0xc0) == 64 {
        IpScope::Cgnat
    } else if ip.is_documentation() {
        IpScope::Documentation
    } else if ip.is_private() {
        IpScope::Private
    } else if ip.is_loopback() {
        IpScope::Loopback
    } else if ip.is_link_local() {
        IpScope::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || o[0] >= 240
        || o[0] == 0
    {
        IpScope::Reserved
    } else {
        IpScope::Public
    }
}

fn v6_scope(ip: Ipv6Addr) -> IpScope {
    let s = ip.segments();
    if s[0] == 0x2001 && s[1] == 0x0db8 {
        IpScope::Documentation
    } else if ip.is_loopback() {
        IpScope::Loopback
    } else if (s[0] & 0xfe00) == 0xfc00 {
        IpScope::Private
    } else if (s[0] & 0xffc0) == 0xfe80 {
        IpScope::LinkLocal
    } else if ip.is_unspecified() || ip.is_multicast() {
        IpScope::Reserved
    } else {
        IpScope::Public
    }
}

/// Why an address cannot, on its own, tie two persons together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedReason {
    /// In 100.64.0.0/10: many subscribers share it at the same moment.
    Cgnat,
    /// The address is in a range the caller listed (a known proxy, VPN exit,
    /// Tor exit, CGNAT pool or public hotspot), with the caller's label.
    Listed { range: IpRange, label: String },
    /// Observed for more distinct persons than the policy allows: whatever
    /// the address is, it is evidently shared.
    ManyPersons { persons: usize, max: usize },
}

impl fmt::Display for SharedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cgnat => f.write_str(
                "it is a carrier-grade NAT address (100.64.0.0/10) shared by many subscribers at once",
            ),
            Self::Listed { range, label } => {
                write!(f, "it is in {range}, listed as shared: {label}")
            }
            Self::ManyPersons { persons, max } => write!(
                f,
                "it was seen for {persons} distinct persons (more than {max}), so it is shared"
            ),
        }
    }
}

/// The caller's knowledge of shared addresses: ranges of known proxies, VPN
/// and Tor exits or CGNAT pools, and a limit on how many distinct persons one
/// address may be seen for before it is treated as shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedAddresses {
    pub ranges: Vec<(IpRange, String)>,
    pub max_persons: usize,
}

impl Default for SharedAddresses {
    /// No listed ranges; an address seen for more than 5 persons is shared
    /// (a household or small office rarely exceeds that).
    fn default() -> Self {
        Self {
            ranges: Vec::new(),
            max_persons: 5,
        }
    }
}

impl SharedAddresses {
    /// Adds a range with a label saying what it is (`"VPN exit, provider X"`).
    pub fn with_range(mut self, range: IpRange, label: impl Into<String>) -> Self {
        self.ranges.push((range, label.into()));
        self
    }

    /// Why `ip` is shared, or `None` when it may link persons. `persons` is
    /// the number of distinct persons the address was observed for. Private,
    /// loopback and documentation addresses are *not* reported here (see
    /// [`ip_scope`]): they are not shared by strangers on the Internet, and the
    /// caller decides what a local address means.
    pub fn shared_reason(&self, ip: IpAddr, persons: usize) -> Option<SharedReason> {
        if ip_scope(ip) == IpScope::Cgnat {
            return Some(SharedReason::Cgnat);
        }
        if let Some((range, label)) = self.ranges.iter().find(|(r, _)| r.contains(ip)) {
            return Some(SharedReason::Listed {
                range: *range,
                label: label.clone(),
            });
        }
        (persons > self.max_persons).then_some(SharedReason::ManyPersons {
            persons,
            max: self.max_persons,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ip(s: &str) -> IpAddr {
        parse_ip(s).unwrap()
    }

    #[test]
    fn canonical_text() {
        assert_eq!(ip("::ffff:192.0.2.1").to_string(), "192.0.2.1");
        assert_eq!(ip("[2001:DB8:0:0:0:0:0:1]").to_string(), "2001:db8::1");
        assert_eq!(ip(" 198.51.100.7 ").to_string(), "198.51.100.7");
        for bad in [
            "198.51.100.300",
            "010.0.0.1",
            "1.2.3",
            "fe80::1%eth0",
            "",
            "::g",
        ] {
            assert!(parse_ip(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn windows_overlap_with_tolerance() {
        let a = TimeWindow::new(
            datetime!(2024-03-01 10:00 UTC),
            datetime!(2024-03-01 12:00 UTC),
        );
        let b = TimeWindow::new(
            datetime!(2024-03-01 13:00 UTC),
            datetime!(2024-03-01 11:30 UTC),
        );
        let c = TimeWindow::at(datetime!(2024-03-01 14:00 UTC));
        assert!(a.overlaps(&b, Duration::ZERO));
        assert!(!a.overlaps(&c, Duration::ZERO));
        assert_eq!(a.gap(&c), Duration::hours(2));
        assert!(a.overlaps(&c, Duration::hours(2)));
        assert!(!a.overlaps(&c, Duration::minutes(119)));
        let o = |ip_s: &str, port, w| IpObservation {
            ip: ip(ip_s),
            port,
            window: w,
        };
        assert!(o("192.0.2.1", Some(4000), a).coincides(&o("192.0.2.1", None, b), Duration::ZERO));
        assert!(
            !o("192.0.2.1", Some(4000), a)
                .coincides(&o("192.0.2.1", Some(4001), b), Duration::ZERO)
        );
        assert!(!o("192.0.2.1", None, a).coincides(&o("192.0.2.2", None, b), Duration::ZERO));
    }

    #[test]
    fn scopes() {
        assert_eq!(ip_scope(ip("100.64.0.1")), IpScope::Cgnat);
        assert_eq!(ip_scope(ip("100.127.255.254")), IpScope::Cgnat);
        assert_eq!(ip_scope(ip("100.128.0.1")), IpScope::Public);
        assert_eq!(ip_scope(ip("192.0.2.1")), IpScope::Documentation);
        assert_eq!(ip_scope(ip("203.0.113.9")), IpScope::Documentation);
        assert_eq!(ip_scope(ip("2001:db8::5")), IpScope::Documentation);
        assert_eq!(ip_scope(ip("10.1.2.3")), IpScope::Private);
        assert_eq!(ip_scope(ip("fd00::1")), IpScope::Private);
        assert_eq!(ip_scope(ip("127.0.0.1")), IpScope::Loopback);
        assert_eq!(ip_scope(ip("::ffff:127.0.0.1")), IpScope::Loopback);
        assert_eq!(ip_scope(ip("169.254.1.1")), IpScope::LinkLocal);
        assert_eq!(ip_scope(ip("8.8.8.8")), IpScope::Public);
        assert_eq!(ip_scope(ip("255.255.255.255")), IpScope::Reserved);
        assert!(IpScope::Documentation.globally_unique());
        assert!(!IpScope::Private.globally_unique());
    }

    #[test]
    fn shared_addresses() {
        let range = IpRange::parse("198.51.100.0/28").unwrap();
        let policy = SharedAddresses::default().with_range(range, "VPN exit (example)");
        assert_eq!(
            policy.shared_reason(ip("100.64.3.4"), 1),
            Some(SharedReason::Cgnat)
        );
        let listed = policy.shared_reason(ip("198.51.100.9"), 1).unwrap();
        assert!(listed.to_string().contains("VPN exit"), "{listed}");
        assert_eq!(policy.shared_reason(ip("198.51.100.17"), 2), None);
        assert_eq!(
            policy.shared_reason(ip("203.0.113.5"), 6),
            Some(SharedReason::ManyPersons { persons: 6, max: 5 })
        );
        // Private and documentation addresses are not "shared".
        assert_eq!(policy.shared_reason(ip("192.168.1.1"), 1), None);
        assert_eq!(policy.shared_reason(ip("192.0.2.1"), 1), None);
    }

    #[test]
    fn ranges() {
        let r = IpRange::parse("100.64.0.0/10").unwrap();
        assert!(r.contains(ip("100.100.1.1")));
        assert!(!r.contains(ip("100.128.1.1")));
        assert!(
            IpRange::parse("2001:db8::/32")
                .unwrap()
                .contains(ip("2001:db8:1::1"))
        );
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(
            IpRange::parse("192.0.2.1")
                .unwrap()
                .contains(ip("192.0.2.1"))
        );
        assert!(IpRange::parse("10.0.0.0/33").is_none());
        assert_eq!(r.to_string(), "100.64.0.0/10");
    }
}
