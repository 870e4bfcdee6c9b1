//! A synthetic population with known truth, for measuring the linker.
//!
//! Each *individual* (a ground-truth human) appears as one to four *profiles*
//! (persons in the store, as different cases and agencies would record
//! them). Profiles of one individual are disguised the ways people disguise
//! themselves — restyled handles (separators, case, leetspeak, confusable
//! letters), alias changes that keep the old name inside the new
//! (`g.o.d` → `Son_of_G0d`), typos, wholly new names, e-mail plus-tags and
//! Gmail dots — and share, when chance says so, an IP at overlapping times,
//! rooms, media files, a nick change or an announced e-mail.
//!
//! Decoys test precision: common handles ("admin", "guest"), individuals
//! whose names are near-copies of another's (`nightowl77` / `nightowl78`,
//! `darkwolf` / `darkwolves`), communities sharing rooms and trading files,
//! carrier-grade NAT addresses shared by many at once, and IPv4 addresses
//! re-assigned to different individuals at different times.
//!
//! All values are synthetic: invented names, `example.*` mail domains,
//! documentation IPv4 (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) and
//! IPv6 (2001:db8::/32) addresses, CGNAT 100.64.0.0/10. The generator uses
//! its own SplitMix64 so a seed gives the same population on every platform
//! and version.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use time::OffsetDateTime;
use vigil_domain::normalize::TimeWindow;

use crate::model::{EmailItem, HandleItem, IpItem, MediaItem, MediaRole, Profile, RoomItem};

/// SplitMix64: tiny, fast and fully specified, so populations are stable.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize % n.max(1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Population size and seed.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Number of profiles (persons) to generate, approximately (the last
    /// individual may add a few more).
    pub persons: usize,
    pub seed: u64,
}

/// Profiles and the truth behind them.
#[derive(Debug, Clone)]
pub struct Population {
    pub profiles: Vec<Profile>,
    /// For each profile (same order), the individual it belongs to.
    pub individual: Vec<u32>,
}

impl Population {
    /// All pairs `(a, b)`, `a < b`, of person ids that are the same individual.
    pub fn true_pairs(&self) -> Vec<(i64, i64)> {
        let mut by_ind: std::collections::HashMap<u32, Vec<i64>> = Default::default();
        for (p, ind) in self.profiles.iter().zip(&self.individual) {
            by_ind.entry(*ind).or_default().push(p.person_id);
        }
        let mut out = Vec::new();
        for ids in by_ind.values() {
            for (i, a) in ids.iter().enumerate() {
                for b in &ids[i + 1..] {
                    out.push((*a.min(b), *a.max(b)));
                }
            }
        }
        out.sort_unstable();
        out
    }
}

const WORDS: &[&str] = &[
    "dark", "wolf", "angel", "shadow", "night", "owl", "storm", "raven", "silent", "ghost", "lone",
    "rider", "blue", "moon", "fire", "ice", "dream", "hunter", "sweet", "candy", "tiger", "lion",
    "star", "sky", "black", "white", "red", "green", "magic", "dragon", "king", "queen", "prince",
    "knight", "wild", "free", "soul", "heart", "dust", "stone", "river", "rain", "snow", "frost",
    "blade", "steel", "iron", "gold", "silver", "crystal", "echo", "pixel", "neon", "cyber",
    "cosmic", "lunar", "solar", "velvet", "misty", "happy", "lucky", "crazy", "funny", "little",
    "big", "old", "young", "secret", "hidden", "lost", "broken", "gentle", "quiet", "rapid",
    "swift", "brave", "bold", "kind", "noble", "royal", "rogue", "bandit", "pirate", "sailor",
    "captain", "doctor", "teacher", "uncle", "daddy", "papa", "boy", "girl", "kid", "friend",
    "buddy", "fox", "bear", "hawk", "eagle", "falcon", "snake", "cobra", "viper", "panther",
    "jaguar", "puma", "lynx", "otter", "badger", "beaver", "mouse", "cat", "dog", "pup", "kitten",
    "bunny", "panda", "koala", "monkey", "ninja", "samurai", "wizard", "mage", "druid", "monk",
    "saint", "devil", "demon", "god", "titan", "giant", "dwarf", "elf", "troll", "orc", "goblin",
];

/// Words put around a name when someone changes alias but keeps the old
/// name inside the new one.
const AFFIXES: &[&[&str]] = &[
    &["son", "of"],
    &["the"],
    &["real"],
    &["mr"],
    &["lord"],
    &["official"],
    &["x"],
    &["its"],
    &["king"],
    &["daddy"],
];

const COMMON: &[&str] = &[
    "admin",
    "guest",
    "anon",
    "user",
    "test",
    "root",
    "mod",
    "anonymous",
];

const CONSONANTS: &[char] = &[
    'b', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'j', 'w', 'c', 'x',
    'q',
];
const VOWELS: &[char] = &['a', 'e', 'i', 'o', 'u', 'y'];

const CLUSTERS: &[&str] = &[
    "br", "dr", "kr", "st", "sh", "ch", "th", "tr", "pl", "gr", "fl", "sk", "vr", "zh", "bl", "gl",
];

/// An invented word. About 400 distinct syllables, so two-syllable words
/// (the shortest) rarely collide by accident in a population of 100 000 —
/// as with real handles, which platforms make unique.
fn pseudo_word(r: &mut Rng, syllables: usize) -> String {
    let mut s = String::new();
    for _ in 0..syllables {
        if r.chance(0.3) {
            let c: &&str = r.pick(CLUSTERS);
            s.push_str(c);
        } else {
            s.push(*r.pick(CONSONANTS));
        }
        s.push(*r.pick(VOWELS));
        if r.chance(0.4) {
            s.push(*r.pick(&['n', 'r', 'l', 's', 'k', 'm', 't']));
        }
    }
    s
}

/// A base name: a list of lowercase word tokens (and maybe a number).
fn base_name(r: &mut Rng) -> Vec<String> {
    let w = |r: &mut Rng| r.pick(WORDS).to_string();
    match r.below(100) {
        0..=19 => vec![w(r), w(r), format!("{}", 10 + r.below(90))],
        20..=44 => {
            let n = 2 + r.below(2);
            vec![pseudo_word(r, n)]
        }
        45..=64 => vec![w(r), pseudo_word(r, 2)],
        65..=79 => vec![pseudo_word(r, 2), format!("{}", 1 + r.below(9999))],
        80..=89 => vec![w(r), w(r), w(r)],
        _ => vec![pseudo_word(r, 1) + &pseudo_word(r, 1), w(r)],
    }
}

/// A near-copy of someone else's name: a different number, one word
/// replaced, or a number added — a different person with a similar name.
fn near_copy(r: &mut Rng, base: &[String]) -> Vec<String> {
    let mut b = base.to_vec();
    let last_is_number = b
        .last()
        .is_some_and(|t| t.chars().all(|c| c.is_ascii_digit()));
    match r.below(3) {
        0 if last_is_number => {
            let n = b.len() - 1;
            b[n] = format!("{}", 10 + r.below(9990));
        }
        1 if b.len() > 1 => {
            let i = r.below(b.len());
            let old = b[i].clone();
            while b[i] == old {
                b[i] = r.pick(WORDS).to_string();
            }
        }
        _ => b.push(format!("{}", 1 + r.below(99))),
    }
    b
}

fn leet(c: char) -> Option<char> {
    Some(match c {
        'o' => '0',
        'i' => '1',
        'e' => '3',
        'a' => '4',
        's' => '5',
        't' => '7',
        _ => return None,
    })
}

fn cyrillic(c: char) -> Option<char> {
    Some(match c {
        'a' => 'а',
        'e' => 'е',
        'o' => 'о',
        'p' => 'р',
        'c' => 'с',
        'x' => 'х',
        _ => return None,
    })
}

/// Writes tokens as a handle in a random style: separator, case, and some
/// leetspeak, confusable letters or a typo.
fn style(r: &mut Rng, tokens: &[String], heavy: bool) -> String {
    let sep = *r.pick(&["", "", "_", ".", "-", "__"]);
    let case = r.below(4);
    let mut words: Vec<String> = tokens
        .iter()
        .map(|t| match case {
            0 | 1 => t.clone(),
            2 => {
                let mut c = t.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
            _ => t.to_uppercase(),
        })
        .collect();
    let p_leet = if heavy {
        0.5
    } else if r.chance(0.3) {
        0.3
    } else {
        0.0
    };
    let p_conf = if r.chance(0.05) { 0.5 } else { 0.0 };
    for w in &mut words {
        if w.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        *w = w
            .chars()
            .map(|c| {
                let lc = c.to_ascii_lowercase();
                if r.chance(p_leet)
                    && let Some(l) = leet(lc)
                {
                    return l;
                }
                if c.is_ascii_lowercase()
                    && r.chance(p_conf)
                    && let Some(k) = cyrillic(c)
                {
                    return k;
                }
                c
            })
            .collect();
    }
    let mut s = words.join(sep);
    if heavy && r.chance(0.5) && s.chars().count() > 5 {
        // A typo: drop or double one letter.
        let mut cs: Vec<char> = s.chars().collect();
        let i = 1 + r.below(cs.len() - 2);
        if r.chance(0.5) {
            cs.remove(i);
        } else {
            cs.insert(i, cs[i]);
        }
        s = cs.into_iter().collect();
    }
    if r.chance(0.05) {
        s = format!("xX{s}Xx");
    }
    s
}

struct Individual {
    base: Vec<String>,
    mailbox: Option<(String, String)>,
    ip: HomeIp,
    community: usize,
    rooms: Vec<String>,
    media: Vec<String>,
    span_start: i64,
}

enum HomeIp {
    /// A long-lived address (IPv6 /64 host).
    Static(IpAddr),
    /// An IPv4 lease `(address, from, to)` in unix seconds; the address is
    /// leased to other individuals at other times.
    Lease(IpAddr, i64, i64),
    /// Mobile, behind CGNAT: an address from a small pool per sighting.
    Cgnat,
    None,
}

fn hex_hash(r: &mut Rng) -> String {
    format!("{:016x}{:016x}", r.next_u64(), r.next_u64())
}

const DAY: i64 = 86_400;
/// 2024-01-01T00:00:00Z.
const EPOCH: i64 = 1_704_067_200;

fn ts(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Generates the population.
pub fn generate(cfg: &SynthConfig) -> Population {
    let mut r = Rng::new(cfg.seed);
    let n_ind = (cfg.persons as f64 / 1.5).ceil() as usize + 1;
    let n_comm = (n_ind / 40).max(1);
    let rooms_per_comm = 5;
    let cgnat_pool = (n_ind / 60).max(4);
    let popular: Vec<String> = (0..(n_ind / 20).max(20))
        .map(|_| hex_hash(&mut r))
        .collect();
    // IPv4 documentation addresses, each leased to at most 4 individuals in
    // turn (non-overlapping, with gaps).
    let v4: Vec<Ipv4Addr> = [[192u8, 0, 2], [198, 51, 100], [203, 0, 113]]
        .iter()
        .flat_map(|p| (1..=254u8).map(move |h| Ipv4Addr::new(p[0], p[1], p[2], h)))
        .collect();
    let mut v4_next: Vec<(u8, i64)> = vec![(0, EPOCH); v4.len()];

    let mut inds: Vec<Individual> = Vec::with_capacity(n_ind);
    for i in 0..n_ind {
        let community = r.below(n_comm);
        let base = if i > 0 && r.chance(0.10) {
            // Similar-but-different decoy, often in the same community.
            let j = r.below(i);
            near_copy(&mut r, &inds[j].base.clone())
        } else {
            base_name(&mut r)
        };
        let span_start = EPOCH + (r.below(365) as i64) * DAY;
        let mailbox = match r.below(10) {
            0..=4 => {
                let local = if r.chance(0.7) {
                    base.join(if r.chance(0.5) { "." } else { "" })
                } else {
                    format!("{}{}", pseudo_word(&mut r, 3), r.below(100))
                };
                let domain = r
                    .pick(&[
                        "gmail.com",
                        "example.com",
                        "example.net",
                        "example.org",
                        "mail.example",
                    ])
                    .to_string();
                Some((local, domain))
            }
            _ => None,
        };
        let ip = match r.below(100) {
            0..=64 => HomeIp::Static(IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0x0db8,
                r.below(65536) as u16,
                r.below(65536) as u16,
                0,
                0,
                0,
                1 + r.below(65535) as u16,
            ))),
            65..=71 => {
                let k = r.below(v4.len());
                let (count, free_from) = v4_next[k];
                if count < 4 {
                    let from = free_from.max(span_start) + (2 + r.below(20) as i64) * DAY;
                    let to = from + (30 + r.below(200) as i64) * DAY;
                    v4_next[k] = (count + 1, to);
                    HomeIp::Lease(IpAddr::V4(v4[k]), from, to)
                } else {
                    HomeIp::None
                }
            }
            72..=89 => HomeIp::Cgnat,
            _ => HomeIp::None,
        };
        let mut rooms = Vec::new();
        for _ in 0..1 + r.below(3) {
            rooms.push(format!(
                "#c{community}r{}@irc.example.net",
                r.below(rooms_per_comm)
            ));
        }
        if r.chance(0.3) {
            rooms.push(format!("#lobby{}@irc.example.net", r.below(20)));
        }
        let mut media = Vec::new();
        if r.chance(0.5) {
            for _ in 0..2 + r.below(15) {
                media.push(hex_hash(&mut r));
            }
            for _ in 0..r.below(4) {
                media.push(r.pick(&popular).clone());
            }
        }
        inds.push(Individual {
            base,
            mailbox,
            ip,
            community,
            rooms,
            media,
            span_start,
        });
    }
    // Trading inside communities: some personal files reach a co-member.
    for i in 0..n_ind {
        if r.chance(0.3) {
            let j = r.below(n_ind);
            if inds[j].community == inds[i].community && !inds[j].media.is_empty() {
                let h = r.pick(&inds[j].media).clone();
                inds[i].media.push(h);
            }
        }
    }

    let mut profiles = Vec::with_capacity(cfg.persons + 4);
    let mut individual = Vec::with_capacity(cfg.persons + 4);
    let mut next_id: i64 = 1;
    for (i, ind) in inds.iter().enumerate() {
        if profiles.len() >= cfg.persons {
            break;
        }
        let k = match r.below(100) {
            0..=54 => 1,
            55..=84 => 2,
            85..=94 => 3,
            _ => 4,
        };
        let first_id = next_id;
        let mut handles_of: Vec<String> = Vec::new();
        for j in 0..k {
            let pid = next_id;
            next_id += 1;
            let src = |what: &str, n: usize| format!("synth/p{pid}/{what}{n}");
            let mut p = Profile::new(pid);
            p.agency = format!("agency-{}", r.below(5));
            p.case_ids = vec![format!("case-{}", r.below(5000))];
            // Handle: the first profile uses the base name; later ones vary.
            let variant = if j == 0 { 0 } else { r.below(100) };
            let tokens: Vec<String> = if j == 0 {
                ind.base.clone()
            } else {
                match variant {
                    0..=44 => ind.base.clone(),
                    45..=59 => {
                        let affix = r.pick(AFFIXES);
                        let mut t: Vec<String> = affix.iter().map(|s| s.to_string()).collect();
                        if r.chance(0.5) {
                            t.extend(ind.base.iter().cloned());
                        } else {
                            t = ind.base.iter().cloned().chain(t).collect();
                        }
                        t
                    }
                    60..=84 => ind.base.clone(),
                    _ => base_name(&mut r),
                }
            };
            // A wholly new name usually leaves a bridge to the old one — a
            // nick change seen in a log, the same mailbox, or the same line
            // at the same time — which is how investigators find it at all.
            let bridge = if variant >= 85 { r.below(10) } else { 99 };
            let heavy = j > 0 && (60..=84).contains(&variant);
            let handle = style(&mut r, &tokens, heavy);
            p.handles.push(HandleItem {
                raw: handle.clone(),
                network: None,
                source: src("handle", 0),
            });
            if r.chance(0.05) {
                p.handles.push(HandleItem {
                    raw: r.pick(COMMON).to_string(),
                    network: None,
                    source: src("handle", 1),
                });
            }
            // E-mail, with provider-specific disguises.
            if let Some((local, domain)) = &ind.mailbox
                && (r.chance(0.45) || matches!(bridge, 4..=6))
            {
                let mut l = local.clone();
                if domain == "gmail.com" && r.chance(0.5) {
                    l = l.replace('.', "");
                    let cut = r.below(l.len().max(1));
                    if cut > 0 {
                        l.insert(cut, '.');
                    }
                }
                if r.chance(0.3) {
                    l = format!("{l}+{}", pseudo_word(&mut r, 1));
                }
                let d = if domain == "gmail.com" && r.chance(0.2) {
                    "googlemail.com".to_string()
                } else {
                    domain.clone()
                };
                let raw = if r.chance(0.3) {
                    format!("{}@{}", l.to_uppercase(), d)
                } else {
                    format!("{l}@{d}")
                };
                p.emails.push(EmailItem {
                    raw,
                    source: src("email", 0),
                });
            }
            // Activity window of this profile.
            let start = ind.span_start + (r.below(60) as i64) * DAY;
            let end = start + (30 + r.below(90) as i64) * DAY;
            match ind.ip {
                HomeIp::Static(line) if r.chance(0.7) || matches!(bridge, 7 | 8) => {
                    // A privacy address in the individual's /64.
                    let ip = match line {
                        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(
                            (u128::from(v6) & (u128::MAX << 64)) | u128::from(r.next_u64() | 1),
                        )),
                        v4 => v4,
                    };
                    p.ips.push(IpItem {
                        ip,
                        port: None,
                        window: TimeWindow::new(ts(start), ts(end)),
                        source: src("ip", 0),
                    })
                }
                HomeIp::Lease(ip, from, to) if r.chance(0.7) || matches!(bridge, 7 | 8) => {
                    let (a, b) = (start.max(from), end.min(to));
                    if a <= b {
                        p.ips.push(IpItem {
                            ip,
                            port: None,
                            window: TimeWindow::new(ts(a), ts(b)),
                            source: src("ip", 0),
                        });
                    }
                }
                HomeIp::Cgnat => {
                    for n in 0..1 + r.below(2) {
                        let k = r.below(cgnat_pool) as u32;
                        let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 0)) + k);
                        let t =
                            start + r.below(((end - start) / 3600).max(1) as usize) as i64 * 3600;
                        p.ips.push(IpItem {
                            ip: IpAddr::V4(ip),
                            port: r.chance(0.3).then(|| 1024 + r.below(60000) as u16),
                            window: TimeWindow::new(ts(t), ts(t + 3 * 3600)),
                            source: src("ip", n),
                        });
                    }
                }
                _ => {}
            }
            // Rooms and media.
            for (n, room) in ind.rooms.iter().enumerate() {
                if r.chance(0.5) {
                    let a = start + (r.below(20) as i64) * DAY;
                    p.rooms.push(RoomItem {
                        room: room.clone(),
                        window: TimeWindow::new(
                            ts(a),
                            ts(a.min(end) + (1 + r.below(30) as i64) * DAY),
                        ),
                        source: src("room", n),
                    });
                }
            }
            if !ind.media.is_empty() && r.chance(0.5) {
                for (n, h) in ind.media.iter().enumerate() {
                    if r.chance(0.5) {
                        p.media.push(MediaItem {
                            hash: h.clone(),
                            role: if r.chance(0.3) {
                                MediaRole::Offered
                            } else {
                                MediaRole::Possessed
                            },
                            source: src("media", n),
                        });
                    }
                }
            }
            // A nick change seen in this profile's logs, from an earlier
            // profile's handle to this one's.
            if j > 0 && (r.chance(0.12) || bridge <= 3) {
                let old = r.pick(&handles_of).clone();
                p = p.nick_change(&old, &handle, &src("nickchange", 0));
            }
            // An announced e-mail ("mail me at …").
            if let Some((local, domain)) = &ind.mailbox
                && r.chance(0.05)
            {
                p = p.announce(
                    vigil_domain::IdentifierKind::Email,
                    &format!("{local}@{domain}"),
                    &src("announce", 0),
                );
            }
            handles_of.push(handle);
            profiles.push(p);
            individual.push(i as u32);
        }
        debug_assert!(next_id > first_id);
    }
    Population {
        profiles,
        individual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let a = generate(&SynthConfig {
            persons: 500,
            seed: 7,
        });
        let b = generate(&SynthConfig {
            persons: 500,
            seed: 7,
        });
        assert_eq!(a.profiles, b.profiles);
        assert!(a.profiles.len() >= 500 && a.profiles.len() < 504);
        let c = generate(&SynthConfig {
            persons: 500,
            seed: 8,
        });
        assert_ne!(a.profiles, c.profiles);
        assert!(!a.true_pairs().is_empty());
        // Synthetic data only: documentation or CGNAT addresses.
        for p in &a.profiles {
            for o in &p.ips {
                let s = vigil_domain::normalize::ip_scope(o.ip);
                assert!(
                    matches!(
                        s,
                        vigil_domain::normalize::IpScope::Documentation
                            | vigil_domain::normalize::IpScope::Cgnat
                    ),
                    "{}",
                    o.ip
                );
            }
            for e in &p.emails {
                assert!(
                    e.raw.to_lowercase().contains("example")
                        || e.raw.to_lowercase().contains("mail.com")
                );
            }
        }
    }
}
