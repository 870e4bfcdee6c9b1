//! Weights and thresholds, each with the reason for its value.
//!
//! Scores are Fellegi–Sunter log-likelihood ratios in bits: an agreement
//! that happens with probability `m` between two records of the same person
//! and `u` between records of different persons adds `log2(m / u)`. For
//! agreements on a *value* (a handle, an address, a hash) `u` is estimated
//! from the value's frequency: if `df` persons hold the value, a non-matching
//! person agrees with probability about `(df - 1) / N`, so a handle used by
//! one pair is strong evidence and "admin", used by thousands, is almost none.
//!
//! The prior matters too: among `N` persons a given pair is a match with
//! odds of roughly `1 / N`, so the posterior log-odds are the evidence
//! weights plus `log2(1 / N)`. Adding that prior to a frequency weight
//! `log2(m N / (df - 1))` leaves `log2(m / (df - 1))`, independent of `N`.
//! The scorer therefore computes every frequency weight against a fixed
//! [`LinkConfig::reference_population`] `N_ref` instead of the actual `N`:
//! weights are `log2(m · N_ref / (df - 1))`, i.e. the posterior relative to a
//! population of `N_ref`, and one threshold means the same in a test with 10
//! persons and in a national database of a million. Fixed-bit weights (name
//! similarity bins, caps) are calibrated at that reference size.
//!
//! The `m` values and fixed bit weights were set by hand from what an
//! investigator would expect and then tuned on the synthetic population with
//! seed 1 (`bench/results/vigil-link.md` reports seed 2, which was not used
//! for tuning). Tuning moved: the threshold from 12 to 10 bits; `ip_m` from
//! 0.5 to 0.8; the Jaro–Winkler bins from 8/6/3 to 10/8/5 bits; added the
//! per-character cap on name weights (short names collided by chance), the
//! weak "name plus a number" and "shared words" cases (near-copy decoys), and
//! the IP disagreement weight; media correlation from 5 to 10 (traded files).
//!
//! What one piece of evidence can do on its own at the default threshold of
//! 10 bits (with `N_ref` = 10 000): an exact handle held by up to 5 persons
//! (and at least 4 characters long), a name contained in another held by up
//! to 3, an e-mail held by up to 9, a public IP line at overlapping times
//! (held by at most 5 persons — more makes it a shared address), Jaro–Winkler
//! ≥ 0.97, an announcement, a nick change. Room co-presence never links alone (capped at 6 bits); a name
//! plus a number, shared words and weaker similarity need corroboration.

use time::Duration;
use vigil_domain::normalize::SharedAddresses;

/// Per-evidence parameters (see the module docs for the formula).
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// Same handle key. Only about half of a person's records share an exact
    /// handle: people restyle and change names.
    pub handle_exact_m: f64,
    /// One handle is a whole word sequence of the other (`god` in
    /// `son_of_god`, `darkwolf` in `darkwolf77`): the alias-change pattern;
    /// rarer among true pairs than an exact handle.
    pub handle_contained_m: f64,
    /// Jaro–Winkler bins on keys that are neither equal nor contained:
    /// `(minimum similarity, bits)`, highest first. Fixed weights, because
    /// the chance of two strangers having similar names depends on the name
    /// space rather than on one value's frequency.
    pub handle_similar: Vec<(f64, f64)>,
    /// A name carries at most this many bits per character of its key:
    /// short names collide by chance whatever their observed frequency
    /// (`zave`, `quxo`), and a frequency of 2 in one population is a noisy
    /// estimate. Caps exact and containment weights at `len × this`.
    pub name_bits_per_char: f64,
    /// Containment where the longer name only adds a number (`darkwolf` /
    /// `darkwolf77`): adding a number is how people make a taken name
    /// their own, so it is weaker than an alias built around a name.
    pub handle_plus_number_m: f64,
    /// The shorter key begins or ends the longer one without a word
    /// boundary (`bunnysnake` / `bunnysnakeits`).
    pub handle_affix_m: f64,
    /// Minimum length of the shorter key for that comparison.
    pub affix_min_len: usize,
    /// Both names share a run of words (neither contains the other):
    /// `son_of_viper_cosmic` / `viper_cosmic_official`.
    pub shared_words_m: f64,
    /// Shared runs shorter than this (in characters) are ignored: short
    /// common words ("dark", "wolf") are shared by strangers all the time.
    pub shared_words_min_len: usize,
    /// Same name stem, different trailing numbers (`wolf77` / `wolf78`):
    /// numbers are how people tell their name apart from someone else's, so
    /// this is weak.
    pub different_number_bits: f64,
    /// Same normalised e-mail address: one mailbox.
    pub email_exact_m: f64,
    /// An e-mail local part equals the other person's handle key.
    pub email_local_m: f64,
    /// Same (other-kind) identifier: phone, messenger id, payment account.
    pub other_exact_m: f64,
    /// Same public IP at overlapping times. Households and offices share
    /// addresses, so `m` is moderate and a cap applies.
    pub ip_m: f64,
    /// Added when both sightings give the same source port.
    pub port_bits: f64,
    /// Each further coinciding address adds at most this much: addresses of
    /// one person are correlated (same provider, same home).
    pub ip_extra_bits: f64,
    /// Subtracted when, at overlapping times, both were seen on public lines
    /// and never the same one: `log2((1 - m) / (1 - u))` with `m ≈ 0.8`
    /// (a person seen on a public line at a time is usually seen on their
    /// one line) and `u ≈ 0`, about 2.3 bits — kept small because people
    /// use several networks.
    pub ip_conflict_bits: f64,
    /// Subtracted from a CGNAT address that coincides *with the same port*:
    /// port + time identify a subscriber, but logs of ports are less precise.
    pub cgnat_port_penalty: f64,
    /// Co-presence in one room at overlapping times, per room.
    pub room_m: f64,
    /// Multiplies `u` for rooms: members of one network meet in many rooms,
    /// so co-presence in one room says less than its size suggests.
    pub room_correlation: f64,
    /// Rooms are supporting evidence: together they never exceed this.
    pub room_cap: f64,
    /// Same media hash, per hash.
    pub media_m: f64,
    /// Multiplies `u` for media: collections are traded, so files co-occur.
    pub media_correlation: f64,
    /// All shared media together never exceed this.
    pub media_cap: f64,
    /// An identifier the other person announced as their own.
    pub announced_bits: f64,
    /// Subtracted from the weaker of two links `A–B`, `B–C` to give the
    /// weight of `A–C` through `B`: a chain is never stronger than its
    /// weakest link, and two errors can compound.
    pub via_penalty: f64,
    /// The weight reported for a certain link (nick change), for sorting.
    pub certain_bits: f64,
    /// Upper bound for any single frequency-derived weight.
    pub max_value_bits: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            handle_exact_m: 0.5,
            handle_contained_m: 0.25,
            handle_similar: vec![(0.97, 10.0), (0.94, 8.0), (0.90, 5.0)],
            name_bits_per_char: 2.5,
            handle_plus_number_m: 0.08,
            handle_affix_m: 0.12,
            affix_min_len: 6,
            shared_words_m: 0.04,
            shared_words_min_len: 7,
            different_number_bits: 1.0,
            email_exact_m: 0.9,
            email_local_m: 0.4,
            other_exact_m: 0.9,
            ip_m: 0.8,
            port_bits: 2.0,
            ip_extra_bits: 2.0,
            ip_conflict_bits: 2.3,
            cgnat_port_penalty: 4.0,
            room_m: 0.3,
            room_correlation: 20.0,
            room_cap: 6.0,
            media_m: 0.3,
            media_correlation: 10.0,
            media_cap: 12.0,
            announced_bits: 14.0,
            via_penalty: 2.0,
            certain_bits: 30.0,
            max_value_bits: 16.0,
        }
    }
}

impl Weights {
    /// `log2(m / u)` with `u = (df - 1) / n` (`n` = the reference population), clamped to
    /// `[0, max_value_bits]`. `df` counts the persons holding the value
    /// (including the two compared).
    pub fn value_bits(&self, m: f64, df: usize, n: usize) -> f64 {
        let u = (df.saturating_sub(1).max(1)) as f64 / n.max(1) as f64;
        (m / u).log2().clamp(0.0, self.max_value_bits)
    }
}

/// Handles that many unrelated people use; agreement on them is reported
/// but weighs nothing.
pub const COMMON_HANDLES: &[&str] = &[
    "admin",
    "administrator",
    "guest",
    "anon",
    "anonymous",
    "user",
    "test",
    "root",
    "mod",
    "moderator",
    "unknown",
    "nobody",
    "me",
    "you",
    "hi",
    "hello",
    "bot",
    "null",
    "none",
    "player",
];

/// How candidates are generated and scored.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Candidates at or above this score (bits) are reported; certain links
    /// always are.
    pub threshold: f64,
    /// IP sightings this far apart still count as overlapping (clock skew,
    /// and dynamic addresses are held for a while).
    pub ip_tolerance: Duration,
    /// Room presences this far apart still count as co-presence.
    pub room_tolerance: Duration,
    /// Addresses that never link on their own.
    pub shared: SharedAddresses,
    /// Blocks larger than this are not expanded into pairs (and reported).
    pub max_block: usize,
    /// Room-day blocks larger than this are not expanded: co-presence in a
    /// busy room is no reason to compare two persons.
    pub max_room_block: usize,
    /// Minimum key length for Jaro–Winkler and containment comparisons:
    /// short keys are similar to everything.
    pub min_key_len: usize,
    /// Handle keys that weigh nothing (see [`COMMON_HANDLES`]).
    pub common_handles: Vec<String>,
    /// One collective pass: persons who are both candidates of a third
    /// person become candidates of each other when their own evidence plus
    /// the chain reaches the threshold. Persons with more than this many
    /// candidates are not used as a middle (a hub is more likely a bad
    /// link than one human); 0 switches the pass off.
    pub max_via_degree: usize,
    /// `N_ref` of the weight formula (see the module docs).
    pub reference_population: usize,
    pub weights: Weights,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            threshold: 10.0,
            ip_tolerance: Duration::days(1),
            room_tolerance: Duration::days(1),
            shared: SharedAddresses::default(),
            max_block: 100,
            max_room_block: 12,
            min_key_len: 4,
            common_handles: COMMON_HANDLES.iter().map(|s| s.to_string()).collect(),
            max_via_degree: 6,
            reference_population: 10_000,
            weights: Weights::default(),
        }
    }
}
