//! The built-in range table (`data/tor-geoip.vgeo`).
//!
//! File format (written by `scripts/build_geoip.py`):
//!
//! ```text
//! b"VIGILGEO1\n"
//! one line of JSON + b"\n"   provenance (source package version, export date,
//!                            licence), segment counts, SHA-256 of the body
//! zlib body:
//!   v4: N LEB128 varints  segment starts, each a delta to the previous start
//!       N × 2 bytes       country code in ASCII, or b"--" for "no country"
//!   v6: M LEB128 varints  (u128 starts, delta-encoded likewise)
//!       M × 2 bytes
//! ```
//!
//! A segment covers its start up to the next start − 1. Holes and the source's
//! `??` ranges are explicit "--" segments, so a lookup is one binary search
//! (`partition_point`) and never invents a country for an unlisted range.
//! The table is inflated once, on first use (≈ 0.7 MB compressed, ≈ 7 MB in
//! memory), and checked against the header's SHA-256 and counts.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{GeoError, GeoHit, GeoLookup, GeoSource, canonical_ip};
use crate::country::CountryCode;

static EMBEDDED: &[u8] = include_bytes!("../../data/tor-geoip.vgeo");
const MAGIC: &[u8] = b"VIGILGEO1\n";
/// Inflated body is ~2.8 MB today; refuse anything absurd.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// The zero-configuration geolocation table compiled into the binary.
pub struct EmbeddedGeo {
    source: GeoSource,
    v4_starts: Vec<u32>,
    v4_cc: Vec<[u8; 2]>,
    v6_starts: Vec<u128>,
    v6_cc: Vec<[u8; 2]>,
}

impl std::fmt::Debug for EmbeddedGeo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedGeo")
            .field("source", &self.source)
            .field("v4_segments", &self.v4_starts.len())
            .field("v6_segments", &self.v6_starts.len())
            .finish()
    }
}

#[derive(Deserialize)]
struct Header {
    format: String,
    source: String,
    source_package_version: String,
    source_date: String,
    license: String,
    attribution: String,
    v4_segments: usize,
    v6_segments: usize,
    body_sha256: String,
}

impl EmbeddedGeo {
    /// The table compiled into this binary, decoded on first call and shared.
    pub fn get() -> Result<&'static EmbeddedGeo, GeoError> {
        static CELL: OnceLock<Result<EmbeddedGeo, GeoError>> = OnceLock::new();
        CELL.get_or_init(|| Self::from_bytes(EMBEDDED))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Decodes a `.vgeo` file (the embedded one, or a newer one an
    /// administrator produced with the regeneration script).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GeoError> {
        let bad = |m: &str| GeoError::Invalid {
            name: "vigil-geo table".into(),
            message: m.to_string(),
        };
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| bad("missing VIGILGEO1 magic"))?;
        let nl = rest
            .iter()
            .take(64 * 1024)
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("no header line"))?;
        let header: Header = serde_json::from_slice(&rest[..nl])
            .map_err(|e| bad(&format!("header is not the expected JSON: {e}")))?;
        if header.format != "vigil-geo/1" {
            return Err(bad(&format!("unsupported format {:?}", header.format)));
        }
        let packed = &rest[nl + 1..];
        if hex::encode(Sha256::digest(packed)) != header.body_sha256 {
            return Err(bad("body SHA-256 does not match the header (corrupt file)"));
        }
        let body = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(packed, MAX_BODY)
            .map_err(|e| bad(&format!("cannot inflate body: {e:?}")))?;
        let built = OffsetDateTime::parse(&header.source_date, &Rfc3339)
            .map_err(|e| bad(&format!("bad source_date: {e}")))?;

        let mut pos = 0usize;
        let v4_starts = read_starts(&body, &mut pos, header.v4_segments, u32::MAX as u128)
            .map_err(|m| bad(&format!("v4: {m}")))?
            .into_iter()
            .map(|s| s as u32)
            .collect();
        let v4_cc =
            read_cc(&body, &mut pos, header.v4_segments).map_err(|m| bad(&format!("v4: {m}")))?;
        let v6_starts = read_starts(&body, &mut pos, header.v6_segments, u128::MAX)
            .map_err(|m| bad(&format!("v6: {m}")))?;
        let v6_cc =
            read_cc(&body, &mut pos, header.v6_segments).map_err(|m| bad(&format!("v6: {m}")))?;
        if pos != body.len() {
            return Err(bad("trailing bytes after the v6 table"));
        }
        Ok(Self {
            source: GeoSource {
                name: format!(
                    "{} {} (embedded)",
                    header.source, header.source_package_version
                ),
                built,
                attribution: format!("{}, {}", header.attribution, header.license),
            },
            v4_starts,
            v4_cc,
            v6_starts,
            v6_cc,
        })
    }

    /// Number of (IPv4, IPv6) segments, for diagnostics.
    pub fn segment_counts(&self) -> (usize, usize) {
        (self.v4_starts.len(), self.v6_starts.len())
    }
}

fn read_starts(body: &[u8], pos: &mut usize, n: usize, max: u128) -> Result<Vec<u128>, String> {
    let mut out = Vec::with_capacity(n.min(body.len()));
    let mut prev: u128 = 0;
    for i in 0..n {
        let mut delta: u128 = 0;
        let mut shift = 0u32;
        loop {
            let b = *body.get(*pos).ok_or("truncated varint")?;
            *pos += 1;
            if shift >= 128 || (shift == 126 && (b & 0x7f) > 3) {
                return Err("varint overflow".into());
            }
            delta |= u128::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        if i > 0 && delta == 0 {
            return Err("segment starts not strictly increasing".into());
        }
        prev = prev
            .checked_add(delta)
            .filter(|s| *s <= max)
            .ok_or("start out of range")?;
        out.push(prev);
    }
    Ok(out)
}

fn read_cc(body: &[u8], pos: &mut usize, n: usize) -> Result<Vec<[u8; 2]>, String> {
    let end = pos
        .checked_add(n.checked_mul(2).ok_or("count overflow")?)
        .filter(|e| *e <= body.len())
        .ok_or("truncated country table")?;
    let out: Vec<[u8; 2]> = body[*pos..end]
        .chunks_exact(2)
        .map(|c| [c[0], c[1]])
        .collect();
    if let Some(bad) = out
        .iter()
        .find(|c| **c != *b"--" && CountryCode::from_bytes(**c).is_none())
    {
        return Err(format!("bad country bytes {bad:?}"));
    }
    *pos = end;
    Ok(out)
}

/// Index of the segment holding `key`, and that segment's end.
fn find<T: Copy + Ord>(starts: &[T], key: T) -> Option<(usize, Option<T>)> {
    let idx = starts.partition_point(|s| *s <= key).checked_sub(1)?;
    Some((idx, starts.get(idx + 1).copied()))
}

impl GeoLookup for EmbeddedGeo {
    fn lookup(&self, ip: IpAddr) -> Result<Option<GeoHit>, GeoError> {
        let (cc, network) = match canonical_ip(ip) {
            IpAddr::V4(a) => {
                let key = u32::from(a);
                let Some((i, next)) = find(&self.v4_starts, key) else {
                    return Ok(None);
                };
                let end = next.map_or(u32::MAX, |n| n - 1);
                (
                    self.v4_cc[i],
                    format!(
                        "{}-{}",
                        Ipv4Addr::from(self.v4_starts[i]),
                        Ipv4Addr::from(end)
                    ),
                )
            }
            IpAddr::V6(a) => {
                let key = u128::from(a);
                let Some((i, next)) = find(&self.v6_starts, key) else {
                    return Ok(None);
                };
                let end = next.map_or(u128::MAX, |n| n - 1);
                (
                    self.v6_cc[i],
                    format!(
                        "{}-{}",
                        Ipv6Addr::from(self.v6_starts[i]),
                        Ipv6Addr::from(end)
                    ),
                )
            }
        };
        Ok(CountryCode::from_bytes(cc).map(|country| GeoHit {
            ip,
            country,
            network: Some(network),
            field: "range",
            source: self.source.clone(),
        }))
    }

    fn source(&self) -> &GeoSource {
        &self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(geo: &EmbeddedGeo, ip: &str) -> Option<String> {
        geo.lookup(ip.parse().unwrap())
            .unwrap()
            .map(|h| h.country.to_string())
    }

    #[test]
    fn embedded_table_loads_and_is_dated() {
        let geo = EmbeddedGeo::get().unwrap();
        let (n4, n6) = geo.segment_counts();
        assert!(n4 > 100_000 && n6 > 100_000, "{n4} {n6}");
        assert_eq!(geo.source().built.year(), 2026);
        assert!(geo.source().name.contains("tor-geoipdb"));
        assert!(geo.source().attribution.contains("CC BY-SA 4.0"));
    }

    #[test]
    fn well_known_public_addresses() {
        // Lookup keys only: large, stable public allocations.
        let geo = EmbeddedGeo::get().unwrap();
        assert_eq!(cc(geo, "1.0.0.1").as_deref(), Some("AU")); // APNIC research
        assert_eq!(cc(geo, "8.8.8.8").as_deref(), Some("US"));
        assert_eq!(cc(geo, "2001:4860:4860::8888").as_deref(), Some("US"));
        // IPv4-mapped IPv6 answers like the plain IPv4 address.
        assert_eq!(cc(geo, "::ffff:8.8.8.8").as_deref(), Some("US"));
    }

    #[test]
    fn private_and_documentation_ranges_have_no_country() {
        let geo = EmbeddedGeo::get().unwrap();
        for ip in [
            "10.1.2.3",
            "127.0.0.1",
            "192.0.2.10",
            "198.51.100.7",
            "203.0.113.99",
            "2001:db8::1",
            "::1",
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "fe80::1",
        ] {
            assert_eq!(cc(geo, ip), None, "{ip}");
        }
    }

    #[test]
    fn stale_sightings_are_flagged_in_the_reason() {
        let geo = EmbeddedGeo::get().unwrap();
        let ip = "8.8.8.8".parse().unwrap();
        let old = time::macros::datetime!(2019-01-01 0:00 UTC);
        let s = crate::signals::ip_signal_at(geo, ip, Some(old))
            .unwrap()
            .unwrap();
        assert!(
            s.reason.contains("caution: seen 2019-01-01"),
            "{}",
            s.reason
        );
        assert!(s.reason.contains("tor-geoipdb"), "{}", s.reason);
        let recent = geo.source().built - time::Duration::days(30);
        let s = crate::signals::ip_signal_at(geo, ip, Some(recent))
            .unwrap()
            .unwrap();
        assert!(!s.reason.contains("caution"), "{}", s.reason);
    }

    #[test]
    fn hit_names_range_and_source() {
        let geo = EmbeddedGeo::get().unwrap();
        let hit = geo.lookup("8.8.8.8".parse().unwrap()).unwrap().unwrap();
        let net = hit.network.unwrap();
        let (a, b) = net.split_once('-').unwrap();
        let (a, b): (Ipv4Addr, Ipv4Addr) = (a.parse().unwrap(), b.parse().unwrap());
        assert!(a <= Ipv4Addr::new(8, 8, 8, 8) && Ipv4Addr::new(8, 8, 8, 8) <= b);
        assert_eq!(hit.field, "range");
    }

    #[test]
    fn corrupt_tables_are_refused_not_panicked() {
        assert!(EmbeddedGeo::from_bytes(b"").is_err());
        assert!(EmbeddedGeo::from_bytes(b"VIGILGEO1\n{}\n").is_err());
        let mut bytes = EMBEDDED.to_vec();
        let last = bytes.len() - 10;
        bytes[last] ^= 0x01;
        let err = EmbeddedGeo::from_bytes(&bytes).unwrap_err();
        assert!(err.to_string().contains("SHA-256"), "{err}");
        // Truncated body.
        assert!(EmbeddedGeo::from_bytes(&EMBEDDED[..EMBEDDED.len() / 2]).is_err());
    }
}
