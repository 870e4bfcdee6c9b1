//! Scoring one pair: every comparison, its weight and its sentence.

use std::collections::BTreeSet;
use std::net::IpAddr;

use time::macros::format_description;
use vigil_domain::normalize::{IpScope, SharedReason, TimeWindow, ip_scope};

use crate::evidence::{Candidate, Evidence, EvidenceKind};
use crate::linker::{Linker, Name, Prepared, ns};

fn when(w: &TimeWindow) -> String {
    let f = format_description!("[year]-[month]-[day] [hour]:[minute]");
    let a = w.first.format(&f).unwrap_or_default();
    let b = w.last.format(&f).unwrap_or_default();
    if a == b { a } else { format!("{a} to {b}") }
}

fn days(d: time::Duration) -> String {
    let h = d.whole_hours();
    if h < 48 {
        format!("{h} h")
    } else {
        format!("{} days", d.whole_days())
    }
}

/// Splits a key into its stem and trailing digit run (`wolf77` → `wolf`, `77`).
fn stem_number(key: &str) -> (&str, &str) {
    let with_sep = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let number = &key[with_sep.len()..];
    (with_sep.trim_end_matches('_'), number)
}

/// A key with every leetspeak digit read as its letter.
fn deep_fold(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_')
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' => 'a',
            '5' => 's',
            '7' => 't',
            c => c,
        })
        .collect()
}

fn label(n: &Name) -> &'static str {
    if n.from_email { "e-mail" } else { "handle" }
}

impl Linker {
    pub(crate) fn score_indexes(&self, a: u32, b: u32) -> Candidate {
        let (pa, pb) = (&self.prep[a as usize], &self.prep[b as usize]);
        let mut ev: Vec<Evidence> = self.special.get(&(a, b)).cloned().unwrap_or_default();
        if let Some(e) = self.names_evidence(pa, pb) {
            ev.push(e);
        }
        self.email_evidence(pa, pb, &mut ev);
        self.other_evidence(pa, pb, &mut ev);
        self.ip_evidence(
            (self.ids[a as usize], pa),
            (self.ids[b as usize], pb),
            &mut ev,
        );
        self.room_evidence(pa, pb, &mut ev);
        self.media_evidence(pa, pb, &mut ev);
        ev.sort_by(|x, y| y.weight.total_cmp(&x.weight).then(x.kind.cmp(&y.kind)));
        let certain = ev.iter().any(|e| e.kind.is_certain());
        let score = ev.iter().map(|e| e.weight).sum();
        Candidate {
            a: self.ids[a as usize],
            b: self.ids[b as usize],
            score,
            certain,
            evidence: ev,
        }
    }

    /// Compares one name with another; `None` when they do not agree.
    fn compare_names(&self, x: &Name, y: &Name) -> Option<Evidence> {
        let w = &self.cfg.weights;
        let n = self.n_eff();
        let sources = vec![x.source.clone(), y.source.clone()];
        let email_pair = x.from_email || y.from_email;
        if x.from_email && y.from_email {
            // Two local parts: the e-mail comparison covers equal mailboxes,
            // and equal local parts at different providers are coincidence
            // as often as not.
            return None;
        }
        let kind_exact = if email_pair {
            EvidenceKind::EmailLocalHandle
        } else {
            EvidenceKind::HandleExact
        };
        let m_exact = if email_pair {
            w.email_local_m
        } else {
            w.handle_exact_m
        };
        if x.key == y.key {
            let df = x.key_df;
            let common = self.cfg.common_handles.contains(&x.key);
            let short = x.key.chars().count() < 3;
            let cap = w.name_bits_per_char * x.key.chars().count() as f64;
            let weight = if common || short {
                0.0
            } else {
                w.value_bits(m_exact, df, n).min(cap)
            };
            let why = if common {
                " — a common handle, so it weighs nothing".to_string()
            } else if short {
                " — too short to identify anyone".to_string()
            } else {
                String::new()
            };
            return Some(Evidence {
                kind: kind_exact,
                weight,
                detail: format!(
                    "{} {:?} and {} {:?} have the same key {:?} (held by {df} persons){why}",
                    label(x),
                    x.raw,
                    label(y),
                    y.raw,
                    x.key
                ),
                sources,
            });
        }
        let min = self.cfg.min_key_len;
        let (lx, ly) = (x.key.chars().count(), y.key.chars().count());
        let (sx, nx) = stem_number(&x.key);
        let (sy, ny) = stem_number(&y.key);
        // Keys equal once every digit with a letter reading is read as that
        // letter (`midrygl0` / `MIDRYGLO`, `mou53` / `mouse`): the folding
        // rules keep ambiguous trailing digits, this comparison does not.
        if !email_pair && lx >= min && deep_fold(&x.key) == deep_fold(&y.key) {
            let bits = w.handle_similar.first().map_or(0.0, |b| b.1);
            return Some(Evidence {
                kind: EvidenceKind::HandleSimilar,
                weight: bits,
                detail: format!(
                    "handles {:?} and {:?} are the same name when every digit is read as a letter ({:?})",
                    x.raw,
                    y.raw,
                    deep_fold(&x.key)
                ),
                sources,
            });
        }
        // A one-character difference in the number is a typo, not another
        // number (`5199` / `55199`).
        let number_typo = strsim::levenshtein(nx, ny) <= 1 && nx.len().min(ny.len()) >= 2;
        if sx == sy && !nx.is_empty() && !ny.is_empty() && !number_typo && sx.chars().count() >= min
        {
            return Some(Evidence {
                kind: EvidenceKind::HandleSimilar,
                weight: w.different_number_bits,
                detail: format!(
                    "{} {:?} and {} {:?} share the name {sx:?} but with different numbers ({nx} / {ny}), which usually tells people apart",
                    label(x),
                    x.raw,
                    label(y),
                    y.raw
                ),
                sources,
            });
        }
        // Containment: the shorter key is a run of the longer one's words.
        let (short, long) = if lx <= ly { (x, y) } else { (y, x) };
        if short.key.chars().count() >= 3.max(min - 1)
            && long.tokens.len() > 1
            && long.runs.contains(&short.key)
        {
            let df = short.token_df;
            // What the longer name adds besides the shorter one.
            let plus_number = {
                let (_, num) = stem_number(&long.key);
                !num.is_empty() && stem_number(&long.key).0 == short.key
            };
            let m = if email_pair {
                w.email_local_m * 0.5
            } else if plus_number {
                w.handle_plus_number_m
            } else {
                w.handle_contained_m
            };
            let common = self.cfg.common_handles.contains(&short.key);
            let cap = w.name_bits_per_char * short.key.chars().count() as f64;
            let weight = if common {
                0.0
            } else {
                w.value_bits(m, df, n).min(cap)
            };
            return Some(Evidence {
                kind: if email_pair {
                    EvidenceKind::EmailLocalHandle
                } else {
                    EvidenceKind::HandleContained
                },
                weight,
                detail: format!(
                    "{} {:?} (key {:?}) is contained in {} {:?} (words {}); {:?} occurs in the names of {df} persons{}",
                    label(short),
                    short.raw,
                    short.key,
                    label(long),
                    long.raw,
                    long.tokens.join("·"),
                    short.key,
                    if common {
                        " — a common handle, so it weighs nothing"
                    } else {
                        ""
                    }
                ),
                sources,
            });
        }
        // Affix without a word boundary (`bunnysnake` / `bunnysnakeits`): the
        // shorter key starts or ends the longer one. Weaker than a word
        // match, since a boundary was not seen.
        let short_len = short.key.chars().count();
        if !email_pair
            && short_len >= w.affix_min_len
            && (long.key.starts_with(&short.key) || long.key.ends_with(&short.key))
            && stem_number(&long.key).1.is_empty()
        {
            let df = short.key_df.max(2);
            let cap = w.name_bits_per_char * short_len as f64;
            let weight = w.value_bits(w.handle_affix_m, df, n).min(cap);
            return Some(Evidence {
                kind: EvidenceKind::HandleContained,
                weight,
                detail: format!(
                    "handle {:?} (key {:?}) begins or ends handle {:?} (key {:?}); {:?} is held by {df} persons",
                    short.raw, short.key, long.raw, long.key, short.key
                ),
                sources,
            });
        }
        // Shared words: both names contain the same run of two or more words
        // (`viper·cosmic·friend` in `son_of_viper_cosmic_friend` and
        // `viper-cosmic-friend-official`). Weaker than containment: each name
        // adds something the other lacks.
        if !email_pair && x.tokens.len() > 1 && y.tokens.len() > 1 {
            let best = x
                .runs
                .iter()
                .filter(|r| r.chars().count() >= w.shared_words_min_len && y.runs.contains(r))
                .filter(|r| !x.tokens.contains(r) || !y.tokens.contains(r) || r.len() >= 8)
                .max_by_key(|r| r.chars().count());
            if let Some(run) = best {
                let df = self.df(ns::TOKEN, run);
                let cap = w.name_bits_per_char * run.chars().count() as f64;
                let weight = w.value_bits(w.shared_words_m, df, n).min(cap);
                return Some(Evidence {
                    kind: EvidenceKind::HandleContained,
                    weight,
                    detail: format!(
                        "handles {:?} (words {}) and {:?} (words {}) share {run:?}, which occurs in the names of {df} persons",
                        x.raw,
                        x.tokens.join("·"),
                        y.raw,
                        y.tokens.join("·"),
                    ),
                    sources,
                });
            }
        }
        if lx >= min && ly >= min && !email_pair {
            let jw = strsim::jaro_winkler(&x.key, &y.key);
            if let Some(&(lo, bits)) = w.handle_similar.iter().find(|(lo, _)| jw >= *lo) {
                return Some(Evidence {
                    kind: EvidenceKind::HandleSimilar,
                    weight: bits,
                    detail: format!(
                        "handles {:?} and {:?} are similar: Jaro-Winkler {jw:.3} on keys {:?} / {:?} (bin ≥ {lo})",
                        x.raw, y.raw, x.key, y.key
                    ),
                    sources,
                });
            }
        }
        None
    }

    /// The best agreement between any name of one and any name of the other:
    /// names of one person are correlated, so only the strongest counts.
    fn names_evidence(&self, pa: &Prepared, pb: &Prepared) -> Option<Evidence> {
        let mut best: Option<Evidence> = None;
        for x in &pa.names {
            for y in &pb.names {
                if let Some(e) = self.compare_names(x, y)
                    && best.as_ref().is_none_or(|b| e.weight > b.weight)
                {
                    best = Some(e);
                }
            }
        }
        best
    }

    fn email_evidence(&self, pa: &Prepared, pb: &Prepared, ev: &mut Vec<Evidence>) {
        let w = &self.cfg.weights;
        let mut seen = BTreeSet::new();
        for x in &pa.emails {
            for y in pb.emails.iter().filter(|y| y.norm == x.norm) {
                if !seen.insert(&x.norm) {
                    continue;
                }
                let df = self.df(ns::EMAIL, &x.norm);
                ev.push(Evidence {
                    kind: EvidenceKind::EmailExact,
                    weight: w.value_bits(w.email_exact_m, df, self.n_eff()),
                    detail: format!(
                        "e-mail {:?} and {:?} are the same mailbox {:?} (held by {df} persons)",
                        x.raw, y.raw, x.norm
                    ),
                    sources: vec![x.source.clone(), y.source.clone()],
                });
            }
        }
    }

    fn other_evidence(&self, pa: &Prepared, pb: &Prepared, ev: &mut Vec<Evidence>) {
        let w = &self.cfg.weights;
        for x in &pa.others {
            if let Some(y) = pb
                .others
                .iter()
                .find(|y| y.kind == x.kind && y.norm == x.norm)
            {
                let df = self.df(ns::OTHER, &format!("{}:{}", x.kind, x.norm));
                ev.push(Evidence {
                    kind: EvidenceKind::SameIdentifier,
                    weight: w.value_bits(w.other_exact_m, df, self.n_eff()),
                    detail: format!(
                        "same {} {:?} (as {:?} and {:?}; held by {df} persons)",
                        x.kind, x.norm, x.raw, y.raw
                    ),
                    sources: vec![x.source.clone(), y.source.clone()],
                });
            }
        }
    }

    fn ip_evidence(
        &self,
        (ida, pa): (i64, &Prepared),
        (idb, pb): (i64, &Prepared),
        ev: &mut Vec<Evidence>,
    ) {
        let w = &self.cfg.weights;
        let tol = self.cfg.ip_tolerance;
        let lines_b: BTreeSet<IpAddr> = pb.ips.iter().map(|o| o.line).collect();
        let shared_ips: BTreeSet<IpAddr> = pa
            .ips
            .iter()
            .map(|o| o.line)
            .filter(|ip| lines_b.contains(ip))
            .collect();
        let mut total = 0.0;
        let mut overlaps = 0;
        let n_shared = shared_ips.len();
        for line in shared_ips {
            let xs: Vec<_> = pa.ips.iter().filter(|o| o.line == line).collect();
            let ys: Vec<_> = pb.ips.iter().filter(|o| o.line == line).collect();
            let df = self.df(ns::IP, &line.to_string());
            let ip = LineText(line, xs[0].ip, ys[0].ip);
            let scope = ip_scope(line);
            let not_evidence = |detail: String, sources: Vec<String>| Evidence {
                kind: EvidenceKind::IpNotEvidence,
                weight: 0.0,
                detail,
                sources,
            };
            let all_sources = || {
                xs.iter()
                    .chain(ys.iter())
                    .map(|o| o.source.clone())
                    .collect::<Vec<_>>()
            };
            if !scope.globally_unique() && scope != IpScope::Cgnat {
                ev.push(not_evidence(
                    format!(
                        "both were seen at IP {ip}, but it is a {} address that exists in every local network, so it is not evidence",
                        scope.as_str()
                    ),
                    all_sources(),
                ));
                continue;
            }
            // The closest pair of sightings, and whether the ports agree.
            let mut best: Option<(
                time::Duration,
                bool,
                &crate::linker::PIp,
                &crate::linker::PIp,
            )> = None;
            for x in &xs {
                for y in &ys {
                    let gap = x.window.gap(&y.window);
                    let same_port = matches!((x.port, y.port), (Some(p), Some(q)) if p == q);
                    let better = match best {
                        None => true,
                        Some((g, sp, ..)) => (gap <= tol && same_port && !sp) || gap < g,
                    };
                    if better {
                        best = Some((gap, same_port, x, y));
                    }
                }
            }
            let Some((gap, same_port, x, y)) = best else {
                continue;
            };
            let sources = vec![x.source.clone(), y.source.clone()];
            let port_text =
                |o: &crate::linker::PIp| o.port.map(|p| format!(" port {p}")).unwrap_or_default();
            let sightings = format!(
                "person {ida} {}{}, person {idb} {}{}",
                when(&x.window),
                port_text(x),
                when(&y.window),
                port_text(y)
            );
            match self.ip_shared(line) {
                Some(SharedReason::Cgnat) if same_port && gap <= tol => {
                    let bits = (w.value_bits(w.ip_m, self.df(ns::IP_PORT, &format!("{ip}:{}", x.port.unwrap_or(0))), self.n_eff())
                        - w.cgnat_port_penalty)
                        .max(0.0);
                    total_push(&mut total, &mut overlaps, bits, w.ip_extra_bits, ev, Evidence {
                        kind: EvidenceKind::IpOverlap,
                        weight: 0.0,
                        detail: format!(
                            "both used carrier-grade NAT address {ip} with the same source port at overlapping times ({sightings}); port and time single out one subscriber"
                        ),
                        sources,
                    });
                }
                Some(reason) => ev.push(not_evidence(
                    format!("both were seen at IP {ip} ({sightings}), but this is not evidence: {reason}"),
                    sources,
                )),
                None if gap <= tol => {
                    let mut bits = w.value_bits(w.ip_m, df, self.n_eff());
                    let mut port_note = String::new();
                    if same_port {
                        bits += w.port_bits;
                        port_note = " and the same source port".into();
                    }
                    total_push(&mut total, &mut overlaps, bits, w.ip_extra_bits, ev, Evidence {
                        kind: EvidenceKind::IpOverlap,
                        weight: 0.0,
                        detail: format!(
                            "both used IP {ip} at overlapping times{port_note} ({sightings}; tolerance {}); the address was seen for {df} persons",
                            days(tol)
                        ),
                        sources,
                    });
                }
                None => ev.push(not_evidence(
                    format!(
                        "both were seen at IP {ip} but {} apart ({sightings}): dynamic addresses are reassigned, so this is not evidence",
                        days(gap)
                    ),
                    sources,
                )),
            }
        }
        if overlaps == 0 {
            self.ip_conflict((ida, pa), (idb, pb), n_shared, ev);
        }
    }

    /// F-S disagreement: at overlapping times both were on public lines and
    /// never on the same one. A person uses several networks (home, work,
    /// phone), so this weighs little — but strangers who happen to share a
    /// name are usually seen on different lines, and that is worth saying.
    fn ip_conflict(
        &self,
        (ida, pa): (i64, &Prepared),
        (idb, pb): (i64, &Prepared),
        n_shared: usize,
        ev: &mut Vec<Evidence>,
    ) {
        let w = &self.cfg.weights;
        if w.ip_conflict_bits <= 0.0 || n_shared > 0 {
            return;
        }
        let usable = |o: &&crate::linker::PIp| {
            ip_scope(o.line).globally_unique() && self.ip_shared(o.line).is_none()
        };
        for x in pa.ips.iter().filter(usable) {
            for y in pb.ips.iter().filter(usable) {
                if x.line != y.line && x.window.overlaps(&y.window, time::Duration::ZERO) {
                    ev.push(Evidence {
                        kind: EvidenceKind::IpConflict,
                        weight: -w.ip_conflict_bits,
                        detail: format!(
                            "at overlapping times they used different lines: person {ida} {} ({}), person {idb} {} ({}); one person can use several networks, so this weighs little",
                            x.ip,
                            when(&x.window),
                            y.ip,
                            when(&y.window)
                        ),
                        sources: vec![x.source.clone(), y.source.clone()],
                    });
                    return;
                }
            }
        }
    }

    fn room_evidence(&self, pa: &Prepared, pb: &Prepared, ev: &mut Vec<Evidence>) {
        let w = &self.cfg.weights;
        let tol = self.cfg.room_tolerance;
        let mut rooms: Vec<(f64, String, Vec<String>)> = Vec::new();
        let mut done = BTreeSet::new();
        for x in &pa.rooms {
            if done.contains(&x.room) {
                continue;
            }
            if let Some(y) = pb
                .rooms
                .iter()
                .find(|y| y.room == x.room && y.window.overlaps(&x.window, tol))
            {
                done.insert(x.room.clone());
                let df = self.df(ns::ROOM, &x.room);
                let u_df = ((df as f64) * w.room_correlation).ceil() as usize + 1;
                let bits = w.value_bits(w.room_m, u_df, self.n_eff());
                rooms.push((
                    bits,
                    format!(
                        "{} ({} / {}; {df} members)",
                        x.room,
                        when(&x.window),
                        when(&y.window)
                    ),
                    vec![x.source.clone(), y.source.clone()],
                ));
            }
        }
        if rooms.is_empty() {
            return;
        }
        let raw: f64 = rooms.iter().map(|r| r.0).sum();
        let weight = raw.min(w.room_cap);
        ev.push(Evidence {
            kind: EvidenceKind::RoomCoPresence,
            weight,
            detail: format!(
                "present in the same {} room(s) at overlapping times: {}{}",
                rooms.len(),
                rooms
                    .iter()
                    .map(|r| r.1.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if raw > weight {
                    format!(" (capped from {raw:.1} bits: rooms are supporting evidence)")
                } else {
                    String::new()
                }
            ),
            sources: rooms.into_iter().flat_map(|r| r.2).collect(),
        });
    }

    fn media_evidence(&self, pa: &Prepared, pb: &Prepared, ev: &mut Vec<Evidence>) {
        let w = &self.cfg.weights;
        let mut items: Vec<(f64, String, Vec<String>)> = Vec::new();
        // Both lists are sorted by hash and deduplicated (see `prepare`).
        let (mut i, mut j) = (0, 0);
        while i < pa.media.len() && j < pb.media.len() {
            let (x, y) = (&pa.media[i], &pb.media[j]);
            match x.hash.cmp(&y.hash) {
                std::cmp::Ordering::Less => {
                    i += 1;
                    continue;
                }
                std::cmp::Ordering::Greater => {
                    j += 1;
                    continue;
                }
                std::cmp::Ordering::Equal => {
                    i += 1;
                    j += 1;
                }
            }
            {
                let df = self.df(ns::MEDIA, &x.hash);
                let u_df = ((df as f64) * w.media_correlation).ceil() as usize + 1;
                let bits = w.value_bits(w.media_m, u_df, self.n_eff());
                items.push((
                    bits,
                    format!(
                        "{} ({} / {}; {df} persons)",
                        x.hash,
                        x.role.as_str(),
                        y.role.as_str()
                    ),
                    vec![x.source.clone(), y.source.clone()],
                ));
            }
        }
        if items.is_empty() {
            return;
        }
        let raw: f64 = items.iter().map(|r| r.0).sum();
        let weight = raw.min(w.media_cap);
        let shown: Vec<&str> = items.iter().take(5).map(|r| r.1.as_str()).collect();
        ev.push(Evidence {
            kind: EvidenceKind::MediaShared,
            weight,
            detail: format!(
                "{} identical media file(s): {}{}{}",
                items.len(),
                shown.join(", "),
                if items.len() > 5 {
                    format!(" and {} more", items.len() - 5)
                } else {
                    String::new()
                },
                if raw > weight {
                    format!(" (capped from {raw:.1} bits)")
                } else {
                    String::new()
                }
            ),
            sources: items.into_iter().flat_map(|r| r.2).collect(),
        });
    }
}

/// An address as shown in evidence: IPv4 as is; IPv6 as its /64 and the
/// addresses seen in it.
struct LineText(IpAddr, IpAddr, IpAddr);

impl std::fmt::Display for LineText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) if self.1 == self.2 => write!(f, "{} (in {v6}/64)", self.1),
            IpAddr::V6(v6) => write!(f, "{v6}/64 (as {} and {})", self.1, self.2),
        }
    }
}

/// Adds an IP agreement: the first counts fully, later ones at most
/// `extra` bits each (addresses of one person are correlated).
fn total_push(
    total: &mut f64,
    overlaps: &mut usize,
    bits: f64,
    extra: f64,
    ev: &mut Vec<Evidence>,
    mut e: Evidence,
) {
    let weight = if *overlaps == 0 {
        bits
    } else {
        bits.min(extra)
    };
    *overlaps += 1;
    *total += weight;
    e.weight = weight;
    ev.push(e);
}
