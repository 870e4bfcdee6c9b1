//! The synthetic population: invented handles, countries with their dialling
//! codes, phone numbers in ranges reserved for fiction where a country has
//! one, e-mail addresses at example.* domains, and IP addresses from the
//! documentation ranges (RFC 5737) only.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::rng::Rng;

/// Countries of suspects: ISO alpha-2, the international dialling code and
/// the length of a national number (what Vigil's phone validation expects).
/// Thirty-five, like the real case's "700 suspects in 35 countries".
pub const COUNTRIES: [(&str, &str, usize); 35] = [
    ("US", "1", 10),
    ("GB", "44", 10),
    ("CA", "1", 10),
    ("AU", "61", 9),
    ("DE", "49", 10),
    ("FR", "33", 9),
    ("NL", "31", 9),
    ("ES", "34", 9),
    ("IT", "39", 10),
    ("SE", "46", 9),
    ("NO", "47", 8),
    ("DK", "45", 8),
    ("PL", "48", 9),
    ("BR", "55", 11),
    ("MX", "52", 10),
    ("NZ", "64", 9),
    ("IE", "353", 9),
    ("BE", "32", 9),
    ("CH", "41", 9),
    ("AT", "43", 10),
    ("ZA", "27", 9),
    ("IN", "91", 10),
    ("JP", "81", 10),
    ("PH", "63", 10),
    ("TH", "66", 9),
    ("AR", "54", 10),
    ("PT", "351", 9),
    ("FI", "358", 9),
    ("CZ", "420", 9),
    ("RO", "40", 9),
    ("GR", "30", 10),
    ("TR", "90", 10),
    ("IL", "972", 9),
    ("SG", "65", 8),
    ("KR", "82", 10),
];

const FIRST: [&str; 24] = [
    "night", "grey", "silent", "blue", "lone", "river", "stone", "frost", "echo", "amber",
    "copper", "misty", "swift", "pale", "iron", "north", "quiet", "rusty", "velvet", "cobalt",
    "hollow", "ember", "cedar", "storm",
];
const SECOND: [&str; 24] = [
    "owl", "wolf", "fox", "rider", "walker", "crow", "hawk", "pilot", "drifter", "sailor",
    "badger", "lynx", "heron", "moth", "finch", "raven", "otter", "comet", "nomad", "shade",
    "gull", "viper", "marten", "wren",
];

/// Draws distinct invented handles (`grey_heron`, `silentwolf77`, …).
pub struct Handles {
    used: BTreeSet<String>,
}

impl Handles {
    pub fn new(reserved: &[&str]) -> Handles {
        Handles {
            used: reserved.iter().map(|s| s.to_ascii_lowercase()).collect(),
        }
    }

    pub fn next(&mut self, rng: &mut Rng) -> String {
        loop {
            let a = rng.pick(&FIRST);
            let b = rng.pick(&SECOND);
            let h = match rng.below(4) {
                0 => format!("{a}_{b}"),
                1 => format!("{a}{b}{}", rng.range(1, 100)),
                2 => format!("{a}-{b}"),
                _ => format!("{a}_{b}{}", rng.range(60, 99)),
            };
            if self.used.insert(h.to_ascii_lowercase()) {
                return h;
            }
        }
    }
}

/// An address in one of the three documentation networks.
pub fn doc_ip(rng: &mut Rng) -> String {
    let net = ["192.0.2", "198.51.100", "203.0.113"][rng.below(3)];
    format!("{net}.{}", rng.range(1, 255))
}

pub fn email(rng: &mut Rng, handle: &str) -> String {
    let local: String = handle
        .chars()
        .map(|c| if c == '-' { '.' } else { c })
        .collect();
    let domain = ["example.com", "example.org", "example.net"][rng.below(3)];
    format!("{local}@{domain}")
}

/// A phone number of `country`, in a range reserved for fiction where the
/// country has one (UK 07700 900xxx, North American 555-01xx, Australian
/// 0491 570 xxx).
pub fn phone(rng: &mut Rng, country: &str, code: &str, digits: usize) -> String {
    match country {
        "GB" => format!("+44 7700 900{:03}", rng.range(0, 1000)),
        "US" => format!("+1 202 555 01{:02}", rng.range(0, 100)),
        "CA" => format!("+1 613 555 01{:02}", rng.range(0, 100)),
        "AU" => format!("+61 491 570 {:03}", rng.range(6, 160)),
        _ => {
            // a non-zero first digit, then groups of three
            let mut national = (1 + rng.below(9)).to_string();
            while national.len() < digits {
                national.push(char::from(b'0' + rng.below(10) as u8));
            }
            let groups: Vec<&str> = national
                .as_bytes()
                .chunks(3)
                .filter_map(|c| std::str::from_utf8(c).ok())
                .collect();
            format!("+{code} {}", groups.join(" "))
        }
    }
}

/// A suspect identified from the seized host's contacts and the network
/// analysis: not in the chat logs, entered by an investigator.
#[derive(Debug, Clone, Serialize)]
pub struct Lead {
    pub handle: String,
    /// Country of residence as the agency entered it.
    pub country: String,
    pub email: String,
    pub phone: String,
    pub ip: String,
    /// When the IP was seen (RFC 3339).
    pub ip_seen: String,
}

/// A member of a chat room.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub nick: String,
    pub ident: String,
    pub ip: String,
    pub country: String,
    pub email: Option<String>,
    pub skype: Option<String>,
    pub icq: Option<String>,
    /// Relative chance of being online in a session.
    #[serde(skip)]
    pub presence: f64,
}

impl Member {
    pub fn random(rng: &mut Rng, handles: &mut Handles) -> Member {
        let nick = handles.next(rng);
        let ident: String = nick
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(8)
            .collect();
        let (country, _, _) = *rng.pick(&COUNTRIES[..20]);
        Member {
            ident,
            ip: doc_ip(rng),
            country: country.to_string(),
            email: rng.chance(0.35).then(|| email(rng, &nick)),
            skype: rng.chance(0.25).then(|| {
                format!(
                    "live:{}.{}",
                    nick.replace(['_', '-'], ""),
                    rng.range(10, 99)
                )
            }),
            icq: rng
                .chance(0.2)
                .then(|| rng.range(100_000_000, 700_000_000).to_string()),
            presence: 0.15 + 0.6 * rng.unit(),
            nick,
        }
    }
}
