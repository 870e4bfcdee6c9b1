//! Preparation (normalised forms), blocking indexes and candidate
//! generation.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use rayon::prelude::*;
use vigil_domain::IdentifierKind;
use vigil_domain::normalize::{
    self, IpScope, SharedReason, TimeWindow, handle_forms, handle_key, handle_tokens, ip_scope,
    join_tokens,
};

use crate::config::LinkConfig;
use crate::evidence::{BlockStats, Candidate, Evidence, EvidenceKind, LinkReport};
use crate::model::{MediaRole, Profile};

/// A handle or e-mail local part, in comparable form.
#[derive(Debug, Clone)]
pub(crate) struct Name {
    pub raw: String,
    pub key: String,
    pub tokens: Vec<String>,
    pub network: Option<String>,
    pub source: String,
    /// True for an e-mail local part, false for a handle.
    pub from_email: bool,
    /// Contiguous token runs (see [`token_runs`]), for containment.
    pub runs: Vec<String>,
    /// Persons holding this key exactly / as a word run (filled after
    /// indexing).
    pub key_df: usize,
    pub token_df: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct PEmail {
    pub raw: String,
    pub norm: String,
    pub source: String,
}

#[derive(Debug, Clone)]
pub(crate) struct PIp {
    pub ip: IpAddr,
    /// What identifies the subscriber's line: the IPv4 address, or the
    /// IPv6 /64 prefix (hosts rotate their interface ids — RFC 8981 privacy
    /// addresses — but keep the /64 their router was delegated).
    pub line: IpAddr,
    pub port: Option<u16>,
    pub window: TimeWindow,
    pub source: String,
}

#[derive(Debug, Clone)]
pub(crate) struct PRoom {
    pub room: String,
    pub window: TimeWindow,
    pub source: String,
}

#[derive(Debug, Clone)]
pub(crate) struct PMedia {
    pub hash: String,
    pub role: MediaRole,
    pub source: String,
}

#[derive(Debug, Clone)]
pub(crate) struct POther {
    pub kind: IdentifierKind,
    pub norm: String,
    pub raw: String,
    pub source: String,
}

/// One profile in comparable form.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prepared {
    pub names: Vec<Name>,
    pub emails: Vec<PEmail>,
    pub ips: Vec<PIp>,
    pub rooms: Vec<PRoom>,
    pub media: Vec<PMedia>,
    pub others: Vec<POther>,
}

/// Blocking-key namespaces. A key is `namespace byte + value`.
pub(crate) mod ns {
    /// Exact handle key (and e-mail local part key).
    pub const KEY: char = 'k';
    /// Tokens, contiguous token runs and whole keys: containment.
    pub const TOKEN: char = 't';
    /// First / last characters of a key: Jaro–Winkler neighbours.
    pub const PREFIX: char = 'p';
    pub const SUFFIX: char = 's';
    pub const EMAIL: char = 'e';
    pub const IP: char = 'i';
    /// CGNAT address with port.
    pub const IP_PORT: char = 'j';
    /// Room (for frequency only) and room + day (for blocking).
    pub const ROOM: char = 'r';
    pub const ROOM_DAY: char = 'd';
    pub const MEDIA: char = 'm';
    pub const OTHER: char = 'o';
}

fn bkey(ns: char, v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 1);
    s.push(ns);
    s.push_str(v);
    s
}

/// Every contiguous run of up to 4 tokens, joined, and the whole key: the
/// strings another key may equal for containment.
pub(crate) fn token_runs(tokens: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if tokens.len() > 4 {
        out.push(join_tokens(tokens));
    }
    for i in 0..tokens.len() {
        for n in 1..=4.min(tokens.len() - i) {
            out.push(join_tokens(&tokens[i..i + n]));
        }
    }
    out
}

/// The candidate generator and scorer over one population.
///
/// Built once (normalising everything and building the inverted indexes),
/// then asked for all candidates ([`Linker::candidates`]) or to explain any
/// one pair ([`Linker::score_pair`]).
pub struct Linker {
    pub(crate) cfg: LinkConfig,
    pub(crate) ids: Vec<i64>,
    pub(crate) prep: Vec<Prepared>,
    /// Blocking key → persons (indexes into `ids`), each person once.
    pub(crate) blocks: HashMap<String, Vec<u32>>,
    /// Evidence found by lookup rather than comparison (nick changes,
    /// announcements), by ordered pair of indexes.
    pub(crate) special: HashMap<(u32, u32), Vec<Evidence>>,
    pub(crate) notes: Vec<String>,
    by_id: HashMap<i64, u32>,
}

impl Linker {
    /// Normalises every profile and builds the indexes. Values that cannot be
    /// normalised are skipped with a note (never a panic: they come from
    /// imports).
    pub fn new(profiles: &[Profile], cfg: LinkConfig) -> Self {
        let mut notes = Vec::new();
        let prepared: Vec<(Prepared, Vec<String>)> = profiles
            .par_iter()
            .map(|p| {
                let mut n = Vec::new();
                (prepare(p, &mut n), n)
            })
            .collect();
        let mut prep = Vec::with_capacity(prepared.len());
        for (p, n) in prepared {
            prep.push(p);
            notes.extend(n);
        }
        let ids: Vec<i64> = profiles.iter().map(|p| p.person_id).collect();
        let by_id = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        let mut linker = Self {
            blocks: HashMap::new(),
            special: HashMap::new(),
            cfg,
            ids,
            prep,
            notes,
            by_id,
        };
        linker.build_blocks();
        linker.build_special(profiles);
        linker
    }

    /// Number of persons holding a blocking key's value.
    pub(crate) fn df(&self, ns: char, v: &str) -> usize {
        self.blocks.get(&bkey(ns, v)).map_or(0, Vec::len)
    }

    /// The `N` of the weight formula: the reference population, not the
    /// actual one (see the `config` module docs for why).
    pub(crate) fn n_eff(&self) -> usize {
        self.cfg.reference_population
    }

    /// Why an address cannot link, if it cannot: shared (CGNAT, listed,
    /// seen for too many persons) or not globally unique (private, loopback).
    pub(crate) fn ip_shared(&self, ip: IpAddr) -> Option<SharedReason> {
        self.cfg
            .shared
            .shared_reason(ip, self.df(ns::IP, &ip.to_string()))
    }

    fn build_blocks(&mut self) {
        let min_len = self.cfg.min_key_len;
        let mut blocks: HashMap<String, Vec<u32>> = HashMap::new();
        // Keys per person in parallel; the merge into one map is sequential.
        let per_person: Vec<HashSet<String>> = self
            .prep
            .par_iter()
            .map(|p| {
                let mut keys: HashSet<String> = HashSet::new();
                for n in &p.names {
                    keys.insert(bkey(ns::KEY, &n.key));
                    keys.insert(bkey(ns::TOKEN, &n.key));
                    for run in &n.runs {
                        if run.chars().count() >= 3 {
                            keys.insert(bkey(ns::TOKEN, run));
                        }
                    }
                    let chars: Vec<char> = n.key.chars().collect();
                    if chars.len() >= min_len {
                        let k = chars.len().min(5);
                        keys.insert(bkey(ns::PREFIX, &chars[..k].iter().collect::<String>()));
                        keys.insert(bkey(
                            ns::SUFFIX,
                            &chars[chars.len() - k..].iter().collect::<String>(),
                        ));
                    }
                }
                for e in &p.emails {
                    keys.insert(bkey(ns::EMAIL, &e.norm));
                }
                for o in &p.ips {
                    keys.insert(bkey(ns::IP, &o.line.to_string()));
                    if let (IpScope::Cgnat, Some(port)) = (ip_scope(o.ip), o.port) {
                        keys.insert(bkey(ns::IP_PORT, &format!("{}:{port}", o.ip)));
                    }
                }
                for r in &p.rooms {
                    keys.insert(bkey(ns::ROOM, &r.room));
                    let first = r.window.first.unix_timestamp().div_euclid(86_400);
                    let last = r.window.last.unix_timestamp().div_euclid(86_400);
                    for day in first..=last.min(first + 13) {
                        keys.insert(bkey(ns::ROOM_DAY, &format!("{}\u{1f}{day}", r.room)));
                    }
                }
                for m in &p.media {
                    keys.insert(bkey(ns::MEDIA, &m.hash));
                }
                for o in &p.others {
                    keys.insert(bkey(ns::OTHER, &format!("{}:{}", o.kind, o.norm)));
                }
                keys
            })
            .collect();
        for (i, keys) in per_person.into_iter().enumerate() {
            for k in keys {
                blocks.entry(k).or_default().push(i as u32);
            }
        }
        for p in &mut self.prep {
            for n in &mut p.names {
                n.key_df = blocks.get(&bkey(ns::KEY, &n.key)).map_or(0, Vec::len);
                n.token_df = blocks.get(&bkey(ns::TOKEN, &n.key)).map_or(0, Vec::len);
            }
        }
        self.blocks = blocks;
    }

    /// Persons whose handle (not e-mail local part) has `key`, on `network`
    /// when both sides name one.
    fn handle_holders(&self, key: &str, network: Option<&str>) -> Vec<u32> {
        let Some(list) = self.blocks.get(&bkey(ns::KEY, key)) else {
            return Vec::new();
        };
        list.iter()
            .copied()
            .filter(|&i| {
                self.prep[i as usize].names.iter().any(|n| {
                    !n.from_email
                        && n.key == key
                        && match (network, n.network.as_deref()) {
                            (Some(a), Some(b)) => a == b,
                            _ => true,
                        }
                })
            })
            .collect()
    }

    fn add_special(&mut self, a: u32, b: u32, e: Evidence) {
        if a == b {
            return;
        }
        let key = (a.min(b), a.max(b));
        let list = self.special.entry(key).or_default();
        if !list
            .iter()
            .any(|x| x.kind == e.kind && x.detail == e.detail)
        {
            list.push(e);
        }
    }

    fn build_special(&mut self, profiles: &[Profile]) {
        // Nick changes: whoever holds the old or the new nick is the person
        // who changed it — provided each nick is held by one person besides
        // the one whose log recorded the change. If two persons hold "guest"
        // (or any name), which of them changed nick cannot be told, and a
        // certain link must not rest on a guess.
        const MAX_HOLDERS: usize = 1;
        // Beyond this many holders a nick change is not used at all.
        const MAX_SHARED_HOLDERS: usize = 4;
        let index_of: HashMap<i64, u32> = profiles
            .iter()
            .enumerate()
            .map(|(i, p)| (p.person_id, i as u32))
            .collect();
        for (i, p) in profiles.iter().enumerate() {
            for nc in &p.nick_changes {
                if !nc.holders.is_empty() {
                    // The log names who held the nicks: no lookup by name.
                    let mut group: Vec<u32> = nc
                        .holders
                        .iter()
                        .filter_map(|h| index_of.get(h).copied())
                        .collect();
                    group.push(i as u32);
                    group.sort_unstable();
                    group.dedup();
                    let detail = format!(
                        "{:?} changed nick to {:?} in one session (recorded for person {}; the holders of both nicks in that session are persons {}), so they are one person",
                        nc.old,
                        nc.new,
                        p.person_id,
                        group
                            .iter()
                            .map(|&g| profiles[g as usize].person_id.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    for (x, &a) in group.iter().enumerate() {
                        for &b in &group[x + 1..] {
                            let e = Evidence {
                                kind: EvidenceKind::NickChange,
                                weight: self.cfg.weights.certain_bits,
                                detail: detail.clone(),
                                sources: vec![nc.source.clone()],
                            };
                            self.add_special(a, b, e);
                        }
                    }
                    continue;
                }
                let network = nc.network.as_ref().map(|n| n.to_ascii_lowercase());
                let (Some(old), Some(new)) = (handle_forms(&nc.old), handle_forms(&nc.new)) else {
                    self.notes.push(format!(
                        "person {}: nick change {:?} -> {:?} ({}) has an empty nick",
                        p.person_id, nc.old, nc.new, nc.source
                    ));
                    continue;
                };
                let net = network.as_deref().or(old.network.as_deref());
                let me = i as u32;
                let mut holders_old = self.handle_holders(&old.key, net);
                let mut holders_new = self.handle_holders(&new.key, net);
                holders_old.retain(|h| *h != me);
                holders_new.retain(|h| *h != me);
                let ambiguous = holders_old.len() > MAX_HOLDERS || holders_new.len() > MAX_HOLDERS;
                if holders_old.len() > MAX_SHARED_HOLDERS || holders_new.len() > MAX_SHARED_HOLDERS
                {
                    self.notes.push(format!(
                        "nick change {:?} -> {:?} ({}) not used: the nicks are held by {} and {} other persons, so the one who changed nick cannot be told",
                        nc.old, nc.new, nc.source, holders_old.len(), holders_new.len()
                    ));
                    continue;
                }
                let mut group: Vec<u32> = holders_old.iter().chain(&holders_new).copied().collect();
                group.push(i as u32);
                group.sort_unstable();
                group.dedup();
                let w = &self.cfg.weights;
                let (kind, weight, tail) = if ambiguous {
                    // Several persons hold one of the nicks: they are one
                    // person only if that nick is one person's. As strong as
                    // an exact handle held by that many, not certain.
                    let holders = group.len();
                    (
                        EvidenceKind::NickChangeShared,
                        w.value_bits(w.email_exact_m, holders, self.cfg.reference_population),
                        format!(
                            "; but the nicks are held by {holders} persons, so this is not certain"
                        ),
                    )
                } else {
                    (
                        EvidenceKind::NickChange,
                        w.certain_bits,
                        ", so the holders of both handles are one person".to_string(),
                    )
                };
                let detail = format!(
                    "{:?} changed nick to {:?}{} in one session (recorded for person {}){tail}",
                    nc.old,
                    nc.new,
                    net.map(|n| format!(" on {n}")).unwrap_or_default(),
                    p.person_id
                );
                for (x, &a) in group.iter().enumerate() {
                    for &b in &group[x + 1..] {
                        let e = Evidence {
                            kind,
                            weight,
                            detail: detail.clone(),
                            sources: vec![nc.source.clone()],
                        };
                        self.add_special(a, b, e);
                    }
                }
            }
        }
        // Announcements: the announcer is linked to whoever holds the value.
        for (i, p) in profiles.iter().enumerate() {
            for an in &p.announced {
                let holders: Vec<u32> = match an.kind {
                    IdentifierKind::Handle => match handle_forms(&an.value) {
                        Some(f) => self.handle_holders(&f.key, f.network.as_deref()),
                        None => Vec::new(),
                    },
                    IdentifierKind::Email => match normalize::normalize_email(&an.value) {
                        Ok(n) => self
                            .blocks
                            .get(&bkey(ns::EMAIL, &n))
                            .cloned()
                            .unwrap_or_default(),
                        Err(_) => Vec::new(),
                    },
                    kind => match normalize::normalize(kind, &an.value) {
                        Ok(n) => self
                            .blocks
                            .get(&bkey(ns::OTHER, &format!("{kind}:{n}")))
                            .cloned()
                            .unwrap_or_default(),
                        Err(_) => Vec::new(),
                    },
                };
                if holders.len() > self.cfg.max_block {
                    self.notes.push(format!(
                        "announcement of {} {:?} ({}) not used: held by {} persons",
                        an.kind,
                        an.value,
                        an.source,
                        holders.len()
                    ));
                    continue;
                }
                for h in holders {
                    let e = Evidence {
                        kind: EvidenceKind::Announced,
                        weight: self.cfg.weights.announced_bits,
                        detail: format!(
                            "person {} announced the {} {:?} as their own, and person {} holds it",
                            p.person_id, an.kind, an.value, self.ids[h as usize]
                        ),
                        sources: vec![an.source.clone()],
                    };
                    self.add_special(i as u32, h, e);
                }
            }
        }
    }

    /// All pairs sharing at least one block no larger than its cap, plus
    /// the pairs found by lookup. Sorted, without duplicates.
    fn candidate_pairs(&self) -> (Vec<(u32, u32)>, BlockStats, Vec<String>) {
        let mut stats = BlockStats {
            persons: self.ids.len(),
            blocks: self.blocks.len(),
            ..BlockStats::default()
        };
        let mut oversized: Vec<(&String, usize)> = Vec::new();
        let mut pairs: Vec<u64> = Vec::new();
        for (k, list) in &self.blocks {
            let first = k.chars().next().unwrap_or(ns::KEY);
            let cap = match first {
                ns::ROOM => continue, // frequency only
                ns::ROOM_DAY => self.cfg.max_room_block,
                _ => self.cfg.max_block,
            };
            if list.len() < 2 {
                continue;
            }
            if first == ns::IP {
                let ip = k[1..].parse::<IpAddr>().ok();
                if ip.is_none_or(|ip| {
                    !ip_scope(ip).globally_unique() || self.ip_shared(ip).is_some()
                }) {
                    continue;
                }
            }
            if list.len() > cap {
                oversized.push((k, list.len()));
                continue;
            }
            for (x, &a) in list.iter().enumerate() {
                for &b in &list[x + 1..] {
                    let (lo, hi) = (a.min(b), a.max(b));
                    pairs.push((u64::from(lo) << 32) | u64::from(hi));
                }
            }
        }
        for &(a, b) in self.special.keys() {
            pairs.push((u64::from(a) << 32) | u64::from(b));
        }
        pairs.par_sort_unstable();
        pairs.dedup();
        stats.pairs_compared = pairs.len();
        stats.oversized_blocks = oversized.len();
        oversized.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut notes: Vec<String> = oversized
            .iter()
            .take(20)
            .map(|(k, n)| {
                let (kind, value) = describe_block(k);
                format!("{kind} {value:?} is shared by {n} persons: too common to compare them all, not used for candidate generation")
            })
            .collect();
        if oversized.len() > 20 {
            notes.push(format!(
                "… and {} more oversized blocks",
                oversized.len() - 20
            ));
        }
        let pairs = pairs
            .into_iter()
            .map(|p| ((p >> 32) as u32, (p & 0xffff_ffff) as u32))
            .collect();
        (pairs, stats, notes)
    }

    /// Generates, scores and sorts the candidates at or above the threshold
    /// (and all certain ones).
    pub fn candidates(&self) -> LinkReport {
        let (pairs, stats, block_notes) = self.candidate_pairs();
        let threshold = self.cfg.threshold;
        let mut candidates: Vec<Candidate> = pairs
            .par_iter()
            .filter_map(|&(a, b)| {
                let c = self.score_indexes(a, b);
                (c.certain || c.score >= threshold).then_some(c)
            })
            .collect();
        let via = self.linked_via(&candidates);
        candidates.extend(via);
        sort_candidates(&mut candidates);
        // Notes are for a reader: keep the first ones of each run and say
        // how many more there were.
        const MAX_NOTES: usize = 500;
        let mut notes: Vec<String> = self.notes.iter().take(MAX_NOTES).cloned().collect();
        if self.notes.len() > MAX_NOTES {
            notes.push(format!(
                "… and {} more notes on skipped values and nick changes",
                self.notes.len() - MAX_NOTES
            ));
        }
        notes.extend(block_notes);
        LinkReport {
            candidates,
            stats,
            notes,
        }
    }

    /// The collective pass (see [`LinkConfig::max_via_degree`]): for every
    /// person `B` with a few candidates, each pair `A`, `C` of them not yet a
    /// candidate is scored on its own evidence plus a [`EvidenceKind::LinkedVia`]
    /// weight from the weaker of `A–B`, `B–C`. Only one pass: chains of
    /// chains are not followed.
    fn linked_via(&self, accepted: &[Candidate]) -> Vec<Candidate> {
        let max_deg = self.cfg.max_via_degree;
        if max_deg < 2 {
            return Vec::new();
        }
        let mut adj: HashMap<i64, Vec<(i64, &Candidate)>> = HashMap::new();
        let mut have: HashSet<(i64, i64)> = HashSet::new();
        for c in accepted {
            adj.entry(c.a).or_default().push((c.b, c));
            adj.entry(c.b).or_default().push((c.a, c));
            have.insert((c.a, c.b));
        }
        // Best middle per new pair: (weight, middle, link to a, link to c).
        let mut best: HashMap<(i64, i64), (f64, i64, &Candidate, &Candidate)> = HashMap::new();
        let w = &self.cfg.weights;
        for (&mid, list) in &adj {
            if list.len() < 2 || list.len() > max_deg {
                continue;
            }
            for (x, (a, ca)) in list.iter().enumerate() {
                for (c, cc) in &list[x + 1..] {
                    let key = ((*a).min(*c), (*a).max(*c));
                    if have.contains(&key) {
                        continue;
                    }
                    let weight = (ca.score.min(cc.score) - w.via_penalty).max(0.0);
                    let e = best.entry(key).or_insert((weight, mid, ca, cc));
                    if weight > e.0 {
                        *e = (weight, mid, ca, cc);
                    }
                }
            }
        }
        let mut out: Vec<Candidate> = best
            .into_par_iter()
            .filter_map(|((a, c), (weight, mid, ca, cc))| {
                let (&ia, &ic) = (self.by_id.get(&a)?, self.by_id.get(&c)?);
                let mut cand = self.score_indexes(ia.min(ic), ia.max(ic));
                let top = |x: &Candidate| {
                    x.evidence
                        .first()
                        .map_or("none", |e| e.kind.as_str())
                };
                cand.evidence.push(Evidence {
                    kind: EvidenceKind::LinkedVia,
                    weight,
                    detail: format!(
                        "both are candidates of person {mid}: {}–{mid} scores {:.1} bits (mainly {}), {}–{mid} scores {:.1} bits (mainly {}); the weaker minus {:.1} bits counts here",
                        a, ca.score, top(ca), c, cc.score, top(cc), w.via_penalty
                    ),
                    sources: Vec::new(),
                });
                cand.score += weight;
                (cand.score >= self.cfg.threshold).then_some(cand)
            })
            .collect();
        sort_candidates(&mut out);
        out
    }

    /// Scores and explains one pair of persons, whatever the score (`None`
    /// if either id is unknown or they are the same person).
    pub fn score_pair(&self, a: i64, b: i64) -> Option<Candidate> {
        let (&x, &y) = (self.by_id.get(&a)?, self.by_id.get(&b)?);
        (x != y).then(|| self.score_indexes(x.min(y), x.max(y)))
    }

    /// The number of persons.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Certain first, then by score, then by ids (a stable order for review).
pub fn sort_candidates(c: &mut [Candidate]) {
    c.sort_by(|x, y| {
        y.certain
            .cmp(&x.certain)
            .then(y.score.total_cmp(&x.score))
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
}

fn describe_block(k: &str) -> (&'static str, String) {
    let mut chars = k.chars();
    let first = chars.next().unwrap_or(ns::KEY);
    let value: String = chars.as_str().replace('\u{1f}', " on day ");
    let kind = match first {
        ns::KEY => "handle key",
        ns::TOKEN => "handle word",
        ns::PREFIX => "handle prefix",
        ns::SUFFIX => "handle suffix",
        ns::EMAIL => "e-mail",
        ns::IP => "IP address",
        ns::IP_PORT => "CGNAT address and port",
        ns::ROOM_DAY => "room",
        ns::MEDIA => "media hash",
        _ => "identifier",
    };
    (kind, value)
}

/// The subscriber line of an address (see [`PIp::line`]).
pub(crate) fn line_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

fn prepare(p: &Profile, notes: &mut Vec<String>) -> Prepared {
    let mut out = Prepared::default();
    for h in &p.handles {
        match handle_forms(&h.raw) {
            Some(f) => out.names.push(Name {
                raw: h.raw.clone(),
                key: f.key,
                runs: token_runs(&f.tokens),
                key_df: 0,
                token_df: 0,
                tokens: f.tokens,
                network: h
                    .network
                    .as_ref()
                    .map(|n| n.to_ascii_lowercase())
                    .or(f.network),
                source: h.source.clone(),
                from_email: false,
            }),
            None => notes.push(format!(
                "person {}: empty handle skipped ({})",
                p.person_id, h.source
            )),
        }
    }
    for e in &p.emails {
        match normalize::normalize_email(&e.raw) {
            Ok(norm) => {
                let local = normalize::email_local_part(&norm);
                let key = handle_key(local);
                if !key.is_empty() {
                    let tokens = handle_tokens(local);
                    out.names.push(Name {
                        raw: e.raw.clone(),
                        key,
                        runs: token_runs(&tokens),
                        key_df: 0,
                        token_df: 0,
                        tokens,
                        network: None,
                        source: e.source.clone(),
                        from_email: true,
                    });
                }
                out.emails.push(PEmail {
                    raw: e.raw.clone(),
                    norm,
                    source: e.source.clone(),
                });
            }
            Err(err) => notes.push(format!(
                "person {}: e-mail skipped ({}): {err}",
                p.person_id, e.source
            )),
        }
    }
    out.ips = p
        .ips
        .iter()
        .map(|o| PIp {
            ip: o.ip.to_canonical(),
            line: line_of(o.ip),
            port: o.port,
            window: o.window,
            source: o.source.clone(),
        })
        .collect();
    for r in &p.rooms {
        match normalize::normalize_room(&r.room) {
            Ok(room) => out.rooms.push(PRoom {
                room,
                window: r.window,
                source: r.source.clone(),
            }),
            Err(err) => notes.push(format!(
                "person {}: room skipped ({}): {err}",
                p.person_id, r.source
            )),
        }
    }
    for m in &p.media {
        match normalize::normalize_media_hash(&m.hash) {
            Ok(hash) => out.media.push(PMedia {
                hash,
                role: m.role,
                source: m.source.clone(),
            }),
            Err(err) => notes.push(format!(
                "person {}: media hash skipped ({}): {err}",
                p.person_id, m.source
            )),
        }
    }
    // Sorted so that pair scoring can merge-join: a seized device may hold
    // hundreds of thousands of hashes, and comparing two such persons must
    // stay linear. The first sighting of a hash (in input order) is kept.
    out.media.sort_by(|a, b| a.hash.cmp(&b.hash));
    out.media.dedup_by(|a, b| a.hash == b.hash);
    out.ips.sort_by_key(|o| (o.line, o.window.first));
    for o in &p.others {
        match normalize::normalize(o.kind, &o.value) {
            Ok(norm) => out.others.push(POther {
                kind: o.kind,
                norm,
                raw: o.value.clone(),
                source: o.source.clone(),
            }),
            Err(err) => notes.push(format!(
                "person {}: {} skipped ({}): {err}",
                p.person_id, o.kind, o.source
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_runs_cover_contiguous_sequences() {
        let t: Vec<String> = ["son", "of", "god"].iter().map(|s| s.to_string()).collect();
        let runs = token_runs(&t);
        for want in ["son", "sonof", "sonofgod", "of", "ofgod", "god"] {
            assert!(runs.iter().any(|r| r == want), "{want}");
        }
        assert!(!runs.iter().any(|r| r == "songod"));
    }
}
