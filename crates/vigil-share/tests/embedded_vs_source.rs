//! The embedded table says what Debian's text files say.
//!
//! Runs only where `tor-geoipdb` is installed *and* its export date equals
//! the embedded one (otherwise the data legitimately differs); says loudly
//! when it skips. Checks the first and last address of a sample of ranges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vigil_share::{EmbeddedGeo, GeoLookup};

fn generated_line(text: &str) -> Option<&str> {
    text.lines()
        .take(40)
        .find_map(|l| l.strip_prefix("# Generated:").map(str::trim))
}

fn check(path: &str, v6: bool, step: usize) {
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!(
            "!!! SKIPPED comparison with {path}: not installed (apt-get install tor-geoipdb)"
        );
        return;
    };
    let geo = EmbeddedGeo::get().unwrap();
    let built = geo.source().built;
    let want = format!(
        "{} {} {}",
        built.day(),
        &format!("{:?}", built.month())[..3],
        built.year()
    );
    let Some(generated) = generated_line(&text) else {
        eprintln!("!!! SKIPPED: {path} has no Generated: header");
        return;
    };
    if !generated.contains(&want) {
        eprintln!(
            "!!! SKIPPED comparison with {path}: installed data is from {generated}, \
             embedded from {want}; regenerate with scripts/regen-geoip.sh"
        );
        return;
    }
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')).step_by(step) {
        let mut f = line.split(',');
        let (a, b, cc) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let (a, b): (IpAddr, IpAddr) = if v6 {
            (
                IpAddr::V6(a.parse::<Ipv6Addr>().unwrap()),
                IpAddr::V6(b.parse::<Ipv6Addr>().unwrap()),
            )
        } else {
            (
                IpAddr::V4(Ipv4Addr::from(a.parse::<u32>().unwrap())),
                IpAddr::V4(Ipv4Addr::from(b.parse::<u32>().unwrap())),
            )
        };
        for ip in [a, b] {
            let got = geo.lookup(ip).unwrap().map(|h| h.country.to_string());
            let expected = (cc != "??").then(|| cc.to_string());
            assert_eq!(got, expected, "{ip} in {line}");
        }
        checked += 1;
    }
    assert!(checked > 1000, "only {checked} ranges checked");
}

#[test]
fn embedded_v4_matches_debian_text() {
    check("/usr/share/tor/geoip", false, 97);
}

#[test]
fn embedded_v6_matches_debian_text() {
    check("/usr/share/tor/geoip6", true, 97);
}
