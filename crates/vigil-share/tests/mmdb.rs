//! The `.mmdb` backend against small databases written here, one per vendor
//! layout (GeoLite2 / DB-IP, IPinfo Lite, ip-location-db, registered-country
//! only). The writer below follows the MaxMind DB format specification
//! (binary search tree, 24-bit records, data section, metadata map); the
//! data is invented and attached to documentation and well-known public
//! ranges used purely as lookup keys. No third-party fixture, no licence
//! question.

use std::net::IpAddr;

use vigil_share::signals::{Strength, ip_signal};
use vigil_share::{GeoLookup, MmdbGeo};

// ---------------------------------------------------------------- writer

enum V {
    Str(&'static str),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(&'static str, V)>),
    Arr(Vec<V>),
}

fn ctrl(out: &mut Vec<u8>, ty: u8, size: usize) {
    let (low, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 285 {
        (29, vec![(size - 29) as u8])
    } else {
        let s = size - 285;
        (30, vec![(s >> 8) as u8, s as u8])
    };
    if ty <= 7 {
        out.push((ty << 5) | low);
    } else {
        out.push(low);
        out.push(ty - 7);
    }
    out.extend(extra);
}

fn uint(out: &mut Vec<u8>, ty: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    ctrl(out, ty, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn enc(out: &mut Vec<u8>, v: &V) {
    match v {
        V::Str(s) => {
            ctrl(out, 2, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        V::U16(n) => uint(out, 5, u64::from(*n)),
        V::U32(n) => uint(out, 6, u64::from(*n)),
        V::U64(n) => uint(out, 9, *n),
        V::Map(kv) => {
            ctrl(out, 7, kv.len());
            for (k, v) in kv {
                enc(out, &V::Str(k));
                enc(out, v);
            }
        }
        V::Arr(items) => {
            ctrl(out, 11, items.len());
            for v in items {
                enc(out, v);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Child {
    Empty,
    Node(usize),
    Data(usize),
}

/// An IPv6 tree (IPv4 networks live under ::/96, as MaxMind's do).
fn write_mmdb(db_type: &'static str, build_epoch: u64, records: Vec<(&str, V)>) -> Vec<u8> {
    let mut data = Vec::new();
    let mut nodes: Vec<[Child; 2]> = vec![[Child::Empty; 2]];
    for (net, value) in records {
        let (addr, len) = net.split_once('/').unwrap();
        let ip: IpAddr = addr.parse().unwrap();
        let len: usize = len.parse().unwrap();
        let (bits, len) = match ip {
            IpAddr::V4(a) => (u128::from(u32::from(a)), len + 96),
            IpAddr::V6(a) => (u128::from(a), len),
        };
        let offset = data.len();
        enc(&mut data, &value);
        let mut node = 0;
        for depth in 0..len {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth == len - 1 {
                nodes[node][bit] = Child::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Child::Node(n) => n,
                    _ => {
                        nodes.push([Child::Empty; 2]);
                        nodes[node][bit] = Child::Node(nodes.len() - 1);
                        nodes.len() - 1
                    }
                };
            }
        }
    }
    let n = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for child in node {
            let v = match *child {
                Child::Empty => n,
                Child::Node(i) => i,
                Child::Data(off) => n + 16 + off,
            };
            out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    enc(
        &mut out,
        &V::Map(vec![
            ("node_count", V::U32(n as u32)),
            ("record_size", V::U16(24)),
            ("ip_version", V::U16(6)),
            ("database_type", V::Str(db_type)),
            ("languages", V::Arr(vec![V::Str("en")])),
            ("binary_format_major_version", V::U16(2)),
            ("binary_format_minor_version", V::U16(0)),
            ("build_epoch", V::U64(build_epoch)),
            (
                "description",
                V::Map(vec![("en", V::Str("Vigil synthetic test database"))]),
            ),
        ]),
    );
    out
}

// ---------------------------------------------------------------- tests

const EPOCH: u64 = 1_780_000_000; // 2026-05-28

fn geolite_country(cc: &'static str, name: &'static str) -> V {
    V::Map(vec![
        ("continent", V::Map(vec![("code", V::Str("EU"))])),
        (
            "country",
            V::Map(vec![
                ("geoname_id", V::U32(2_635_167)),
                ("iso_code", V::Str(cc)),
                ("names", V::Map(vec![("en", V::Str(name))])),
            ]),
        ),
        (
            "registered_country",
            V::Map(vec![("iso_code", V::Str("US"))]),
        ),
    ])
}

fn cc(geo: &MmdbGeo, ip: &str) -> Option<(String, &'static str)> {
    geo.lookup(ip.parse().unwrap())
        .unwrap()
        .map(|h| (h.country.to_string(), h.field))
}

#[test]
fn geolite2_and_dbip_layout_country_iso_code() {
    let bytes = write_mmdb(
        "GeoLite2-Country",
        EPOCH,
        vec![
            ("81.2.69.0/24", geolite_country("GB", "United Kingdom")),
            ("2a02:ec80::/32", geolite_country("IE", "Ireland")),
        ],
    );
    let geo = MmdbGeo::from_bytes(bytes, "synthetic-geolite2.mmdb").unwrap();
    assert_eq!(
        cc(&geo, "81.2.69.160"),
        Some(("GB".into(), "country.iso_code"))
    );
    assert_eq!(
        cc(&geo, "::ffff:81.2.69.160"),
        Some(("GB".into(), "country.iso_code"))
    );
    assert_eq!(
        cc(&geo, "2a02:ec80:1::5"),
        Some(("IE".into(), "country.iso_code"))
    );
    assert_eq!(cc(&geo, "81.2.70.1"), None);
    assert_eq!(cc(&geo, "2001:db8::1"), None);

    let hit = geo.lookup("81.2.69.1".parse().unwrap()).unwrap().unwrap();
    assert_eq!(hit.network.as_deref(), Some("81.2.69.0/24"));
    assert_eq!(hit.source.built.unix_timestamp(), EPOCH as i64);
    assert!(
        hit.source.name.contains("GeoLite2-Country"),
        "{}",
        hit.source.name
    );
    assert!(hit.source.name.contains("synthetic-geolite2.mmdb"));
}

#[test]
fn ipinfo_lite_layout_country_code_with_string_country() {
    // IPinfo Lite: `country` is the *name* (a string), the code is
    // `country_code`. Probing `country.iso_code` must skip, not fail.
    let rec = |code: &'static str, name: &'static str| {
        V::Map(vec![
            ("asn", V::Str("AS64500")),
            ("as_name", V::Str("Example Networks")),
            ("country", V::Str(name)),
            ("country_code", V::Str(code)),
            ("continent", V::Str("Europe")),
            ("continent_code", V::Str("EU")),
        ])
    };
    let bytes = write_mmdb(
        "ipinfo lite.mmdb",
        EPOCH,
        vec![("1.0.0.0/24", rec("DE", "Germany"))],
    );
    let geo = MmdbGeo::from_bytes(bytes, "ipinfo_lite.mmdb").unwrap();
    assert_eq!(cc(&geo, "1.0.0.1"), Some(("DE".into(), "country_code")));
}

#[test]
fn ip_location_db_layout_and_registered_country_fallback() {
    let bytes = write_mmdb(
        "geo-whois-asn-country",
        EPOCH,
        vec![
            ("8.8.8.0/24", V::Map(vec![("country_code", V::Str("us"))])),
            // Anycast-style record: only the registrant's country.
            (
                "9.9.9.0/24",
                V::Map(vec![(
                    "registered_country",
                    V::Map(vec![("iso_code", V::Str("CH"))]),
                )]),
            ),
            // Junk code: no answer rather than a wrong one.
            ("10.0.0.0/8", V::Map(vec![("country_code", V::Str("EUR"))])),
        ],
    );
    let geo = MmdbGeo::from_bytes(bytes, "geo-whois-asn-country.mmdb").unwrap();
    assert_eq!(cc(&geo, "8.8.8.8"), Some(("US".into(), "country_code")));
    assert_eq!(
        cc(&geo, "9.9.9.9"),
        Some(("CH".into(), "registered_country.iso_code"))
    );
    assert_eq!(cc(&geo, "10.1.1.1"), None);

    // As a signal, a registered-country-only answer is weak; a real one medium.
    let s = ip_signal(&geo, "9.9.9.9".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(s.strength, Strength::Weak);
    assert!(s.reason.contains("registered country"), "{}", s.reason);
    let s = ip_signal(&geo, "8.8.8.8".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(s.strength, Strength::Medium);
    assert!(s.reason.contains("geo-whois-asn-country"), "{}", s.reason);
    assert!(s.reason.contains("2026-05-28"), "{}", s.reason);
}

#[test]
fn corrupt_or_missing_files_are_errors_not_panics() {
    assert!(MmdbGeo::from_bytes(b"not an mmdb".to_vec(), "junk.mmdb").is_err());
    let mut bytes = write_mmdb(
        "x",
        EPOCH,
        vec![("8.8.8.0/24", V::Map(vec![("country_code", V::Str("US"))]))],
    );
    let cut = bytes.len() - 20;
    bytes.truncate(cut);
    assert!(MmdbGeo::from_bytes(bytes, "cut.mmdb").is_err());
    let err =
        MmdbGeo::open(std::path::Path::new("/nonexistent/GeoLite2-Country.mmdb")).unwrap_err();
    assert!(err.to_string().contains("GeoLite2-Country.mmdb"), "{err}");
}

#[test]
fn open_reads_a_file_from_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("dbip-country-lite.mmdb");
    let bytes = write_mmdb(
        "DBIP-Country-Lite",
        EPOCH,
        vec![(
            "2001:4860::/32",
            V::Map(vec![("country", V::Map(vec![("iso_code", V::Str("US"))]))]),
        )],
    );
    std::fs::write(&path, bytes).unwrap();
    let geo = MmdbGeo::open(&path).unwrap();
    assert_eq!(
        cc(&geo, "2001:4860:4860::8888"),
        Some(("US".into(), "country.iso_code"))
    );
}

#[test]
fn two_databases_agreeing_count_once_and_disagreeing_show_a_conflict() {
    use vigil_share::{CountryCode, EmbeddedGeo, attribute};
    let ip: IpAddr = "8.8.8.8".parse().unwrap();
    let embedded = EmbeddedGeo::get().unwrap();
    let agree = MmdbGeo::from_bytes(
        write_mmdb(
            "agency-db",
            EPOCH,
            vec![("8.8.8.0/24", V::Map(vec![("country_code", V::Str("US"))]))],
        ),
        "agency.mmdb",
    )
    .unwrap();
    let differ = MmdbGeo::from_bytes(
        write_mmdb(
            "other-db",
            EPOCH,
            vec![("8.8.8.0/24", V::Map(vec![("country_code", V::Str("NL"))]))],
        ),
        "other.mmdb",
    )
    .unwrap();
    let sig = |g: &dyn GeoLookup| ip_signal(g, ip).unwrap().unwrap();

    let a = attribute(vec![sig(embedded), sig(&agree)]);
    assert_eq!(a.top, Some(CountryCode::parse("US").unwrap()));
    assert_eq!(
        a.ranking[0].medium, 1,
        "same IP, same answer: one observation"
    );
    assert!(a.conflicts.is_empty());

    let b = attribute(vec![sig(embedded), sig(&differ)]);
    assert_eq!(b.top, None, "{}", b.why);
    assert_eq!(b.conflicts.len(), 2);
    assert!(
        b.why.contains("other-db") && b.why.contains("tor-geoipdb"),
        "{}",
        b.why
    );
}
